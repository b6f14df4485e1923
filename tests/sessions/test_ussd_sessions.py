"""USSD session handling: navigation, paging, repeats, out-of-step histories, resume."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from gateway.storage import Appointment, Center, Slot
from tests.ussd_menus.test_ussd_journeys import (
    BOOK,
    ENGLISH,
    REGISTER,
    YES,
    book_first_choices,
    register,
)


@pytest.fixture
def english_phone(phone, demo_centers):
    phone.dial()
    phone.send(ENGLISH)
    return phone


def test_zero_goes_back_and_double_zero_goes_home(english_phone):
    phone = english_phone
    ask_year = phone.send(REGISTER, "Sita Devi")
    assert "Year of birth" in ask_year
    assert "name" in phone.send("0").lower()
    home = phone.send("00")
    assert "Register" in home and "Book" in home


def test_three_invalid_answers_end_the_session_with_help(english_phone):
    phone = english_phone
    first = phone.send("7")
    assert first.startswith("CON ") and "Invalid" in first
    phone.send("x")
    end = phone.send("9")
    assert end.startswith("END ") and "1075" in end


def test_a_repeated_request_shows_the_same_screen_and_books_once(english_phone, db):
    phone = english_phone
    register(phone)
    phone.send("00")
    end = book_first_choices(phone)
    repeat = phone.post()  # the aggregator retries the last request
    assert repeat == end
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_a_history_that_does_not_match_reshows_the_current_screen(english_phone):
    phone = english_phone
    ask_name = phone.send(REGISTER)
    out_of_step = phone.post(text="5*5*5")
    assert out_of_step == ask_name
    phone.history = ["5", "5", "5", "Sita Devi"]  # the aggregator carries on from its history
    assert "Year of birth" in phone.post()


def test_an_answer_containing_a_star_is_taken_whole(english_phone):
    phone = english_phone
    phone.send(REGISTER)
    screen = phone.send("Sita*Devi")
    assert screen.startswith("CON ") and "letters" in screen


def test_a_dropped_session_resumes_on_redial(english_phone):
    phone = english_phone
    ask_year = phone.send(REGISTER, "Sita Devi")
    offer = phone.dial()
    assert "Continue" in offer and offer.startswith("CON ")
    assert phone.send("1") == ask_year
    assert "Gender" in phone.send("1948")


def test_starting_over_after_a_drop_shows_the_main_menu(english_phone):
    phone = english_phone
    phone.send(REGISTER, "Sita Devi")
    phone.dial()
    home = phone.send("2")
    assert "Register" in home and "Continue" not in home


def test_a_finished_session_is_not_offered_for_resume(english_phone):
    phone = english_phone
    register(phone)
    phone.send("00", BOOK, "1", "1", "1", "1", YES)
    assert "Continue" not in phone.dial()


def test_losing_redis_mid_session_starts_cleanly(english_phone, redis_client):
    phone = english_phone
    phone.send(REGISTER, "Sita Devi")
    redis_client.flushall()
    screen = phone.send("1948")
    assert screen.startswith("CON ") and "Register" in screen


def test_long_lists_page_with_98_and_every_option_is_reachable(english_phone, db):
    phone = english_phone
    today = dt.date.today()
    with db.write() as session:
        for n in range(12):
            center = Center(code=f"LONG{n}", name=f"Community Health Centre Number {n:02d}",
                            state="Karnataka", district="Bengaluru Urban", pincode="560099")
            session.add(center)
            session.flush()
            for day in range(1, 3):
                session.add(Slot(center_id=center.id, date=today + dt.timedelta(days=day),
                                 start_time=dt.time(9), end_time=dt.time(11),
                                 age_group="45+", capacity=5))
    register(phone, pincode="560099")
    phone.send("00")
    first_page = phone.send(BOOK, "1", "1")
    assert "98" in first_page and "Number 00" in first_page
    seen = set()
    page = first_page
    for _ in range(12):
        seen |= {n for n in range(12) if f"Number {n:02d}" in page}
        if "98 " not in page:
            break
        page = phone.send("98")
    assert seen == set(range(12))
    previous = phone.send("0")
    assert previous.startswith("CON ") and previous != page
    phone.send("98")
    choose_last = phone.send("12")  # only an option on the page shown is taken
    assert "time" in choose_last.lower()


def test_resume_can_be_switched_off(settings, db, redis_client, demo_centers):
    from gateway import create_app
    from tests.conftest import UssdPhone

    settings.ussd.resume_window_seconds = 0
    phone = UssdPhone(create_app(settings).test_client())
    phone.dial()
    phone.send(ENGLISH, REGISTER, "Sita Devi")
    assert "Continue" not in phone.dial()


def test_a_new_session_that_arrives_with_history_starts_at_the_first_screen(phone, db,
                                                                             demo_centers):
    phone.session_id = "fresh-with-history"
    first = phone.post(text="1*1")
    assert first.startswith("CON ") and "Language" in first
    phone.history = ["1", "1", "1"]  # the next answer after that history is applied
    assert "English" not in phone.post()


def test_the_stored_session_keeps_no_copy_of_the_typed_history(english_phone, redis_client):
    phone = english_phone
    phone.send(REGISTER, "Sita Devi", "1948", "2", "1", "7319")
    stored = b"".join(redis_client.get(key) or b""
                      for key in redis_client.keys("vaxgate:ussd:*:session:*"))
    assert b"*".join(h.encode() for h in phone.history) not in stored
    assert b"7319*" not in stored and b"*7319" not in stored
