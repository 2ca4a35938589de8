"""Care: plans per segment (cadences), the scheduler that turns them into care tasks and outbox
messages idempotently, and the contact policy (caps, quiet hours, consent) every one obeys.
Writes care_tasks only through carectl.care.tasks; interactions through carectl.service.
"""
