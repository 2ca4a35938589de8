"""Every hook carectl calls, in pipeline order. docs/plugins.md documents each for authors.

Every hook may take ``ctx`` (the :class:`carectl.context.Context`: config, db, plugin manager);
like pytest, an implementation declares only the arguments it uses. Built-in behaviour is
implemented in ``carectl.builtin`` with these same hooks, so a plugin can add to it, run before it
(``tryfirst=True``) or replace it (``[plugins] disabled = [...]``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import typer

    from carectl.context import Context
    from carectl.ingest.lead import Lead, LeadFileOptions, MatchResult

hookspec = pluggy.HookspecMarker("carectl")
hookimpl = pluggy.HookimplMarker("carectl")


# ---------------------------------------------------------------- start-up


@hookspec
def register_commands(cli: typer.Typer) -> None:
    """Add commands or command groups to the ``carectl`` CLI."""


@hookspec
def startup(ctx: Context) -> None:
    """Called once the config is loaded and plugins are registered, before a command runs."""


# ---------------------------------------------------------------- lead pipeline


@hookspec(firstresult=True)
def parse_lead_file(
    ctx: Context, path: Path, options: LeadFileOptions
) -> Iterable[tuple[int, dict[str, Any]]] | None:
    """Read a lead file this plugin understands; return None for files it does not.

    Return an iterable (ideally a generator, files can hold millions of rows) of
    ``(row_number, {header: value})`` pairs, row numbers as a person counts them in the file;
    a row read only in part is yielded as :class:`carectl.ingest.lead.ParsedRow` with its errors.
    Raise :class:`carectl.ingest.errors.LeadFileError` for a file that cannot be read at all.
    The first plugin to return non-None wins.
    """


@hookspec
def normalize_lead(ctx: Context, lead: Lead) -> None:
    """Fill or correct ``lead.fields`` from ``lead.raw``, in place; record problems with
    ``lead.error(column, message)``. Every implementation runs (built-in first, then plugins,
    unless ordered with tryfirst/trylast). A lead with errors is not imported; its errors are
    reported with file, row and column.
    """


@hookspec(firstresult=True)
def match_lead(ctx: Context, lead: Lead) -> MatchResult | None:
    """Decide whether a normalised lead is an existing customer (dedupe).

    Return ``MatchResult(action="merge", customer_id=...)`` to fold the lead into a customer,
    ``"review"`` to create a customer and record the doubtful pair for a person, ``"new"`` to
    create a customer, or None to let the next implementation decide. The first non-None result
    wins.
    """


@hookspec
def lead_file_processed(ctx: Context, report: Any) -> None:
    """After a lead file is committed, or found to be a duplicate delivery: ``report`` (an
    :class:`carectl.ingest.report.IngestReport`) counts rows created, merged, rejected and
    carries the first errors. For notifications and syncs."""


# ---------------------------------------------------------------- customers


@hookspec
def customer_created(ctx: Context, customer: dict[str, Any]) -> None:
    """After commit of a new customer (a dict of the stored row)."""


@hookspec
def customer_updated(ctx: Context, customer: dict[str, Any], before: dict[str, Any]) -> None:
    """After commit of a change to a customer; ``before`` is the snapshot before it."""


@hookspec
def customers_changed(
    ctx: Context, created: list[int], updated: list[int], lead_file_id: int | None
) -> None:
    """After commit of a batch of customers created or changed together (a batch of a lead
    import: ``lead_file_id`` is its ``lead_files`` row, and ``lead_file_processed`` follows
    once the whole file is in; a batch of ``dedupe scan``: its merges' survivors in
    ``updated``). Ids only, so a plugin reads what it needs in one query.

    A plugin implementing this hook receives such batches here only: it is not also called
    with ``customer_created`` / ``customer_updated`` / ``customers_merged`` for each of their
    customers (plugins without it still are)."""


@hookspec
def customers_merged(ctx: Context, survivor: dict[str, Any], merged: dict[str, Any]) -> None:
    """After commit of a merge of ``merged`` into ``survivor`` (dedupe)."""


@hookspec
def order_created(ctx: Context, customer: dict[str, Any], order: dict[str, Any]) -> None:
    """After commit of a new order or purchase."""


@hookspec
def interaction_logged(ctx: Context, customer: dict[str, Any], interaction: dict[str, Any]) -> None:
    """After commit of a new interaction (a call, email, visit, ...) with the customer."""


@hookspec
def interactions_logged(ctx: Context, logged: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    """After commit of several interactions at once (``(customer, interaction)`` pairs; the
    outbox sender's rounds). A plugin implementing it gets these interactions here instead of
    one ``interaction_logged`` each; other plugins still get one ``interaction_logged`` each."""


@hookspec
def ticket_changed(ctx: Context, ticket: dict[str, Any], action: str) -> None:
    """After commit of a ticket change; ``action`` is open, reply, assign, resolve, reopen or
    close and ``ticket`` the row after it."""


@hookspec
def customer_timeline(ctx: Context, customer_id: int) -> list[dict[str, Any]] | None:
    """Events for a customer's timeline: dicts with at least ``at`` (ISO time), ``kind`` and
    ``summary``. Results of all implementations are merged and sorted newest first."""


# ---------------------------------------------------------------- care


@hookspec
def classify_customer(ctx: Context, customer: dict[str, Any]) -> list[str] | None:
    """Tags / segment names this plugin assigns to the customer. All results are combined."""


@hookspec
def plan_followups(
    ctx: Context, customer: dict[str, Any], event: str, at: str
) -> list[dict[str, Any]] | None:
    """Follow-ups (messages or care tasks) to schedule for the customer at ``at`` (UTC ISO)
    after ``event`` ("due": the scheduled run; "created": new from an import). All results are
    combined; the scheduler makes them idempotent and applies the contact policy."""


@hookspec(firstresult=True)
def send_message(ctx: Context, message: dict[str, Any], channel: str) -> dict[str, Any] | None:
    """Deliver one outbox message on ``channel`` ("email", "sms", ...). Return None if this
    plugin does not handle the channel, else ``{"status": "sent"|"retry"|"failed", ...}``.
    The first non-None result wins."""


@hookspec
def log_feedback(ctx: Context, feedback: dict[str, Any]) -> None:
    """After commit of feedback (a survey answer, a complaint, a rating) from any channel."""
