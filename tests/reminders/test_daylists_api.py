"""Day lists (CSV/HTML/JSON), the district reach report, re-send and phone history."""
from __future__ import annotations

import csv
import datetime as dt
import io
import random

import pytest
import time_machine
from sqlalchemy import select

from gateway.registry import appointments
from gateway.reminders.keys import reminder_key
from gateway.storage import Appointment, Beneficiary, Slot
from gateway.storage.ledger import Message, SendAttempt

from .support import center, ist, person, slot

KEY = {"X-API-Key": "reports-key"}
DAY = dt.date(2026, 11, 24)
NOW = ist(2026, 11, 23, 12)  # 24 h reminders of DAY's morning windows are due, 2 h ones not
WINDOWS = [(dt.time(h), dt.time(h + 1)) for h in (9, 10, 11, 14, 15, 16)]
CHANNELS = ["ussd", "ivr", "hw_ussd", "sms"]
LEDGER = [None, "queued", "sent", "delivered", ("failed", "twilio: 30003"),
          ("undelivered", "africastalking: DeliveryFailure")]


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("VAXGATE_API_KEYS", KEY["X-API-Key"])


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def generate_day(db, count: int, center_id: int, seed: int = 7) -> None:
    """``count`` appointments at the center on DAY, with mixed channels, statuses, reminders."""
    rnd = random.Random(seed)
    slots = [slot(db, center_id, DAY, start, end, capacity=count) for start, end in WINDOWS]
    with db.write() as session:
        for n in range(count):
            person_row = Beneficiary(phone=f"+9197{n:08d}", name=f"Person {n:04d}",
                                     name_key=f"person {n}", birth_year=rnd.choice([1960, 1995]),
                                     gender="M", id_type="aadhaar", id_last4="0000",
                                     pincode="800020")
            status = rnd.choice(["booked"] * 8 + ["cancelled", "vaccinated"])
            appointment = Appointment(reference=f"R{n:05d}", beneficiary=person_row,
                                      slot_id=rnd.choice(slots), status=status,
                                      dose=rnd.choice([1, 2]), channel=rnd.choice(CHANNELS),
                                      created_at=ist(2026, 11, 20).astimezone(dt.UTC))
            session.add(appointment)
            session.flush()
            ledger = rnd.choice(LEDGER)
            if ledger is not None:
                state, reason = ledger if isinstance(ledger, tuple) else (ledger, "")
                session.add(Message(dedupe_key=reminder_key(appointment.id, 1440),
                                    phone=person_row.phone, kind="reminder", body="x", lang="en",
                                    encoding="gsm7", segments=1, status=state,
                                    status_reason=reason, resends=0))


def get_csv(client, center_id):
    reply = client.get(f"/api/v1/centers/{center_id}/day-list?date={DAY}&format=csv",
                       headers=KEY)
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(reply.get_data(as_text=True))))


EXPECTED_REMINDER = {"queued": "planned", "sent": "sent", "delivered": "delivered",
                     "failed": "failed", "undelivered": "failed"}


@pytest.mark.slow
def test_day_list_csv_matches_the_database_for_1000_appointments(client, db):
    center_id = center(db)
    generate_day(db, 1000, center_id)
    rows = get_csv(client, center_id)
    with db.read() as session:
        expected = {a.reference: a for a in session.scalars(
            select(Appointment).join(Slot).where(Slot.center_id == center_id, Slot.date == DAY,
                                                 Appointment.status != "cancelled"))}
        ledger = {m.dedupe_key: m for m in session.scalars(select(Message))}
        assert len(rows) == len(expected) > 700
        for row in rows:
            appointment = expected[row["reference"]]
            slot_row = appointment.slot
            assert row["name"] == appointment.beneficiary.name
            assert row["age_group"] == slot_row.age_group
            assert row["window"] == f"{slot_row.start_time:%H:%M}-{slot_row.end_time:%H:%M}"
            assert int(row["dose"]) == appointment.dose and row["status"] == appointment.status
            assert row["booked_via"] == {"ussd": "phone menu", "ivr": "voice call",
                                         "sms": "SMS", "hw_ussd": "health worker (phone menu)"
                                         }[appointment.channel]
            message = ledger.get(reminder_key(appointment.id, 1440))
            booked = appointment.status == "booked"  # vaccinated: nothing still to come
            if message is None:  # due by noon the day before, or later
                due = "planned" if slot_row.start_time < dt.time(12) else "not yet due"
                assert row["reminder_24h"] == (due if booked else "not needed")
            else:
                assert row["reminder_24h"] == EXPECTED_REMINDER[message.status]
                if message.status_reason:
                    assert row["reminder_24h_detail"] == message.status_reason
            assert row["reminder_2h"] == ("not yet due" if booked else "not needed")
    starts = [row["window"] for row in rows]
    assert starts == sorted(starts)


