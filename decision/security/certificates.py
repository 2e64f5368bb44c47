"""The server's certificate, key and client-CA files: read, checked, and refused with the file named.

Checked at start and at every reload, before anything serves with them: each file readable
PEM, every certificate valid now, the key the certificate's, the certificate usable by a
server, the client CA a CA. grpc and OpenSSL would load an expired or mismatched pair and
leave clients to find out one failed handshake at a time.
"""

from __future__ import annotations

import hashlib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID

MAX_FILE_BYTES = 1024 * 1024
_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class CertificateError(ValueError):
    """A certificate, key or CA file that cannot be used: says which setting, which file, and why."""

    def __init__(self, setting: str, path: Path, reason: str) -> None:
        super().__init__(f"{setting} {path}: {reason}")
        self.path = path


@dataclass(frozen=True)
class CertificateFiles:
    """Where the server's TLS material lives; `client_ca` set means clients must present certificates."""

    cert: Path
    key: Path
    client_ca: Path | None = None

    def paths(self) -> tuple[Path, ...]:
        return (self.cert, self.key) if self.client_ca is None else (self.cert, self.key, self.client_ca)


@dataclass(frozen=True)
class CertificateBundle:
    """One checked, consistent set of the files' contents, and an SSL context for HTTP built from it."""

    files: CertificateFiles
    cert_chain: bytes
    key: bytes
    client_ca: bytes | None
    subject: str
    not_after: datetime
    fingerprint: str  # SHA-256 of the leaf certificate, hex: what `openssl x509 -fingerprint -sha256` shows
    http_context: ssl.SSLContext

    def describe(self) -> str:
        mutual = ", client certificates required" if self.client_ca is not None else ""
        until = f"{self.not_after:%Y-%m-%dT%H:%M:%SZ}"
        return f"{self.subject}, valid until {until}, sha256 {self.fingerprint[:16]}{mutual}"


def load_certificates(files: CertificateFiles, now: datetime | None = None) -> CertificateBundle:
    """Read and check every file; raises CertificateError naming the first file that is wrong."""
    now = now or datetime.now(UTC)
    cert_pem = _read("tls_cert_path", files.cert)
    key_pem = _read("tls_key_path", files.key)
    ca_pem = _read("tls_client_ca_path", files.client_ca) if files.client_ca is not None else None
    chain = _certificates("tls_cert_path", files.cert, cert_pem, now)
    leaf = chain[0]
    _check_server_usage(files.cert, leaf)
    _check_key_matches(files, key_pem, leaf)
    if ca_pem is not None and files.client_ca is not None:
        for ca in _certificates("tls_client_ca_path", files.client_ca, ca_pem, now):
            _check_is_ca(files.client_ca, ca)
    context = _http_context(files)
    # The context was loaded from the paths: if a rotation rewrote a file meanwhile, what it
    # holds may not be what was checked. Try again at the next look instead.
    if (_read("tls_cert_path", files.cert), _read("tls_key_path", files.key)) != (cert_pem, key_pem):
        raise CertificateError("tls_cert_path", files.cert, "changed while being read; it will be read again")
    return CertificateBundle(
        files=files,
        cert_chain=cert_pem,
        key=key_pem,
        client_ca=ca_pem,
        subject=leaf.subject.rfc4514_string() or "(empty subject)",
        not_after=leaf.not_valid_after_utc,
        fingerprint=hashlib.sha256(leaf.public_bytes(serialization.Encoding.DER)).hexdigest(),
        http_context=context,
    )


def _read(setting: str, path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        reason = f"cannot read it ({exc.strerror}): check the path and its permissions"
        raise CertificateError(setting, path, reason) from None
    if len(data) > MAX_FILE_BYTES:
        raise CertificateError(setting, path, f"larger than {MAX_FILE_BYTES} bytes: not a PEM file")
    return data


def _certificates(setting: str, path: Path, pem: bytes, now: datetime) -> list[x509.Certificate]:
    try:
        chain = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise CertificateError(setting, path, "no PEM certificate in it (-----BEGIN CERTIFICATE-----)") from None
    for position, cert in enumerate(chain):
        which = "" if position == 0 else f"certificate {position + 1} in the file ({cert.subject.rfc4514_string()}) "
        if now < cert.not_valid_before_utc:
            start = f"{cert.not_valid_before_utc:%Y-%m-%dT%H:%MZ}"
            raise CertificateError(setting, path, f"{which}not valid before {start}: check the clocks")
        if now > cert.not_valid_after_utc:
            raise CertificateError(
                setting, path, f"{which}expired on {cert.not_valid_after_utc:%Y-%m-%dT%H:%MZ}: install a renewed one"
            )
    return chain


def _check_server_usage(path: Path, leaf: x509.Certificate) -> None:
    try:
        usage = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if ExtendedKeyUsageOID.SERVER_AUTH not in usage:
        raise CertificateError("tls_cert_path", path, "not a server certificate (extended key usage lacks serverAuth)")


def _check_key_matches(files: CertificateFiles, key_pem: bytes, leaf: x509.Certificate) -> None:
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except TypeError:
        raise CertificateError("tls_key_path", files.key, "the key is encrypted: give it unencrypted") from None
    except (ValueError, UnsupportedAlgorithm):
        raise CertificateError("tls_key_path", files.key, "no PEM private key in it (-----BEGIN … KEY-----)") from None
    if key.public_key().public_bytes(*_SPKI) != leaf.public_key().public_bytes(*_SPKI):
        raise CertificateError("tls_key_path", files.key, f"does not match the certificate in {files.cert}")


def _check_is_ca(path: Path, cert: x509.Certificate) -> None:
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        subject = cert.subject.rfc4514_string()
        reason = f"{subject} is not a CA certificate: give the CA that issues the client certificates"
        raise CertificateError("tls_client_ca_path", path, reason)


def _http_context(files: CertificateFiles) -> ssl.SSLContext:
    """A server context for the HTTP (metrics) port; client certificates required when a client CA is set."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(files.cert, files.key)
    except (ssl.SSLError, OSError) as exc:
        raise CertificateError("tls_cert_path", files.cert, f"OpenSSL refused it with its key ({exc})") from None
    if files.client_ca is not None:
        try:
            context.load_verify_locations(cafile=files.client_ca)
        except (ssl.SSLError, OSError) as exc:
            raise CertificateError("tls_client_ca_path", files.client_ca, f"OpenSSL refused it ({exc})") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context
