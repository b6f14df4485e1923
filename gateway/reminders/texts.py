"""SMS texts of reminders, waitlist offers and inbound-command replies (en, hi, bn)."""
from __future__ import annotations

from typing import Any

from gateway.sms import templates

TEXTS: dict[str, dict[str, str]] = {
    "reminder": {
        "en": "vaxgate reminder: {name}, vaccination {date} {window} at {center}. "
              "Ref {reference}. Bring your photo ID.",
        "hi": "vaxgate याद दिलाना: {name}, टीकाकरण {date} {window}, {center}। "
              "संदर्भ {reference}। फोटो पहचान पत्र साथ लाएँ।",
        "bn": "vaxgate মনে করানো: {name}, টিকা {date} {window}, {center}। "
              "রেফ {reference}। ছবিসহ পরিচয়পত্র আনুন।",
    },
    "waitlist_offer": {
        "en": "vaxgate: A place opened for {name}: {center}, {date} {window}. Held for you "
              "until {until}. Reply YES or dial {short_code} to book.",
        "hi": "vaxgate: {name} के लिए जगह खाली: {center}, {date} {window}। {until} तक रखी है। "
              "बुक करने के लिए YES भेजें या {short_code} डायल करें।",
        "bn": "vaxgate: {name}-এর জন্য জায়গা খালি: {center}, {date} {window}। {until} পর্যন্ত "
              "রাখা আছে। বুক করতে YES পাঠান বা {short_code} ডায়াল করুন।",
    },
    "status": {
        "en": "vaxgate: {lines}",
        "hi": "vaxgate: {lines}",
        "bn": "vaxgate: {lines}",
    },
    "status_line": {
        "en": "{reference} {name} {date} {window} {center}",
        "hi": "{reference} {name} {date} {window} {center}",
        "bn": "{reference} {name} {date} {window} {center}",
    },
    "status_waiting": {
        "en": "{name}: on the waitlist",
        "hi": "{name}: प्रतीक्षा सूची में",
        "bn": "{name}: অপেক্ষা তালিকায়",
    },
    "status_none": {
        "en": "vaxgate: No bookings on this number. Dial {short_code} to book.",
        "hi": "vaxgate: इस नंबर पर कोई बुकिंग नहीं। बुक करने के लिए {short_code} डायल करें।",
        "bn": "vaxgate: এই নম্বরে কোনো বুকিং নেই। বুক করতে {short_code} ডায়াল করুন।",
    },
    "cancel_which": {
        "en": "vaxgate: Send CANCEL and the booking code, e.g. CANCEL {example}. Reply STATUS "
              "for your codes.",
        "hi": "vaxgate: रद्द और बुकिंग कोड भेजें, जैसे रद्द {example}। अपने कोड के लिए STATUS "
              "भेजें।",
        "bn": "vaxgate: CANCEL ও বুকিং কোড পাঠান, যেমন CANCEL {example}। আপনার কোডের জন্য "
              "STATUS পাঠান।",
    },
    "cancel_unknown": {
        "en": "vaxgate: No active booking {reference} on this number. Reply STATUS for your "
              "bookings.",
        "hi": "vaxgate: इस नंबर पर बुकिंग {reference} नहीं मिली। अपनी बुकिंग के लिए STATUS भेजें।",
        "bn": "vaxgate: এই নম্বরে বুকিং {reference} নেই। আপনার বুকিংয়ের জন্য STATUS পাঠান।",
    },
    "no_offer": {
        "en": "vaxgate: No place is being held for you now (an offer passes on after its "
              "time). Dial {short_code} to book.",
        "hi": "vaxgate: अभी आपके लिए कोई जगह नहीं रखी है (समय बीतने पर अगले व्यक्ति को जाती "
              "है)। बुक करने के लिए {short_code} डायल करें।",
        "bn": "vaxgate: এখন আপনার জন্য কোনো জায়গা রাখা নেই (সময় পেরোলে পরের জনের কাছে যায়)। "
              "বুক করতে {short_code} ডায়াল করুন।",
    },
    "help": {
        "en": "vaxgate: Reply STATUS (your bookings), CANCEL <code>, YES (take a held place), "
              "STOP (no reminders), START. Or dial {short_code}. Help: {helpline}",
        "hi": "vaxgate: भेजें: स्थिति (बुकिंग), रद्द <कोड>, हाँ (रखी जगह लें), बंद (रिमाइंडर "
              "नहीं), शुरू। या {short_code} डायल करें। मदद: {helpline}",
        "bn": "vaxgate: পাঠান STATUS (বুকিং), CANCEL <কোড>, YES (রাখা জায়গা নিন), STOP "
              "(রিমাইন্ডার নয়), START। বা {short_code} ডায়াল করুন। সাহায্য: {helpline}",
    },
    "unknown": {
        "en": "vaxgate: Sorry, we did not understand that. Reply HELP for the commands, or "
              "dial {short_code}.",
        "hi": "vaxgate: माफ़ करें, समझ नहीं आया। आदेशों के लिए मदद भेजें, या {short_code} "
              "डायल करें।",
        "bn": "vaxgate: দুঃখিত, বুঝতে পারিনি। কমান্ডের জন্য HELP পাঠান, বা {short_code} "
              "ডায়াল করুন।",
    },
    "stopped": {
        "en": "vaxgate: You will get no more reminders or notices. Codes and confirmations "
              "of what you do still come. Reply START to get reminders again.",
        "hi": "vaxgate: अब आपको रिमाइंडर या सूचनाएँ नहीं आएँगी। कोड और आपके काम की पुष्टि "
              "आती रहेगी। फिर से पाने के लिए शुरू भेजें।",
        "bn": "vaxgate: আর রিমাইন্ডার বা বিজ্ঞপ্তি আসবে না। কোড ও আপনার কাজের নিশ্চিতকরণ "
              "আসবে। আবার পেতে START পাঠান।",
    },
    "started": {
        "en": "vaxgate: Reminders are on again. Reply STOP to turn them off.",
        "hi": "vaxgate: रिमाइंडर फिर से चालू हैं। बंद करने के लिए बंद भेजें।",
        "bn": "vaxgate: রিমাইন্ডার আবার চালু। বন্ধ করতে STOP পাঠান।",
    },
}


def render(text: str, lang: str, /, **vars: Any) -> str:
    """The text ``text`` in ``lang`` (English if unsupported); dates/windows localised."""
    return templates.render(text, lang, table=TEXTS, **vars)
