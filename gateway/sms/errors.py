"""Every exception the SMS package raises, in one place."""
from __future__ import annotations


class SmsError(Exception):
    """Base class for SMS errors."""


class ProviderConfigError(SmsError):
    """A provider is configured wrongly (unknown kind, missing credential); names the key."""


class TransportError(SmsError):
    """A provider did not accept a message.

    ``retryable`` says whether another try (on this or the next provider) may succeed: a
    timeout, a 5xx, a 429 or a rejected credential are retryable; an invalid or blocked
    recipient is permanent. ``code`` is short and stable, e.g. ``http_503`` or ``twilio_21211``.
    """

    def __init__(self, msg: str, *, code: str, retryable: bool):
        super().__init__(msg)
        self.code = code
        self.retryable = retryable


class AllProvidersFailed(SmsError):
    """Every provider failed retryably; the job raises this so RQ retries with backoff."""


class OtpError(SmsError):
    """Base class for OTP errors; ``code`` is what the API answers."""

    code = "otp_error"
    http_status = 400


class OtpRateLimited(OtpError):
    """Too soon after the last code, or too many codes this hour."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, msg: str, retry_after: int):
        super().__init__(msg)
        self.retry_after = max(1, int(retry_after))


class OtpNotFound(OtpError):
    """No such transaction, or it expired."""

    code = "expired_or_unknown"
    http_status = 404


class OtpMismatch(OtpError):
    """Wrong code; ``attempts_left`` more tries."""

    code = "wrong_code"
    http_status = 400

    def __init__(self, msg: str, attempts_left: int):
        super().__init__(msg)
        self.attempts_left = attempts_left


class OtpLocked(OtpError):
    """Too many wrong codes: the transaction is void."""

    code = "too_many_attempts"
    http_status = 403


class TemplateError(SmsError):
    """Unknown template, or a variable the template needs is missing."""
