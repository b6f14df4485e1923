"""REG / VAX SMS commands from a registered health-worker phone, through the same inbound
dispatch the SMS webhooks use (InboundSms)."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from gateway.healthworkers import accounts
from gateway.healthworkers.models import HealthWorkerAction
from gateway.sms.inbound import InboundSms
from gateway.storage import Appointment, Beneficiary, Message

from .conftest import WORKER_PHONE, book_today

pytestmark = pytest.mark.usefixtures("demo_centers")


@pytest.fixture
def sms(db, settings, worker):
    counter = iter(range(1, 1000))

    def send(text: str, phone: str = WORKER_PHONE) -> str:
        [reply_id] = InboundSms(db, settings).receive(phone, text, f"test:{next(counter)}")
        with db.read() as session:
            return session.get(Message, reply_id).body
    return send


@pytest.mark.parametrize("text", [
    "REG Sita Devi, 1948, F, 800001",
    "reg Sita Devi 1948 F 800001",
    "रजिस्टर Sita Devi, 1948, f, 800001",
    "রেজিস্টার Sita Devi 1948 female 800001",
])
def test_reg_registers_links_to_the_worker_and_books_at_her_center(sms, db, text):
    reply = sms(text)

    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        person = appointment.beneficiary
        assert (person.name, person.phone, person.channel, person.id_type) == (
            "Sita Devi", WORKER_PHONE, "hw_sms", "none")
        assert appointment.slot.center.code == "DEMO002"
        actions = list(session.scalars(select(HealthWorkerAction.action)))
    assert reply.startswith(f"REG Sita Devi: booked {appointment.reference}, UPHC Kankarbagh")
    assert actions == ["register", "book"]


def test_reg_with_a_family_phone_links_to_that_phone(sms, db):
    sms("REG Ram Lal, 1950, M, 800001, 9812345000")
    with db.read() as session:
        assert session.scalar(select(Beneficiary.phone)) == "+919812345000"


@pytest.mark.parametrize("text, reply", [
    ("REG Sita Devi, 19x8, F, 800001",
     f"REG not done: birth_year: '19x8' is not a year between {dt.date.today().year - 120} "
     f"and {dt.date.today().year}."),
    ("REG Sita Devi, 1948, F, 8000011", "REG not done: pincode: '8000011' is not 6 digits "
                                       "starting 1-9."),
    ("REG Sita Devi, 1948, Z, 800001", "REG not done: gender: 'Z' is not M, F or O."),
    ("REG Sita Devi, 1948, F, 800999", "REG not done: pincode: 800999 is not a PIN code in "
                                      "India Post's directory."),
    ("REG Sita Devi", "Send: REG name, birth year"),
    ("REG", "Send: REG name, birth year"),
])
def test_reg_answers_a_specific_error(sms, db, text, reply):
    assert sms(text).startswith(reply)
    with db.read() as session:
        assert session.scalar(select(Beneficiary.id)) is None


def test_a_fifth_person_on_one_phone_is_refused(sms):
    for name in ("Asha", "Bina", "Chitra", "Diya"):
        sms(f"REG {name} Devi, 1950, F, 800001")
    assert sms("REG Esha Devi, 1950, F, 800001") == (
        f"REG not done: {WORKER_PHONE} already has 4 people (at most 4).")


def test_vax_marks_a_booking_at_the_workers_center_and_sends_the_notice(sms, db, settings):
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    reference = book_today(db, today, "Ram Lal")

    reply = sms(f"VAX {reference.lower()}")

    assert reply == f"VAX {reference}: Ram Lal marked vaccinated. SMS sent."
    with db.read() as session:
        assert session.scalar(select(Appointment.status)) == "vaccinated"
        notice = session.scalar(select(Message).where(Message.kind == "notice"))
    assert notice.phone == "+919811100001" and reference in notice.body
    assert sms(f"टीका {reference}") == (f"VAX {reference}: no booking with that code is due "
                                       "at your center.")


def test_a_locked_worker_is_told_so(sms, db, worker, settings):
    with db.write() as session:
        account = accounts.get(session, worker)
        accounts.set_pin(session, account, "4826")
        for _ in range(settings.health_workers.max_pin_failures):
            accounts.check_pin(session, account, "0000", settings.health_workers)
    assert sms("VAX K7QP3M").startswith("Your health-worker account is locked until")


def test_reg_from_a_phone_that_is_not_a_workers_gets_the_citizen_help(sms, db):
    reply = sms("REG Sita Devi, 1948, F, 800001", phone="+919812345678")
    assert not reply.startswith("REG")
    with db.read() as session:
        assert session.scalar(select(Beneficiary.id)) is None
