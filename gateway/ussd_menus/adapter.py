"""``POST /ussd/africastalking``: parse the aggregator's form, answer ``CON``/``END`` text.

Bad requests never see a traceback: a missing or malformed field gets a 400 whose body is
an ``END`` screen naming the field; an unknown short code, an over-long history or any
internal failure gets a polite ``END`` (200), and the session's stored state is untouched.

The webhook is a plain WSGI app (:class:`UssdEndpoint`), not a Flask view: it answers every
keypress of every caller, and Flask's request machinery (request context, routing, hooks,
form and response objects) is a large share of a step. ``create_app`` mounts it in front
of Flask (:class:`FastPath`); it does what the Flask route did: the source check
(``ussd.allowed_networks``, ``?secret=``), the 64 KB body cap, the form parse (werkzeug's
own for anything but a plain urlencoded body), the security headers.
"""
from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl

from prometheus_client import Counter, Histogram
from pydantic import BaseModel, Field, ValidationError, field_validator
from redis.exceptions import LockError, RedisError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Request

from gateway.admin import giveups, menu_drafts
from gateway.flows import ServiceUnavailable
from gateway.sessions.store import SessionStore
from gateway.storage import pg_deadline
from gateway.text.i18n import DEFAULT_LANGUAGE
from gateway.text.phones import E164, mask_phone
from gateway.ussd_menus.protocol import StepResult, UssdProtocol, UssdReply
from gateway.ussd_menus.worker_rate import mark_signed_in, worker_may_continue
from gateway.web import security_headers
from gateway.web.runtime import Runtime
from gateway.web.webhook_security import MAX_REQUEST_BYTES, ussd_source_refusal

log = logging.getLogger(__name__)

USSD_PATH = "/ussd/africastalking"
USSD_STEPS = Counter("vaxgate_ussd_steps_total", "USSD requests answered, by result",
                     ["result"])
USSD_STEP_SECONDS = Histogram("vaxgate_ussd_step_seconds", "Time to answer one USSD step",
                              buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5))
MAX_HISTORY_STEPS = 60  # longer than any journey, with every back and page
URLENCODED = "application/x-www-form-urlencoded"
WsgiApp = Callable[[dict, Callable], Iterable[bytes]]


class UssdRequest(BaseModel):
    """The form fields Africa's Talking posts for every USSD step."""

    sessionId: str = Field(min_length=1, max_length=128, pattern=r"^[\w\-.:]+$")
    serviceCode: str = Field(min_length=1, max_length=40)
    phoneNumber: E164 = Field(min_length=1, max_length=32)
    networkCode: str | None = Field(default=None, max_length=16)
    text: str = ""

    @field_validator("text")
    @classmethod
    def _printable(cls, value: str) -> str:
        if value.isprintable():  # no Cc or Cf in it (the usual case): nothing to drop
            return value
        return "".join(ch for ch in value if unicodedata.category(ch) not in ("Cc", "Cf"))


class FastPath:
    """Sends requests for :data:`USSD_PATH` to ``endpoint``, everything else to ``app``
    (Flask's WSGI app)."""

    def __init__(self, app: WsgiApp, endpoint: WsgiApp):
        self.app, self.endpoint = app, endpoint

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == USSD_PATH:
            return self.endpoint(environ, start_response)
        return self.app(environ, start_response)


class UssdEndpoint:
    """One USSD step in Africa's Talking format, as a WSGI app."""

    def __init__(self, runtime: Runtime):
        self.runtime = runtime
        ussd = runtime.settings.ussd
        self.store = SessionStore(runtime.redis, "ussd", ussd.session_ttl_seconds
                                  + ussd.resume_window_seconds, ussd.resume_window_seconds)
        web = runtime.settings.web
        self.headers = {secure: security_headers.plain_headers(secure, web.hsts_seconds)
                        for secure in (False, True)}

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        with USSD_STEP_SECONDS.time():
            code, reply, result = self._handle(environ)
        USSD_STEPS.labels(result).inc()
        body = reply.body.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"),
                   ("Content-Length", str(len(body))),
                   *self.headers[environ.get("wsgi.url_scheme") == "https"]]
        if code == 405:
            headers.append(("Allow", "POST"))
        start_response(f"{code} {HTTP_STATUS_CODES[code]}", headers)
        return [body]

    def _handle(self, environ: dict) -> tuple[int, UssdReply, str]:
        """(HTTP status, the screen, the result label of USSD_STEPS)."""
        if environ.get("REQUEST_METHOD") != "POST":
            return 405, _end("Invalid request: use POST."), "bad_request"
        query = _first_values(environ.get("QUERY_STRING", ""))
        why = ussd_source_refusal(self.runtime.settings, environ.get("REMOTE_ADDR"),
                                  query.get("secret", ""))
        if why is not None:
            log.warning("USSD callback refused: %s", why)
            return 403, _end("Forbidden."), "refused"
        try:
            fields = read_form(environ)
        except HTTPException as exc:  # a body too large, or one werkzeug cannot read
            return exc.code or 400, _end(f"Invalid request: {exc.name}."), "bad_request"
        try:
            form = UssdRequest.model_validate(fields)
        except ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"]) or "form"
            log.info("rejected USSD request: %s: %s", field, exc.errors()[0]["msg"])
            return 400, _end(f"Invalid request: field '{field}' is missing or "
                                  "malformed."), "bad_request"
        reply = _answer(self.runtime, self.store, form)
        return 200, reply, "end" if reply.final else "continue"


