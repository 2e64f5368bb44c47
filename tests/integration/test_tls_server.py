"""The gRPC port over TLS and mutual TLS, with real certificates: only the right clients are served,
bad files stop the start, and a certificate rotated on disk serves new connections."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from decision.runtime.server import RunningServer, ServeError
from decision.settings import Settings
from decision.v1 import decision_service_pb2 as pb
from decision.v1 import decision_service_pb2_grpc as pb_grpc
from tests.fakes import decider, serve
from tests.pki import Pki, make_pki, serial_of, served_serial

REQUEST = pb.DecideRequest(user_id="u1", placement="home_banner")


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def tls_settings(pki: Pki, mutual: bool = False, **extra: Any) -> Settings:
    return Settings(
        listen="127.0.0.1:0",
        metrics_port=0,
        decision_log_path=None,
        workers=4,
        tls_cert_path=pki.server.cert,
        tls_key_path=pki.server.key,
        tls_client_ca_path=pki.ca if mutual else None,
        **extra,
    )


@contextmanager
def serving(settings: Settings) -> Iterator[RunningServer]:
    running = serve(settings, decider(placements=settings.placements))
    running.mark_serving()
    try:
        yield running
    finally:
        running.server.stop(0).wait()


def credentials(ca: Path | None, client: tuple[Path, Path] | None = None) -> grpc.ChannelCredentials:
    cert, key = client if client is not None else (None, None)
    return grpc.ssl_channel_credentials(
        ca.read_bytes() if ca else None,
        key.read_bytes() if key else None,
        cert.read_bytes() if cert else None,
    )


def decide(port: int, creds: grpc.ChannelCredentials | None) -> grpc.StatusCode:
    """The status of one Decide on a new channel (TLS when `creds` is given)."""
    target = f"localhost:{port}"
    channel = grpc.insecure_channel(target) if creds is None else grpc.secure_channel(target, creds)
    with channel:
        try:
            pb_grpc.DecisionServiceStub(channel).Decide(REQUEST, timeout=5)
        except grpc.RpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


def test_tls_serves_clients_trusting_the_ca_and_refuses_plaintext_and_other_cas(pki: Pki) -> None:
    with serving(tls_settings(pki)) as running:
        assert decide(running.port, credentials(pki.ca)) == grpc.StatusCode.OK
        assert decide(running.port, None) == grpc.StatusCode.UNAVAILABLE
        assert decide(running.port, credentials(pki.other_ca)) == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_serves_only_clients_with_a_certificate_from_the_ca(pki: Pki) -> None:
    with serving(tls_settings(pki, mutual=True)) as running:
        assert decide(running.port, None) == grpc.StatusCode.UNAVAILABLE
        assert decide(running.port, credentials(pki.ca)) == grpc.StatusCode.UNAVAILABLE  # no client certificate
        stranger = credentials(pki.ca, (pki.other_client.cert, pki.other_client.key))
        assert decide(running.port, stranger) == grpc.StatusCode.UNAVAILABLE
        assert decide(running.port, credentials(pki.ca, (pki.client.cert, pki.client.key))) == grpc.StatusCode.OK


def test_an_expired_certificate_stops_the_start_naming_the_file(pki: Pki) -> None:
    expired = pki.expired_server()
    settings = tls_settings(pki).model_copy(update={"tls_cert_path": expired.cert, "tls_key_path": expired.key})
    with pytest.raises(ServeError, match=rf"cannot serve TLS: tls_cert_path {expired.cert}: expired on"):
        serve(settings, decider())


def test_a_mismatched_key_stops_the_start(pki: Pki) -> None:
    settings = tls_settings(pki).model_copy(update={"tls_key_path": pki.client.key})
    with pytest.raises(ServeError, match=rf"tls_key_path {pki.client.key}: does not match the certificate"):
        serve(settings, decider())


def test_a_rotated_certificate_serves_new_connections_while_open_ones_keep_working(pki: Pki) -> None:
    client = credentials(pki.ca, (pki.client.cert, pki.client.key))
    with serving(tls_settings(pki, mutual=True)) as running:
        assert running.security.certificates is not None
        before = serial_of(pki.server.cert)
        assert served_serial(running.port, pki) == before
        with grpc.secure_channel(f"localhost:{running.port}", client) as old:
            stub = pb_grpc.DecisionServiceStub(old)
            stub.Decide(REQUEST, timeout=5)
            rotated = pki.new_server()
            pki.server.cert.write_bytes(rotated.cert.read_bytes())
            pki.server.key.write_bytes(rotated.key.read_bytes())
            running.security.certificates.refresh()
            running.security.certificates.refresh()
            assert served_serial(running.port, pki) == serial_of(rotated.cert) != before
            assert decide(running.port, client) == grpc.StatusCode.OK
            assert stub.Decide(REQUEST, timeout=5).decision_id  # the connection made before still answers


def test_a_bad_certificate_on_disk_is_refused_at_reload_and_the_last_good_keeps_serving(pki: Pki) -> None:
    with serving(tls_settings(pki)) as running:
        assert running.security.certificates is not None
        before = serial_of(pki.server.cert)
        pki.server.key.write_bytes(pki.client.key.read_bytes())  # a key that is not the certificate's
        running.security.certificates.refresh()
        running.security.certificates.refresh()
        assert served_serial(running.port, pki) == before
        assert decide(running.port, credentials(pki.ca)) == grpc.StatusCode.OK
