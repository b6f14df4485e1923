"""Keep an OTP's code out of SQL and out of Redis in the clear, yet resendable.

The ledger stores the OTP body with the code masked (``******``). The worker needs the
digits to send (and to re-send through the next provider), so Redis keeps them *sealed*:
added to a one-time pad derived as HMAC(secret_key, message id) modulo 10**6. Without the
secret key the sealed value says nothing about the code; it expires with the code.

The sealed value carries a tag, HMAC(secret_key, message id + sealed value): a worker whose
secret key differs from the web process's finds the tag wrong and sends nothing (logged as
an error naming VAXGATE_SECRET_KEY), instead of a wrong 6-digit code.
"""
from __future__ import annotations

import hashlib
import hmac
import logging

import redis

log = logging.getLogger(__name__)

CODE_MASK = "******"
DIGITS = 6
MODULUS = 10 ** DIGITS
PREFIX = "vaxgate:otp:sealed"


def _pad(secret_key: str, message_id: int) -> int:
    digest = hmac.new(secret_key.encode(), f"otp-pad:{message_id}".encode(), hashlib.sha256)
    return int.from_bytes(digest.digest()[:8], "big") % MODULUS


def seal(redis_conn: redis.Redis, secret_key: str, message_id: int, code: str,
         ttl_seconds: int) -> None:
    """Store ``code`` for message ``message_id``, sealed, for ``ttl_seconds``."""
    sealed = (int(code) + _pad(secret_key, message_id)) % MODULUS
    redis_conn.set(f"{PREFIX}:{message_id}", f"{sealed}.{_tag(secret_key, message_id, sealed)}",
                   ex=ttl_seconds)


def unseal(redis_conn: redis.Redis, secret_key: str, message_id: int) -> str | None:
    """The code of message ``message_id``, or None once it expired or Redis lost it."""
    raw = redis_conn.get(f"{PREFIX}:{message_id}")
    if raw is None:
        return None
    sealed, _, tag = raw.decode().partition(".")
    if not hmac.compare_digest(tag, _tag(secret_key, message_id, int(sealed))):
        log.error("OTP %s was sealed with another secret key: give web and worker processes "
                  "the same VAXGATE_SECRET_KEY; not sent", message_id)
        return None
    return f"{(int(sealed) - _pad(secret_key, message_id)) % MODULUS:0{DIGITS}d}"


def _tag(secret_key: str, message_id: int, sealed: int) -> str:
    return hmac.new(secret_key.encode(), f"otp-tag:{message_id}:{sealed}".encode(),
                    hashlib.sha256).hexdigest()[:16]


def forget(redis_conn: redis.Redis, message_id: int) -> None:
    """Drop the sealed code (after a successful verification)."""
    redis_conn.delete(f"{PREFIX}:{message_id}")
