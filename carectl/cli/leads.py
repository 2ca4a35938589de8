"""`carectl leads` (every ingested lead with its provenance and customer) and `carectl ingests`
(every lead file with its counts): how ingest and dedupe quality are checked from outside."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from typing import Any

import typer

from carectl.cli.common import JSON_OPTION, UserError, context, print_json, print_table

LEADS_SQL = """
SELECT f.file_name AS file, f.sha256, ROW_NUMBER() OVER (
           PARTITION BY l.file_id ORDER BY l.row_number) AS row,
       l.row_number AS line, f.source, l.action AS status, c.code AS customer,
       m.code AS match_customer, l.match_reason, l.errors, l.warnings, l.raw
FROM leads l
JOIN lead_files f ON f.id = l.file_id
LEFT JOIN customers c ON c.id = l.customer_id
LEFT JOIN customers m ON m.id = l.match_customer_id
WHERE f.id IN ({files})
ORDER BY l.file_id, l.row_number
"""


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Every ingested lead; `leads retry` re-runs failed plugin steps.")
    group.callback(invoke_without_command=True)(leads)
    group.command("retry")(retry)
    app.add_typer(group, name="leads")
    app.command("ingests")(ingests)


def retry(
    ctx: typer.Context,
    step: str = typer.Option("", "--step", help="Only this step: classify or plan."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Run the classify / plan follow-ups steps again for leads a plugin failed on."""
    from carectl.ingest import steps

    if step and step not in steps.STEPS:
        raise UserError(f"--step {step}: expected one of {', '.join(steps.STEPS)}")
    counts = steps.retry(context(ctx), step or None)
    if as_json:
        print_json(counts)
    else:
        typer.echo(f"{counts['done']} done, {counts['failed']} failed again")


def leads(
    ctx: typer.Context,
    file: str = typer.Option("", "--file", help="Only this file: its SHA-256 or a prefix of it."),
    limit: int = typer.Option(50, "--limit", help="Rows in the table (--json prints all)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Every ingested lead: file, sha256, row (1-based data row), source, status, customer.

    --json streams an array of objects with the raw row, errors and warnings as well.
    """
    if ctx.invoked_subcommand:
        return
    db = context(ctx).db
    if file:
        ids = [r[0] for r in db.execute(
            "SELECT id FROM lead_files WHERE sha256 LIKE ? || '%'", (file.lower(),))]  # fmt: skip
        if len(ids) != 1:
            found = "no lead file" if not ids else f"{len(ids)} lead files"
            raise UserError(f"--file {file}: {found} with that SHA-256 (see `carectl ingests`)")
        sql, params = LEADS_SQL.format(files="?"), (ids[0],)
    else:
        sql, params = LEADS_SQL.format(files="SELECT id FROM lead_files"), ()
    cur = db.execute(sql, params)
    names = [d[0] for d in cur.description]
    rows = (_lead(dict(zip(names, r, strict=True))) for r in cur)
    if as_json:
        _stream_json(rows)
        return
    shown = []
    for row in rows:
        if len(shown) == limit:
            typer.echo(f"(first {limit} shown; --limit N or --json for more)", err=True)
            break
        row["problem"] = "; ".join(e["message"] for e in row["errors"])
        shown.append(row)
    cols = ["file", "row", "status", "customer", "problem"]
    print_table(shown, cols, title="Leads", wrap=["problem"])


def ingests(ctx: typer.Context, as_json: bool = JSON_OPTION) -> None:
    """Every lead file: rows ingested, skipped (rejected), failed, duplicate deliveries, duration.

    ``ingested`` = created + merged + review; ``skipped`` = rejected rows (listed with reasons in
    the file's rejects report); ``failed`` = rows a plugin failed on (``carectl leads retry``).
    """
    db = context(ctx).db
    cur = db.execute(
        "SELECT f.id, f.file_name AS file, f.sha256, f.source, f.status, f.rows,"
        " f.created + f.merged + f.review AS ingested, f.rejected AS skipped,"
        " (SELECT count(DISTINCT s.lead_id) FROM lead_step_failures s JOIN leads l"
        "  ON l.id = s.lead_id WHERE s.status = 'failed' AND l.file_id = f.id) AS failed,"
        " f.created, f.merged, f.review, f.rejected, f.error, f.started_at, f.finished_at"
        " FROM lead_files f ORDER BY f.id"
    )
    names = [d[0] for d in cur.description]
    out = [dict(zip(names, r, strict=True)) for r in cur]
    again: dict[int, list[dict[str, Any]]] = {}
    for file_id, *rest in db.execute(
        "SELECT file_id, file_name, path, source, received_at FROM lead_file_duplicates ORDER BY id"
    ):
        keys = ("file", "path", "source", "received_at")
        again.setdefault(file_id, []).append(dict(zip(keys, rest, strict=True)))
    for row in out:
        row["seconds"] = _seconds(row["started_at"], row["finished_at"])
        row["duplicate_deliveries"] = again.get(row["id"], [])
        row["duplicates"] = len(row["duplicate_deliveries"])
    if as_json:
        print_json(out)
        return
    table = []
    for row in out:
        row["sha256"] = row["sha256"][:8]
        table.append(row)
        for dup in row["duplicate_deliveries"]:  # shown under the delivery they repeat
            table.append({**dup, "file": f"  {dup['file']}", "status": "dup"})
    cols = ["id", "file", "sha256", "status", "ingested", "skipped", "failed", "seconds"]
    print_table(table, cols, title="Lead files", wrap=["file"])


def _lead(row: dict[str, Any]) -> dict[str, Any]:
    for key in ("errors", "warnings", "raw"):
        row[key] = json.loads(row[key])
    return row


def _stream_json(rows: Any) -> None:
    """A JSON array written object by object: a million leads never sit in memory."""
    out = sys.stdout
    out.write("[")
    written = 0
    for row in rows:
        out.write(",\n  " if written else "\n  ")
        out.write(json.dumps(row, ensure_ascii=False, default=str))
        written += 1
    out.write("\n]\n" if written else "]\n")


def _seconds(start: str | None, end: str | None) -> float | None:
    if not start or not end:
        return None
    parse = lambda s: datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return round((parse(end) - parse(start)).total_seconds(), 3)
