"""The running carectl: config, database and plugins, opened lazily and shared by every command."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from carectl.config import Config
from carectl.store import open_db
from carectl.store.transaction import Tx, transaction

if TYPE_CHECKING:  # loaded when first used: the desk paints its list before either is needed
    import sqlite_utils

    from carectl import plugins

log = logging.getLogger(__name__)


class Context:
    def __init__(self, config: Config, pm: plugins.PluginManager | None = None) -> None:
        self.config = config
        if pm is not None:
            self.__dict__["pm"] = pm

    @cached_property
    def pm(self) -> plugins.PluginManager:
        from carectl import plugins

        return plugins.build(self.config.plugins.folder, self.config.plugins.disabled)

    @cached_property
    def db(self) -> sqlite_utils.Database:
        return open_db(self.config.database)

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def plugin_settings(self, name: str) -> dict[str, Any]:
        return dict(self.config.plugins.settings.get(name, {}))

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write transaction whose lifecycle events reach plugins after commit."""
        with transaction(self.db, dispatch=self._dispatch) as tx:
            yield tx

    def _dispatch(self, event: str, kwargs: dict[str, Any]) -> None:
        """Tell each plugin on its own: one listener's failure must not undo a committed change,
        nor keep the plugins after it from hearing of it (a single hook call stops at the first)."""
        caller = getattr(self.pm.hook, event)
        impls = caller.get_hookimpls()
        args = {"ctx": self, **kwargs}
        if any(impl.hookwrapper or impl.wrapper for impl in impls):
            impls = []  # wrappers need pluggy's own call
            try:
                caller(**args)
            except Exception:
                log.exception("plugin hook %s failed", event)
        for impl in reversed(impls):  # pluggy's call order
            try:
                impl.function(*(args[name] for name in impl.argnames))
            except Exception:
                log.exception("plugin %r failed in %s", impl.plugin_name, event)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.close()
            del self.__dict__["db"]
