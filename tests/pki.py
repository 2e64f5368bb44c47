"""Real certificates for TLS tests: a throwaway CA, a server and a client certificate, and a stranger CA."""

from __future__ import annotations

import socket
import ssl
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from cryptography import x509

from decision.security.devca import DevCertificateAuthority, IssuedFiles


@dataclass(frozen=True)
class Pki:
    """Files of one test's certificates; `other_*` come from a CA the server does not trust."""

    authority: DevCertificateAuthority
    ca: Path
    server: IssuedFiles
    client: IssuedFiles
    other_ca: Path
    other_client: IssuedFiles
    folder: Path

    def expired_server(self) -> IssuedFiles:
        start = self.authority.now - timedelta(days=40)
        return self.authority.issue(self.folder / "expired", "server", valid_from=start, valid_days=30)

    def new_server(self, name: str = "server-next") -> IssuedFiles:
        return self.authority.issue(self.folder / name, "server")


def make_pki(folder: Path) -> Pki:
    authority = DevCertificateAuthority("test CA")
    stranger = DevCertificateAuthority("stranger CA")
    return Pki(
        authority=authority,
        ca=authority.write_ca(folder / "ca.crt"),
        server=authority.issue(folder, "server"),
        client=authority.issue(folder, "client", server=False, client=True, hosts=()),
        other_ca=stranger.write_ca(folder / "other-ca.crt"),
        other_client=stranger.issue(folder / "other", "client", server=False, client=True, hosts=()),
        folder=folder,
    )


def served_serial(port: int, pki: Pki) -> int:
    """The serial number of the certificate the server presents to a new connection right now."""
    context = ssl.create_default_context(cafile=pki.ca)
    context.set_alpn_protocols(["h2"])  # what gRPC clients offer
    context.load_cert_chain(pki.client.cert, pki.client.key)
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as secured,
    ):
        der = secured.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


def serial_of(cert: Path) -> int:
    return x509.load_pem_x509_certificate(cert.read_bytes()).serial_number
