"""The health-worker USSD journey end to end: PIN on first use, lock-out, registering an
elder (worker's phone, family phone, own phone with OTP consent), booking at the worker's
center, today's list, marking vaccinated / no-show, walk-ins; every step audited."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from gateway.healthworkers import accounts
from gateway.healthworkers.models import HealthWorker, HealthWorkerAction
from gateway.sms import otp_codes
from gateway.storage import Appointment, Beneficiary, Message, UpstreamEvent

from .conftest import CENTER_CODE, PIN, WORKER_PHONE, book_today

REGISTER, TODAY, VACCINATED, NO_SHOW, WALK_IN = "1", "2", "3", "4", "5"
REFERENCE = re.compile(r"\b([A-Z0-9]{6})\b")


def sign_in(phone) -> str:
    phone.dial()
    return phone.send(PIN)


def register_elder(phone, link: str, *extra: str, name="Sita Devi", pincode="226001") -> str:
    """From the worker menu: the registration form up to (and with) the phone choice."""
    return phone.send(REGISTER, name, "1948", "2", "1", "1234", pincode, link, *extra)


def audit_actions(db) -> list[tuple[str, str, str]]:
    with db.read() as session:
        rows = session.scalars(select(HealthWorkerAction).order_by(HealthWorkerAction.id))
        return [(a.action, a.channel, a.phone) for a in rows]


def test_first_use_sets_a_pin_stored_only_as_a_slow_hash(hw_phone, db, worker):
    assert "Choose a PIN" in hw_phone.dial()
    menu = hw_phone.send("4826", "4826")

    assert menu.startswith("CON UPHC Kankarbagh")
    with db.read() as session:
        stored = session.get(HealthWorker, worker).pin_hash
    assert stored.startswith("$argon2id$") and "4826" not in stored
    assert audit_actions(db) == [("pin_set", "ussd", WORKER_PHONE)]


def test_the_pin_is_not_kept_in_the_session_vars(hw_phone, redis_client, worker_with_pin):
    sign_in(hw_phone)
    record = json.loads(redis_client.get(
        f"vaxgate:ussd:{{{hw_phone.phone}}}:session:{hw_phone.session_id}"))
    assert PIN not in json.dumps(record["state"]["vars"])
    assert record["state"]["vars"]["hw_ok"] == "1"


def test_two_different_pins_are_asked_again(hw_phone, worker):
    hw_phone.dial()
    assert "The two PINs differ" in hw_phone.send("4826", "4827")
    assert "Choose a PIN" in hw_phone.send("1")


def test_00_returns_a_signed_in_worker_to_her_menu_but_not_before_the_pin(hw_phone,
                                                                          worker_with_pin):
    assert "Enter your PIN" in hw_phone.dial()
    before = hw_phone.send("00")  # not signed in: the citizen main menu, never her menu
    assert "UPHC Kankarbagh" not in before and "Register & book" not in before

    menu = sign_in(hw_phone)
    form = hw_phone.send(REGISTER, "Sita Devi")  # halfway through registering an elder
    back = hw_phone.send("00")

    assert menu.startswith("CON UPHC Kankarbagh") and "00" not in menu.split("\n")[-1]
    assert "Full name" not in form and back == menu
    assert hw_phone.send("0").endswith(back.removeprefix("CON "))  # no history to go back to


def test_five_wrong_pins_lock_the_account_until_an_admin_unlocks_it(hw_phone, db,
                                                                    worker_with_pin):
    hw_phone.dial()
    screens = [hw_phone.send("1111")]
    for _ in range(4):
        screens.append(hw_phone.send("1", "1111"))

    assert "Wrong PIN. 4 tries left." in screens[0]
    assert "Wrong PIN. 1 tries left." in screens[3]
    assert screens[4].startswith("END Too many wrong PINs: locked until")
    assert hw_phone.dial().startswith("END Too many wrong PINs")  # the right PIN is not asked
    with db.write() as session:
        view = accounts.describe(session, accounts.get(session, worker_with_pin))
        assert view["locked"] and view["locked_until"]
        accounts.unlock(session, worker_with_pin)
    assert "Enter your PIN" in hw_phone.dial()
    assert sign_in(hw_phone).startswith("CON UPHC Kankarbagh")


def test_an_elder_without_a_phone_is_linked_to_the_worker_and_booked_at_her_center(
        hw_phone, db, worker_with_pin):
    sign_in(hw_phone)
    confirm = register_elder(hw_phone, "3")
    slots = hw_phone.send("1")
    booked = hw_phone.send("1")

    assert f"SMS to {WORKER_PHONE}?" in confirm
    assert slots.startswith("CON Sita Devi registered. Slot:")
    assert booked.startswith("END Booked Sita Devi:")
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.slot.center.code == CENTER_CODE  # not near home pincode 226001
        assert appointment.beneficiary.phone == WORKER_PHONE
        assert appointment.beneficiary.channel == appointment.channel == "hw_ussd"
        sms = session.scalar(select(Message).where(Message.kind == "confirmation"))
        assert sms.phone == WORKER_PHONE and appointment.reference in sms.body
        kinds = list(session.scalars(select(UpstreamEvent.kind).order_by(UpstreamEvent.id)))
    assert kinds == ["beneficiary.registered", "appointment.booked"]
    assert [a[0] for a in audit_actions(db)] == ["sign_in", "register", "book"]


def test_a_family_members_phone_needs_no_code(hw_phone, db, worker_with_pin):
    sign_in(hw_phone)
    confirm = register_elder(hw_phone, "2", "9812345000")

    assert "SMS to +919812345000?" in confirm
    hw_phone.send("1")
    with db.read() as session:
        assert session.scalar(select(Beneficiary.phone)) == "+919812345000"


def test_a_home_pin_code_that_does_not_exist_is_asked_again(hw_phone, db, worker_with_pin):
    sign_in(hw_phone)
    refused = hw_phone.send(REGISTER, "Sita Devi", "1948", "2", "1", "1234", "800999")
    assert refused.startswith("CON PIN code 800999 does not exist. Home PIN code:")
    assert "SMS for Sita Devi go to" in hw_phone.send("800020")


def test_the_persons_own_phone_gets_a_consent_code_the_worker_keys_in(
        hw_phone, db, redis_client, worker_with_pin):
    own = "+919812345000"
    sign_in(hw_phone)
    asked = register_elder(hw_phone, "1", "9812345000")
    with db.read() as session:
        otp_sms = session.scalar(select(Message).where(Message.kind == "otp"))
    code = otp_codes.unseal(redis_client, "test-secret", otp_sms.id)
    wrong = hw_phone.send("000000" if code != "000000" else "111111")
    confirm = hw_phone.send("1", code)
    hw_phone.send("1")

    assert otp_sms.phone == own and code not in otp_sms.body
    assert f"sent by SMS to {own}" in asked
    assert "Wrong code. 2 tries left." in wrong
    assert f"SMS to {own}?" in confirm
    with db.read() as session:
        action = session.scalar(select(HealthWorkerAction).where(
            HealthWorkerAction.action == "register"))
        assert session.scalar(select(Beneficiary.phone)) == own
    assert action.detail == "linked own, OTP consent"


@pytest.mark.parametrize("answer, status, event", [
    (VACCINATED, "vaccinated", "appointment.vaccinated"),
    (NO_SHOW, "no_show", "appointment.no_show"),
])
def test_marking_by_reference_records_status_event_and_audit(
        hw_phone, db, today, worker_with_pin, answer, status, event):
    reference = book_today(db, today, "Ram Lal")
    sign_in(hw_phone)

    saved = hw_phone.send(answer, reference.lower())

    assert saved.startswith(f"CON Saved: {reference} Ram Lal.")
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        notices = list(session.scalars(select(Message).where(Message.kind == "notice")))
        last_event = session.scalar(select(UpstreamEvent.kind).order_by(
            UpstreamEvent.id.desc()).limit(1))
    assert appointment.status == status
    assert last_event == event
    assert len(notices) == (1 if status == "vaccinated" else 0)
    if notices:
        assert "vaccinated" in notices[0].body and reference in notices[0].body
    assert audit_actions(db)[-1] == (status, "ussd", WORKER_PHONE)


def test_a_reference_at_another_center_is_not_marked(hw_phone, db, today, worker_with_pin):
    reference = book_today(db, today, "Ram Lal", code="DEMO001")
    sign_in(hw_phone)

    assert f"No booking {reference} due at your center." in hw_phone.send(VACCINATED, reference)
    with db.read() as session:
        assert session.scalar(select(Appointment.status)) == "booked"


def test_a_malformed_reference_is_asked_again(hw_phone, worker_with_pin):
    sign_in(hw_phone)
    assert "Enter the 6-character code" in hw_phone.send(VACCINATED, "K7Q")


def test_todays_list_shows_counts_and_marks_from_the_list(hw_phone, db, today,
                                                          worker_with_pin):
    first = book_today(db, today, "Ram Lal")
    book_today(db, today, "Kamla Bai", phone="+919811100002")
    sign_in(hw_phone)

    listed = hw_phone.send(TODAY)
    chosen = hw_phone.send("1")
    hw_phone.send("2")  # 2 No-show
    again = hw_phone.send("1")  # "1 Today's list"

    assert listed.startswith("CON Today: 2 due, 0 done, 0 absent")
    assert f"1 {first} Ram Lal" in listed
    assert chosen.startswith(f"CON {first} Ram Lal")
    assert again.startswith("CON Today: 1 due, 0 done, 1 absent")


def test_a_walk_in_is_registered_and_vaccinated_in_one_step(hw_phone, db, worker_with_pin,
                                                           late_slot):
    sign_in(hw_phone)
    hw_phone.send(WALK_IN, "Gita Rani", "1950", "2", "5", "800020", "3")
    done = hw_phone.send("1")

    assert done.startswith("END Gita Rani vaccinated, ref")
    with db.read() as session:
        appointment = session.scalar(select(Appointment))
        assert appointment.status == "vaccinated"
        assert appointment.beneficiary.id_type == "none"
        assert appointment.slot.booked == 1
    assert [a[0] for a in audit_actions(db)] == ["sign_in", "register", "walk_in"]


def test_a_citizen_phone_still_gets_the_citizen_journey(phone, worker_with_pin):
    assert "Language" in phone.dial()


def test_a_workers_voice_call_gets_the_citizen_journey(db, settings, worker_with_pin):
    from gateway.registry.actions import RegistryActions

    for channel, outcome in (("ivr", "citizen"), ("ussd", "health_worker")):
        found = RegistryActions(db, settings, channel=channel).call(
            "recognise_caller", {"phone": WORKER_PHONE})
        assert found.outcome == outcome
