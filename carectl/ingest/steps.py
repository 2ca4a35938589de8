"""The pipeline's steps after a batch is committed: classify its customers, plan their follow-ups.

Both run through the same code as everywhere else (``segments.refresh.refresh_customers`` asks
``classify_customer``; ``care.scheduler.plan_for_customers`` asks ``plan_followups``), but with
a plugin manager whose step hooks go through the Guard: each plugin is called on its own,
named when it raises, stopped when it hangs past ``[ingest] plugin_timeout_seconds`` and
disabled after ``plugin_max_failures`` failures in a row. A lead whose customer a plugin failed
on is logged with its provenance and recorded in ``lead_step_failures`` (step, plugin, error);
``carectl leads retry`` runs the step again for those customers. A step never undoes the batch:
its customers are committed before it starts.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable
from typing import Any

from carectl.ingest.guard import PluginFailed, guard_for
from carectl.store.util import now_iso

log = logging.getLogger(__name__)

HOOKS = {"classify_customer": "classify", "plan_followups": "plan"}
STEPS = tuple(HOOKS.values())
BUILTIN_PLANNER = "carectl.builtin.care_plans"

Failures = dict[tuple[str, int], tuple[str, str]]  # (step, customer id) -> (plugin, error)


def run(ctx: Any, file_id: int, done: Iterable[tuple[Any, str, int | None, Any]]) -> int:
    """Classify and plan for a committed batch's customers; returns the leads that failed."""
    leads = [(lead, action, cid) for lead, action, cid, _ in done if cid is not None]
    if not leads:
        return 0
    touched = list(dict.fromkeys(cid for _, _, cid in leads))
    created = list(dict.fromkeys(cid for _, a, cid in leads if a in ("new", "review")))
    failures = _run_steps(ctx, touched, created, reason="lead import")
    if not failures:
        return 0
    rows = []
    for lead, _, cid in leads:
        for step in STEPS:
            if (step, cid) in failures:
                plugin, error = failures[(step, cid)]
                log.error(
                    "plugin %r failed in %s: %s (file %s, row %s, source %s)",
                    plugin, step, error, lead.file, lead.row, lead.options.source,
                )  # fmt: skip
                rows.append((lead.row, step, plugin, error))
    with ctx.transaction() as tx:
        for row, step, plugin, error in rows:
            lead_id = tx.execute(
                "SELECT id FROM leads WHERE file_id = ? AND row_number = ?", (file_id, row)
            ).fetchone()[0]
            _record(tx, lead_id, step, plugin, error)
    return len({r[0] for r in rows})


def retry(ctx: Any, step: str | None = None) -> dict[str, int]:
    """Run the failed steps again for their leads' customers: {"done": n, "failed": n}."""
    sql = (
        "SELECT s.id, s.step, l.customer_id FROM lead_step_failures s"
        " JOIN leads l ON l.id = s.lead_id WHERE s.status = 'failed'"
    )
    params: tuple = ()
    if step:
        sql += " AND s.step = ?"
        params = (step,)
    rows = ctx.db.execute(sql + " ORDER BY s.id", params).fetchall()
    if not rows:
        return {"done": 0, "failed": 0}
    classify = list(dict.fromkeys(c for _, s, c in rows if s == "classify" and c is not None))
    plan = list(dict.fromkeys(c for _, s, c in rows if s == "plan" and c is not None))
    failures = _run_steps(ctx, classify, plan, reason="leads retry")
    counts = {"done": 0, "failed": 0}
    now = now_iso()
    with ctx.transaction() as tx:
        for fid, s, cid in rows:
            failed = failures.get((s, cid)) if cid is not None else None
            if failed is None:  # done now (or its customer is gone: nothing left to do)
                tx.execute(
                    "UPDATE lead_step_failures SET status = 'done', retried_at = ? WHERE id = ?",
                    (now, fid),
                )
                counts["done"] += 1
            else:
                tx.execute(
                    "UPDATE lead_step_failures SET attempts = attempts + 1, plugin = ?,"
                    " error = ?, retried_at = ? WHERE id = ?",
                    (*failed, now, fid),
                )
                counts["failed"] += 1
    return counts


