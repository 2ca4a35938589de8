"""The plugin manager: built-ins, then the ``carectl`` entry-point group, then the plugins folder.

A plugin that fails to import is recorded in ``load_errors`` with where it came from and why, and
carectl starts without it: one vendor's broken file must not stop the care desk.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from carectl import hookspecs

DEFAULT_PLUGINS = (
    "carectl.builtin.formats_csv",
    "carectl.builtin.formats_xlsx",
    "carectl.builtin.formats_json",
    "carectl.builtin.lead_fields",
    "carectl.builtin.match_scored",
    "carectl.builtin.timeline",
    "carectl.builtin.service_timeline",
    "carectl.builtin.loyalty_orders",
    "carectl.builtin.send_email",
    "carectl.builtin.send_sms_http",
    "carectl.builtin.consent_from_leads",
    "carectl.builtin.outbox_replies",
    "carectl.builtin.segments_live",
    "carectl.builtin.care_plans",
)
ENTRY_POINT_GROUP = "carectl"


@dataclass
class LoadError:
    origin: str  # "builtin", "entrypoint" or "folder"
    where: str  # module name, entry point, or file path
    error: str
    detail: str = ""

    def __str__(self) -> str:
        return f"plugin {self.where} ({self.origin}) failed to load: {self.error}"


class PluginManager(pluggy.PluginManager):
    """pluggy's manager plus where each plugin came from and what failed to load."""

    def __init__(self) -> None:
        super().__init__("carectl")
        self.add_hookspecs(hookspecs)
        self.origins: dict[str, tuple[str, str]] = {}
        self.load_errors: list[LoadError] = []


def build(
    plugins_folder: Path | None = None,
    disabled: Iterable[str] = (),
    *,
    entry_points: bool = True,
) -> PluginManager:
    pm = PluginManager()
    for name in disabled:
        pm.set_blocked(name)
    for modname in DEFAULT_PLUGINS:
        _register_module(pm, "builtin", modname, lambda m=modname: importlib.import_module(m))
    if entry_points:
        for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            where = f"{ep.name} = {ep.value}" + (f" [{ep.dist.name}]" if ep.dist else "")
            _register_module(pm, "entrypoint", ep.name, ep.load, where=where)
    if plugins_folder is not None and plugins_folder.is_dir():
        for path in sorted(plugins_folder.glob("*.py")):
            if path.name.startswith(("_", ".")):
                continue
            _register_module(pm, "folder", path.stem, lambda p=path: _load_file(p), where=str(path))
    return pm


def _register_module(
    pm: PluginManager, origin: str, name: str, load: Any, where: str | None = None
) -> None:
    where = where or name
    if pm.is_blocked(name):
        pm.origins[name] = (origin, where)
        return
    try:
        module = load()
        pm.register(module, name=name)
    except Exception as exc:  # any error in a plugin's import is the plugin's, not ours
        pm.load_errors.append(
            LoadError(origin, where, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        )
        return
    pm.origins[name] = (origin, where)


def _load_file(path: Path) -> ModuleType:
    modname = f"carectl_plugins.{path.stem}"
    spec = importlib.util.spec_from_file_location(modname, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return module


def describe(pm: PluginManager, disabled: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One entry per plugin for ``carectl plugins``: name, origin, where, hooks, status.

    ``disabled``: plugins switched off after repeated failures (name -> last error)."""
    disabled = disabled or {}
    out = []
    origins = dict(pm.origins)
    for name, plugin in pm.list_name_plugin():  # registered by code (tests, embedding apps)
        origins.setdefault(name, ("code", getattr(plugin, "__module__", "") or repr(plugin)))
    for name in disabled:
        origins.setdefault(name, ("code", name))
    for name, (origin, where) in origins.items():
        plugin = pm.get_plugin(name)
        hooks = sorted(h.name for h in pm.get_hookcallers(plugin) or []) if plugin else []
        status = "blocked" if pm.is_blocked(name) else "loaded"
        out.append(
            {
                "name": name,
                "origin": origin,
                "where": where,
                "status": "disabled" if name in disabled else status,
                "hooks": hooks,
                "doc": (inspect.getdoc(plugin) or "").split("\n")[0] if plugin else "",
                **({"error": disabled[name]} if name in disabled else {}),
            }
        )
    for err in pm.load_errors:
        out.append(
            {
                "name": err.where,
                "origin": err.origin,
                "where": err.where,
                "status": "error",
                "hooks": [],
                "doc": err.error,
            }
        )
    return out
