"""A throwaway certificate authority that writes a CA, server and client certificates as PEM files.

For tests, benchmarks and trying TLS locally (`decision tls dev-certs`). Production
certificates come from your PKI (cert-manager, Vault, a corporate CA). Keys are ECDSA P-256:
quick to make, and every TLS stack here accepts them.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass(frozen=True)
class IssuedFiles:
    """A certificate and its key, as written."""

    cert: Path
    key: Path


class DevCertificateAuthority:
    """A self-signed CA kept in memory; `issue` writes certificates it signed."""

    def __init__(self, name: str = "decision dev CA", valid_days: int = 30, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.certificate = (
            _builder(subject, subject, self._key.public_key(), self.now - timedelta(minutes=5), valid_days)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )  # keyCertSign, cRLSign
            .sign(self._key, hashes.SHA256())
        )

    def write_ca(self, path: Path) -> Path:
        """Write the CA certificate (what clients and the server trust)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))
        return path

    def issue(
        self,
        folder: Path,
        name: str,
        *,
        server: bool = True,
        client: bool = False,
        hosts: Sequence[str] = LOCAL_HOSTS,
        valid_from: datetime | None = None,
        valid_days: int = 30,
    ) -> IssuedFiles:
        """Sign a certificate for `name` (and `hosts` as subject alternative names); writes
        `<folder>/<name>.crt` and `<name>.key` (owner-only)."""
        key = ec.generate_private_key(ec.SECP256R1())
        usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
            [ExtendedKeyUsageOID.CLIENT_AUTH] if client else []
        )
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        start = valid_from or self.now - timedelta(minutes=5)
        builder = (
            _builder(subject, self.certificate.subject, key.public_key(), start, valid_days)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        )
        if hosts:
            builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(h) for h in hosts]), False)
        certificate = builder.sign(self._key, hashes.SHA256())
        folder.mkdir(parents=True, exist_ok=True)
        issued = IssuedFiles(folder / f"{name}.crt", folder / f"{name}.key")
        issued.cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        write_private(issued.key, _private_pem(key))
        return issued


def write_private(path: Path, data: bytes) -> None:
    """Write a file only its owner can read (created so from the start, never world-readable)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    start: datetime,
    valid_days: int,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=valid_days))
    )


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
