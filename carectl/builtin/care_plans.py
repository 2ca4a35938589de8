"""The care plans of the config as a plugin: ``[[care_plans]]`` steps due for a customer become
follow-ups through ``plan_followups``, the same hook any vendor plugin implements. Block this
plugin (``[plugins] disabled``) to let another one decide alone."""

from __future__ import annotations

from carectl.care.scheduler import config_followups
from carectl.hookspecs import hookimpl


@hookimpl
def plan_followups(ctx, customer, event, at):
    return config_followups(ctx.config, customer, at) or None
