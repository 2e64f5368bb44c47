"""Client tokens: which client may call which RPCs, kept as SHA-256 hashes, never as the tokens.

The tokens file is YAML, one client per line, so `decision tokens add` can append and a
revocation is deleting a line:

    - {name: checkout, sha256: 9f86d081…, scopes: [decide, report]}

A token is 256 random bits: its SHA-256 cannot be reversed nor guessed, so the file is not
a secret, and a stolen copy lets no one call. A presented token is hashed and compared with
every entry in constant time (hmac.compare_digest, no early exit), so response times say
nothing about how close a guess was.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from decision.conditions.errors import SpecFileError
from decision.conditions.loader import MarkedList, parse_text, walk_lines
from decision.conditions.validation import reason

Scope = Literal["decide", "report", "admin"]
SCOPES: tuple[str, ...] = get_args(Scope)
TOKEN_PREFIX = "decision_"  # lets secret scanners (and people) recognise a leaked token
MAX_TOKEN_CHARS = 256  # ours are 52; anything longer is refused before it is hashed
MAX_FILE_BYTES = 256 * 1024
_HEADER = (
    "# Client tokens of the decision service: the SHA-256 of each token, never the token.\n"
    "# Add one with `decision tokens add NAME --scopes decide,report`; delete a line to revoke it.\n"
)


class TokenEntry(BaseModel):
    """One client: its name (for logs and metrics), its token's hash and what it may call."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: tuple[Scope, ...] = Field(min_length=1)


@dataclass(frozen=True)
class TokenTable:
    """The clients of one tokens file."""

    entries: tuple[TokenEntry, ...]

    def find(self, token: str) -> TokenEntry | None:
        """The client holding `token`, or None; the same work whichever entry (if any) matches."""
        digest = hash_token(token)
        found = None
        for entry in self.entries:
            if hmac.compare_digest(entry.sha256, digest):
                found = entry
        return found


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def load_tokens(path: Path) -> TokenTable:
    """Read and check a tokens file; raises SpecFileError (`file:line: client …: reason`)."""
    document = parse_text(_read_text(path), str(path))
    if document is None:
        return TokenTable(())
    if not isinstance(document, MarkedList):
        raise SpecFileError(str(path), 1, None, "a tokens file is a list: `- {name: …, sha256: …, scopes: […]}`")
    entries: list[tuple[int, TokenEntry]] = []
    problems: list[SpecFileError] = []
    for index, item in enumerate(document):
        line = document.item_lines[index]
        subject = f"client {item.get('name')}" if isinstance(item, dict) else f"client #{index + 1}"
        try:
            entries.append((line, TokenEntry.model_validate(item)))
        except ValidationError as exc:
            for error in exc.errors():
                where = walk_lines(item, tuple(error["loc"])) if isinstance(item, dict) else line
                problems.append(SpecFileError(str(path), where, subject, reason(error, TokenEntry)))
    problems += _repeats(path, entries)
    if problems:
        raise SpecFileError.collect(problems)
    return TokenTable(tuple(entry for _, entry in entries))


def add_token(path: Path, name: str, scopes: Iterable[str]) -> str:
    """Make a token for a new client, append its line to `path` (created if missing); returns the token."""
    existing = load_tokens(path) if path.exists() else TokenTable(())
    if any(entry.name == name for entry in existing.entries):
        raise SpecFileError(str(path), 1, f"client {name}", "already has a token: delete its line first to replace it")
    token = new_token()
    entry = TokenEntry.model_validate({"name": name, "sha256": hash_token(token), "scopes": tuple(scopes)})
    if path.exists():
        text = path.read_text(encoding="utf-8")
        prefix = "" if not text or text.endswith("\n") else "\n"
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = _HEADER
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{prefix}- {{name: {entry.name}, sha256: {entry.sha256}, scopes: [{', '.join(entry.scopes)}]}}\n")
    return token


def _read_text(path: Path) -> str:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SpecFileError(str(path), 1, None, f"cannot read the tokens file ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SpecFileError(str(path), 1, None, f"larger than {MAX_FILE_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise SpecFileError(str(path), 1, None, "not UTF-8 text") from None


def _repeats(path: Path, entries: list[tuple[int, TokenEntry]]) -> list[SpecFileError]:
    """Names and hashes must be unique: a repeated hash would make one token two clients."""
    problems: list[SpecFileError] = []
    names: set[str] = set()
    hashes: set[str] = set()
    for line, entry in entries:
        if entry.name in names:
            problems.append(SpecFileError(str(path), line, f"client {entry.name}", "name given twice"))
        if entry.sha256 in hashes:
            problems.append(SpecFileError(str(path), line, f"client {entry.name}", "same token hash as another client"))
        names.add(entry.name)
        hashes.add(entry.sha256)
    return problems