def test_day_list_as_printable_html_and_json(client, db):
    center_id = center(db)
    generate_day(db, 20, center_id)
    html = client.get(f"/api/v1/centers/{center_id}/day-list?date={DAY}&format=html",
                      headers=KEY)
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "UPHC Kankarbagh" in html.get_data(as_text=True)
    body = client.get(f"/api/v1/centers/{center_id}/day-list?date={DAY}", headers=KEY).json
    assert body["date"] == DAY.isoformat() and body["appointments"]
    assert {r["reminder"] for r in body["appointments"][0]["reminders"]} >= {"24h", "2h"}
    pdf = client.get(f"/api/v1/centers/{center_id}/day-list?date={DAY}&format=pdf",
                     headers=KEY)
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")


@pytest.mark.parametrize("path, status, field", [
    ("/api/v1/centers/{c}/day-list?date=tomorrow", 400, "date"),
    ("/api/v1/centers/{c}/day-list", 400, "date"),
    ("/api/v1/centers/{c}/day-list?date=2026-11-24&format=xls", 400, "format"),
    ("/api/v1/centers/9999/day-list?date=2026-11-24", 404, None),
    ("/api/v1/districts/Patna/reminders?days=abc", 400, "days"),
    ("/api/v1/districts/Patna/reminders?days=99", 400, "days"),
])
def test_bad_report_requests_name_the_field(client, db, path, status, field):
    reply = client.get(path.format(c=center(db)), headers=KEY)
    assert reply.status_code == status
    if field:
        assert reply.json["field"] == field


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/centers/1/day-list?date=2026-11-24"),
    ("get", "/api/v1/districts/Patna/reminders"),
    ("post", "/api/v1/districts/Patna/reminders/resend"),
    ("post", "/api/v1/phone-history"),
])
def test_reports_need_an_api_key(client, method, path):
    assert getattr(client, method)(path, headers={"X-API-Key": "wrong"}).status_code == 401


def _reminded(db, slot_id, status, reason=""):
    """A booking on DAY whose 24 h reminder has ``status``; returns the appointment id."""
    beneficiary = person(db)
    with db.write() as session:
        appointment = appointments.book(session, beneficiary, slot_id, today=DAY)
        session.add(Message(dedupe_key=reminder_key(appointment.id, 1440),
                            phone=appointment.beneficiary.phone, kind="reminder", body="x",
                            lang="en", encoding="gsm7", segments=1, status=status,
                            status_reason=reason, resends=0))
        return appointment.id


def test_district_report_counts_delivered_failed_and_pending(client, db):
    patna = slot(db, center(db), DAY)
    for status, reason in [("delivered", ""), ("delivered", ""), ("failed", "twilio: 30003"),
                           ("undelivered", "twilio: 30005"), ("sent", "")]:
        _reminded(db, patna, status, reason)
    gaya = center(db, code="GAYA", district="Gaya", pincode="823001")
    _reminded(db, slot(db, gaya, DAY), "failed", "x")
    report = client.get("/api/v1/districts/Patna/reminders?days=3", headers=KEY).json
    assert (report["appointments"], report["delivered"], report["failed"],
            report["pending"]) == (5, 2, 2, 1)
    assert report["reasons"] == {"failed: twilio: 30003": 1, "failed: twilio: 30005": 1}


def test_resend_reaches_only_the_unreached_and_only_once(client, db):
    patna = slot(db, center(db), DAY)
    delivered = _reminded(db, patna, "delivered")
    failed = _reminded(db, patna, "failed", "twilio: 30003")
    for _ in range(2):  # the button pressed twice
        reply = client.post("/api/v1/districts/Patna/reminders/resend", json={"days": 3},
                            headers=KEY)
        assert reply.status_code == 202
    with db.read() as session:
        keys = sorted(m.dedupe_key for m in session.scalars(select(Message)))
    assert keys == sorted([reminder_key(delivered, 1440), reminder_key(failed, 1440),
                           f"reminder:{failed}:resend1"])


