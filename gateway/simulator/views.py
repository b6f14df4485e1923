"""``/simulator/``: a phone on screen that talks to the gateway exactly as a telecom does.

The page's script posts to ``/ussd/africastalking`` (Africa's Talking form fields, ``text``
holding every answer so far joined by ``*``) and to ``/ivr/twilio`` (Twilio's fields,
following the TwiML's ``<Gather action>``); the inbox lists what the ``sandbox`` SMS provider
"sent" to the number. Off (404) when ``simulator.enabled`` is false.
"""
from __future__ import annotations

import functools
import io
import math
import struct
import wave

from flask import Blueprint, Response, abort, jsonify, render_template, request

from gateway.api.errors import error
from gateway.sms.providers.sandbox import sandbox_inbox
from gateway.text.phones import InvalidPhone, parse_phone
from gateway.web.runtime import get_runtime
from gateway.web.webhook_security import is_sandbox

bp = Blueprint("simulator", __name__, url_prefix="/simulator", template_folder="templates",
               static_folder="static")
DEFAULT_PHONE = "+919876543210"


@bp.before_request
def _enabled() -> None:
    """Off unless enabled, and always off outside the sandbox: its inbox shows OTPs."""
    settings = get_runtime().settings
    if not settings.simulator.enabled or not is_sandbox(settings):
        abort(404)


@bp.get("/")
def phone() -> str:
    """The phone page."""
    settings = get_runtime().settings
    return render_template("simulator/phone.html", code=settings.ussd.service_codes[0],
                           phone=request.args.get("phone", DEFAULT_PHONE)[:20],
                           ivr=settings.ivr.enabled)


@bp.get("/recording.wav")
def recording() -> Response:
    """What the simulator posts as the caller's recorded name: a short tone, as a WAV file
    that the gateway's voice prompts can play back like a real recording."""
    return Response(_tone(), mimetype="audio/wav")


@functools.lru_cache(maxsize=1)
def _tone(seconds: float = 0.8, hertz: int = 440, rate: int = 8000) -> bytes:
    samples = (int(6000 * math.sin(2 * math.pi * hertz * n / rate))
               for n in range(int(seconds * rate)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"".join(struct.pack("<h", sample) for sample in samples))
    return buffer.getvalue()


@bp.get("/inbox")
def inbox() -> Response:
    """The sandbox SMS sent to ``?phone=`` (any format), newest first, as JSON."""
    try:
        number = parse_phone(request.args.get("phone", ""))
    except InvalidPhone:
        return error(400, "invalid", "phone: not a valid phone number", field="phone")
    with get_runtime().db.read() as session:
        messages = sandbox_inbox(session, number)
    return jsonify({"phone": number, "messages": [
        {**m, "at": m["at"].isoformat()} for m in messages]})
