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
from gateway.infra.attempts import FailureCounter
from gateway.sms import failover, metrics, otp_codes, outbox
from gateway.sms.errors import OtpLocked, OtpMismatch, OtpNotFound, OtpRateLimited
from gateway.sms.templates import render
from gateway.storage import Database
from gateway.storage.ledger import MessageKind
from gateway.text.i18n import DEFAULT_LANGUAGE

PREFIX = "vaxgate:otp"
HOUR_S = 3600
# Check, count and consume in one step, so concurrent verifies of one code succeed at most
# once and never create a key without its expiry. KEYS: the transaction. ARGV: the MAC of
# the code given, max attempts. Comparing MACs with == leaks nothing: the attacker cannot
# compute the stored MAC without the secret key.
_VERIFY = """
local mac = redis.call('HGET', KEYS[1], 'mac')
if not mac then return {'missing'} end
local tries = redis.call('HINCRBY', KEYS[1], 'tries', 1)
local phone = redis.call('HGET', KEYS[1], 'phone')
if tries <= tonumber(ARGV[2]) and mac == ARGV[1] then
  local message_id = redis.call('HGET', KEYS[1], 'message_id')
  redis.call('DEL', KEYS[1])
  return {'ok', phone, message_id}
end
local left = tonumber(ARGV[2]) - tries
if left <= 0 then redis.call('DEL', KEYS[1]) end
return {'wrong', phone, left}
"""


@dataclass(frozen=True)
class OtpRequest:
    transaction_id: str
    message_id: int
    expires_at: dt.datetime


class OtpService:
    """Issue and verify codes; state in Redis, the SMS in the SQL ledger."""

    def __init__(self, settings: Settings, db: Database, redis_conn: redis.Redis,
                 queue_conn: redis.Redis | None = None):
        self.settings = settings
        self.config = settings.otp
        self.db = db
        self.redis = redis_conn  # codes and counters (session Redis)
        self.queues = queue_conn or redis_conn  # the SMS job (queue Redis)
        self._verify_script = redis_conn.register_script(_VERIFY)

    def request(self, phone: str, lang: str = DEFAULT_LANGUAGE) -> OtpRequest:
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
                                            expires_at=expires_at,
                                            budget=None)  # capped by _check_limits
            message.try_last = failover.unconfirmed_provider(  # asked again: try another first
                session, phone, MessageKind.OTP.value, since=expires_at - dt.timedelta(hours=1))
            message_id = message.id
        with self.redis.pipeline() as state:  # MULTI: the hash never exists without its TTL
            state.hset(self._key(txn), mapping={"mac": self._mac(txn, code), "phone": phone,
                                                "tries": 0, "message_id": message_id})
            state.expire(self._key(txn), ttl)
            state.execute()
        otp_codes.seal(self.redis, self.settings.secret_key, message_id, code, ttl)
        outbox.enqueue_messages(self.queues, [message_id], queue="otp", settings=self.settings.sms)
        metrics.OTP_REQUESTED.inc()
        return OtpRequest(txn, message_id, expires_at)

    def verify(self, txn: str, code: str, source: str = "") -> str:
        """Return the phone if ``code`` is right; each transaction verifies at most once.

        Wrong codes are limited per transaction (``max_attempts``), per phone across its
        codes and per ``source`` (the client's IP, or the caller) in an hour: past those,
        OtpRateLimited even for the right code.
        """
        phone = self.redis.hget(self._key(txn), "phone")
        if phone is None:
            raise OtpNotFound("no such code, or it expired: request a new one")
        failures = self._failures(phone.decode(), source)
        self._check_failures(failures)
        reply = self._verify_script(keys=[self._key(txn)],
                                    args=[self._mac(txn, code), self.config.max_attempts])
        if reply[0] == b"missing":  # expired, or consumed by a concurrent verify
            raise OtpNotFound("no such code, or it expired: request a new one")
        if reply[0] == b"ok":
            otp_codes.forget(self.redis, int(reply[2]))
            metrics.OTP_VERIFIED.inc()
            return reply[1].decode()
        for counter, counted in failures:
            counter.fail(counted)
        left = int(reply[2])
        if left <= 0:
            raise OtpLocked("too many wrong codes: request a new one")
        raise OtpMismatch(f"wrong code; {left} tries left", attempts_left=left)

    def _failures(self, phone: str, source: str) -> list[tuple[FailureCounter, str]]:
        """(counter, key) of the wrong-code limits this verification counts against."""
        per_phone = FailureCounter(self.redis, f"{PREFIX}:fail:phone",
                                   self.config.max_failures_per_phone_per_hour, HOUR_S)
        limits = [(per_phone, phone)]
        if source:
            limits.append((FailureCounter(self.redis, f"{PREFIX}:fail:source",
                                          self.config.max_failures_per_source_per_hour, HOUR_S),
                           source))
        return limits

    @staticmethod
    def _check_failures(failures: list[tuple[FailureCounter, str]]) -> None:
        reasons = ("for this phone", "from your address")
        for (counter, key), what in zip(failures, reasons, strict=False):
            wait = counter.retry_after(key)
            if wait:
                raise OtpRateLimited(f"too many wrong codes {what}; try again in {wait} s",
                                     retry_after=wait)

    def _check_limits(self, phone: str) -> None:
        """Resend cooldown, then the hourly cap, both per phone."""
        cooldown = self.config.resend_cooldown_seconds
        if cooldown and not self.redis.set(f"{PREFIX}:cooldown:{phone}", 1, nx=True, ex=cooldown):
            wait = self.redis.ttl(f"{PREFIX}:cooldown:{phone}")
            raise OtpRateLimited(f"a code was just sent; try again in {max(wait, 1)} s",
                                 retry_after=wait)
        hourly = FailureCounter(self.redis, f"{PREFIX}:hourly",
                                self.config.max_per_phone_per_hour, HOUR_S)
        if hourly.fail(phone) > self.config.max_per_phone_per_hour:
            wait = hourly.retry_after(phone)
            raise OtpRateLimited(f"too many codes this hour; try again in {wait} s",
                                 retry_after=wait)

    def _key(self, txn: str) -> str:
        return f"{PREFIX}:txn:{txn}"

    def _mac(self, txn: str, code: str) -> str:
        return hmac.new(self.settings.secret_key.encode(), f"{txn}:{code}".encode(),
                        hashlib.sha256).hexdigest()
