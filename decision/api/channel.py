"""Client channels for the command-line tools: plaintext, TLS or mutual TLS, plus the bearer token.

Certificate checking is never off: with TLS the server's certificate must chain to the given
CA (or the system's roots) and carry the target's host name (or `server_name`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc


class ClientSecurityError(ValueError):
    """A client TLS file that cannot be read, or options that do not go together."""


@dataclass(frozen=True)
class ClientSecurity:
    """How a command-line client connects; all None = plaintext without a token."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None
    token: str | None = None

    @property
    def tls(self) -> bool:
        return any(value is not None for value in (self.ca, self.cert, self.key, self.server_name))

    def metadata(self) -> tuple[tuple[str, str], ...] | None:
        """The call metadata carrying the token, or None."""
        return None if self.token is None else (("authorization", f"Bearer {self.token}"),)


def open_channel(target: str, security: ClientSecurity) -> grpc.Channel:
    """A channel to `target` as `security` says; raises ClientSecurityError naming a bad file."""
    if not security.tls:
        return grpc.insecure_channel(target)
    if (security.cert is None) != (security.key is None):
        raise ClientSecurityError("--tls-cert and --tls-key go together (a client certificate and its key)")
    credentials = grpc.ssl_channel_credentials(
        root_certificates=_read(security.ca, "--tls-ca"),
        private_key=_read(security.key, "--tls-key"),
        certificate_chain=_read(security.cert, "--tls-cert"),
    )
    options = [] if security.server_name is None else [("grpc.ssl_target_name_override", security.server_name)]
    return grpc.secure_channel(target, credentials, options=options)


def _read(path: Path | None, option: str) -> bytes | None:
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ClientSecurityError(f"{option} {path}: cannot read it ({exc.strerror})") from None
