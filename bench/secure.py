"""How the benchmark reaches a Decide server: plaintext, or TLS with a throwaway CA and a client token.

The secured rows measure what TLS (and the token check) cost on the model path against the
plaintext row of the same run. h2load speaks TLS (ALPN h2) without checking the certificate,
as load generators do; the real-client checks do check it against the CA.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import grpc

from bench.load import GRPC_HEADERS
from decision.security.devca import DevCertificateAuthority
from decision.security.tokens import add_token


@dataclass(frozen=True)
class Connection:
    """Plaintext when `ca` is None; else TLS checked against `ca`, with `token` as bearer token if given."""

    ca: Path | None = None
    token: str | None = None

    @property
    def scheme(self) -> str:
        return "http" if self.ca is None else "https"

    def headers(self) -> tuple[str, ...]:
        return GRPC_HEADERS if self.token is None else (*GRPC_HEADERS, f"authorization: Bearer {self.token}")

    def metadata(self) -> tuple[tuple[str, str], ...] | None:
        return None if self.token is None else (("authorization", f"Bearer {self.token}"),)

    def channel(self, target: str, options: list[tuple[str, int]] | None = None) -> grpc.Channel:
        if self.ca is None:
            return grpc.insecure_channel(target, options=options)
        credentials = grpc.ssl_channel_credentials(self.ca.read_bytes())
        return grpc.secure_channel(target, credentials, options=options)

    def http_context(self) -> ssl.SSLContext | None:
        """For reading the server's /metrics (served with the same certificate)."""
        return None if self.ca is None else ssl.create_default_context(cafile=self.ca)


PLAINTEXT = Connection()


def secure_setup(folder: Path, with_token: bool) -> tuple[Connection, dict[str, object]]:
    """Make a CA, a server certificate for 127.0.0.1 and (optionally) a token in `folder`; returns
    the connection clients use and the `decision serve` flags that turn it on."""
    authority = DevCertificateAuthority("bench CA")
    ca = authority.write_ca(folder / "ca.crt")
    server = authority.issue(folder, "server")
    flags: dict[str, object] = {"tls-cert-path": server.cert, "tls-key-path": server.key}
    token = None
    if with_token:
        tokens = folder / "tokens.yaml"
        tokens.unlink(missing_ok=True)
        token = add_token(tokens, "bench", ["decide"])
        flags["tokens-path"] = tokens
    return Connection(ca, token), flags
