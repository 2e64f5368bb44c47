"""Pseudonymous user keys: the only form in which a user id leaves a request.

A user key is HMAC-SHA256(secret, user id), truncated to 128 bits (32 hex digits): stable,
so logs, the profile snapshot and training can be joined per user, but not reversible and
not recomputable without the secret (a plain hash of an id is: ids are guessable). The
secret comes from the `DECISION_USER_KEY` setting (hex, for replicas that must agree) or a
key file; the embedded default creates the file on first start, owner-only, and every
later start, training included, reads the same file. An unreadable key file stops the
start with a message naming it: silently making a new key would cut every user off from
their history.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32


class UserKeyError(Exception):
    """The key cannot be read or created; the message names the file or setting and what to do."""


class Pseudonymizer:
    """Maps a user id to its user key with one secret.

    HMAC (RFC 2104) from the two SHA-256 states the key pads leave, computed once: the same
    digest as `hmac.digest(secret, id, "sha256")` (tests/decision/test_privacy.py), at half
    its cost on the request path, and without that call's release of the GIL, which hands
    the request's core to another thread mid-decision.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise UserKeyError("the user-key secret must be at least 16 bytes (32 hex digits)")
        block = hashlib.sha256().block_size
        key = (hashlib.sha256(secret).digest() if len(secret) > block else secret).ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def __call__(self, user_id: str) -> str:
        """The user key of `user_id` (32 hex digits)."""
        inner = self._inner.copy()
        inner.update(user_id.encode("utf-8"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[:16].hex()

    def __repr__(self) -> str:
        return "Pseudonymizer(<secret>)"  # never the secret, in logs or tracebacks


def load_pseudonymizer(path: Path, secret_hex: str | None = None) -> Pseudonymizer:
    """The pseudonymizer from `secret_hex` if given, else from the key file at `path`,
    created (owner-only) if it does not exist yet."""
    if secret_hex:
        try:
            return Pseudonymizer(bytes.fromhex(secret_hex.strip()))
        except ValueError as exc:
            raise UserKeyError("DECISION_USER_KEY: expected hex digits (e.g. `openssl rand -hex 32`)") from exc
    return Pseudonymizer(_read_or_create(path))


def _read_or_create(path: Path) -> bytes:
    """Create the file atomically if absent (written in full under a temporary name, then
    hard-linked into place, which fails if another process got there first), then read it."""
    if not path.exists():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # mode 0600
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_hex(KEY_BYTES) + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise UserKeyError(
                f"{path}: cannot create the user-key file ({exc.strerror}); fix the folder "
                "or set DECISION_USER_KEY / --user-key-path"
            ) from exc
    return _read(path)


def _read(path: Path) -> bytes:
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not hex text"
        raise UserKeyError(
            f"{path}: cannot read the user-key file ({reason}); restore it (a new key would cut users off "
            "from their history) or set DECISION_USER_KEY"
        ) from exc
    try:
        return bytes.fromhex(text)
    except ValueError as exc:
        raise UserKeyError(f"{path}: the user-key file does not hold hex digits; restore it") from exc
