"""The Prometheus /metrics port over TLS, with the certificate the gRPC port serves (reloaded alike).

prometheus_client can serve HTTPS, but it wraps the listening socket once (no reload) and
handshakes in its accept loop (one slow client stalls every scrape). Here each accepted
connection is wrapped in its own thread with the SSL context current at that moment, so a
rotated certificate serves the next scrape and a stalled handshake times out alone.
"""

from __future__ import annotations

import logging
import socket
import ssl
import threading
from collections.abc import Callable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app
from prometheus_client.exposition import ThreadingWSGIServer

log = logging.getLogger(__name__)

CONNECTION_TIMEOUT_SECONDS = 10.0  # for the handshake and the request: scrapes are small


class _QuietHandler(WSGIRequestHandler):
    """No access log line per scrape."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _TLSWSGIServer(ThreadingWSGIServer):
    """Accepts plain connections and wraps each one in its own thread."""

    context: Callable[[], ssl.SSLContext]

    def process_request_thread(self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any) -> None:
        if not isinstance(request, socket.socket):  # a datagram: never on a TCP server
            return
        try:
            request.settimeout(CONNECTION_TIMEOUT_SECONDS)
            secured = self.context().wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            log.debug("metrics connection refused during the TLS handshake: %s", type(exc).__name__)
            self.shutdown_request(request)
            return
        super().process_request_thread(secured, client_address)


def serve_metrics_tls(port: int, context: Callable[[], ssl.SSLContext], host: str = "0.0.0.0") -> WSGIServer | None:
    """Expose /metrics over TLS on `port` in a daemon thread (0 disables it); `context` gives the
    SSL context for each new connection."""
    if not port:
        return None
    server = make_server(host, port, make_wsgi_app(), _TLSWSGIServer, handler_class=_QuietHandler)
    server.context = context
    threading.Thread(target=server.serve_forever, name="metrics-tls", daemon=True).start()
    return server
