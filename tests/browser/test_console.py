"""The console and the simulator in a real (headless) browser."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from gateway.storage import Center, Slot

from .conftest import Phone, sign_in

pytestmark = pytest.mark.usefixtures("users")


def test_sign_in_reaches_the_dashboard_and_sign_out_leaves(page):
    page.goto("/admin/centers")
    assert "/admin/login" in page.url
    sign_in(page)
    page.wait_for_function("document.querySelectorAll('canvas.chart').length >= 2"
                           " && typeof Chart !== 'undefined'")
    page.click("text=Sign out")
    page.wait_for_selector("text=Signed out.")


def test_a_published_menu_change_shows_in_the_simulator(page):
    sign_in(page)
    page.goto("/admin/menus/edit/main.yaml")
    text = page.input_value("textarea[name=text]")
    page.fill("textarea[name=text]", text.replace("Welcome to VaxGate.", "Welcome to DEMO.", 1))
    page.click("button[value=publish]")
    page.wait_for_selector("text=Published version #1")
    assert "Welcome to DEMO." in Phone(page).dial()


def test_a_slot_range_is_created_from_the_center_page(page, db):
    with db.read() as session:
        center_id = session.scalar(select(Center.id).where(Center.district == "Patna"))
    start = dt.date.today() + dt.timedelta(days=40)
    sign_in(page, "patna")
    page.goto(f"/admin/centers/{center_id}")
    page.fill("input[name=date_from]", start.isoformat())
    page.fill("input[name=date_to]", (start + dt.timedelta(days=4)).isoformat())
    page.fill("input[name=windows]", "10:00-12:00")
    page.click("#bulk-slots button.primary")
    page.wait_for_selector("text=10 slots created, 0 already existed.")
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Slot).where(
            Slot.center_id == center_id, Slot.date >= start)) == 10


def test_a_registration_made_in_the_simulator_shows_on_the_dashboard(page):
    phone = Phone(page)
    assert "Language" in phone.dial()
    phone.send("1", "1", "Sita Devi", "1948", "2", "1", "1234", "800020")
    done = phone.send("1")
    assert "Sita Devi" in done or "registered" in done.lower()
    sign_in(page)
    page.goto("/admin/")
    assert page.inner_text("#total-registrations") == "1"


def test_a_district_user_cannot_see_another_district(page, db):
    with db.read() as session:
        lucknow = session.scalar(select(Center.id).where(Center.district == "Lucknow"))
    sign_in(page, "patna")
    page.goto("/admin/centers")
    table = page.inner_text("table")
    assert "Patna" in table and "Lucknow" not in table
    response = page.goto(f"/admin/centers/{lucknow}")
    assert response.status == 404 and "Not found." in page.inner_text("main")


def test_the_call_button_walks_the_ivr_menus_as_text(page):
    phone = Phone(page)
    first = phone.call()
    assert "press" in first.lower()
    after_english = phone.send("1")
    assert after_english != first and "press" in after_english.lower()
