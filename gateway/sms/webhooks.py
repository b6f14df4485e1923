"""Blueprint ``sms``: delivery reports from providers and the OTP API for web portals.

- ``POST /sms/twilio/status``: Twilio status callback; ``X-Twilio-Signature`` is checked
  with the SDK's ``RequestValidator``; unsigned ones pass only in a sandbox deployment.
- ``POST /sms/africastalking/delivery``: AT delivery report; needs the provider's
  ``webhook_secret_env`` secret as ``?secret=`` or in the ``sms.webhook_secret_header``.
- ``POST /sms/twilio/inbound`` and ``POST /sms/africastalking/inbound``: inbound commands
  (``gateway/sms/inbound.py``), with the same signature / secret checks.
- ``POST /api/v1/otp`` and ``POST /api/v1/otp/verify``: API-key authenticated.

Unknown message ids, statuses and reasons get 200 so providers stop retrying (what each
status means is in ``gateway/sms/reports.py``); a malformed payload gets a 400 naming the
field, never a 500.
"""
from __future__ import annotations

import functools
import hmac
import logging
from typing import Any, Literal

from flask import Blueprint, Response, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from twilio.request_validator import RequestValidator

from gateway.api.auth import key_principal
from gateway.api.errors import error
from gateway.sms.errors import OtpError, OtpMismatch, OtpRateLimited
from gateway.sms.inbound import InboundSms
from gateway.sms.otp import OtpService
from gateway.sms.outbox import enqueue_messages
from gateway.sms.reports import Report, apply_report, classify_africastalking, classify_twilio
from gateway.sms.secrets import mask_phone, read_secret
from gateway.storage import pg_deadline
from gateway.text.i18n import DEFAULT_LANGUAGE, LANGUAGES
from gateway.text.phones import E164
from gateway.web.runtime import get_runtime
from gateway.web.webhook_security import is_sandbox, signed_form_fields

bp = Blueprint("sms", __name__)
log = logging.getLogger("vaxgate.sms")
PROVIDER_ID = r"^[A-Za-z0-9_.:-]{2,64}$"
REPORT_WORD = r"^[A-Za-z0-9_ -]{1,40}$"  # a status or reason: unknown ones are answered 200


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class TwilioStatusReport(_Payload):
    MessageSid: str = Field(pattern=PROVIDER_ID)
    MessageStatus: str = Field(pattern=REPORT_WORD)
    ErrorCode: str = Field("", max_length=10)


class AfricasTalkingReport(_Payload):
    id: str = Field(pattern=PROVIDER_ID)
    status: str = Field(pattern=REPORT_WORD)
    failureReason: str = Field("", max_length=100)


class TwilioInbound(_Payload):
    From: E164 = Field(min_length=6, max_length=20)
    Body: str = Field("", max_length=1600)
    MessageSid: str = Field(pattern=PROVIDER_ID)


class AfricasTalkingInbound(_Payload):
    sender: E164 = Field(alias="from", min_length=6, max_length=20)
    text: str = Field("", max_length=1600)
    id: str = Field(pattern=PROVIDER_ID)


class OtpRequestBody(_Payload):
    phone: E164 = Field(min_length=6, max_length=20)
    lang: Literal[LANGUAGES] = DEFAULT_LANGUAGE  # type: ignore[valid-type]


class OtpVerifyBody(_Payload):
    transaction_id: str = Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")
    code: str = Field(pattern=r"^\d{6}$")


def _parse(schema: type[_Payload], data: Any) -> _Payload | Response:
    """The payload as ``schema``, or a 400 response naming the first bad field."""
    try:
        return schema.model_validate(data if isinstance(data, dict) else {})
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "body"
        return _error(400, "invalid_payload", f"{field}: {err['msg']}", field=field)


def _error(status: int, code: str, message: str, **extra: Any) -> Response:
    return error(status, code, message, **extra)