def test_phone_history_lists_every_message_and_attempt(client, db):
    patna = slot(db, center(db), DAY)
    appointment_id = _reminded(db, patna, "failed", "twilio: 30003")
    with db.write() as session:
        message = session.scalar(select(Message))
        session.add_all([
            SendAttempt(message_id=message.id, provider="twilio", outcome="accepted",
                        provider_message_id="SM1"),
            SendAttempt(message_id=message.id, provider="africastalking", outcome="retryable",
                        error_code="timeout", error="no answer in 5 s")])
        phone = session.get(Appointment, appointment_id).beneficiary.phone
    reply = client.post("/api/v1/phone-history", json={"phone": phone}, headers=KEY)
    assert reply.status_code == 200 and reply.json["phone"] != phone  # masked
    [history] = reply.json["messages"]
    assert history["status"] == "failed" and history["reason"] == "twilio: 30003"
    assert [a["provider"] for a in history["attempts"]] == ["twilio", "africastalking"]
    bad = client.post("/api/v1/phone-history", json={"phone": "12"}, headers=KEY)
    assert bad.status_code == 400 and bad.json["field"] == "phone"


def test_a_long_phone_history_comes_out_in_pages_newest_first(client, db):
    from gateway.sms import outbox

    phone = "+919812300001"
    with db.write() as session:
        made = [outbox.record_message(session, phone=phone, kind="notice", body=f"Notice {n}",
                                      lang="en", budget=None, dedupe_key=f"h{n}").id
                for n in range(5)]
    seen, cursor = [], None
    for _ in range(5):
        url = "/api/v1/phone-history?limit=2" + (f"&cursor={cursor}" if cursor else "")
        reply = client.post(url, json={"phone": phone}, headers=KEY)
        assert reply.status_code == 200, reply.json
        seen += [m["id"] for m in reply.json["messages"]]
        cursor = reply.json["next_cursor"]
        assert ("Link" in reply.headers) == bool(cursor)
        if not cursor:
            break
    assert seen == made[::-1]
    bad = client.post("/api/v1/phone-history?cursor=nonsense", json={"phone": phone},
                      headers=KEY)
    assert bad.status_code == 400 and bad.json["field"] == "cursor"


@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/districts/Patana/reminders"),
    ("post", "/api/v1/districts/Patana/reminders/resend"),
])
def test_a_misspelt_district_is_refused_with_close_names_not_answered_empty(client, method,
                                                                            path):
    refused = getattr(client, method)(path, headers=KEY)
    assert refused.status_code == 400 and refused.json["field"] == "district"
    assert refused.json["suggestions"][0] == "Patna"
    spelt = getattr(client, method)(path.replace("Patana", "patna"), headers=KEY)
    assert spelt.status_code in (200, 202) and spelt.json["district"] == "Patna"


def test_a_district_api_key_sees_only_its_own_district(client, db):
    from gateway.api.keys import create_key

    with db.write() as session:
        _, patna_key = create_key(session, "patna office", "district", "Patna", "test")
        _, viewer_key = create_key(session, "viewer", "viewer", None, "test")
    gaya = center(db, code="GAYA", district="Gaya", pincode="823001")
    patna = {"X-API-Key": patna_key}
    assert client.get("/api/v1/districts/Patna/reminders", headers=patna).status_code == 200
    assert client.get("/api/v1/districts/Gaya/reminders", headers=patna).status_code == 403
    assert client.get(f"/api/v1/centers/{gaya}/day-list?date={DAY}",
                      headers=patna).status_code == 403
    assert client.post("/api/v1/districts/Patna/reminders/resend",
                       headers={"X-API-Key": viewer_key}).status_code == 403


def test_a_center_id_beyond_sql_integer_is_not_found_not_a_500(client, db):
    response = client.get(f"/api/v1/centers/{2**63}/day-list?date=2026-11-23", headers=KEY)
    assert response.status_code == 404
