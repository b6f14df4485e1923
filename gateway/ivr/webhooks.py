"""IVR webhooks: ``POST /ivr/twilio`` (+ ``/gather``, ``/record``) answering TwiML, and
``POST /ivr/africastalking`` (+ ``/gather``, ``/record``) answering AT voice XML.

Twilio requests must carry a valid ``X-Twilio-Signature`` when the auth token named by
``ivr.twilio_auth_token_env`` is set; Africa's Talking requests must carry the secret named
by ``ivr.africastalking_secret_env`` (``?secret=``, which our callback URLs repeat). Without
one, unsigned requests pass only in a sandbox (gateway/web/webhook_security.py). A request
failing that gets 403 and is logged. A malformed request gets 400 with a spoken sentence
naming the field; a failure inside gets a polite goodbye — never a 500.
"""
from __future__ import annotations

import hmac
import logging
from collections.abc import Callable
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, request, send_from_directory
from pydantic import BaseModel, Field, ValidationError
from redis.exceptions import LockError, RedisError
from twilio.request_validator import RequestValidator
from werkzeug.exceptions import RequestEntityTooLarge

from gateway.config import IvrSettings
from gateway.flows import ServiceUnavailable
from gateway.ivr import africastalking_adapter, twilio_adapter
from gateway.ivr.call import CallProtocol
from gateway.ivr.notices import send_finish_sms
from gateway.ivr.recordings import audio_folder
from gateway.ivr.twilio_adapter import ActionUrls
from gateway.ivr.voice import AudioLibrary, Speaker, VoicePrompt
from gateway.ivr.voices import tts_languages
from gateway.sessions.store import Record, SessionStore
from gateway.sms.secrets import read_secret
from gateway.storage import pg_deadline
from gateway.text.i18n import DEFAULT_LANGUAGE
from gateway.text.phones import E164, mask_phone
from gateway.web.runtime import Runtime, get_runtime
from gateway.web.webhook_security import is_sandbox, signed_form_fields

log = logging.getLogger(__name__)
bp = Blueprint("ivr", __name__)

CALL_ID = r"^[\w\-.:]{1,128}$"
Renderer = Callable[[VoicePrompt, ActionUrls, IvrSettings], str]


class CallRequest(BaseModel):
    """The fields we use from either provider, under neutral names."""

    call_id: str = Field(pattern=CALL_ID)
    phone: E164 = Field(min_length=1, max_length=32)
    digits: str | None = Field(default=None, max_length=4096)
    recording_url: str | None = Field(default=None, max_length=500,
                                      pattern=r"^(https?://\S+)?$")
    speech: str | None = Field(default=None, max_length=200)  # Twilio's SpeechResult
    active: bool = True


TWILIO_FIELDS = {"CallSid": "call_id", "From": "phone", "Digits": "digits",
                 "RecordingUrl": "recording_url", "SpeechResult": "speech"}
AT_FIELDS = {"sessionId": "call_id", "callerNumber": "phone", "dtmfDigits": "digits",
             "recordingUrl": "recording_url", "isActive": "active"}

PROVIDERS: dict[str, tuple[dict[str, str], Renderer, Callable]] = {
    "twilio": (TWILIO_FIELDS, twilio_adapter.render_twiml, twilio_adapter.render_message),
    "africastalking": (AT_FIELDS, africastalking_adapter.render_at_xml,
                       africastalking_adapter.render_message),
}


@bp.post("/ivr/<provider>")
@bp.post("/ivr/<provider>/<step>")
def callback(provider: str, step: str = "start") -> Response:
    """Every IVR callback: start, gather (keys) or record, from Twilio or Africa's Talking."""
    settings = get_runtime().settings.ivr
    if provider not in PROVIDERS or step not in ("start", "gather", "record", "speech") \
            or not settings.enabled:
        abort(404)
    if not _authentic(provider):
        log.warning("IVR %s callback refused: bad or missing signature/secret", provider)
        return _reply(_message(provider, "Forbidden.", "en"), 403)
    form = _parse(provider)
    if isinstance(form, str):
        return _reply(_message(provider, f"Invalid request: field '{form}' is "
                                                   "missing or malformed.", "en"), 400)
    if not form.active:
        log.info("IVR call %s ended by the caller", form.call_id[:32])
        return _reply(africastalking_adapter.render_empty())
    return _reply(_answer(provider, step, form))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    """A body past MAX_CONTENT_LENGTH still gets the provider's XML, not the app's JSON."""
    provider = (request.view_args or {}).get("provider", "twilio")
    return _reply(_message(provider if provider in PROVIDERS else "twilio",
                           "Invalid request: too large.", "en"), 413)


@bp.get("/ivr/audio/<path:name>")
def audio(name: str) -> Response:
    """Recorded prompts from ``ivr.audio_dir`` (when no ``audio_base_url`` serves them)."""
    return send_from_directory(audio_folder(get_runtime().settings.ivr), name)


def _answer(provider: str, step: str, form: CallRequest) -> str:
    runtime = get_runtime()
    settings = runtime.settings.ivr
    _, render, _ = PROVIDERS[provider]
    store = SessionStore(runtime.redis, "ivr", settings.session_ttl_seconds,
                         settings.resume_window_seconds)
    try:
        with pg_deadline.within(runtime.settings.ussd.step_budget_seconds):
            prompt = _locked_step(store, _protocol(runtime, provider), step, form)
        return render(prompt, _action_urls(provider), settings)
    except (ServiceUnavailable, RedisError, LockError) as exc:
        log.warning("IVR step for %s could not be served: %s", mask_phone(form.phone), exc)
        text = runtime.flows.messages.text("voice.try_again_later", DEFAULT_LANGUAGE)
        return _message(provider, text, DEFAULT_LANGUAGE)
    except Exception:  # noqa: BLE001 - the caller hears a polite goodbye, the log the rest
        log.exception("IVR step failed for %s", mask_phone(form.phone))
        text = runtime.flows.messages.text("session.error_end", DEFAULT_LANGUAGE,
                                           {"helpline": runtime.settings.ussd.helpline})
        return _message(provider, text, DEFAULT_LANGUAGE)


