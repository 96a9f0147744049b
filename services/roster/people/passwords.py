"""Argon2id password hashing, kept off the event loop (each hash costs tens of milliseconds)."""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

hasher = PasswordHasher()

DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$eN3fMIEq86WOXUP84DGgRg"
    "$0IcXyHDfL8FqgDVDscQud+/hVmdBzeBOhbrVgop2CcE"
)
"""The hash of a random secret nobody knows, with the hasher's parameters: an account without a
password (or no account at all) costs the same verification as a real one, from the first try."""


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    def verify() -> bool:
        try:
            return hasher.verify(password_hash or DUMMY_HASH, password) and bool(password_hash)
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)
