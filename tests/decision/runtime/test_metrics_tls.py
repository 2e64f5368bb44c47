"""/metrics over TLS: only clients that trust the CA (and, for mutual TLS, show a certificate) read it;
each new connection gets the certificate current at that moment."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from wsgiref.simple_server import WSGIServer

import pytest

from decision.runtime.metrics_tls import serve_metrics_tls
from decision.runtime.tls import CertificateWatcher
from decision.security.certificates import CertificateFiles
from tests.pki import Pki, make_pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


@pytest.fixture
def watcher(pki: Pki) -> CertificateWatcher:
    return CertificateWatcher(CertificateFiles(pki.server.cert, pki.server.key, pki.ca), poll_seconds=1)


@pytest.fixture
def metrics_server(watcher: CertificateWatcher) -> Iterator[WSGIServer]:
    server = serve_metrics_tls(_free_port(), lambda: watcher.current.http_context, host="127.0.0.1")
    assert server is not None
    yield server
    server.shutdown()
    server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(pki: Pki, ca: Path, with_certificate: bool = True) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca)
    if with_certificate:
        context.load_cert_chain(pki.client.cert, pki.client.key)
    return context


def _scrape(server: WSGIServer, context: ssl.SSLContext | None, scheme: str = "https") -> str:
    url = f"{scheme}://localhost:{server.server_port}/metrics"
    with urllib.request.urlopen(url, timeout=5, context=context) as reply:
        return str(reply.read().decode())


def test_a_client_with_the_ca_and_a_certificate_reads_the_metrics(pki: Pki, metrics_server: WSGIServer) -> None:
    assert "decision_tls_certificate_expiry_timestamp_seconds" in _scrape(metrics_server, _client(pki, pki.ca))


def test_plaintext_another_ca_or_no_client_certificate_is_refused(pki: Pki, metrics_server: WSGIServer) -> None:
    with pytest.raises(ConnectionResetError, match="Connection reset by peer"):
        _scrape(metrics_server, None, scheme="http")
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        _scrape(metrics_server, _client(pki, pki.other_ca))
    # TLS 1.3: the refusal arrives as the alert, or as the closed connection, depending on timing.
    with pytest.raises(OSError, match=r"CERTIFICATE_REQUIRED|EOF occurred in violation of protocol"):
        _scrape(metrics_server, _client(pki, pki.ca, with_certificate=False))
    assert "decision_" in _scrape(metrics_server, _client(pki, pki.ca))  # the refusals stopped nobody else


def test_a_rotated_certificate_serves_the_next_scrape(
    pki: Pki, watcher: CertificateWatcher, metrics_server: WSGIServer
) -> None:
    rotated = pki.new_server()
    pki.server.cert.write_bytes(rotated.cert.read_bytes())
    pki.server.key.write_bytes(rotated.key.read_bytes())
    watcher.refresh()
    watcher.refresh()
    context = _client(pki, pki.ca)
    with (
        socket.create_connection(("127.0.0.1", metrics_server.server_port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as secured,
    ):
        assert secured.getpeercert(binary_form=True) == ssl.PEM_cert_to_DER_cert(rotated.cert.read_text())
