"""A whole voice call in /simulator/ in Bengali: keys go to the call (never to the dialled
code), the name is "said" with the simulated recording, the phone speaks each line in its
own language and plays recordings, and after the call typed digits dial nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.storage import Appointment, Beneficiary

NUMBER = "+919812399001"


class VoiceCall:
    """The simulator's phone during a call, pressed as a caller would."""

    def __init__(self, page):
        self.page = page
        page.goto("/simulator/")
        page.fill("#phone", NUMBER)

    def _after(self, action) -> str:
        turns = self.page.evaluate("window.SIMULATOR.turns")
        action()
        self.page.wait_for_function("n => window.SIMULATOR.turns > n", arg=turns)
        return self.page.inner_text("#display")

    def call(self) -> str:
        return self._after(lambda: self.page.click("#call"))

    def key(self, key: str) -> str:
        return self._after(lambda: self.page.click(f".key[data-key='{key}']"))

    def number(self, digits: str) -> str:
        for digit in digits:
            self.page.click(f".key[data-key='{digit}']")
        return self.key("#")

    def say_name(self) -> str:
        return self._after(lambda: self.page.click("#speak"))


def test_a_bengali_caller_registers_and_books_by_voice_in_the_simulator(page, db):
    phone = VoiceCall(page)
    assert "বাংলা চাইলে 3 টিপুন" in phone.call()
    assert "রেজিস্টার করতে 1 টিপুন" in phone.key("3")
    assert "নাম বলুন" in phone.key("1")
    assert page.get_attribute("body", "data-expect") == "record"
    assert "আরেকবার" in phone.say_name()  # say it again to be written down, or key on
    assert "লিঙ্গ" in phone.number("1948")  # the year keyed: the recording is the name
    phone.key("2")  # female
    phone.key("1")  # Aadhaar
    phone.number("1234")
    assert "রেজিস্টার করবেন" in phone.number("800020")
    assert "স্লট বুক করতে 1 টিপুন" in phone.key("1")  # yes: registered
    phone.key("1")  # book now
    phone.key("1")  # the first date
    phone.key("1")  # the nearest center
    assert "বুক করবেন" in phone.key("1")  # the first time window
    booked = phone.key("1")

    assert "আপনার কোড" in booked and page.get_attribute("body", "data-mode") == "idle"
    with db.read() as session:
        person = session.scalar(select(Beneficiary))
        appointment = session.scalar(select(Appointment))
    assert person.name == "ব্যক্তি 1" and person.language == "bn"
    assert appointment.status == "booked" and appointment.channel == "ivr"
    spoken = page.evaluate("window.SIMULATOR.spoken")
    assert any(item.get("lang") == "bn-IN" for item in spoken)
    assert any(item.get("url", "").endswith("/simulator/recording.wav") for item in spoken)

    assert page.input_value("#dialbox") == "*384*1234#"  # after the call: the code again
    page.fill("#dialbox", "1")
    page.click("#send")
    assert "Dial a short code" in page.inner_text("#display")  # digits are not dialled


@pytest.mark.parametrize("width", [1100, 360])
def test_the_send_button_is_inside_the_phone_at_desktop_and_mobile_widths(page, width):
    page.set_viewport_size({"width": width, "height": 800})
    page.goto("/simulator/")
    phone, send = page.locator(".phone").bounding_box(), page.locator("#send").bounding_box()
    assert send["x"] >= phone["x"] and send["x"] + send["width"] <= phone["x"] + phone["width"]
