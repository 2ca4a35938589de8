"""The outbox: the only way a message leaves carectl.

queue (rows and their state machine), consent (opt-in/out, unsubscribe tokens, bounces),
policy (the checks made right at send time), templates (sandboxed Jinja2), sender (claims due
rows and hands them to the ``send_message`` hook), smtp (the aiosmtplib transport).
"""
