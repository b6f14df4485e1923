"""What a USSD caller sees on the screens that matter most: the booking code is never cut,
only options on the page shown are taken, the first screen keeps its languages, "Start
over" uses the live menus, and a health worker keeps her PIN and gets her own rate limit."""
from __future__ import annotations

import pytest

from tests.conftest import UssdPhone
from tests.healthworkers.conftest import PIN, WORKER_PHONE, worker, worker_with_pin  # noqa: F401 - fixtures
from tests.ussd_menus.test_ussd_journeys import (
    BOOK,
    ENGLISH,
    HINDI,
    MY_APPOINTMENTS,
    REFERENCE,
    assert_fits,
    book_first_choices,
    register,
)

DEVANAGARI_NAME = "सीता देवी कुमारी राव"


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("language", [ENGLISH, HINDI])
def test_the_whole_code_and_the_center_open_the_end_screen_for_a_devanagari_name(
        phone, language):
    phone.dial()
    phone.send(language)
    register(phone, name=DEVANAGARI_NAME)
    phone.send("00")
    end = book_first_choices(phone)

    assert end.startswith("END ") and "…" not in end.splitlines()[0]
    assert_fits(end)
    code = REFERENCE.search(end).group(1)
    lines = end[4:].splitlines()
    assert lines[0].endswith(code)  # "Booked! Code K7QP3M": the code comes first, whole
    detail = phone.dial() and phone.send(MY_APPOINTMENTS, "1")
    assert code in detail and lines[1] in detail  # the center is on the detail too


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("language", [ENGLISH, HINDI, "3"])
def test_booking_detail_has_one_way_back_and_the_center_in_every_language(phone, language):
    phone.dial()
    phone.send(language)
    register(phone)
    phone.send("00")
    booked = book_first_choices(phone)
    center = booked[4:].splitlines()[1]
    phone.send("00")
    detail = phone.send(MY_APPOINTMENTS, "1")

    assert center in detail
    assert "\n3 " not in detail  # no numbered "Back" beside the "0 Back" line


@pytest.mark.usefixtures("demo_centers")
def test_an_option_of_another_page_is_refused_and_nothing_is_chosen(phone):
    phone.dial()
    phone.send(HINDI)
    register(phone)
    dates = phone.send("00", BOOK, "1")
    assert "\n98 " in dates
    keys = [line.split(" ")[0] for line in dates[4:].splitlines()[1:]]
    hidden = str(max(int(key) for key in keys if key not in ("98", "0", "00")) + 1)

    answer = phone.send(hidden)  # the key of a date on page 2, never shown on page 1
    assert answer.startswith("CON गलत विकल्प।") and "\n98 " in answer
    while f"\n{hidden} " not in phone.send("98"):
        pass
    assert "केंद्र" in phone.send(hidden)  # once shown, it is taken


def test_a_wrong_key_on_the_first_screen_keeps_every_language_on_it(phone):
    phone.dial()
    for wrong in ("7", "00"):
        screen = phone.send(wrong)
        assert screen.startswith("CON Invalid choice.")
        assert all(option in screen for option in ("1 English", "2 हिंदी", "3 বাংলা"))
        assert "98" not in screen and "00 " not in screen
        assert_fits(screen)


@pytest.mark.usefixtures("demo_centers")
def test_start_over_after_a_resume_offer_uses_the_menus_published_meanwhile(phone, client, db):
    phone.dial()
    phone.send(ENGLISH, "1", "Sita Devi")  # dropped in the middle of registering
    menus = client.application.extensions["vaxgate"].menus
    files = menus.live_files()
    files["main.yaml"] = files["main.yaml"].replace(
        'en: "VaxGate COVID vaccination"', 'en: "VaxGate NEW menu"')
    with db.write() as session:
        version_id = menus.publish(session, files, "test").id
    menus.announce(version_id)

    assert "Continue where you left off" in phone.dial()
    assert "VaxGate NEW menu" in phone.send("2")


@pytest.mark.usefixtures("worker_with_pin")
def test_continue_where_you_left_off_still_asks_a_health_worker_for_her_pin(client):
    health_worker = UssdPhone(client, phone=WORKER_PHONE)
    health_worker.dial()
    assert "UPHC Kankarbagh" in health_worker.send(PIN)
    health_worker.send("1", "Sita Devi")  # dropped in the middle of registering an elder

    again = health_worker.dial()
    assert "Continue where you left off" not in again and "PIN" in again


@pytest.mark.usefixtures("worker_with_pin")
def test_a_signed_in_health_worker_has_her_own_higher_rate_limit(settings):
    from gateway import create_app

    settings.admission.rate_limit_per_phone = "4/minute"
    client = create_app(settings).test_client()
    health_worker = UssdPhone(client, phone=WORKER_PHONE)
    health_worker.dial()
    health_worker.send(PIN)
    for _ in range(4):  # past the citizens' limit, within hers
        screen = health_worker.send("00")
    assert screen.startswith("CON UPHC Kankarbagh")

    citizen = UssdPhone(client, phone="+919811122233")
    citizen.dial()
    screen = citizen.send("7", "7", "1", "1")
    assert screen.startswith("END ") and "Too many requests" in screen
