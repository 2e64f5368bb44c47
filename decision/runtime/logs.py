"""Log setup: JSON lines for machines or plain text for people, one switch.

Named logs.py because a module called logging.py would shadow the stdlib.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: str, fmt: str) -> None:
    """Send the service's logs to stderr at `level`, as `json` or `text`."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    else:
        handler.setFormatter(logging.Formatter(_TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Third-party chatter stays at WARNING whatever our level is.
    for noisy in ("mlflow", "alembic", "urllib3", "durable"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
