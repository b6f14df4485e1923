"""Which language each provider's text-to-speech voices speak.

Twilio speaks a language with the voice ``ivr.voices.<lang>.twilio_voice`` (Amazon Polly or
Google voices; ``Google.bn-IN-Standard-A`` names its language). Africa's Talking's ``<Say>``
reads English only, so Hindi and Bengali there are ``<Play>`` of recordings. A provider
with no voice configured for a language plays recordings for it.
"""
from __future__ import annotations

from gateway.config import IvrSettings, IvrVoiceSettings

PROVIDERS = ("twilio", "africastalking")
POLLY_LANGUAGES = {  # Amazon Polly voices of India (Twilio <Say voice="Polly.Aditi">)
    "Aditi": {"hi-IN", "en-IN"}, "Kajal": {"hi-IN", "en-IN"}, "Raveena": {"en-IN"},
}
TWILIO_BASIC = {"man", "woman", "alice"}  # Twilio's own voices: English


def voice_name(voice: IvrVoiceSettings, provider: str) -> str:
    """The configured voice of ``provider`` ("" when it plays recordings)."""
    return voice.twilio_voice if provider == "twilio" else voice.africastalking_voice


def speaks(provider: str, name: str, language: str) -> bool | None:
    """True if voice ``name`` of ``provider`` speaks ``language`` (e.g. hi-IN); None when
    the voice is unknown to us."""
    if provider == "africastalking":
        return language.startswith("en-")
    if name.startswith("Google."):
        return name[len("Google."):].startswith(language + "-")
    if name.startswith("Polly."):
        found = POLLY_LANGUAGES.get(name.split(".")[1].split("-")[0])
        return None if found is None else language in found
    if name in TWILIO_BASIC:
        return language.startswith("en-")
    return None


def tts_languages(settings: IvrSettings, provider: str) -> frozenset[str]:
    """The menu languages ``provider`` speaks with a voice (the others play recordings)."""
    return frozenset(lang for lang, voice in settings.voices.items()
                     if voice_name(voice, provider))


def voice_problems(settings: IvrSettings) -> tuple[list[str], list[str]]:
    """(errors, warnings) about the voices: one speaking another language than the one it
    is set for is an error; one we do not know is a warning."""
    errors, warnings = [], []
    for lang, voice in sorted(settings.voices.items()):
        where = f"ivr.voices.{lang}"
        if not voice.language.startswith(lang + "-"):
            errors.append(f"{where}.language: '{voice.language}' is not a {lang} language")
        for provider in PROVIDERS:
            name = voice_name(voice, provider)
            verdict = speaks(provider, name, voice.language) if name else True
            if verdict is False:
                errors.append(f"{where}.{provider}_voice: '{name}' does not speak "
                              f"{voice.language}" + (" (Africa's Talking's Say reads English "
                                                     "only: use recordings)"
                                                     if provider == "africastalking" else ""))
            elif verdict is None:
                warnings.append(f"{where}.{provider}_voice: unknown voice '{name}'; check "
                                f"that it speaks {voice.language}")
    return errors, warnings
