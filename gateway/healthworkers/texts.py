"""SMS texts of the health-worker features (certificate notice, SMS command replies)."""
from __future__ import annotations

import datetime as dt

from gateway.sms.templates import gsm7_if_possible
from gateway.text import i18n

CERTIFICATE = {
    "en": "vaxgate: {name} is vaccinated ({center}, {date}, ref {reference}). "
          "Your certificate will be available on the national portal.",
    "hi": "vaxgate: {name} का टीकाकरण हो गया ({center}, {date}, संदर्भ {reference})। "
          "प्रमाणपत्र राष्ट्रीय पोर्टल पर मिलेगा।",
    "bn": "vaxgate: {name}-এর টিকা হয়েছে ({center}, {date}, রেফ {reference})। "
          "সার্টিফিকেট জাতীয় পোর্টালে পাওয়া যাবে।",
}


def certificate(lang: str, *, name: str, reference: str, date: dt.date, center: str) -> str:
    """The vaccination notice in ``lang`` (English if unsupported)."""
    text = CERTIFICATE.get(lang, CERTIFICATE[i18n.DEFAULT_LANGUAGE])
    return gsm7_if_possible(text.format(name=name, reference=reference, center=center,
                                        date=i18n.format_date(date, lang)))
