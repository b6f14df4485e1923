"""VoicePrompt -> Africa's Talking voice XML: ``GetDigits`` with ``Say``/``Play`` inside,
``Record`` for the spoken name, then a ``Redirect`` to the same callback that arrives
without digits when the caller pressed nothing ("no input")."""
from __future__ import annotations

from collections.abc import Mapping
from xml.etree import ElementTree as ET

from gateway.config import IvrSettings, IvrVoiceSettings
from gateway.ivr.twilio_adapter import ActionUrls
from gateway.ivr.voice import Speech, VoicePrompt
from gateway.text.i18n import DEFAULT_LANGUAGE


def render_at_xml(prompt: VoicePrompt, urls: ActionUrls, settings: IvrSettings) -> str:
    """The AT voice XML document for one prompt."""
    root = ET.Element("Response")
    if prompt.expect in ("key", "digits"):
        attrs = {"timeout": str(settings.gather_timeout_seconds), "finishOnKey": "#",
                 "callbackUrl": urls.gather}
        if prompt.expect == "key":
            attrs["numDigits"] = "1"
        _speak(ET.SubElement(root, "GetDigits", attrs), prompt.speech, settings.voices)
        ET.SubElement(root, "Redirect").text = urls.gather
    elif prompt.expect == "record":
        record = ET.SubElement(root, "Record", {
            "finishOnKey": "#", "maxLength": str(settings.record_max_seconds),
            "trimSilence": "true", "playBeep": "true", "callbackUrl": urls.record})
        _speak(record, prompt.speech, settings.voices)
        ET.SubElement(root, "Redirect").text = urls.record
    else:
        _speak(root, prompt.speech, settings.voices)
    return _document(root)


def render_message(text: str, lang: str, settings: IvrSettings) -> str:
    """A one-line answer that ends the call (errors, refused requests)."""
    root = ET.Element("Response")
    _speak(root, (Speech(text=text, lang=lang),), settings.voices)
    return _document(root)


def render_empty() -> str:
    """The answer to a call-end notification (``isActive=0``): nothing more to do."""
    return _document(ET.Element("Response"))


def _speak(parent: ET.Element, speech: tuple[Speech, ...],
           voices: Mapping[str, IvrVoiceSettings]) -> None:
    for part in speech:
        if part.parts:
            _speak(parent, part.parts, voices)
            continue
        if part.audio_url:
            ET.SubElement(parent, "Play", {"url": part.audio_url})
            continue
        voice = voices.get(part.lang) or voices.get(DEFAULT_LANGUAGE)
        attrs = {"voice": (voice.africastalking_voice if voice else "") or "woman",
                 "playBeep": "false"}
        ET.SubElement(parent, "Say", attrs).text = part.text


def _document(root: ET.Element) -> str:
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="unicode")