def _form() -> dict[str, str]:
    return signed_form_fields(request.form)


# ---- delivery reports ----------------------------------------------------------------

@bp.post("/sms/twilio/status")
def twilio_status() -> Response:
    """Apply a Twilio status callback (signature checked when an auth token is set)."""
    if not _twilio_signature_ok():
        return _error(403, "bad_signature", "X-Twilio-Signature is missing or wrong")
    report = _parse(TwilioStatusReport, _form())
    if isinstance(report, Response):
        return report
    return _apply(report.MessageSid, classify_twilio(report.MessageStatus, report.ErrorCode))


def _twilio_signature_ok() -> bool:
    tokens = _twilio_tokens()
    if not tokens:  # unsigned only in a sandbox (gateway/web/webhook_security.py)
        return is_sandbox(get_runtime().settings)
    signature = request.headers.get("X-Twilio-Signature", "")
    url = _public_url()
    return bool(signature) and any(
        RequestValidator(token).validate(url, _form(), signature) for token in tokens)


def _twilio_tokens() -> list[str]:
    settings = get_runtime().settings
    tokens = [read_secret(p.credentials_env.get("auth_token", "")) for p in
              settings.sms.providers if p.kind == "twilio" and p.enabled]
    return [t for t in tokens if t]


def _public_url() -> str:
    """The URL Twilio called: ``sms.public_base_url`` + path when behind a proxy."""
    base = get_runtime().settings.sms.public_base_url.rstrip("/")
    if not base:
        return request.url
    query = request.query_string.decode()
    return f"{base}{request.path}" + (f"?{query}" if query else "")


@bp.post("/sms/africastalking/delivery")
def africastalking_delivery() -> Response:
    """Apply an Africa's Talking delivery report (shared secret required)."""
    if not _africastalking_secret_ok():
        return _error(403, "bad_secret", "webhook secret is missing or wrong")
    report = _parse(AfricasTalkingReport, _form())
    if isinstance(report, Response):
        return report
    return _apply(report.id, classify_africastalking(report.status, report.failureReason))


def _africastalking_secret_ok() -> bool:
    settings = get_runtime().settings.sms
    given = request.args.get("secret") or request.headers.get(settings.webhook_secret_header, "")
    expected = [read_secret(p.webhook_secret_env) for p in settings.providers
                if p.kind == "africastalking" and p.enabled and p.webhook_secret_env]
    return bool(given) and any(
        hmac.compare_digest(given.encode(), e.encode()) for e in expected if e)


def _apply(provider_id: str, report: Report | None) -> Response:
    """Apply a classified report; an unknown status (None) changes nothing, answered 200."""
    if report is None:
        return jsonify({"ok": True, "known": False, "ignored": "unknown status"})
    with get_runtime().db.write() as session:
        message = apply_report(session, provider_id, report.verdict, report.reason)
        known = message is not None
    if not known:
        log.info("delivery report for unknown provider id %s ignored", provider_id[:64])
    return jsonify({"ok": True, "known": known})


# ---- inbound SMS (commands: gateway/sms/inbound.py) -----------------------------------

@bp.post("/sms/twilio/inbound")
def twilio_inbound() -> Response:
    """A Twilio incoming-message webhook; the reply goes through the ledger, not TwiML."""
    if not _twilio_signature_ok():
        return _error(403, "bad_signature", "X-Twilio-Signature is missing or wrong")
    sms = _parse(TwilioInbound, _form())
    if isinstance(sms, Response):
        return sms
    _receive(sms.From, sms.Body, f"twilio:{sms.MessageSid}")
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response/>',
                    mimetype="application/xml")


@bp.post("/sms/africastalking/inbound")
def africastalking_inbound() -> Response:
    """An Africa's Talking incoming-message callback (shared secret required)."""
    if not _africastalking_secret_ok():
        return _error(403, "bad_secret", "webhook secret is missing or wrong")
    sms = _parse(AfricasTalkingInbound, _form())
    if isinstance(sms, Response):
        return sms
    _receive(sms.sender, sms.text, f"at:{sms.id}")
    return jsonify({"ok": True})


