"""The shipped menus, end to end, through the engine with an in-memory service double."""

from __future__ import annotations

import pytest

from gateway.flows import ActionResult, Effect

LANGS = ["en", "hi", "bn"]
LANGUAGE_KEYS = {"en": "1", "hi": "2", "bn": "3"}
REGISTER, BOOK, APPOINTMENTS, LANGUAGE = "1", "2", "3", "4"


def register(phone, name="Sita Devi", year="1948", gender="2", id_type="1", last4="4821",
             pincode="800001"):
    """From the main menu, register one person and confirm."""
    return phone.press(REGISTER, name, year, gender, id_type, last4, pincode, "1")


def book_first_slot(phone):
    """From a date list: first date, first center, first window, confirm."""
    return phone.press("1", "1", "1", "1")


@pytest.mark.parametrize("lang", LANGS)
def test_new_phone_picks_language_then_sees_main_menu_in_it(phone, services, lang):
    assert phone.dial().screen_id == "main.pick_language"
    screen = phone.press(LANGUAGE_KEYS[lang])
    assert (screen.screen_id, screen.lang) == ("main.menu", lang)
    assert services.languages[phone.number] == lang
    assert Effect("language_set", {"lang": lang}) in phone.effects


def test_known_phone_goes_straight_to_main_menu_in_saved_language(phone, services):
    services.languages[phone.number] = "bn"
    screen = phone.dial()
    assert (screen.screen_id, screen.lang) == ("main.menu", "bn")


@pytest.mark.parametrize("lang", LANGS)
def test_registration_then_booking_ends_with_reference(phone, services, lang):
    services.languages[phone.number] = lang
    phone.dial()
    assert register(phone).screen_id == "registration.registered"
    assert services.people[0] | {"lang": lang} == services.people[0]
    assert services.people[0]["gender"] == "F" and services.people[0]["id_type"] == "aadhaar"
    phone.press("1")  # Book a slot now
    screen = book_first_slot(phone)
    assert screen.final and screen.screen_id == "booking.booked"
    assert "REF001" in screen.text and "PHC Danapur" in screen.text and "09:00-11:00" in screen.text
    assert services.called("book_slot")[0]["reschedule_id"] == ""
    assert phone.effects[-1] == Effect("ended", {"reason": "completed"})


def test_registration_saves_cleaned_answers(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone, name="  sita   DEVI ", year="१९४८", gender="3", id_type="6")
    person = services.people[0]
    assert (person["name"], person["birth_year"], person["gender"], person["id_type"]) == (
        "Sita Devi", "1948", "O", "ration")


def test_family_member_booking_asks_which_person(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone, name="Sita Devi")
    phone.press("00")
    register(phone, name="Ram Prasad", year="1950", gender="1")
    phone.press("00", BOOK)
    assert phone.screen.screen_id == "booking.pick_person"
    assert [o.label for o in phone.screen.options] == ["Sita Devi 1948", "Ram Prasad 1950"]
    phone.press("2")
    book_first_slot(phone)
    assert services.appointments[0]["beneficiary_name"] == "Ram Prasad"


