"""Example vendor plugin: reads "Example Leads Co." ``.leads`` files, tags their leads, logs.

Copy this file into your plugins folder (``[plugins] folder`` in carectl.toml) and adapt it.
Each function marked ``@hookimpl`` implements one hook of carectl/hookspecs.py (documented in
docs/plugins.md); a plugin implements only the hooks it needs and, like pytest, declares only
the hook arguments it uses. It shows four hooks:

- ``parse_lead_file``: a new file format. The vendor sends pipe-separated UTF-8 with ``#``
  comment lines; the ``# fields:`` comment names the columns::

      # vendor: Example Leads Co.
      # fields: name|mobile|email|interest
      Nguyễn Văn An|0901234567|an@example.vn|skincare

  The built-in normaliser then maps ``name``/``mobile``/``email`` like any CSV header, and keeps
  ``interest`` (a column it does not know) as a custom field.
- ``normalize_lead``: runs after the built-in one and adds a tag and a custom field, only to
  leads from this vendor's source.
- ``customer_created``: appends one JSON line per new customer from this vendor to a log file.
- ``register_commands``: ``carectl example-vendor`` lists the files received from the vendor.

Settings (all optional) live in carectl.toml and are read with ``ctx.plugin_settings``::

    [plugins.settings.example_vendor]
    source = "example_vendor"            # the --source / drop-folder source of this vendor
    tag_prefix = "interest:"             # tag = prefix + the lead's "interest" column
    log_file = "../var/example_vendor.jsonl"   # relative to the config file; unset: no log
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from carectl.hookspecs import hookimpl
from carectl.ingest.errors import LeadFileError
from carectl.ingest.lead import ParsedRow

NAME = "example_vendor"  # the plugin's name: the file's stem, used for settings and `disabled`
VENDOR = "Example Leads Co."


def _settings(ctx) -> dict:
    return {"source": NAME, "tag_prefix": "interest:", **ctx.plugin_settings(NAME)}


# ---------------------------------------------------------------- a file format


@hookimpl
def parse_lead_file(path, options):
    """Claim ``.leads`` files; return None for anything else so other parsers get a turn."""
    if path.suffix.lower() != ".leads":
        return None
    return _read(path)


def _read(path: Path):
    """Yield (line number, {column: cell}); a generator, so big files stream."""
    header: list[str] | None = None
    with path.open(encoding="utf-8-sig", newline="") as fh:
        for number, line in enumerate(fh, 1):
            text = line.rstrip("\r\n")
            if text.startswith("#"):
                key, _, value = text[1:].partition(":")
                if key.strip().lower() == "fields":
                    header = [h.strip() for h in value.split("|")]
                continue
            if not text.strip():
                continue
            if header is None:
                raise LeadFileError(path, "no '# fields:' line before the first row", number)
            cells = [c.strip() for c in text.split("|")]
            row = dict(zip(header, cells, strict=False))
            if len(cells) != len(header):  # reject this row only, the rest still imports
                message = f"{len(cells)} fields, the '# fields:' line names {len(header)}"
                yield number, ParsedRow(row, [("", message)])
            else:
                yield number, row
    if header is None:
        raise LeadFileError(path, "no '# fields:' line: not an Example Leads Co. file", 1)


# ---------------------------------------------------------------- enriching leads


@hookimpl
def normalize_lead(ctx, lead):
    """Tag this vendor's leads by interest; leave every other source alone."""
    settings = _settings(ctx)
    if lead.options.source != settings["source"]:
        return
    interest = str(lead.raw.get("interest") or "").strip()
    if interest:
        lead.tags.append(f"{settings['tag_prefix']}{interest.lower()}")
    lead.custom["vendor"] = VENDOR


# ---------------------------------------------------------------- reacting to changes


@hookimpl
def customer_created(ctx, customer):
    """Runs after the commit; a failure here is logged and never undoes the import."""
    settings = _settings(ctx)
    if not settings.get("log_file") or customer.get("source_vendor") != settings["source"]:
        return
    log_file = Path(settings["log_file"])
    if not log_file.is_absolute() and ctx.config.source_path is not None:
        log_file = ctx.config.source_path.parent / log_file
    log_file.parent.mkdir(parents=True, exist_ok=True)
    entry = {"code": customer["code"], "name": customer["full_name"], "custom": customer["custom"]}
    with log_file.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, ensure_ascii=False) + "\n")


# ---------------------------------------------------------------- a command


@hookimpl
def register_commands(cli):
    @cli.command("example-vendor")
    def example_vendor(ctx: typer.Context) -> None:
        """Example vendor plugin: the lead files received from Example Leads Co."""
        from carectl.cli.common import context, print_table

        app_ctx = context(ctx)
        cur = app_ctx.db.execute(
            "SELECT file_name, status, rows, created, merged, rejected"
            " FROM lead_files WHERE source = ? ORDER BY id",
            (_settings(app_ctx)["source"],),
        )
        cols = [d[0] for d in cur.description]
        print_table([dict(zip(cols, r, strict=True)) for r in cur], cols, title=VENDOR)
