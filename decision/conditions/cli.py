"""Command-line helpers shared by `decision rules …` and `decision experiments …`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from decision.conditions.errors import SpecFileError

T = TypeVar("T")


def compile_or_exit(compile_path: Callable[[Path], T], path: Path) -> T:
    """The compiled set at `path`, or every problem printed (file:line: …) and exit code 1."""
    try:
        return compile_path(path)
    except SpecFileError as exc:
        for problem in exc.problems:
            click.echo(problem.location_line(), err=True)
        count = len(exc.problems)
        click.echo(f"{count} problem{'s' * (count != 1)}; nothing was activated.", err=True)
        sys.exit(1)


def read_json_option(text: str, option: str) -> Any:
    """An option's JSON value, given inline or as @file.json."""
    raw = Path(text[1:]).read_text(encoding="utf-8") if text.startswith("@") else text
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint=option) from None