def test_registering_the_same_person_twice_says_already_registered(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("00")
    screen = register(phone)
    assert screen.screen_id == "registration.duplicate"
    assert "Sita Devi is already registered" in screen.text
    assert len(services.people) == 1


def test_phone_at_the_cap_cannot_register_more(phone, services):
    services.languages[phone.number] = "en"
    services.cap = 1
    phone.dial()
    register(phone)
    screen = phone.press("00", REGISTER)
    assert screen.final and screen.screen_id == "registration.full"
    assert "at most 1 people" in screen.text


def test_register_outcome_not_eligible_ends_with_min_age(phone, services):
    services.languages[phone.number] = "en"
    services.forced["register_beneficiary"] = [ActionResult("not_eligible")]
    phone.dial()
    screen = register(phone)
    assert screen.screen_id == "registration.not_eligible" and "18" in screen.text


def test_back_returns_to_previous_screen_and_home_to_main_menu(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    phone.press(REGISTER, "Sita Devi", "1948")
    assert phone.screen.screen_id == "registration.gender"
    assert phone.press("0").screen_id == "registration.birth_year"
    assert phone.press("0").screen_id == "registration.name"
    assert phone.press("0").screen_id == "main.menu"
    phone.press(REGISTER, "Sita Devi")
    screen = phone.press("00")
    assert (screen.screen_id, screen.lang, screen.can_go_back) == ("main.menu", "en", False)


def test_back_on_main_menu_is_an_invalid_choice(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    screen = phone.press("0")
    assert screen.screen_id == "main.menu" and screen.error == "Invalid choice."


def test_three_invalid_answers_in_a_row_end_the_session_with_helpline(phone, services):
    services.languages[phone.number] = "hi"
    phone.dial()
    phone.press(REGISTER)
    assert phone.press("x").error is not None
    assert phone.press("1").error is not None
    screen = phone.press("12345")
    assert screen.final and "1075" in screen.text
    assert phone.effects[-1] == Effect("ended", {"reason": "too_many_invalid"})


def test_a_valid_answer_resets_the_invalid_count(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    phone.press("9", "9", "1", "x", "x")
    assert not phone.screen.final and phone.screen.screen_id == "registration.name"


@pytest.mark.parametrize("lang, expected", [
    ("en", "Enter a 4-digit year"),
    ("hi", "4 अंकों का वर्ष"),
    ("bn", "4 সংখ্যার সাল"),
])
def test_invalid_answer_reshows_screen_with_translated_error(phone, services, lang, expected):
    services.languages[phone.number] = lang
    phone.dial()
    screen = phone.press(REGISTER, "Sita Devi", "48")
    assert screen.screen_id == "registration.birth_year" and expected in screen.error


def test_too_young_person_sees_min_age_from_settings(make_phone, services):
    services.languages["+919800000002"] = "en"
    phone = make_phone(number="+919800000002", settings={"min_age": 45})
    phone.dial()
    screen = phone.press(REGISTER, "Sita Devi", "1990")
    assert screen.error == "Only people aged 45 or more can register."
    assert phone.press("1976").screen_id == "registration.gender"


def test_no_registered_person_offers_registration(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    screen = phone.press(BOOK)
    assert screen.screen_id == "booking.nobody_registered"
    assert phone.press("1").screen_id == "registration.name"


def test_no_dates_offers_the_waitlist_instead_of_a_dead_end(phone, services):
    services.languages[phone.number] = "en"
    services.dates = []
    phone.dial()
    register(phone)
    screen = phone.press("1")
    assert not screen.final and screen.screen_id == "booking.no_slots"
    joined = phone.press("1")
    assert joined.final and joined.screen_id == "booking.waitlisted"


def test_window_filled_meanwhile_asks_for_another_window(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("1", "1", "1", "1")
    assert phone.screen.screen_id == "booking.confirm"
    services.windows["301"] = ("09:00-11:00", 0)
    screen = phone.press("1")
    assert screen.screen_id == "booking.window_taken"
    assert [o.label for o in screen.options] == ["11:00-13:00 (3)"]
    assert phone.press("1", "1").screen_id == "booking.booked"


def test_list_items_are_kept_in_state_not_recomputed_on_answer(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("1")
    calls = len(services.called("list_dates"))
    assert [item["value"] for item in phone.state["items"]] == services.dates
    phone.press("3")
    assert len(services.called("list_dates")) == calls
    assert phone.state["vars"]["date"] == "2021-11-25"


def test_reschedule_books_new_slot_for_the_same_person(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("1")
    book_first_slot(phone)
    phone.dial()
    phone.press(APPOINTMENTS, "1")
    assert phone.screen.screen_id == "appointments.appointment"
    assert phone.press("2").screen_id == "booking.pick_date"
    assert phone.state["vars"]["reschedule_id"] == "1"
    phone.press("2", "2", "1", "1")
    booked = services.called("book_slot")[-1]
    assert (booked["reschedule_id"], booked["beneficiary_id"]) == ("1", "1")
    assert [a["center_name"] for a in services.appointments] == ["CHC Phulwari Sharif"]


def test_main_menu_book_clears_reschedule_id(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("1")
    book_first_slot(phone)
    phone.dial()
    phone.press(APPOINTMENTS, "1", "2", "00", BOOK, "1", "1", "1", "1", "1")
    assert services.called("list_dates")[-1]["reschedule_id"] == ""
    assert services.called("book_slot")[-1]["reschedule_id"] == ""


def test_cancel_appointment_after_confirming(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    register(phone)
    phone.press("1")
    book_first_slot(phone)
    phone.dial()
    screen = phone.press(APPOINTMENTS, "1", "1", "1")
    assert screen.final and "REF001 is cancelled" in screen.text
    assert services.appointments == []


def test_no_appointments_offers_booking(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    assert phone.press(APPOINTMENTS).screen_id == "appointments.no_appointments"


def test_changing_language_from_main_menu(phone, services):
    services.languages[phone.number] = "en"
    phone.dial()
    screen = phone.press(LANGUAGE, "3")
    assert (screen.screen_id, screen.lang) == ("main.menu", "bn")
    assert services.languages[phone.number] == "bn"
    assert phone.effects == [Effect("language_set", {"lang": "bn"})]
