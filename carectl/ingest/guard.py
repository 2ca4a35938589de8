"""Plugin isolation for the per-lead hooks: name the plugin that failed, stop one that hangs,
and switch off one that keeps failing, so one vendor plugin cannot stall or poison an import.

pluggy runs all implementations of a hook in one call, so an exception does not say whose it was.
:meth:`Guard.call` runs them one by one in pluggy's order (same arguments, same firstresult rule)
and raises :class:`PluginFailed` naming the plugin. A call that runs past ``timeout`` seconds is
interrupted (a watchdog thread sends SIGALRM; only on the main thread, where the daemon and the
CLI run) and counts as a failure. After ``max_failures`` failures in a row a plugin is disabled
for the rest of the process (blocked in the plugin manager, so no hook calls it), logged once
and listed in :attr:`Guard.disabled`. Hooks with
wrappers fall back to pluggy's own call (no naming there).
"""

from __future__ import annotations

import logging
import operator
import signal
import threading
import time
import weakref
from collections import Counter
from typing import Any

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
MAX_FAILURES = 20


class PluginFailed(Exception):
    def __init__(self, plugin: str, hook: str, error: BaseException) -> None:
        self.plugin, self.hook, self.error = plugin, hook, error
        super().__init__(f"plugin {plugin!r} failed in {hook}: {type(error).__name__}: {error}")


class PluginTimeout(Exception):
    pass


class Guard:
    def __init__(
        self, pm: Any, timeout: float = TIMEOUT_SECONDS, max_failures: int = MAX_FAILURES
    ) -> None:
        self._pm = weakref.ref(pm)  # _GUARDS maps pm -> guard: a strong ref would keep both
        self.timeout = timeout
        self.max_failures = max_failures
        self.failures: Counter[str] = Counter()
        self.disabled: dict[str, str] = {}  # plugin name -> the last error
        self._started: float | None = None  # when the running plugin call began
        self._plans: dict[str, tuple] = {}  # hook -> _plan(), while its implementations last
        self._watchdog: threading.Thread | None = None

    @property
    def pm(self) -> Any:
        return self._pm()

    def call(self, hook: str, **kwargs: Any) -> Any:
        caller = getattr(self._pm().hook, hook)
        impls = caller.get_hookimpls()
        plan = self._plans.get(hook)
        if plan is None or plan[0] != impls:  # first call, or plugins came or went
            plan = self._plans[hook] = _plan(caller, impls)
        _, wrapped, first, steps = plan
        if wrapped:
            return caller(**kwargs)
        results = []
        timed = self._watch()
        disabled = self.disabled
        for name, function, pick in steps:
            if disabled and name in disabled:
                continue
            try:
                if timed:
                    self._started = time.monotonic()
                result = function(*pick(kwargs))
            except Exception as exc:
                self._failed(name, hook, exc)
                raise PluginFailed(name, hook, exc) from exc
            finally:
                self._started = None
            if self.failures and self.failures.get(name):
                self.failures[name] = 0
            if result is not None:
                if first:
                    return result
                results.append(result)
        return None if first else results

    def _failed(self, name: str, hook: str, exc: Exception) -> None:
        self.failures[name] += 1
        if self.failures[name] >= self.max_failures and name not in self.disabled:
            self.disabled[name] = f"{hook}: {type(exc).__name__}: {exc}"
            log.error(
                "plugin %r disabled after %d failures in a row (last: %s)",
                name,
                self.failures[name],
                self.disabled[name],
            )
            # Off for every hook of this process, not only the guarded ones.
            self.pm.set_blocked(name)

    def _watch(self) -> bool:
        """Whether calls on this thread can be timed; starts the watchdog the first time."""
        if self.timeout <= 0 or threading.get_ident() != _MAIN:
            return False
        if self._watchdog is None:
            signal.signal(signal.SIGALRM, _alarm)
            self._watchdog = threading.Thread(
                target=_bark, args=(weakref.ref(self),), name="plugin-watchdog"
            )
            self._watchdog.daemon = True
            self._watchdog.start()
        return True


def _plan(caller: Any, impls: list) -> tuple:
    """(impls, has a wrapper, firstresult, [(plugin, function, its arguments from the call's
    keywords)] in call order): what every call of a hook looked up again, kept while its
    implementations stay the same."""
    wrapped = any(i.hookwrapper or i.wrapper for i in impls)
    first = bool(caller.spec and caller.spec.opts.get("firstresult"))
    return (
        impls,
        wrapped,
        first,
        [(i.plugin_name, i.function, _picker(i.argnames)) for i in reversed(impls)],
    )


def _picker(names: tuple[str, ...]) -> Any:
    """kwargs -> the tuple of these arguments' values (KeyError for one not given)."""
    if not names:
        return lambda kwargs: ()
    if len(names) == 1:
        (name,) = names
        return lambda kwargs: (kwargs[name],)
    return operator.itemgetter(*names)


_MAIN = threading.main_thread().ident  # the thread signals are delivered to


def _bark(ref: weakref.ref[Guard]) -> None:
    """Interrupt the main thread once when the guard's current call is overdue; ends with the
    guard. A thread that looks at a start time costs each call two assignments, where a timer
    costs two syscalls."""
    main = threading.main_thread().ident
    barked = None
    while (guard := ref()) is not None:
        pause = min(1.0, guard.timeout / 4)
        del guard  # not kept alive by its own watchdog while sleeping
        time.sleep(pause)
        guard = ref()
        if guard is None:
            return
        started = guard._started
        overdue = started is not None and time.monotonic() - started > guard.timeout
        del guard
        if overdue and started != barked:
            barked = started
            signal.pthread_kill(main, signal.SIGALRM)


def _alarm(signum: int, frame: Any) -> None:
    raise PluginTimeout("did not return in time (a hang?)")


_GUARDS: weakref.WeakKeyDictionary[Any, Guard] = weakref.WeakKeyDictionary()


def guard_for(pm: Any, settings: Any = None) -> Guard:
    """The one Guard of a plugin manager (failure counts live as long as it does);
    ``settings`` (the config's ``[ingest]``) gives a new one its timeout and failure count."""
    guard = _GUARDS.get(pm)
    if guard is None:
        guard = _GUARDS[pm] = Guard(pm)
        if settings is not None:
            guard.timeout = settings.plugin_timeout_seconds
            guard.max_failures = settings.plugin_max_failures
    return guard
