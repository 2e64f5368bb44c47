"""RulesetStore: the rule tier the decider calls, with hot reload from the rules path.

A watcher polls file sizes and mtimes; a change is acted on once it has been stable for one
poll interval (debounce; a file still being written is not activated). The candidate is
compiled, loaded into the engine and must pass its own `tests:` before it is published
with one reference swap (HotSwap), after which the old version is unloaded. A refused
candidate leaves the serving version untouched; its error is logged once and shown in
`status()`. Parsing runs in this interpreter: the file-size cap bounds the stall
(docs/hazards.md#yaml-bomb).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from decision import metrics
from decision.conditions.errors import SpecFileError
from decision.conditions.facts import NO_SEGMENT, UserSegment
from decision.conditions.loader import spec_files
from decision.domain import Request
from decision.reload.hotswap import HotSwap
from decision.tiers.rules import casefile
from decision.tiers.rules.active import ActiveRuleset
from decision.tiers.rules.compiled import CompiledRuleset
from decision.tiers.rules.compiler import compile_path
from decision.tiers.rules.engine import RetiredError
from decision.tiers.rules.errors import RuleEngineError
from decision.tiers.rules.outcome import RuleOutcome

log = logging.getLogger(__name__)
Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(path: Path) -> Fingerprint:
    """Names, sizes and mtimes of the ruleset's files: cheap to poll."""
    try:
        files = spec_files(path) if path.exists() else []
        return tuple((f.name, (s := f.stat()).st_size, s.st_mtime_ns) for f in files)
    except OSError:
        return ()


def self_test(active: ActiveRuleset) -> None:
    """Run the ruleset's own test cases; any failure refuses the version."""
    failures = [r for r in casefile.run_all(active) if not r.passed]
    if failures:
        raise SpecFileError.collect(
            [
                SpecFileError(r.case.file, r.case.line, None, f"test '{r.case.spec.name}' failed: {r.why}")
                for r in failures
            ]
        )


class RulesetStore:
    """Serves the active ruleset and keeps it in step with the files at `path`."""

    def __init__(self, path: Path, poll_seconds: float = 1.0) -> None:
        self._path = path
        self._poll = poll_seconds
        self._swap: HotSwap[ActiveRuleset] = HotSwap()
        self._listeners: list[Callable[[], None]] = []
        self._reload_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seen: Fingerprint | None = None
        self._last_error = ""

    @property
    def path(self) -> Path:
        """The rules folder (or file) this store watches."""
        return self._path

    @property
    def ready(self) -> bool:
        return self._swap.current is not None

    def add_listener(self, callback: Callable[[], None]) -> None:
        """Call `callback` after each successful activation (and now, if already active)."""
        self._listeners.append(callback)
        if self.ready:
            callback()

    def load_initial(self) -> None:
        """First load; raises SpecFileError listing every problem if it fails."""
        self._seen = fingerprint(self._path)
        error = self.reload()
        if error is not None:
            raise error

    def reload(self) -> SpecFileError | None:
        """Check the files now; activate a new valid version. Returns the refusal, if any."""
        with self._reload_lock:
            try:
                compiled = compile_path(self._path)
                current = self._swap.current
                if current and current.compiled.content_hash == compiled.content_hash:
                    self._last_error = ""  # the files are back to what is serving
                    return None
                self._activate(compiled)
                return None
            except SpecFileError as exc:
                self._refuse(exc, "")
                return exc
            except RuleEngineError as exc:
                error = SpecFileError(str(self._path), 1, None, str(exc))
                self._refuse(error, "")
                return error

    def _activate(self, compiled: CompiledRuleset) -> None:
        candidate = ActiveRuleset(compiled)
        try:
            self_test(candidate)
        except SpecFileError:
            candidate.close()
            raise
        previous = self._swap.publish(candidate, compiled.version, compiled.content_hash)
        self._last_error = ""
        metrics.RULES_RELOADS.labels(result="success").inc()
        metrics.RULESET_INFO.labels(compiled.version, compiled.content_hash).set(1)
        log.info(
            "ruleset %s activated (hash %s, %d rules)",
            compiled.version,
            compiled.content_hash,
            len(compiled.rules),
        )
        if previous is not None:
            old = previous.compiled
            if (old.version, old.content_hash) != (compiled.version, compiled.content_hash):
                metrics.RULESET_INFO.remove(old.version, old.content_hash)
            previous.close()
        for callback in self._listeners:
            callback()

    def _refuse(self, error: SpecFileError, version: str) -> None:
        text = str(error)
        metrics.RULES_RELOADS.labels(result="failure").inc()
        self._swap.refuse(version, "", text)
        if text != self._last_error:
            log.error(
                "ruleset at %s refused, still serving %s:\n%s",
                self._path,
                self._active_version() or "nothing",
                text,
            )
        self._last_error = text

    def _active_version(self) -> str:
        current = self._swap.current
        return current.compiled.version if current else ""

    def evaluate(self, request: Request, now: datetime, user: UserSegment = NO_SEGMENT) -> RuleOutcome | None:
        """The active ruleset's outcome; None only before any version is active."""
        for _ in range(3):
            active = self._swap.current
            if active is None:
                return None
            try:
                return active.evaluate(request, now, user)
            except RetiredError:
                continue  # swapped and unloaded while we waited: the new one is current
        raise RuleEngineError("ruleset kept changing during evaluation")

    def status(self) -> dict[str, object]:
        current = self._swap.current
        success, failure = self._swap.last_success, self._swap.last_failure
        return {
            "path": str(self._path),
            "ready": current is not None,
            "version": current.compiled.version if current else "",
            "hash": current.compiled.content_hash if current else "",
            "rules": len(current.compiled.rules) if current else 0,
            "engine_rulesets": len(current.chunks) if current else 0,
            "activated_at": success.at if success else None,
            "last_error": self._last_error,
            "last_error_at": failure.at if failure and self._last_error else None,
        }

    def start(self) -> None:
        """Watch the path in a daemon thread."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._watch, name="rules-watch", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(5.0, 3 * self._poll))
            self._thread = None

    def _watch(self) -> None:
        pending = False
        while not self._stop.wait(self._poll):
            seen = fingerprint(self._path)
            if seen != self._seen:
                self._seen, pending = seen, True  # wait until it stops changing
            elif pending:
                pending = False
                try:
                    self.reload()
                except Exception:
                    log.exception("unexpected failure while reloading rules")
