"""One-time passwords for web portals: request a code by SMS, verify it once.

Codes are 6 digits from ``secrets``; Redis keeps only HMAC(secret_key, txn:code) and a
try counter, both expiring with the code. A resend cooldown and an hourly cap per phone
answer with :class:`OtpRateLimited` (``retry_after`` seconds), never a silent drop. The SMS
itself goes through the ledger with the code masked, on the ``otp`` queue, and expires with
the code: a worker never sends it late.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass

import redis

from gateway.config import Settings
from gateway.sms import otp_codes, outbox
from gateway.sms.errors import OtpLocked, OtpMismatch, OtpNotFound, OtpRateLimited
from gateway.sms.templates import render
from gateway.storage import Database
from gateway.storage.ledger import MessageKind

PREFIX = "vaxgate:otp"
HOUR_S = 3600


@dataclass(frozen=True)
class OtpRequest:
    transaction_id: str
    message_id: int
    expires_at: dt.datetime


class OtpService:
    """Issue and verify codes; state in Redis, the SMS in the SQL ledger."""

    def __init__(self, settings: Settings, db: Database, redis_conn: redis.Redis):
        self.settings = settings
        self.config = settings.otp
        self.db = db
        self.redis = redis_conn

    def request(self, phone: str, lang: str = "en") -> OtpRequest:
        """Send a fresh code to the E.164 ``phone``; raises OtpRateLimited when too soon."""
        self._check_limits(phone)
        code = f"{secrets.randbelow(otp_codes.MODULUS):0{otp_codes.DIGITS}d}"
        txn = secrets.token_urlsafe(18)
        ttl = self.config.ttl_seconds
        expires_at = outbox.expires_in(ttl)
        body = render("otp", lang, code=otp_codes.CODE_MASK, minutes=math.ceil(ttl / 60))
        with self.db.write() as session:
            message = outbox.record_message(session, phone=phone, kind=MessageKind.OTP,
                                            body=body, lang=lang, dedupe_key=f"otp:{txn}",
                                            expires_at=expires_at)
            message_id = message.id
        self.redis.hset(self._key(txn), mapping={"mac": self._mac(txn, code), "phone": phone,
                                                 "tries": 0, "message_id": message_id})
        self.redis.expire(self._key(txn), ttl)
        otp_codes.seal(self.redis, self.settings.secret_key, message_id, code, ttl)
        outbox.enqueue_messages(self.redis, [message_id], queue="otp", settings=self.settings.sms)
        return OtpRequest(txn, message_id, expires_at)

    def verify(self, txn: str, code: str) -> str:
        """Return the phone if ``code`` is right; each transaction verifies at most once."""
        key = self._key(txn)
        state = self.redis.hgetall(key)
        if not state:
            raise OtpNotFound("no such code, or it expired: request a new one")
        tries = self.redis.hincrby(key, "tries", 1)
        if tries <= self.config.max_attempts and hmac.compare_digest(
                state[b"mac"].decode(), self._mac(txn, code)):
            self.redis.delete(key)
            otp_codes.forget(self.redis, int(state[b"message_id"]))
            return state[b"phone"].decode()
        left = self.config.max_attempts - tries
        if left <= 0:
            self.redis.delete(key)
            raise OtpLocked("too many wrong codes: request a new one")
        raise OtpMismatch(f"wrong code; {left} tries left", attempts_left=left)

    def _check_limits(self, phone: str) -> None:
        """Resend cooldown, then the hourly cap, both per phone."""
        cooldown = self.config.resend_cooldown_seconds
        if cooldown and not self.redis.set(f"{PREFIX}:cooldown:{phone}", 1, nx=True, ex=cooldown):
            wait = self.redis.ttl(f"{PREFIX}:cooldown:{phone}")
            raise OtpRateLimited(f"a code was just sent; try again in {max(wait, 1)} s",
                                 retry_after=wait)
        hourly = f"{PREFIX}:hourly:{phone}"
        count = self.redis.incr(hourly)
        if count == 1:
            self.redis.expire(hourly, HOUR_S)
        if count > self.config.max_per_phone_per_hour:
            wait = self.redis.ttl(hourly)
            raise OtpRateLimited(f"too many codes this hour; try again in {max(wait, 1)} s",
                                 retry_after=wait)

    def _key(self, txn: str) -> str:
        return f"{PREFIX}:txn:{txn}"

    def _mac(self, txn: str, code: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), f"{txn}:{code}".encode(),
                        hashlib.sha256).hexdigest()
