"""What the server says it is serving, read from its /metrics by one scraping thread.

The reload and swap loads wait on this to know a change was activated before they make the
next one. One thread scrapes for both, so the server renders /metrics once per interval
however many loads are waiting.
"""

from __future__ import annotations

import re
import threading
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_LINE = re.compile(r"^(?P<name>[a-z_]+)(?:\{(?P<labels>[^}]*)\})? (?P<value>\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class ServerState:
    """One server process's view of its rules and model."""

    rules_activated: int
    rules_refused: int
    ruleset_version: str | None
    model_version: str | None
    model_scorer: str | None
    models_loaded: int
    fallbacks: dict[str, int] = field(default_factory=dict)  # decision_fallbacks_total by reason


def parse(text: str) -> ServerState:
    """The figures the soak waits on, from a Prometheus text exposition."""
    counters: dict[tuple[str, str], float] = {}
    fallbacks: dict[str, int] = {}
    ruleset = model = scorer = None
    for line in text.splitlines():
        match = _LINE.match(line)
        if match is None:
            continue
        name, value = match["name"], float(match["value"])
        labels = dict(_LABEL.findall(match["labels"] or ""))
        if name in ("decision_rules_reloads_total", "decision_model_reloads_total"):
            counters[name, labels.get("result", "")] = value
        elif name == "decision_fallbacks_total":
            fallbacks[labels.get("reason", "")] = int(value)
        elif name == "decision_ruleset_active_info" and value == 1:
            ruleset = labels.get("version")
        elif name == "decision_model_active_info" and value == 1:
            model, scorer = labels.get("version"), labels.get("scorer")
    return ServerState(
        rules_activated=int(counters.get(("decision_rules_reloads_total", "success"), 0)),
        rules_refused=int(counters.get(("decision_rules_reloads_total", "failure"), 0)),
        ruleset_version=ruleset,
        model_version=model,
        model_scorer=scorer,
        models_loaded=int(counters.get(("decision_model_reloads_total", "success"), 0)),
        fallbacks=fallbacks,
    )


Predicate = Callable[[Sequence[ServerState]], bool]


class MetricsWatch:
    """Scrapes every process's /metrics (ports `first_port` + i) every `interval` seconds."""

    def __init__(self, first_port: int, processes: int, interval: float) -> None:
        self._urls = [f"http://127.0.0.1:{first_port + i}/metrics" for i in range(processes)]
        self._interval = interval
        self._latest: tuple[ServerState, ...] = ()
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-scrape", daemon=True)
        self.failures = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop scraping; whoever waits is released (and told the wait failed)."""
        self._stop.set()
        with self._changed:
            self._changed.notify_all()
        self._thread.join(timeout=10)

    @property
    def latest(self) -> tuple[ServerState, ...]:
        return self._latest

    def wait_for(self, predicate: Predicate, timeout: float) -> bool:
        """Block until a scrape of every process satisfies `predicate`; False after `timeout` s or a stop."""

        def met() -> bool:
            return bool(self._latest) and predicate(self._latest)

        with self._changed:
            self._changed.wait_for(lambda: self._stop.is_set() or met(), timeout)
            return met()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                states = tuple(parse(_get(url)) for url in self._urls)
            except OSError:
                self.failures += 1  # a process restarting or too busy to answer: try again
            else:
                with self._changed:
                    self._latest = states
                    self._changed.notify_all()
            self._stop.wait(self._interval)


def _get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        return str(reply.read().decode())
