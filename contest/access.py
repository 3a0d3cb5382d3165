"""Personal access codes of households: generated once, shown once, stored only as a hash.

Codes are random (16 characters from a 31-letter alphabet, ~79 bits), so a fast keyed hash is enough
(like API tokens); a slow password hash would only matter for guessable secrets. The hash lets the
portal find the household by its code without knowing who is signing in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

# No 0/O, 1/I/L: codes are read from paper and typed on phones.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
GROUPS = 4
GROUP_LEN = 4


def generate_code() -> str:
    """A new access code such as ``K7QD-9XMA-PT3E-W2RN``."""
    chars = "".join(secrets.choice(ALPHABET) for _ in range(GROUPS * GROUP_LEN))
    return "-".join(chars[i : i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def normalize_code(code: str) -> str:
    """Accept what people type: lower case, spaces, missing dashes."""
    chars = "".join(c for c in code.upper() if c.isalnum())
    return "-".join(chars[i : i + GROUP_LEN] for i in range(0, len(chars), GROUP_LEN))


def hash_code(code: str) -> str:
    return "sha256:" + hashlib.sha256(normalize_code(code).encode("ascii", "ignore")).hexdigest()


def new_session_key() -> str:
    """A random key for a household's portal sessions (43 URL-safe characters, 256 bits)."""
    return secrets.token_urlsafe(32)


def same_session_key(stored: str | None, presented: str) -> bool:
    """Whether a cookie's key is the household's current one (constant time; no key: no session)."""
    return stored is not None and hmac.compare_digest(stored.encode(), presented.encode())
