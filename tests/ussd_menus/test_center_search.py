"""Where a caller's center list comes from, over USSD: India Post's directory places the
home PIN code; a PIN code that does not exist is refused in the caller's language."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from gateway.storage import Beneficiary
from tests.ussd_menus.test_ussd_journeys import (
    BENGALI,
    BOOK,
    ENGLISH,
    HINDI,
    YES,
    assert_fits,
    register,
)

LINE = re.compile(r"^(\d+) (.+) (<1|\d+) km$")


def center_pages(phone) -> list[str]:
    """Every page of the center list for the first date, turning pages with "98"."""
    pages = [phone.send("00", BOOK, "1", "1")]
    while "\n98 " in pages[-1]:
        pages.append(phone.send("98"))
    for page in pages:
        assert_fits(page)
    return pages


def center_lines(pages: list[str]) -> list[tuple[str, int]]:
    """(center name, km) of every numbered line, in order."""
    found = [LINE.match(line) for page in pages for line in page[4:].splitlines()]
    return [(m.group(2), 0 if m.group(3) == "<1" else int(m.group(3))) for m in found if m]


@pytest.mark.usefixtures("demo_centers")
def test_home_pin_800020_is_offered_every_patna_center_then_the_nearest_outside(phone):
    phone.dial()
    phone.send(ENGLISH)
    register(phone, pincode="800020")
    pages = center_pages(phone)
    lines = center_lines(pages)
    patna = ["UPHC Kankarbagh", "PMCH Patna", "PHC Phulwari Sharif",
             "Sub-divisional Hospital Danapur", "PHC Fatuha", "CHC Masaurhi",
             "Sub-divisional Hospital Barh"]
    assert len(pages) > 1 and "98 More" in pages[0]
    assert lines[0] == ("UPHC Kankarbagh", 0)  # the home PIN code's own center first
    assert [name for name, _ in lines[:len(patna)]] == patna  # the district, nearest first
    outside = lines[len(patna):]
    assert [name for name, _ in outside] == ["Sadar Hospital Hajipur", "Sadar Hospital Chhapra",
                                             "Sadar Hospital Ara"]
    assert [km for _, km in outside] == sorted(km for _, km in outside)
    assert all(km <= 50 for _, km in outside)
    assert "PHC Bihar Sharif" not in "".join(pages)  # Nalanda: 58 km, beyond near_km


@pytest.mark.usefixtures("demo_centers")
def test_a_home_with_no_center_near_is_told_so_and_offered_the_nearest_with_km(phone):
    phone.dial()
    phone.send(ENGLISH)
    register(phone, pincode="799001")  # Agartala: no demo center in Tripura
    pages = center_pages(phone)
    assert pages[0].startswith("CON No center within 50 km has free slots on")
    kms = [km for _, km in center_lines(pages)]
    assert len(kms) == 5 and kms == sorted(kms) and kms[0] > 50
    shown = LINE.match(pages[-1][4:].splitlines()[0]).group(1)  # a key on the last page
    assert phone.send(shown).startswith("CON Choose a time")


@pytest.mark.usefixtures("demo_centers")
@pytest.mark.parametrize("language,refusal", [
    (ENGLISH, "CON PIN code 800999 does not exist."),
    (HINDI, "CON पिनकोड 800999 मौजूद नहीं है।"),
    (BENGALI, "CON পিনকোড 800999 নেই।"),
])
def test_a_pin_code_that_does_not_exist_is_refused_in_the_callers_language(phone, db,
                                                                            language, refusal):
    phone.dial()
    phone.send(language, "1", "Sita Devi", "1948", "2", "1", "1234")
    refused = phone.send("800999")
    assert refused.startswith(refusal)
    assert_fits(refused)
    assert "800020" in phone.send("800020")  # the confirm screen, with the real PIN code
    phone.send(YES)
    with db.read() as session:
        assert session.scalars(select(Beneficiary.pincode)).all() == ["800020"]