def _locked_step(store: SessionStore, protocol: CallProtocol, step: str,
                 form: CallRequest) -> VoicePrompt:
    """One callback in two Redis round trips, as on USSD: lock + load (and, for a new call,
    the phone's resumable record), then save + resume copy + unlock."""
    opened = store.begin_step(form.call_id, form.phone)
    if opened.status != "ok":
        raise LockError("another callback of this call is still being answered")
    try:
        return _step(protocol, step, form, opened.record, opened.offered)
    finally:
        record, resumable = protocol.saved or (None, False)
        store.end_step(form.call_id, opened, form.phone, record, resumable)


def _step(protocol: CallProtocol, step: str, form: CallRequest, record: Record | None,
          offered: Record | None) -> VoicePrompt:
    if step == "speech" and not form.digits:  # keys instead of speech go on as keys
        return protocol.heard(form.call_id, form.phone, form.speech, record, offered)
    if step == "record" or (step == "start" and form.recording_url):
        return protocol.recording(form.call_id, form.phone, form.recording_url, record,
                                  offered)
    if step in ("gather", "speech") or (step == "start" and form.digits is not None):
        return protocol.keys(form.call_id, form.phone, form.digits, record, offered)
    return protocol.open(form.call_id, form.phone, record, offered)


def _protocol(runtime: Runtime, provider: str) -> CallProtocol:
    settings = runtime.settings
    services = runtime.registry_actions("ivr")
    base = settings.ivr.audio_base_url or _public_base() + "/ivr/audio"
    speaker = Speaker(runtime.flows, tts_languages(settings.ivr, provider),
                      AudioLibrary(audio_folder(settings.ivr), base, runtime.flows.version))
    return CallProtocol(runtime.flows, services, speaker, runtime.engine_settings(),
                        runtime.today(),
                        retries=settings.ivr.no_input_retries,
                        on_no_input=lambda call_id, phone, lang, begun: send_finish_sms(
                            runtime, call_id, phone, lang, begun),
                        speech_languages=_speech_languages(settings.ivr, provider))


def _speech_languages(settings: IvrSettings, provider: str) -> dict[str, str]:
    """Where a spoken name can also be written down: Twilio's speech recognition in each
    language's voice language (hi-IN, bn-IN, en-IN); Africa's Talking has none."""
    if provider != "twilio":
        return {}
    return {lang: voice.language for lang, voice in settings.voices.items()}


# --- request parsing and authenticity -------------------------------------------------------

def _parse(provider: str) -> CallRequest | str:
    """The request as a CallRequest, or the provider's name of the first bad field."""
    names, _, _ = PROVIDERS[provider]
    raw = {ours: request.form[theirs] for theirs, ours in names.items() if theirs in request.form}
    if "active" in raw:
        raw["active"] = raw["active"] != "0"
    raw = {key: value for key, value in raw.items() if value != "" or key == "digits"}
    try:
        return CallRequest.model_validate(raw)
    except ValidationError as exc:
        ours = str(exc.errors()[0]["loc"][0]) if exc.errors()[0]["loc"] else "form"
        theirs = {v: k for k, v in names.items()}.get(ours, ours)
        log.info("rejected IVR %s request: %s: %s", provider, theirs, exc.errors()[0]["msg"])
        return theirs


def _authentic(provider: str) -> bool:
    """Signed (Twilio) or carrying the secret (AT); unsigned only in a sandbox deployment."""
    settings = get_runtime().settings.ivr
    if provider == "twilio":
        token = read_secret(settings.twilio_auth_token_env)
        if not token:
            return _unsigned_allowed(provider)
        signature = request.headers.get("X-Twilio-Signature", "")
        return bool(signature) and RequestValidator(token).validate(
            _public_url(), signed_form_fields(request.form), signature)
    secret = read_secret(settings.africastalking_secret_env)
    if not secret:
        return _unsigned_allowed(provider)
    given = request.args.get("secret", "")
    return hmac.compare_digest(given.encode(), secret.encode())


def _unsigned_allowed(provider: str) -> bool:
    settings = get_runtime().settings
    return provider not in settings.ivr.providers and is_sandbox(settings)


def _public_base() -> str:
    """Our base URL as the provider sees it: ``ivr.public_base_url`` behind a proxy."""
    base = get_runtime().settings.ivr.public_base_url.rstrip("/")
    return base or request.host_url.rstrip("/")


def _public_url() -> str:
    """The URL the provider called (what Twilio signed)."""
    query = request.query_string.decode()
    return _public_base() + request.path + (f"?{query}" if query else "")


def _action_urls(provider: str) -> ActionUrls:
    """The next callback URLs; Africa's Talking's carry the shared secret, if one is set."""
    base = f"{_public_base()}/ivr/{provider}"
    query = ""
    if provider == "africastalking":
        secret = read_secret(get_runtime().settings.ivr.africastalking_secret_env)
        query = "?" + urlencode({"secret": secret}) if secret else ""
    return ActionUrls(gather=f"{base}/gather{query}", record=f"{base}/record{query}",
                      speech=f"{base}/speech{query}")


def _message(provider: str, text: str, lang: str) -> str:
    _, _, render_message = PROVIDERS[provider]
    return render_message(text, lang, get_runtime().settings.ivr)


def _reply(body: str, status: int = 200) -> Response:
    return Response(body, status=status, mimetype="application/xml")
