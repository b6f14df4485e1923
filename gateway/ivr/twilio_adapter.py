"""VoicePrompt -> TwiML, built with the Twilio SDK (``Gather`` for keys, ``Say``/``Play``,
``Record`` for the spoken name, ``Hangup``). After a ``Gather`` or ``Record`` that gets no
input, the ``Redirect`` posts to the same action URL without digits: "no input"."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from twilio.twiml.voice_response import Gather, VoiceResponse

from gateway.config import IvrSettings, IvrVoiceSettings
from gateway.ivr.voice import Speech, VoicePrompt
from gateway.text.i18n import DEFAULT_LANGUAGE


@dataclass(frozen=True)
class ActionUrls:
    """Where the provider posts the next answer."""

    gather: str
    record: str
    speech: str = ""  # where Twilio posts the text of a spoken answer (SpeechResult)


def render_twiml(prompt: VoicePrompt, urls: ActionUrls, settings: IvrSettings) -> str:
    """The TwiML document for one prompt."""
    response = VoiceResponse()
    if prompt.expect in ("key", "digits"):
        gather = Gather(input="dtmf", action=urls.gather, method="POST", finish_on_key="#",
                        timeout=settings.gather_timeout_seconds,
                        num_digits=1 if prompt.expect == "key" else None)
        _speak(gather, prompt.speech, settings.voices)
        response.append(gather)
        response.redirect(urls.gather, method="POST")
    elif prompt.expect == "speech":
        gather = Gather(input="dtmf speech", action=urls.speech, method="POST",
                        language=prompt.speech_language, speech_timeout="auto",
                        timeout=settings.gather_timeout_seconds)
        _speak(gather, prompt.speech, settings.voices)
        response.append(gather)
        response.redirect(urls.speech, method="POST")
    elif prompt.expect == "record":
        _speak(response, prompt.speech, settings.voices)
        response.record(action=urls.record, method="POST", finish_on_key="#",
                        max_length=settings.record_max_seconds, play_beep=True,
                        trim="trim-silence", timeout=5)
        response.redirect(urls.record, method="POST")
    else:
        _speak(response, prompt.speech, settings.voices)
        response.hangup()
    return str(response)


def render_message(text: str, lang: str, settings: IvrSettings) -> str:
    """A one-line TwiML answer that ends the call (errors, refused requests)."""
    response = VoiceResponse()
    _speak(response, (Speech(text=text, lang=lang),), settings.voices)
    response.hangup()
    return str(response)


def _speak(target, speech: tuple[Speech, ...], voices: Mapping[str, IvrVoiceSettings]) -> None:
    for part in speech:
        if part.parts:
            _speak(target, part.parts, voices)
            continue
        if part.audio_url:
            target.play(part.audio_url)
            continue
        voice = voices.get(part.lang) or voices.get(DEFAULT_LANGUAGE)
        if voice is None:
            target.say(part.text)
        elif voice.twilio_voice:
            target.say(part.text, voice=voice.twilio_voice, language=voice.language)
        else:
            target.say(part.text, language=voice.language)
