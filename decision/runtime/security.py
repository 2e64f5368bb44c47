"""What protects one server process, built from the settings: its TLS certificate and its client tokens.

Both are checked when built: a bad certificate, key, CA or tokens file stops the start with
the file named (SecurityError). While serving, `start` watches the files; a bad replacement
is refused, logged and counted, and the last good one keeps serving. With neither configured
nothing is added to the serving path: no interceptor, no credentials, no thread.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from decision import metrics
from decision.api.auth import TokenAuthInterceptor
from decision.conditions.errors import SpecFileError
from decision.reload.filewatch import WatchedFile
from decision.runtime.tls import CertificateWatcher
from decision.security.certificates import CertificateError, CertificateFiles
from decision.security.tokens import TokenTable, load_tokens
from decision.settings import Settings

log = logging.getLogger(__name__)


class SecurityError(Exception):
    """A TLS or tokens file the server cannot start with; the message names it."""


@dataclass
class Security:
    """The certificate watcher (None = plaintext) and the watched tokens file (None = no tokens)."""

    certificates: CertificateWatcher | None = None
    tokens: WatchedFile[TokenTable] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Security:
        certificates = tokens = None
        if settings.tls_cert_path is not None and settings.tls_key_path is not None:
            files = CertificateFiles(settings.tls_cert_path, settings.tls_key_path, settings.tls_client_ca_path)
            try:
                certificates = CertificateWatcher(files, settings.security_poll_seconds)
            except CertificateError as exc:
                raise SecurityError(f"cannot serve TLS: {exc}") from None
            log.info("TLS on: %s", certificates.current.describe())
        if settings.tokens_path is not None:
            tokens = _watched_tokens(settings.tokens_path, settings.security_poll_seconds)
            if certificates is None and not _is_loopback(settings.listen):
                log.warning("tokens over plaintext on %s: anyone on the network path can read them", settings.listen)
        return cls(certificates, tokens)

    def interceptors(self) -> list[grpc.ServerInterceptor[Any, Any]]:
        tokens = self.tokens
        return [] if tokens is None else [TokenAuthInterceptor(lambda: tokens.current)]

    def add_port(self, server: grpc.Server, address: str) -> int:
        """Bind `address` with TLS when configured, else plaintext; returns the port."""
        if self.certificates is None:
            return server.add_insecure_port(address)
        return server.add_secure_port(address, self.certificates.grpc_credentials())

    def metrics_context(self) -> Callable[[], ssl.SSLContext] | None:
        """The SSL context of each new metrics connection, or None for plaintext metrics."""
        certificates = self.certificates
        return None if certificates is None else lambda: certificates.current.http_context

    def start(self) -> None:
        """Watch the files for changes (in daemon threads)."""
        if self.certificates is not None:
            self.certificates.start()
        if self.tokens is not None:
            self.tokens.start()

    def stop(self) -> None:
        if self.certificates is not None:
            self.certificates.stop()
        if self.tokens is not None:
            self.tokens.stop()


def _watched_tokens(path: Path, poll_seconds: float) -> WatchedFile[TokenTable]:
    try:
        first = load_tokens(path)
    except SpecFileError as exc:
        raise SecurityError(f"cannot use the tokens file (tokens_path):\n{exc}") from None
    log.info("tokens file %s: %d client(s)", path, len(first.entries))
    watched = WatchedFile(path, _counted_load, "tokens file", poll_seconds)
    watched.refresh()
    return watched


def _counted_load(path: Path) -> TokenTable:
    try:
        table = load_tokens(path)
    except SpecFileError:
        metrics.SECURITY_RELOADS.labels("tokens", "failure").inc()
        raise
    metrics.SECURITY_RELOADS.labels("tokens", "success").inc()
    return table


def _is_loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"