def _receive(phone: str, text: str, key: str) -> None:
    runtime = get_runtime()
    InboundSms(runtime.db, runtime.settings, enqueue=lambda ids, queue: enqueue_messages(
        runtime.queue_redis, ids, queue=queue, settings=runtime.settings.sms)
               ).receive(phone, text, key)


# ---- OTP API ---------------------------------------------------------------------------

def _otp_api(schema: type[_Payload]):
    """Decorate an OTP view: check the API key, parse the body, map OtpError to a reply."""
    def decorate(view):
        @functools.wraps(view)
        def endpoint() -> Response:
            # a portal waits for this answer: a silent database is a quick 503 (try again),
            # bounded like a USSD step, not one client deadline per round trip
            with pg_deadline.within(get_runtime().settings.ussd.step_budget_seconds):
                denied = _check_api_key()
                if denied is not None:
                    return denied
                body = _parse(schema, _json_or_form())
                if isinstance(body, Response):
                    return body
                try:
                    return view(body)
                except OtpError as exc:
                    return _otp_error(exc)
        return endpoint
    return decorate


@bp.post("/api/v1/otp")
@_otp_api(OtpRequestBody)
def otp_request(body: OtpRequestBody) -> Response:
    """Send an OTP to ``phone``; answer the transaction id the portal verifies against."""
    issued = _otp().request(body.phone, body.lang)
    log.info("otp requested for %s", mask_phone(body.phone))
    response = jsonify({"transaction_id": issued.transaction_id,
                        "expires_at": issued.expires_at.isoformat(),
                        "expires_in": get_runtime().settings.otp.ttl_seconds})
    response.status_code = 201
    return response


@bp.post("/api/v1/otp/verify")
@_otp_api(OtpVerifyBody)
def otp_verify(body: OtpVerifyBody) -> Response:
    """Check a code; each transaction verifies once, with at most N wrong tries."""
    _otp().verify(body.transaction_id, body.code, source=f"ip:{request.remote_addr}")
    return jsonify({"verified": True})


def _otp() -> OtpService:
    runtime = get_runtime()
    return OtpService(runtime.settings, runtime.db, runtime.redis, runtime.queue_redis)


def _otp_error(exc: OtpError) -> Response:
    extra: dict[str, Any] = {}
    if isinstance(exc, OtpMismatch):
        extra["attempts_left"] = exc.attempts_left
    if isinstance(exc, OtpRateLimited):
        extra["retry_after"] = exc.retry_after
    response = _error(exc.http_status, exc.code, str(exc), **extra)
    if isinstance(exc, OtpRateLimited):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


def _json_or_form() -> dict[str, Any]:
    if request.is_json:
        data = request.get_json(silent=True)
        return data if isinstance(data, dict) else {}
    return _form()


def _check_api_key(scope: str = "otp:send") -> Response | None:
    """None if the request carries a deployment key (``otp.api_keys_env``, compared in
    constant time) or an SQL API key with ``scope``."""
    given = request.headers.get("X-API-Key", "")
    if not given and request.headers.get("Authorization", "").startswith("Bearer "):
        given = request.headers["Authorization"][7:]
    keys = [k.strip() for k in read_secret(get_runtime().settings.otp.api_keys_env).split(",")]
    matches = [hmac.compare_digest(given.encode(), k.encode()) for k in keys if k]
    if given and any(matches):
        return None

    who = key_principal() if given else None  # API keys kept (hashed) in SQL work too
    if who is not None and scope in who.scopes:
        return None
    if who is not None:
        return _error(403, "forbidden", f"this key lacks the {scope} scope")
    return _error(401, "unauthorized", "a valid API key is required (X-API-Key header)")
