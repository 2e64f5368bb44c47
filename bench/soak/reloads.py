"""Rule re-syncs: the version line of every copied rule file rewritten, each activation awaited.

As a git sync would deploy them (rules/README.md, "Deploying a change"): every file written
whole to a temporary name and renamed into place, all renames back to back, so the server
sees one consistent folder. Two valid versions alternate; the server compiles, self-tests
and publishes each one, and unloads the one it replaces.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from bench.soak.progress import Progress
from bench.soak.scrape import MetricsWatch, ServerState

NAME = "reloads"
_VERSION_LINE = re.compile(r'^version: "([^"]+)"$', re.MULTILINE)


class RuleReloads:
    """The reload load: rewrite, wait until every process serves the new version, repeat."""

    def __init__(self, rules: Path, watch: MetricsWatch, progress: Progress, timeout_s: float) -> None:
        self._files = sorted(rules.glob("*.yaml"))
        self._texts = {path: path.read_text() for path in self._files}
        original = _version_of(next(iter(self._texts.values())), self._files[0])
        self._versions = (f"{original}+soak.a", f"{original}+soak.b")
        self._watch = watch
        self._progress = progress
        self._timeout_s = timeout_s
        self.errors: Counter[str] = Counter()

    def run(self) -> None:
        try:
            index = 0
            while self._progress.claim(NAME, 1):
                version = self._versions[index % 2]
                self._deploy(version)
                if not self._watch.wait_for(partial(_serving, version=version), self._timeout_s):
                    self.errors[f"ruleset not activated within {self._timeout_s:g} s"] += 1
                self._progress.done(NAME, 1)
                index += 1
        finally:
            self._progress.finish(NAME)

    def _deploy(self, version: str) -> None:
        staged = []
        for path in self._files:
            text = _VERSION_LINE.sub(f'version: "{version}"', self._texts[path])
            temporary = path.with_name(f".{path.name}.soak")  # not *.yaml: the server ignores it
            temporary.write_text(text)
            staged.append((temporary, path))
        for temporary, path in staged:
            temporary.replace(path)


def _serving(states: Sequence[ServerState], *, version: str) -> bool:
    return all(state.ruleset_version == version for state in states)


def _version_of(text: str, path: Path) -> str:
    match = _VERSION_LINE.search(text)
    if match is None:
        raise ValueError(f'{path}: no `version: "..."` line to rewrite; the soak needs the shipped rule files')
    return match[1]
