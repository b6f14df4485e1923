"""The SMS bill: a book-and-cancel loop on one number sends no more than its budget; what the
budget holds back is a ledger row with the reason; OTPs keep their own caps; the
deployment's daily figure raises an alarm on /metrics (gateway/sms/budget.py)."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select

from gateway.reminders import sweeper as reminder_sweeper
from gateway.sms import budget
from gateway.sms.budget import Budget
from gateway.storage.ledger import Message
from gateway.storage.models import utcnow
from tests.sms.support import with_sms
from tests.ussd_menus.test_ussd_journeys import (
    BOOK,
    ENGLISH,
    MY_APPOINTMENTS,
    REFERENCE,
    YES,
    register,
)

PER_HOUR = 3


@pytest.fixture
def settings(settings):
    return with_sms(settings, budget={"per_number_per_hour": PER_HOUR, "per_number_per_day": 5,
                                      "deployment_per_day": 4})


def _ledger(db, phone: str) -> list[Message]:
    with db.read() as session:
        return list(session.scalars(select(Message).where(Message.phone == phone)
                                    .order_by(Message.id)))


@pytest.mark.usefixtures("demo_centers")
def test_a_book_and_cancel_loop_sends_no_more_than_the_numbers_budget(phone, db, client):
    phone.dial()
    phone.send(ENGLISH)
    register(phone)
    for _ in range(3):  # 6 SMS asked for: booked, cancelled, booked, cancelled...
        phone.dial()
        assert REFERENCE.search(phone.send(BOOK, "1", "1", "1", "1", YES))
        phone.dial()
        assert "cancelled" in phone.send(MY_APPOINTMENTS, "1", "1", YES).lower()
    ledger = _ledger(db, phone.phone)
    assert len(ledger) == 6  # every SMS is in the ledger: "who was messaged" stays answerable
    sent, held = ledger[:PER_HOUR], ledger[PER_HOUR:]
    assert [m.status for m in sent] == ["queued"] * PER_HOUR
    assert {(m.status, m.status_reason, m.provider) for m in held} == \
        {("failed", budget.REASON, None)}
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'vaxgate_sms_suppressed_total{kind="confirmation"}' in metrics
    # 3 counted today of a daily budget of 4: no alarm yet
    assert "vaxgate_sms_today 3.0" in metrics
    assert "vaxgate_sms_daily_budget_exceeded 0.0" in metrics


def test_otps_are_not_held_back_by_the_budget_and_do_not_use_it(db, settings):
    from gateway.sms import outbox

    phone, limits = "+919812300001", Budget.of(settings.sms.budget)
    with db.write() as session:
        for n in range(PER_HOUR):
            outbox.record_message(session, phone=phone, kind="otp", body="code", lang="en",
                                  dedupe_key=f"o{n}", budget=None)
        notices = [outbox.record_message(session, phone=phone, kind="notice", body="hi",
                                         lang="en", dedupe_key=f"n{n}", budget=limits)
                   for n in range(PER_HOUR + 1)]
        another = outbox.record_message(session, phone="+919812300002", kind="notice",
                                        body="hi", lang="en", dedupe_key="x", budget=limits)
        again = outbox.record_message(session, phone=phone, kind="notice", body="hi",
                                      lang="en", dedupe_key="n0", budget=limits)
    assert [m.status for m in notices] == ["queued"] * PER_HOUR + ["failed"]
    assert another.status == "queued"  # one number's budget, not another's
    assert again.id == notices[0].id and again.status == "queued"  # a retried request


def test_the_hour_passes_and_the_day_still_counts(db, settings):
    from gateway.sms import outbox

    phone, limits = "+919812300003", Budget.of(settings.sms.budget)
    with db.write() as session:
        for n in range(PER_HOUR):
            outbox.record_message(session, phone=phone, kind="notice", body="hi", lang="en",
                                  dedupe_key=f"h{n}", budget=limits)
    with db.write() as session:  # the first hour's messages are now 2 hours old
        for m in session.scalars(select(Message).where(Message.phone == phone)):
            m.created_at = utcnow() - dt.timedelta(hours=2)
    with db.write() as session:
        later = [outbox.record_message(session, phone=phone, kind="notice", body="hi",
                                       lang="en", dedupe_key=f"l{n}", budget=limits).status
                 for n in range(PER_HOUR)]
    assert later == ["queued", "queued", "failed"]  # 5 a day: 3 + 2


def test_concurrent_messages_to_one_number_never_pass_its_budget(db, settings):
    """Check and count are one step: twelve writers at once, one number, 3 places."""
    from gateway.sms import outbox

    phone, limits = "+919812300004", Budget.of(settings.sms.budget)
    barrier = threading.Barrier(12)

    def record(n: int) -> None:
        barrier.wait()
        with db.write() as session:
            outbox.record_message(session, phone=phone, kind="notice", body="hi", lang="en",
                                  dedupe_key=f"c{n}", budget=limits)

    threads = [threading.Thread(target=record, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = [m.status for m in _ledger(db, phone)]
    assert len(statuses) == 12 and statuses.count("queued") == PER_HOUR


def test_reminders_of_a_sweep_share_the_numbers_budget(db, settings):
    """The sweeper's bulk insert counts too: a phone with more due reminders than places
    gets the first ones, the rest are written as held back."""
    phone, limits = "+919812300005", Budget.of(settings.sms.budget)
    rows = [{"dedupe_key": f"r{n}", "phone": phone, "kind": "reminder", "body": "soon",
             "lang": "en", "encoding": "gsm7", "segments": 1, "status": "queued",
             "status_reason": "", "resends": 0, "created_at": utcnow(), "updated_at": utcnow()}
            for n in range(5)]
    other = dict(rows[0], dedupe_key="o1", phone="+919812300006")
    with db.write() as session:
        planned = budget.apply(session, limits, [*rows, other], utcnow())
        reminder_sweeper.insert_messages(session, planned)
    statuses = [m.status for m in _ledger(db, phone)]
    assert statuses == ["queued"] * PER_HOUR + ["failed"] * 2
    assert [m.status for m in _ledger(db, "+919812300006")] == ["queued"]


def test_the_deployments_daily_budget_raises_the_alarm(db, settings, client):
    from gateway.sms import outbox

    with db.write() as session:
        for n in range(5):
            outbox.record_message(session, phone=f"+91981230010{n}", kind="otp", body="c",
                                  lang="en", dedupe_key=f"d{n}", budget=None)
    with db.read() as session:
        figure = budget.daily_figure(session, settings, utcnow())
    assert (figure.sent_today, figure.budget, figure.exceeded) == (5, 4, True)
    assert "vaxgate_sms_daily_budget_exceeded 1.0" in client.get("/metrics").get_data(
        as_text=True)
