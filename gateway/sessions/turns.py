"""Telling queued callers that it is their turn: a turn pass in Redis plus an SMS.

Run by the worker's cron every ``admission.release_interval_seconds``. Web requests hand
out passes too (on every first and last screen, see gateway/sessions/admission.py); this
job hands out what idle expiry freed and texts every pass given since its last run. The
SMS goes through the ledger like every other message, on the ``otp`` queue (it is
time-limited), and expires with the pass so nobody is told to dial back after their
window has closed; a pass that has already expired gets no SMS.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gateway.sessions.admission import Admission
from gateway.sms import outbox, templates
from gateway.sms.budget import Budget
from gateway.storage import PhoneProfile
from gateway.storage.ledger import MessageKind
from gateway.storage.models import utcnow
from gateway.text.i18n import DEFAULT_LANGUAGE


def release_turns(ctx) -> list[str]:
    """Hand out turn passes for the free capacity and text each phone; return the phones."""
    settings = ctx.settings
    now = utcnow()
    turns = [(turn.phone, dt.datetime.fromtimestamp(turn.expires, dt.UTC))
             for turn in Admission.from_settings(ctx.redis, settings).release_turns()]
    turns = [(phone, expires) for phone, expires in turns if expires > now]
    if not turns:
        return []
    phones = [phone for phone, _ in turns]
    with ctx.db.write() as session:
        languages = dict(session.execute(select(PhoneProfile.phone, PhoneProfile.language)
                                         .where(PhoneProfile.phone.in_(phones))).all())
        ids = [_record(session, phone, languages.get(phone, DEFAULT_LANGUAGE), settings, expires)
               for phone, expires in turns]
    outbox.enqueue_messages(ctx.queue_redis, ids, queue="otp", settings=settings.sms)
    return phones


def _record(session, phone: str, lang: str, settings, expires: dt.datetime) -> int:
    body = templates.render("your_turn", lang, code=settings.ussd.service_codes[0],
                            minutes=settings.admission.pass_window_seconds // 60)
    message = outbox.record_message(
        session, phone=phone, kind=MessageKind.NOTICE, body=body, lang=lang,
        dedupe_key=f"turn:{phone}:{int(expires.timestamp())}", expires_at=expires,
        budget=Budget.of(settings.sms.budget))
    session.flush()
    return message.id
