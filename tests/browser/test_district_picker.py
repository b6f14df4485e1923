"""The console's state and district pickers (India Post's directory) in a real browser."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.admin.models import AdminUser, ApiKey
from gateway.storage import Center

from .conftest import sign_in

pytestmark = pytest.mark.usefixtures("users")
OFFERED = "els => els.filter(e => !e.parentElement.disabled).map(e => e.value)"
# the place of Maharashtra's Aurangabad among the options (Bihar has one too)
MAHARASHTRAS = ("s => [...s.options].findIndex(o => o.value === 'Aurangabad'"
                " && o.parentElement.label === 'Maharashtra')")


def offered(page, select_css: str) -> list[str]:
    """The district options a person can choose (those of hidden states are disabled)."""
    return page.eval_on_selector_all(f"{select_css} optgroup option", OFFERED)


def test_choosing_a_state_offers_only_its_districts_and_creates_the_center(page, db):
    sign_in(page)
    page.goto("/admin/centers/new")
    page.select_option("#center-state", "Bihar")
    districts = offered(page, "select[data-district-of=center-state]")
    assert "Patna" in districts and "Gaya" in districts and "Lucknow" not in districts
    page.select_option("select[data-district-of=center-state]", "Gaya")
    page.fill("input[name=code]", "GAYA9")
    page.fill("input[name=name]", "PHC Manpur")
    page.fill("input[name=pincode]", "823003")
    page.click("form.card button.primary")
    page.wait_for_selector("text=Center created.")
    with db.read() as session:
        center = session.scalar(select(Center).where(Center.code == "GAYA9"))
    assert (center.state, center.district) == ("Bihar", "Gaya") and center.latitude


def test_a_pin_code_outside_the_picked_district_is_refused_on_the_form(page):
    sign_in(page)
    page.goto("/admin/centers/new")
    page.select_option("#center-state", "Bihar")
    page.select_option("select[data-district-of=center-state]", "Patna")
    page.fill("input[name=code]", "WRONG1")
    page.fill("input[name=name]", "PHC Wrong")
    page.fill("input[name=pincode]", "226001")
    page.click("form.card button.primary")
    page.wait_for_selector("text=226001 is in Lucknow, not in Patna, Bihar")
    assert page.get_attribute("input[name=pincode]", "aria-invalid") == "true"


def test_choosing_a_district_first_fills_in_its_state_for_a_new_api_key(page, db):
    sign_in(page)
    page.goto("/admin/users")
    page.fill("input[name=name]", "district dashboard")
    page.select_option("form[action$='/keys'] select[name=role]", "district")
    page.select_option("select[data-district-of=key-state]", "Lucknow")
    assert page.input_value("#key-state") == "Uttar Pradesh"
    assert "Patna" not in offered(page, "select[data-district-of=key-state]")
    page.click("text=Create key")
    page.wait_for_selector("#new-key")
    with db.read() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.name == "district dashboard"))
    assert (key.state, key.district) == ("Uttar Pradesh", "Lucknow")


def test_a_district_user_is_created_with_the_district_picked_from_the_directory(page, db):
    sign_in(page)
    page.goto("/admin/users")
    form = "form[action$='/users']"
    page.fill(f"{form} input[name=username]", "asha.gaya")
    page.fill(f"{form} input[name=password]", "long enough pw")
    page.select_option(f"{form} select[name=role]", "district")
    page.select_option("#user-state", "Bihar")
    districts = offered(page, "select[data-district-of=user-state]")
    assert "Gaya" in districts and "Lucknow" not in districts
    page.select_option("select[data-district-of=user-state]", "Gaya")
    page.click(f"{form} button")
    page.wait_for_selector("text=User asha.gaya created.")
    with db.read() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "asha.gaya"))
    assert (user.state, user.district) == ("Bihar", "Gaya")
    assert page.is_visible("text=Gaya, Bihar")


@pytest.mark.parametrize("form, picker, fill, created", [
    ("form[action$='/users']", "user", {"username": "aurangabad.mh", "password": "long enough pw"},
     "text=User aurangabad.mh created."),
    ("form[action$='/keys']", "key", {"name": "aurangabad dashboard"}, "#new-key"),
])
def test_a_district_two_states_share_is_picked_with_its_state(page, db, form, picker, fill,
                                                               created):
    """Aurangabad is a district of Bihar and of Maharashtra: the state picked is the one kept."""
    sign_in(page)
    page.goto("/admin/users")
    for name, value in fill.items():
        page.fill(f"{form} input[name={name}]", value)
    page.select_option(f"{form} select[name=role]", "district")
    page.select_option(f"#{picker}-state", "Maharashtra")
    districts = f"select[data-district-of={picker}-state]"
    assert offered(page, districts).count("Aurangabad") == 1
    page.select_option(districts, index=page.eval_on_selector(districts, MAHARASHTRAS))
    assert page.input_value(f"#{picker}-state") == "Maharashtra"
    page.click(f"{form} button")
    page.wait_for_selector(created)
    model = AdminUser if picker == "user" else ApiKey
    with db.read() as session:
        row = session.scalar(select(model).where(model.district == "Aurangabad"))
    assert (row.state, row.district) == ("Maharashtra", "Aurangabad")
