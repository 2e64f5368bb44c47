"""The user key is HMAC-SHA256 of the user id, truncated to 128 bits, whatever computes it."""

from __future__ import annotations

import hmac
import random

import pytest

from decision.privacy import Pseudonymizer, UserKeyError


@pytest.mark.parametrize("key_bytes", [16, 32, 64, 65, 200])
def test_user_key_is_the_standard_hmac(key_bytes: int) -> None:
    """Keys shorter than, equal to and longer than SHA-256's block (which HMAC hashes first)."""
    rng = random.Random(key_bytes)
    secret = rng.randbytes(key_bytes)
    keys = Pseudonymizer(secret)
    for user_id in ("u0000042", "", "ü-ser ✓", "x" * 5000, *(f"user-{rng.random()}" for _ in range(50))):
        expected = hmac.digest(secret, user_id.encode("utf-8"), "sha256")[:16].hex()
        assert keys(user_id) == expected


@pytest.mark.parametrize(
    ("secret", "message", "digest"),
    [
        # RFC 4231 test case 1: a 20-byte key
        (b"\x0b" * 20, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        # RFC 4231 test case 6: a 131-byte key, longer than the block
        (
            b"\xaa" * 131,
            "Test Using Larger Than Block-Size Key - Hash Key First",
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        ),
    ],
)
def test_published_hmac_sha256_vectors(secret: bytes, message: str, digest: str) -> None:
    """The user key is the first 128 bits of RFC 4231's HMAC-SHA256 results."""
    assert Pseudonymizer(secret)(message) == digest[:32]


def test_short_secret_refused() -> None:
    with pytest.raises(UserKeyError, match="at least 16 bytes"):
        Pseudonymizer(b"short")


def test_repr_hides_the_secret() -> None:
    assert "Jefe" not in repr(Pseudonymizer(b"Jefe" * 4))