def _run_steps(ctx: Any, classify: list[int], plan: list[int], reason: str) -> Failures:
    from carectl.care.scheduler import plan_for_customers
    from carectl.segments.refresh import refresh_customers

    failures: Failures = {}
    view = guarded(ctx, failures)
    hook = ctx.pm.hook
    # Customers are refreshed (metrics, segments, tags) here only when a plugin classifies or
    # something plans (care plans follow segments); otherwise segments_live does it once for
    # the whole file at the end.
    planners = _planners(ctx)
    if classify and (hook.classify_customer.get_hookimpls() or planners):
        _step(
            lambda: refresh_customers(view, classify, reason=reason), "classify", classify, failures
        )
    if plan and planners:
        _step(lambda: plan_for_customers(view, plan, event="created"), "plan", plan, failures)
    return failures


def _planners(ctx: Any) -> bool:
    """Whether anything may plan: the built-in planner alone has nothing to say without
    ``[[care_plans]]`` (it only turns them into follow-ups)."""
    names = {i.plugin_name for i in ctx.pm.hook.plan_followups.get_hookimpls()}
    return bool(names - {BUILTIN_PLANNER}) or (bool(names) and bool(ctx.config.care_plans))


def _step(fn: Any, step: str, ids: list[int], failures: Failures) -> None:
    try:
        fn()
    except Exception as exc:  # not a plugin's (those are caught per customer): the whole step
        log.exception("ingest step %s failed", step)
        for cid in ids:
            failures.setdefault((step, cid), ("", f"{type(exc).__name__}: {exc}"))


def _record(tx: Any, lead_id: int, step: str, plugin: str, error: str) -> None:
    tx.execute(
        "INSERT INTO lead_step_failures (lead_id, step, plugin, error, failed_at)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (lead_id, step) DO UPDATE SET status = 'failed',"
        " plugin = excluded.plugin, error = excluded.error, attempts = attempts + 1,"
        " failed_at = excluded.failed_at",
        (lead_id, step, plugin, error, now_iso()),
    )


# ---------------------------------------------------------------- the guarded plugin manager


def guarded(ctx: Any, failures: Failures) -> Any:
    """A copy of ctx whose step hooks run plugin by plugin through the Guard, recording which
    plugin failed for which customer before the caller's own error handling sees the error."""
    view = copy.copy(ctx)
    view.__dict__["pm"] = _Manager(ctx.pm, guard_for(ctx.pm, ctx.config.ingest), failures)
    return view


class _Manager:
    def __init__(self, pm: Any, guard: Any, failures: Failures) -> None:
        self._pm = pm
        self.hook = _Hooks(pm, guard, failures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pm, name)


class _Hooks:
    def __init__(self, pm: Any, guard: Any, failures: Failures) -> None:
        self._pm, self._guard, self._failures = pm, guard, failures

    def __getattr__(self, name: str) -> Any:
        caller = getattr(self._pm.hook, name)
        return _Caller(caller, name, self._guard, self._failures) if name in HOOKS else caller


class _Caller:
    def __init__(self, caller: Any, name: str, guard: Any, failures: Failures) -> None:
        self._caller, self._name, self._guard, self._failures = caller, name, guard, failures

    def get_hookimpls(self) -> list:
        return self._caller.get_hookimpls()

    def __call__(self, **kwargs: Any) -> Any:
        try:
            return self._guard.call(self._name, **kwargs)
        except PluginFailed as exc:
            customer = kwargs.get("customer") or {}
            if customer.get("id") is not None:
                step = HOOKS[self._name]
                self._failures[(step, customer["id"])] = (exc.plugin, _text(exc.error))
            raise


def _text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"
