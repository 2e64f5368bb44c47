"""The simulator refuses every target that is not on this machine, and says what to use."""

from __future__ import annotations

import re

import pytest

from training.traffic.target import TargetError, loopback_target


@pytest.mark.parametrize("target", ["127.0.0.1:50051", "127.8.9.10:1", "localhost:50051", "LOCALHOST:9", "[::1]:50051"])
def test_loopback_targets_pass(target: str) -> None:
    assert loopback_target(target) == target


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("10.0.0.1:50051", "10.0.0.1 is not a loopback address"),
        ("192.168.1.20:50051", "192.168.1.20 is not a loopback address"),
        ("[2001:db8::1]:50051", "2001:db8::1 is not a loopback address"),
        ("decision.internal:50051", "host 'decision.internal' is a name other than localhost"),
        ("localhost.example.com:50051", "is a name other than localhost"),
        ("localhost", "is not host:port"),
        ("127.0.0.1:0", "is not host:port"),
        ("127.0.0.1:http", "is not host:port"),
        ("::1:50051", "write an IPv6 address in brackets"),
    ],
)
def test_other_targets_are_refused_with_what_to_use(target: str, why: str) -> None:
    with pytest.raises(TargetError, match=re.escape(why)) as refused:
        loopback_target(target)
    assert "use 127.0.0.1:PORT" in str(refused.value) or "brackets" in str(refused.value)
