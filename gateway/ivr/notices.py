"""The SMS a caller gets when a call ends in silence: how to finish what was begun (call
back or dial USSD), or, when nothing was begun, how to register or book.

Recorded in the ledger (kind "notice", one per call) and enqueued after the commit; if Redis
is down at that moment the SMS sweeper sends it later.
"""
from __future__ import annotations

from gateway.registry.notifications import enqueue_after_commit
from gateway.sms import templates
from gateway.sms.budget import Budget
from gateway.sms.outbox import enqueue_messages, record_message
from gateway.storage.ledger import MessageKind
from gateway.web.runtime import Runtime


def send_finish_sms(runtime: Runtime, call_id: str, phone: str, lang: str,
                    unfinished: bool = True) -> None:
    """Record and enqueue the SMS for a call that ended without input: "how to finish" when a
    journey was begun, else "how to register or book"."""
    settings = runtime.settings
    name = "call_unfinished" if unfinished else "call_no_input"
    body = templates.render(name, lang,
                            resume_minutes=max(1, settings.ivr.resume_window_seconds // 60),
                            ussd_code=settings.ussd.service_codes[0],
                            helpline=settings.ussd.helpline)
    with runtime.db.write() as session:
        message = record_message(session, phone=phone, kind=MessageKind.NOTICE, body=body,
                                 lang=lang, dedupe_key=f"ivr:{call_id}:no_input",
                                 budget=Budget.of(settings.sms.budget))
        session.flush()
        ids = [message.id]
    enqueue_after_commit(lambda found: enqueue_messages(runtime.queue_redis, found, queue="notify",
                                                        settings=settings.sms), ids)
