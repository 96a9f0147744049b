"""API key material and scope. Pure: no I/O.

A key reads ``cpk_<43 base64url characters>``: 256 random bits behind a fixed marker (so a
leaked key is recognisable, e.g. by secret scanners). Only its SHA-256 is stored; a fast hash
is enough because the secret is random, not a password. The first characters (``prefix``) are
kept in clear so admins can tell keys apart.

**Scope.** A key belongs to one CTI source, e.g. ``cti/asterisk-1``. An event is in its scope
when its CloudEvent ``source`` is that source or lies under it as a path (``cti/asterisk-1``,
``cti/asterisk-1/queue-7``), never a mere string prefix (``cti/asterisk-10`` is another PBX).
"""

from __future__ import annotations

import hashlib
import secrets

MARKER = "cpk_"
SECRET_BYTES = 32
PREFIX_LENGTH = len(MARKER) + 8


def new_key() -> str:
    return MARKER + secrets.token_urlsafe(SECRET_BYTES)


def digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def display_prefix(key: str) -> str:
    return key[:PREFIX_LENGTH]


def in_scope(key_source: str, event_source: str) -> bool:
    """Whether a key of ``key_source`` may send an event of ``event_source``."""
    return event_source == key_source or event_source.startswith(key_source.rstrip("/") + "/")
