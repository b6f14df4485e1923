"""Day lists and "not reached" as a district officer uses them: phone, status in words,
channel in words, headings of the day, CSV and PDF downloads, resend, call list."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.registry import appointments, beneficiaries
from gateway.reminders.keys import reminder_key, resend_key
from gateway.sms.outbox import record_message
from gateway.storage import Appointment, Center, Slot
from gateway.storage.ledger import Message, SendAttempt
from gateway.storage.models import utcnow
from gateway.text.pdf import font_files

PEOPLE = (("+919812340001", "Sita Devi", "ussd"), ("+919812340002", "सीता देवी", "hw_sms"),
          ("+919812340003", "রহিম শেখ", "ivr"))


@pytest.fixture
def tomorrow_bookings(db, settings, demo_centers):
    """Three people booked tomorrow at the first Patna center: one reached, one whose
    reminder failed at twilio, one vaccinated. Returns (center id, date, references)."""
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    day = today + dt.timedelta(days=1)
    refs = []
    with db.write() as session:
        slot = session.scalar(select(Slot).join(Center).where(
            Center.district == "Patna", Slot.date == day, Slot.age_group == "45+")
            .order_by(Slot.id).limit(1))
        for phone, name, channel in PEOPLE:
            person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
                phone=phone, name=name, birth_year=1950, gender="F", id_type="aadhaar",
                id_last4="4821", pincode="800020"), today=today, min_age=18, cap=4)
            booked = appointments.book(session, person.id, slot.id, today=today,
                                       channel=channel)
            refs.append(booked.reference)
            _reminder(session, booked.id, phone, ("delivered", "") if name == "Sita Devi"
                      else ("failed", "number switched off"))
        session.scalar(select(Appointment).where(Appointment.reference == refs[2])) \
            .status = "vaccinated"
        return slot.center_id, day, refs


def _reminder(session, appointment_id: int, phone: str, outcome: tuple[str, str]) -> None:
    message = record_message(session, phone=phone, kind="reminder", lang="en", body="Reminder",
                             dedupe_key=reminder_key(appointment_id, 1440), budget=None)
    message.status, message.status_reason, message.provider = (*outcome, "twilio")
    session.add(SendAttempt(message_id=message.id, provider="twilio", outcome="accepted",
                            at=utcnow()))


def test_the_day_list_shows_phone_status_and_channel_in_words(auth, client,
                                                               tomorrow_bookings):
    center_id, day, refs = tomorrow_bookings
    auth.login("patna")
    page = client.get(f"/admin/lists?center_id={center_id}&date={day}").get_data(True)
    assert f"on {day:%a %d %b %Y}</h2>" in page and "Reminder reach" not in page
    assert "+919812340002" in page and "health worker (SMS)" in page and "hw_sms" not in page
    rows = page.split('<tbody>')[1].split("</tr>")
    statuses = {ref: row for ref in refs for row in rows if ref in row}
    assert ">reached<" in statuses[refs[0]] and ">not reached<" in statuses[refs[1]]
    assert ">vaccinated<" in statuses[refs[2]] and "not yet due" not in statuses[refs[2]]
    assert "IST (UTC+05:30)" in page


def test_the_day_list_downloads_as_csv_and_as_a_pdf_with_indian_scripts(auth, client,
                                                                         tomorrow_bookings):
    center_id, day, refs = tomorrow_bookings
    auth.login("patna")
    csv = client.get(f"/admin/lists?center_id={center_id}&date={day}&format=csv")
    assert csv.mimetype == "text/csv" and "सीता देवी,+919812340002" in csv.get_data(True)
    pdf = client.get(f"/admin/lists?center_id={center_id}&date={day}&format=pdf")
    body = pdf.data
    assert pdf.mimetype == "application/pdf" and body.startswith(b"%PDF-")
    fonts = {path.stem.split("-")[0] for path in font_files().values()}
    assert all(name.encode() in body for name in fonts)  # Noto with fonts-noto-core
    assert b"Devanagari" in body and b"Bengali" in body or len(fonts) < 3
    assert client.get(f"/admin/lists?center_id={center_id}&format=xls").status_code == 400


def test_not_reached_lists_the_person_with_reason_and_resends_through_another_provider(
        auth, client, db, tomorrow_bookings):
    center_id, day, refs = tomorrow_bookings
    auth.login("patna")
    page = client.get(f"/admin/not-reached?center_id={center_id}&date={day}").get_data(True)
    listed = page.split("<tbody>")[1]
    assert refs[1] in listed and refs[0] not in listed and refs[2] not in listed
    assert "number switched off" in listed and "via twilio" in listed
    with db.read() as session:
        appointment_id = session.scalar(select(Appointment.id).where(
            Appointment.reference == refs[1]))
    done = auth.post("/admin/not-reached/resend", {"center_id": center_id, "date": str(day),
                                                   "appointment_id": appointment_id},
                     follow_redirects=True).get_data(True)
    assert "Reminder sent again to सीता देवी" in done
    with db.read() as session:
        resent = session.scalar(select(Message).where(
            Message.dedupe_key == resend_key(appointment_id, 1)))
    assert resent.try_last == "twilio" and resent.phone == "+919812340002"
    # once more: the person is no longer listed (the re-send is on its way): 404, no second
    again = auth.post("/admin/not-reached/resend", {"center_id": center_id, "date": str(day),
                                                    "appointment_id": appointment_id})
    assert again.status_code == 404
    call_list = client.get(f"/admin/not-reached?center_id={center_id}&date={day}&format=pdf")
    assert call_list.mimetype == "application/pdf" and call_list.data.startswith(b"%PDF-")


def test_a_viewer_cannot_resend_and_another_district_cannot_see(auth, client,
                                                                tomorrow_bookings):
    center_id, day, _ = tomorrow_bookings
    auth.login("lucknow")
    assert client.get(f"/admin/not-reached?center_id={center_id}").status_code == 404
    assert auth.post("/admin/not-reached/resend", {"center_id": center_id,
                                                   "appointment_id": 1}).status_code == 404
    auth.login("watcher")
    page = client.get(f"/admin/not-reached?center_id={center_id}&date={day}").get_data(True)
    assert "Send again" not in page
    assert auth.post("/admin/not-reached/resend", {"center_id": center_id}).status_code == 403
