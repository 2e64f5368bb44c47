"""Where the simulator may send traffic: a server on this machine only.

Simulated traffic writes synthetic decisions and outcomes into the server's logs; sent to a
shared or production server it would poison real data. So only loopback addresses pass:
127.0.0.0/8, ::1 and the name `localhost` (no name is resolved: a name could point anywhere).
"""

from __future__ import annotations

import ipaddress

_FIX = "the simulator only drives a server on this machine: use 127.0.0.1:PORT, [::1]:PORT or localhost:PORT"


class TargetError(ValueError):
    """The target is malformed or not a loopback address."""


def loopback_target(target: str) -> str:
    """`target` (host:port) unchanged if it is on loopback; else TargetError saying why and what to use."""
    host, sep, port = target.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise TargetError(f"target {target!r} is not host:port; {_FIX}")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare and bare == host:
        raise TargetError(f"target {target!r}: write an IPv6 address in brackets, e.g. [::1]:{port}")
    if bare.lower() == "localhost":
        return target.strip()
    try:
        address = ipaddress.ip_address(bare)
    except ValueError:
        raise TargetError(f"target {target!r}: host {host!r} is a name other than localhost; {_FIX}") from None
    if not address.is_loopback:
        raise TargetError(f"target {target!r}: {bare} is not a loopback address; {_FIX}")
    return target.strip()
