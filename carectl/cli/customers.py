"""`carectl customers add|list|show|edit|search|export|erase`."""

from __future__ import annotations

import json

import typer

from carectl import search
from carectl.cli.common import JSON_OPTION, UserError, context, parse_pairs, print_json, print_table
from carectl.money import format_amount
from carectl.profile import profile
from carectl.service import customers as svc
from carectl.service import privacy

app = typer.Typer(help="Customer records: add, list, show, edit, search.", no_args_is_help=True)

LIST_COLUMNS = ["code", "full_name", "phone", "email", "region", "language", "updated"]


def _display(rows: list[dict]) -> list[dict]:
    return [{**r, "updated": (r.get("updated_at") or "")[:16].replace("T", " ")} for r in rows]


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Option("", "--name", "-n", help="Full name, in any script."),
    email: list[str] = typer.Option([], "--email", "-e", help="Email address (repeatable)."),
    phone: list[str] = typer.Option([], "--phone", "-p", help="Phone number (repeatable)."),
    region: str | None = typer.Option(None, "--region", help="Country code, e.g. VN, KR, CN."),
    language: str | None = typer.Option(None, "--language", help="e.g. vi, ko, zh, en."),
    timezone: str | None = typer.Option(None, "--timezone", help="IANA zone, e.g. Asia/Seoul."),
    birthday: str | None = typer.Option(None, "--birthday", help="YYYY-MM-DD or --MM-DD."),
    source: str | None = typer.Option(None, "--source", help="Vendor / source tag."),
    field: list[str] = typer.Option([], "--field", "-f", help="Custom field KEY=VALUE."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Add a customer; prints the new customer code."""
    app_ctx = context(ctx)
    cfg = app_ctx.config
    with app_ctx.transaction() as tx:
        sid = svc.source_id(tx, source) if source else None
        row = svc.create_customer(
            tx,
            full_name=name,
            emails=email,
            phones=phone,
            phone_region=region or cfg.default_region,
            region=region or cfg.default_region,
            language=language or cfg.default_language,
            timezone=timezone or cfg.default_timezone,
            birthday=birthday,
            source_id=sid,
            custom=parse_pairs(field),
        )
    if as_json:
        print_json(row)
    else:
        typer.echo(row["code"])


@app.command("list")
def list_(
    ctx: typer.Context,
    sort: str = typer.Option("code", "--sort", help="code, name or updated."),
    after: str | None = typer.Option(None, "--after", help="Cursor printed by the previous page."),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Rows per page."),
    source: str | None = typer.Option(None, "--source", help="Only customers from this vendor."),
    as_json: bool = JSON_OPTION,
) -> None:
    """List customers a page at a time (keyset paging: fast on any page)."""
    db = context(ctx).db
    cursor = _parse_cursor(after) if after else None
    try:
        result = search.page(db, sort, after=cursor, limit=limit, source=source)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    next_cursor = json.dumps(list(result.last), ensure_ascii=False) if result.last else None
    if len(result.rows) < limit:
        next_cursor = None
    for r in result.rows:
        r.pop("_cursor")
    if as_json:
        print_json({"customers": result.rows, "next": next_cursor})
        return
    print_table(_display(result.rows), LIST_COLUMNS)
    if next_cursor:
        typer.echo(f"next page: --sort {sort} --after '{next_cursor}'", err=True)


def _parse_cursor(text: str) -> tuple:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = [int(text)] if text.isdigit() else None
    if not isinstance(value, list):
        raise UserError(f"--after expects the cursor printed by the previous page, got {text!r}")
    return tuple(value)


@app.command("search")
def search_(
    ctx: typer.Context,
    query: str = typer.Argument(
        ..., help="Name (any script, accents optional), phone, email or code."
    ),
    limit: int = typer.Option(20, "--limit", min=1, max=1000),
    as_json: bool = JSON_OPTION,
) -> None:
    """Find customers by name, phone, email or code."""
    app_ctx = context(ctx)
    rows = search.search(app_ctx.db, query, limit=limit, region=app_ctx.config.default_region)
    if as_json:
        print_json(rows)
        return
    if not rows:
        typer.echo(f"no customer matches {query!r}", err=True)
        raise typer.Exit(1)
    print_table(_display(rows), LIST_COLUMNS)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    as_json: bool = JSON_OPTION,
) -> None:
    """The whole profile: details, contact points, orders and timeline."""
    data = profile(context(ctx), ref)
    if as_json:
        print_json(data)
        return
    c = data["customer"]
    con = typer.echo
    con(f"{c['code']}  {c['full_name']}")
    for label, key in (
        ("family / given", None),
        ("language", "language"),
        ("time zone", "timezone"),
        ("region", "region"),
        ("birthday", "birthday"),
        ("source", "source"),
        ("created", "created_at"),
        ("updated", "updated_at"),
    ):
        value = f"{c['family_name']} / {c['given_name']}" if key is None else c.get(key)
        if value:
            con(f"  {label:<15} {value}")
    for k, v in c["custom"].items():
        con(f"  {k:<15} {v}")
    if data["contacts"]:
        con("contacts")
        for p in data["contacts"]:
            flags = " ".join(
                f for f, on in (("primary", p["is_primary"]), ("verified", p["verified"])) if on
            )
            con(f"  {p['kind']:<6} {p['value_norm']:<32} {flags}")
    if data["orders"]:
        s = data["order_summary"]
        con(f"orders  {s['count']} in total, last {s['last_at']}")
        for o in data["orders"][:10]:
            amount = format_amount(o["amount_minor"], o["currency"])
            con(f"  {o['ordered_at'][:10]}  {amount:>20}  {o['status']}")
    if data["timeline"]:
        con("timeline")
        for e in data["timeline"][:30]:
            con(f"  {e['at'][:19].replace('T', ' ')}  {e['kind']:<8} {e['summary']}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    name: str | None = typer.Option(None, "--name", "-n"),
    family_name: str | None = typer.Option(None, "--family-name"),
    given_name: str | None = typer.Option(None, "--given-name"),
    language: str | None = typer.Option(None, "--language"),
    timezone: str | None = typer.Option(None, "--timezone"),
    region: str | None = typer.Option(None, "--region"),
    birthday: str | None = typer.Option(None, "--birthday"),
    field: list[str] = typer.Option([], "--field", "-f", help="Set custom field KEY=VALUE."),
    unset_field: list[str] = typer.Option([], "--unset-field", help="Remove custom field KEY."),
    add_email: list[str] = typer.Option([], "--add-email", help="Add an email address."),
    add_phone: list[str] = typer.Option([], "--add-phone", help="Add a phone number."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Change a customer's details; every change is audit-logged."""
    app_ctx = context(ctx)
    changes: dict = {
        k: v
        for k, v in {
            "full_name": name,
            "family_name": family_name,
            "given_name": given_name,
            "language": language,
            "timezone": timezone,
            "region": region,
            "birthday": birthday,
        }.items()
        if v is not None
    }
    custom: dict = parse_pairs(field)
    custom.update(dict.fromkeys(unset_field))
    if custom:
        changes["custom"] = custom
    if not changes and not add_email and not add_phone:
        raise UserError("nothing to change: give at least one option (see --help)")
    with app_ctx.transaction() as tx:
        row = svc.update_customer(tx, ref, changes) if changes else svc.get_customer(tx.db, ref)
        phone_region = row["region"] or app_ctx.config.default_region
        for e in add_email:
            svc.add_contact_point(tx, row["id"], "email", e)
        for p in add_phone:
            svc.add_contact_point(tx, row["id"], "phone", p, region=phone_region)
        row = svc.get_customer(tx.db, row["id"])
    if as_json:
        print_json(row)
    else:
        typer.echo(f"updated {row['code']}")


@app.command("export")
def export(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    output: str = typer.Option("-", "--output", "-o", help="File to write; - for stdout."),
) -> None:
    """Everything held about one person as one JSON document (access requests)."""
    doc = privacy.export(context(ctx).db, ref)
    text = json.dumps(doc, ensure_ascii=False, indent=2, default=str)
    if output == "-":
        typer.echo(text)
    else:
        with open(output, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        typer.echo(f"wrote {output}", err=True)


@app.command("erase")
def erase(
    ctx: typer.Context,
    ref: str = typer.Argument(..., help="Customer code, e.g. C-000123."),
    yes: bool = typer.Option(False, "--yes", help="Do it (erasure cannot be undone)."),
    as_json: bool = JSON_OPTION,
) -> None:
    """Irreversibly redact one person everywhere and never contact them again."""
    app_ctx = context(ctx)
    code = svc.get_customer(app_ctx.db, ref)["code"]
    if not yes:
        raise UserError(f"erasing {code} cannot be undone: add --yes to go ahead")
    summary = privacy.erase_customer(app_ctx, code)
    if as_json:
        print_json(summary)
        return
    rows = sum(summary["rows"].values())
    typer.echo(f"erased {code}: {rows} rows redacted, {summary['suppressed']} contacts suppressed")
