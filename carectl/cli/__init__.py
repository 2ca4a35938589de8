"""The ``carectl`` command: typer apps, one module per command group.

Errors reach the user as one line on stderr and a non-zero exit; ``--debug`` shows tracebacks.
Plugins are loaded before the command line is parsed so their ``register_commands`` can add
commands, which is why the config is located from argv first.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

import click
import typer

from carectl import config as config_mod
from carectl.cli import common
from carectl.config import ConfigError
from carectl.context import Context
from carectl.service.customers import NotFound

app = typer.Typer(
    name="carectl",
    help="Customer care in the terminal: customers, leads, care plans, tickets and KPIs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Path | None = typer.Option(
        None,
        "--config",
        "-c",
        help="Config file (else $CARECTL_CONFIG, ./config/carectl.toml, the user config dir).",
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and debug logs."),
) -> None:
    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr)
    ctx.obj = common.State(config_path=config, preloaded=_PRELOADED.get("ctx"))


_OPTIONAL = (
    "importing",
    "demo",
    "tui",
    "interactions",
    "tickets",
    "kpi",
    "loyalty",
    "feedback",
    "churn",
    "daemon",
    "leads",
    "outbox",
    "consent",
    "segments",
    "care",
    "merges",
    "review",
    "dedupe",
)
_REGISTERED: set[str] = set()


def _register_builtin_commands(only: str | None = None) -> None:
    """Every command group, or with ``only`` just that one: ``carectl tui`` paints sooner when
    it does not import the other groups' modules (about 0.3-1 s). Idempotent, so an in-process
    caller running several commands gets the rest on its next call."""
    if "" not in _REGISTERED:
        from carectl.cli import audit, customers, init, plugins

        app.add_typer(customers.app, name="customers")
        app.command("init")(init.init)
        app.command("plugins")(plugins.plugins)
        app.command("audit")(audit.audit)
        _REGISTERED.add("")
    for optional in _OPTIONAL:
        if optional in _REGISTERED or (only is not None and optional != only):
            continue
        _REGISTERED.add(optional)
        try:
            module = __import__(f"carectl.cli.{optional}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"carectl.cli.{optional}":
                raise
            continue
        module.register(app)


def _command_word(argv: list[str]) -> str | None:
    """The first word of argv that is neither an option nor the value of --config / -c."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--config", "-c"):
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


_PRELOADED: dict[str, Context] = {}


def _config_from_argv(argv: list[str]) -> Path | None:
    for i, arg in enumerate(argv):
        if arg in ("--config", "-c") and i + 1 < len(argv):
            return Path(argv[i + 1])
        if arg.startswith("--config="):
            return Path(arg.split("=", 1)[1])
    return None


def _load_plugins(argv: list[str]) -> None:
    """Build the context early so plugins can register commands; config errors wait for later."""
    try:
        cfg = config_mod.load(_config_from_argv(argv))
    except ConfigError:
        return
    ctx = Context(cfg)
    _PRELOADED["ctx"] = ctx
    ctx.pm.hook.register_commands(cli=app)


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    _register_builtin_commands(only="tui" if _command_word(args) == "tui" else None)
    _load_plugins(args)
    command = typer.main.get_command(app)
    try:
        rc = command.main(args=args, prog_name="carectl", standalone_mode=False)
        if isinstance(rc, int) and rc:  # click returns typer.Exit's code in this mode
            sys.exit(rc)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except (ConfigError, NotFound, common.UserError) as exc:
        _fail(str(exc), debug)
    except ValueError as exc:  # validation of user-supplied values (phones, dates, amounts)
        _fail(str(exc), debug)
    except sqlite3.Error as exc:
        _fail(f"database: {exc}", debug)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # a bug: still one line, the traceback on request
        _fail(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug)", debug)
    finally:
        ctx = _PRELOADED.pop("ctx", None)
        if ctx is not None:
            ctx.close()


def _fail(message: str, debug: bool) -> None:
    if debug:
        raise
    print(f"error: {message}", file=sys.stderr)
    sys.exit(1)
