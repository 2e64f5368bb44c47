"""The certificate watcher: a settled change is loaded, a bad one refused (last good kept), gRPC told once."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from decision.runtime.tls import CertificateWatcher
from decision.security.certificates import CertificateError, CertificateFiles
from tests.pki import Pki, make_pki, serial_of


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def _reloads(result: str) -> float:
    value = REGISTRY.get_sample_value("decision_security_reloads_total", {"what": "certificates", "result": result})
    return value or 0.0


def _replace(pki: Pki, cert: Path, key: Path) -> None:
    shutil.copyfile(cert, pki.server.cert)
    shutil.copyfile(key, pki.server.key)


def test_bad_files_at_construction_raise_naming_the_file(pki: Pki) -> None:
    with pytest.raises(CertificateError, match=f"tls_key_path {pki.client.key}: does not match"):
        CertificateWatcher(CertificateFiles(pki.server.cert, pki.client.key), poll_seconds=1)


def test_a_change_is_loaded_once_it_has_settled_and_grpc_is_told_once(pki: Pki) -> None:
    watcher = CertificateWatcher(CertificateFiles(pki.server.cert, pki.server.key), poll_seconds=1)
    first = watcher.current
    assert watcher._fetch() is None  # the initial configuration is already in use
    next_server = pki.new_server()
    successes = _reloads("success")
    _replace(pki, next_server.cert, next_server.key)
    watcher.refresh()  # first look at the change: it may still be half copied
    assert watcher.current is first
    watcher.refresh()
    assert watcher.current.fingerprint != first.fingerprint
    assert watcher.current.cert_chain == next_server.cert.read_bytes()
    assert _reloads("success") == successes + 1
    assert watcher._fetch() is not None
    assert watcher._fetch() is None  # told once, then "no change"
    watcher.refresh()
    assert _reloads("success") == successes + 1  # nothing changed since: nothing loaded


def test_a_bad_replacement_is_refused_logged_and_counted_and_the_last_good_keeps_serving(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    watcher = CertificateWatcher(CertificateFiles(pki.server.cert, pki.server.key), poll_seconds=1)
    good = watcher.current
    failures = _reloads("failure")
    expired = pki.expired_server()
    _replace(pki, expired.cert, expired.key)
    with caplog.at_level(logging.ERROR, logger="decision.runtime.tls"):
        watcher.refresh()
        watcher.refresh()
        watcher.refresh()  # the same bad files are not tried again
    assert watcher.current is good
    assert _reloads("failure") == failures + 1
    assert f"tls_cert_path {pki.server.cert}: expired on" in caplog.text
    assert "keeping CN=server" in caplog.text
    assert watcher._fetch() is None
    fixed = pki.new_server()
    _replace(pki, fixed.cert, fixed.key)
    watcher.refresh()
    watcher.refresh()
    assert serial_of(pki.server.cert) == serial_of(fixed.cert)
    assert watcher.current.cert_chain == fixed.cert.read_bytes()


def test_a_file_removed_while_serving_keeps_the_last_good(pki: Pki) -> None:
    watcher = CertificateWatcher(CertificateFiles(pki.server.cert, pki.server.key, pki.ca), poll_seconds=1)
    good = watcher.current
    pki.ca.unlink()
    watcher.refresh()
    watcher.refresh()
    assert watcher.current is good
    assert watcher.requires_client_certificates
