"""What every command module shares: errors as one clear line."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    """Our own errors (bad input, missing files, a server that cannot be reached) as one line and
    exit code 1 (click's), not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from decision.conditions.errors import SpecFileError

        try:
            return func(*args, **kwargs)
        except (ValueError, RuntimeError, SpecFileError, FileNotFoundError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
