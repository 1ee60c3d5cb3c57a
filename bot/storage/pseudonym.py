"""Pseudonyms: a keyed hash of channel and platform id, and the key that makes them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

KEY_BYTES = 32


class HmacPseudonymiser:
    """HMAC-SHA256 over ``channel:user_id``; without the key, a pseudonym cannot be traced."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes")
        self._key = key

    def __call__(self, channel: str, user_id: str) -> str:
        message = f"{channel}:{user_id}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()


def load_or_create_key(path: Path) -> bytes:
    """Read the key file, creating it (readable by the owner only) on first start."""
    if path.exists():
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(KEY_BYTES)
    path.touch(mode=0o600)
    path.write_text(key.hex() + "\n", encoding="ascii")
    return key
