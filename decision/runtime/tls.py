"""TLS for the gRPC and metrics ports: checked certificate files, reloaded when they change on disk.

A CertificateWatcher holds the last good CertificateBundle. Every poll interval it looks at
the files' sizes, times and inodes; once a change has settled (the same new look twice in a
row, so a certificate copied before its key is not loaded half way) it loads and checks
them and publishes the result. A bad replacement is refused, logged and counted, and the
last good one keeps serving.

For gRPC, `dynamic_ssl_server_credentials` calls `fetch` before every new connection's
handshake: it answers the new configuration once after a publish and None (no change) the
rest of the time, so the per-connection cost is one comparison. Connections already open keep
the certificate they were made with.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import grpc

from decision import metrics
from decision.security.certificates import CertificateBundle, CertificateError, CertificateFiles, load_certificates

log = logging.getLogger(__name__)

_Signature = tuple[tuple[int, int, int] | None, ...]


class CertificateWatcher:
    """The serving certificate of one process; raises CertificateError at construction if the files are bad."""

    def __init__(self, files: CertificateFiles, poll_seconds: float) -> None:
        self._files = files
        self._poll = poll_seconds
        self._loaded = self._seen = _signature(files)
        self._published: tuple[int, CertificateBundle] = (0, load_certificates(files))
        self._fetched_generation = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._record(self.current)

    @property
    def current(self) -> CertificateBundle:
        return self._published[1]

    @property
    def requires_client_certificates(self) -> bool:
        return self._files.client_ca is not None

    def refresh(self) -> None:
        """One look at the files: load them once a change has settled; keep the last good on failure."""
        seen = _signature(self._files)
        if seen == self._loaded or seen != self._seen:
            self._seen = seen  # unchanged, or still changing: look again next time
            return
        self._loaded = seen  # a bad set is tried again only once the files change again
        try:
            bundle = load_certificates(self._files)
        except CertificateError as exc:
            metrics.SECURITY_RELOADS.labels("certificates", "failure").inc()
            log.error("TLS files refused: %s; keeping %s", exc, self.current.describe())
            return
        generation = self._published[0] + 1
        self._published = (generation, bundle)
        metrics.SECURITY_RELOADS.labels("certificates", "success").inc()
        self._record(bundle)
        log.info("TLS certificate reloaded: %s", bundle.describe())

    def grpc_credentials(self) -> grpc.ServerCredentials:
        """Server credentials that follow this watcher; client certificates required if a client CA is set."""
        initial = _grpc_configuration(self.current)
        # grpc-stubs types the fetcher without its documented None ("no change").
        fetch: Any = self._fetch
        return grpc.dynamic_ssl_server_credentials(initial, fetch, self.requires_client_certificates)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._watch, name="watch-tls", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _fetch(self) -> grpc.ServerCertificateConfiguration | None:
        generation, bundle = self._published
        if generation == self._fetched_generation:
            return None
        self._fetched_generation = generation
        return _grpc_configuration(bundle)

    def _watch(self) -> None:
        while not self._stop.wait(self._poll):
            self.refresh()

    @staticmethod
    def _record(bundle: CertificateBundle) -> None:
        metrics.CERTIFICATE_EXPIRY.set(bundle.not_after.timestamp())


def _grpc_configuration(bundle: CertificateBundle) -> grpc.ServerCertificateConfiguration:
    return grpc.ssl_server_certificate_configuration([(bundle.key, bundle.cert_chain)], bundle.client_ca)


def _signature(files: CertificateFiles) -> _Signature:
    """What a change looks like: size, modification time and inode (a rename over the file, as
    Kubernetes does with secrets, changes the inode), or None for a file that cannot be seen."""
    looks: list[tuple[int, int, int] | None] = []
    for path in files.paths():
        try:
            stat = os.stat(path)
        except OSError:
            looks.append(None)
            continue
        looks.append((stat.st_size, stat.st_mtime_ns, stat.st_ino))
    return tuple(looks)