def read_form(environ: dict) -> dict[str, str]:
    """The posted fields (the first value of each name), as Flask's ``request.form`` gives
    them. A plain urlencoded body with a length (what aggregators send) is parsed here, as
    werkzeug's own form parser does; anything else (multipart, chunked) by werkzeug.
    Raises RequestEntityTooLarge past MAX_REQUEST_BYTES."""
    mimetype = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    length = environ.get("CONTENT_LENGTH", "")
    if mimetype == URLENCODED and length.isdigit():
        if int(length) > MAX_REQUEST_BYTES:
            raise RequestEntityTooLarge()
        try:
            text = environ["wsgi.input"].read(int(length)).decode()
        except UnicodeDecodeError:  # werkzeug: an unreadable form is an empty one
            return {}
        return _first_values(text)
    request = Request(environ)
    request.max_content_length = MAX_REQUEST_BYTES
    return request.form.to_dict()


def _first_values(text: str) -> dict[str, str]:
    """``a=1&b=2&a=3`` -> ``{"a": "1", "b": "2"}``, decoded as werkzeug decodes a form."""
    fields: dict[str, str] = {}
    for name, value in parse_qsl(text, keep_blank_values=True, errors="werkzeug.url_quote"):
        fields.setdefault(name, value)
    return fields


def _end(text: str) -> UssdReply:
    return UssdReply(text, final=True)


def _answer(runtime: Runtime, store: SessionStore, form: UssdRequest) -> UssdReply:
    settings = runtime.settings.ussd
    messages = runtime.flows.messages
    if form.serviceCode not in settings.service_codes:
        return UssdReply(messages.text("session.unknown_code", DEFAULT_LANGUAGE), final=True)
    if len(form.text) > settings.max_text_length or form.text.count("*") >= MAX_HISTORY_STEPS:
        return UssdReply(messages.text("session.too_long", DEFAULT_LANGUAGE), final=True)
    try:
        with pg_deadline.within(settings.step_budget_seconds):
            return _step(runtime, store, form)
    except (ServiceUnavailable, RedisError, LockError) as exc:
        log.warning("USSD step for %s could not be served: %s", mask_phone(form.phoneNumber), exc)
        lang = _session_lang(store, form.sessionId, form.phoneNumber)
        return UssdReply(messages.text("session.try_again_later", lang), final=True)
    except Exception:  # noqa: BLE001 - the phone gets a polite END, the log gets the rest
        log.exception("USSD step failed for %s", mask_phone(form.phoneNumber))
        text = messages.text("session.error_end", DEFAULT_LANGUAGE, {"helpline": settings.helpline})
        return UssdReply(text, final=True)


def _step(runtime: Runtime, store: SessionStore, form: UssdRequest) -> UssdReply:
    """One step in two Redis round trips: open (rate count + lock + load), close (save +
    resume copy + unlock), because Redis waits dominate a step; a first screen adds the
    admission check, an END screen frees the admission place."""
    count, window = runtime.settings.admission.rate_limit()
    step = store.begin_step(form.sessionId, form.phoneNumber, count, window)
    if step.status == "limited" and worker_may_continue(
            runtime.redis, store, form.phoneNumber, runtime.settings.admission):
        step = store.begin_step(form.sessionId, form.phoneNumber)  # counted already
    if step.status == "limited":
        USSD_STEPS.labels("rate_limited").inc()
        return UssdReply(runtime.flows.messages.text("session.rate_limited", DEFAULT_LANGUAGE),
                         final=True)
    if step.status == "busy":
        raise LockError("another request of this session is still being answered")
    result, where = None, giveups.where(step.record)  # admin: where callers give up
    try:
        result = _protocol(runtime, form.phoneNumber).answer(
            form.sessionId, form.phoneNumber, form.text, step.record, step.offered)
        if result.signed_in:
            mark_signed_in(runtime.redis, form.phoneNumber)
        return result.reply
    finally:
        store.end_step(form.sessionId, step, form.phoneNumber,
                       result.record if result else None,
                       resumable=bool(result and result.resumable))
        _leave_when_ended(runtime, form, result)
        if result is not None and result.reply.final:  # admin: where callers give up
            giveups.note_step(runtime.redis, form.sessionId, where, result.record)


def _leave_when_ended(runtime: Runtime, form: UssdRequest, result: StepResult | None) -> None:
    """Free an admitted session's place once it has ended (its own hash tag: a separate
    command from the session's)."""
    if result is not None and result.record is not None and result.reply.final:
        runtime.admission.leave(f"ussd:{form.sessionId}", form.phoneNumber)


def _session_lang(store: SessionStore, session_id: str, phone: str) -> str:
    """The language of a stored session, for error screens; English if unknown."""
    try:
        record = store.load(session_id, phone)
        return (record or {})["state"]["vars"].get("lang") or DEFAULT_LANGUAGE
    except (RedisError, KeyError, TypeError, ValueError):
        return DEFAULT_LANGUAGE


def _protocol(runtime: Runtime, phone: str) -> UssdProtocol:
    """The protocol on the live menus, or on a menu draft for its test phones (admin)."""
    return UssdProtocol(menu_drafts.flows_for(runtime, phone),
                        runtime.registry_actions("ussd"),
                        runtime.engine_settings(), runtime.today(),
                        versions=menu_drafts.versions(runtime), admission=runtime.admission)
