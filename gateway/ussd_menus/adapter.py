"""``POST /ussd/africastalking``: parse the aggregator's form, answer ``CON``/``END`` text.

Bad requests never see a traceback: a missing or malformed field gets a 400 whose body is
an ``END`` screen naming the field; an unknown short code, an over-long history or any
internal failure gets a polite ``END`` (200), and the session's stored state is untouched.
"""
from __future__ import annotations

import logging
import unicodedata

from flask import Blueprint, Response, request
from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field, ValidationError, field_validator
from redis.exceptions import LockError, RedisError
from werkzeug.exceptions import HTTPException

from gateway.flows import ServiceUnavailable
from gateway.phones import InvalidPhone, mask_phone, parse_phone
from gateway.runtime import Runtime, get_runtime
from gateway.sessions import SessionStore
from gateway.storage import pg_deadline
from gateway.ussd_menus.protocol import StepResult, UssdProtocol, UssdReply

log = logging.getLogger(__name__)
ussd = Blueprint("ussd", __name__)

USSD_STEPS = Counter("vaxgate_ussd_steps_total", "USSD requests answered, by result",
                     ["result"])
USSD_STEP_SECONDS = Histogram("vaxgate_ussd_step_seconds", "Time to answer one USSD step",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5))
MAX_HISTORY_STEPS = 60  # longer than any journey, with every back and page
FALLBACK_LANG = "en"


class UssdRequest(BaseModel):
    """The form fields Africa's Talking posts for every USSD step."""

    sessionId: str = Field(min_length=1, max_length=128, pattern=r"^[\w\-.:]+$")
    serviceCode: str = Field(min_length=1, max_length=40)
    phoneNumber: str = Field(min_length=1, max_length=32)
    networkCode: str | None = Field(default=None, max_length=16)
    text: str = ""

    @field_validator("phoneNumber")
    @classmethod
    def _e164(cls, value: str) -> str:
        try:
            return parse_phone(value)
        except InvalidPhone as exc:
            raise ValueError(f"not a phone number ({exc})") from None

    @field_validator("text")
    @classmethod
    def _printable(cls, value: str) -> str:
        return "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))


@ussd.post("/ussd/africastalking")
def africastalking() -> Response:
    """One USSD step in Africa's Talking format."""
    with USSD_STEP_SECONDS.time():
        try:
            form = UssdRequest.model_validate(request.form.to_dict())
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "form"
            log.info("rejected USSD request: %s: %s", field, exc.errors()[0]["msg"])
            USSD_STEPS.labels("bad_request").inc()
            return _reply(UssdReply(f"Invalid request: field '{field}' is missing or "
                                    "malformed.", final=True), status=400)
        reply = _answer(get_runtime(), form)
        USSD_STEPS.labels("end" if reply.final else "continue").inc()
        return _reply(reply)


@ussd.errorhandler(HTTPException)
def _unreadable(exc: HTTPException) -> Response:
    """A body the form parser refuses (e.g. past MAX_CONTENT_LENGTH) still gets an END."""
    USSD_STEPS.labels("bad_request").inc()
    return _reply(UssdReply(f"Invalid request: {exc.name}.", final=True), status=exc.code or 400)


def _answer(runtime: Runtime, form: UssdRequest) -> UssdReply:
    settings = runtime.settings.ussd
    messages = runtime.flows.messages
    if form.serviceCode not in settings.service_codes:
        return UssdReply(messages.text("session.unknown_code", FALLBACK_LANG), final=True)
    if len(form.text) > settings.max_text_length or form.text.count("*") >= MAX_HISTORY_STEPS:
        return UssdReply(messages.text("session.too_long", FALLBACK_LANG), final=True)
    try:
        with pg_deadline.within(settings.step_budget_seconds):
            return _step(runtime, form)
    except (ServiceUnavailable, RedisError, LockError) as exc:
        log.warning("USSD step for %s could not be served: %s", mask_phone(form.phoneNumber), exc)
        lang = _session_lang(runtime, form.sessionId)
        return UssdReply(messages.text("session.try_again_later", lang), final=True)
    except Exception:  # noqa: BLE001 - the phone gets a polite END, the log gets the rest
        log.exception("USSD step failed for %s", mask_phone(form.phoneNumber))
        text = messages.text("session.error_end", FALLBACK_LANG, {"helpline": settings.helpline})
        return UssdReply(text, final=True)


def _step(runtime: Runtime, form: UssdRequest) -> UssdReply:
    """One step in two Redis round trips: open (rate count + lock + load), close (save +
    resume copy + admission + unlock). The profile showed Redis waits dominate a step."""
    settings = runtime.settings
    store = SessionStore(runtime.redis, "ussd", settings.ussd.session_ttl_seconds
                         + settings.ussd.resume_window_seconds,
                         settings.ussd.resume_window_seconds)
    count, window = settings.admission.rate_limit()
    step = store.begin_step(form.sessionId, form.phoneNumber, count, window)
    if step.status == "limited":
        USSD_STEPS.labels("rate_limited").inc()
        return UssdReply(runtime.flows.messages.text("session.rate_limited", FALLBACK_LANG),
                         final=True)
    if step.status == "busy":
        raise LockError("another request of this session is still being answered")
    result = None
    try:
        result = _protocol(runtime).answer(form.sessionId, form.phoneNumber, form.text,
                                           step.record, step.offered)
        return result.reply
    finally:
        store.end_step(form.sessionId, step, form.phoneNumber,
                       result.record if result else None,
                       resumable=bool(result and result.resumable),
                       active=_admission_update(runtime, form.sessionId, result))


def _admission_update(runtime: Runtime, session_id: str, result: StepResult | None):
    """Keep the session counted as active, or free its place once it has ended."""
    if result is None or result.record is None:
        return None
    return runtime.admission.activity(f"ussd:{session_id}", result.reply.final)


def _session_lang(runtime: Runtime, session_id: str) -> str:
    """The language of a stored session, for error screens; English if unknown."""
    try:
        record = SessionStore(runtime.redis, "ussd", 1, 0).load(session_id)
        return (record or {})["state"]["vars"].get("lang") or FALLBACK_LANG
    except (RedisError, KeyError, TypeError, ValueError):
        return FALLBACK_LANG


def _protocol(runtime: Runtime) -> UssdProtocol:
    return UssdProtocol(runtime.flows, runtime.registry_actions("ussd"),
                        runtime.engine_settings(), runtime.today(),
                        versions=runtime.menus.get, admission=runtime.admission)


def _reply(reply: UssdReply, status: int = 200) -> Response:
    return Response(reply.body, status=status, mimetype="text/plain")
