"""Certificate files are checked before use: every way they can be wrong is refused with the file named."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from decision.security.certificates import CertificateError, CertificateFiles, load_certificates
from decision.security.devca import DevCertificateAuthority
from tests.pki import Pki, make_pki, serial_of


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def test_a_good_set_loads_with_its_expiry_and_fingerprint(pki: Pki) -> None:
    bundle = load_certificates(CertificateFiles(pki.server.cert, pki.server.key, pki.ca))
    assert bundle.cert_chain == pki.server.cert.read_bytes()
    assert bundle.client_ca == pki.ca.read_bytes()
    assert bundle.subject == "CN=server"
    assert bundle.not_after > pki.authority.now
    assert len(bundle.fingerprint) == 64
    assert "client certificates required" in bundle.describe()


def test_an_expired_certificate_is_refused_naming_the_file(pki: Pki) -> None:
    expired = pki.expired_server()
    with pytest.raises(CertificateError, match=rf"tls_cert_path {expired.cert}: expired on \d{{4}}-"):
        load_certificates(CertificateFiles(expired.cert, expired.key))


def test_a_certificate_not_yet_valid_is_refused(pki: Pki) -> None:
    future = pki.authority.issue(pki.folder / "future", "server", valid_from=pki.authority.now + timedelta(days=2))
    with pytest.raises(CertificateError, match=r"not valid before .*check the clocks"):
        load_certificates(CertificateFiles(future.cert, future.key))


def test_a_key_of_another_certificate_is_refused(pki: Pki) -> None:
    with pytest.raises(CertificateError, match=rf"tls_key_path {pki.client.key}: does not match the certificate in"):
        load_certificates(CertificateFiles(pki.server.cert, pki.client.key))


def test_unreadable_files_are_refused_naming_the_setting(pki: Pki) -> None:
    missing = pki.folder / "nope.crt"
    with pytest.raises(CertificateError, match=rf"tls_cert_path {missing}: cannot read it \(No such file"):
        load_certificates(CertificateFiles(missing, pki.server.key))
    with pytest.raises(CertificateError, match=r"tls_client_ca_path .*cannot read it \(Is a directory"):
        load_certificates(CertificateFiles(pki.server.cert, pki.server.key, pki.folder))


def test_files_that_are_not_pem_are_refused(pki: Pki) -> None:
    garbage = pki.folder / "garbage.pem"
    garbage.write_text("not a certificate\n")
    with pytest.raises(CertificateError, match=r"tls_cert_path .*no PEM certificate"):
        load_certificates(CertificateFiles(garbage, pki.server.key))
    with pytest.raises(CertificateError, match=r"tls_key_path .*no PEM private key"):
        load_certificates(CertificateFiles(pki.server.cert, garbage))


def test_an_encrypted_key_is_refused(pki: Pki) -> None:
    key = serialization.load_pem_private_key(pki.server.key.read_bytes(), password=None)
    encrypted = pki.folder / "encrypted.key"
    encrypted.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"secret"),
        )
    )
    with pytest.raises(CertificateError, match="the key is encrypted"):
        load_certificates(CertificateFiles(pki.server.cert, encrypted))


def test_a_client_certificate_cannot_serve(pki: Pki) -> None:
    with pytest.raises(CertificateError, match="not a server certificate"):
        load_certificates(CertificateFiles(pki.client.cert, pki.client.key))


def test_the_client_ca_must_be_a_ca_and_valid(pki: Pki) -> None:
    with pytest.raises(CertificateError, match=r"tls_client_ca_path .*CN=client is not a CA certificate"):
        load_certificates(CertificateFiles(pki.server.cert, pki.server.key, pki.client.cert))
    old = DevCertificateAuthority("old CA", valid_days=1, now=pki.authority.now - timedelta(days=10))
    expired_ca = old.write_ca(pki.folder / "old-ca.crt")
    with pytest.raises(CertificateError, match=rf"tls_client_ca_path {expired_ca}: expired on"):
        load_certificates(CertificateFiles(pki.server.cert, pki.server.key, expired_ca))


def test_an_expired_intermediate_in_the_chain_is_named(pki: Pki) -> None:
    chain = pki.folder / "chain.crt"
    expired = pki.expired_server()
    chain.write_bytes(pki.server.cert.read_bytes() + expired.cert.read_bytes())
    with pytest.raises(CertificateError, match=r"certificate 2 in the file \(CN=server\) expired"):
        load_certificates(CertificateFiles(chain, pki.server.key))


def test_the_dev_ca_writes_keys_owner_only_and_distinct_serials(pki: Pki) -> None:
    assert pki.server.key.stat().st_mode & 0o077 == 0
    assert serial_of(pki.server.cert) != serial_of(pki.new_server().cert)
    assert isinstance(serialization.load_pem_private_key(pki.client.key.read_bytes(), None), ec.EllipticCurvePrivateKey)
