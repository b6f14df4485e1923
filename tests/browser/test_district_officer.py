"""A district officer's vaccination day in the console, in one browser session: sign in,
read the dashboard, open tomorrow's day list and download its PDF, resend to a person not
reached and print the call list, add a health worker, import a slots file with errors and
watch its progress; an admin edits a Hindi prompt, tries it as a draft on a test phone in
the simulator, publishes, compares and reverts to the built-in menus, and deactivating a
user asks first."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from gateway.registry import appointments, beneficiaries
from gateway.storage import Center, Slot
from tests.admin.test_day_lists import tomorrow_bookings  # noqa: F401 - fixture
from tests.admin.test_imports_page import worker  # noqa: F401 - fixture

from .conftest import Phone, sign_in

pytestmark = pytest.mark.usefixtures("users")
SLOTS_WITH_ERRORS = (b"center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
                     b"DEMO001,2030-01-10,09:00,11:00,45+,covishield,many\n")


def test_a_district_officer_runs_a_vaccination_day(page, tomorrow_bookings,  # noqa: F811
                                                   worker, db, settings):  # noqa: F811
    center_id, day, refs = tomorrow_bookings
    page.clock.install()  # time runs as usual; the refresh is reached by jumping ahead
    sign_in(page, "patna")
    assert "Where callers give up" in page.inner_text("#giveups")
    assert "All times are IST (UTC+05:30)" in page.inner_text("#updated")
    page.wait_for_load_state("load")  # Chart.js (deferred) has drawn every canvas
    assert page.evaluate("() => document.querySelectorAll('canvas.chart').length >= 3 && "
                         "Chart.getChart(document.querySelector('canvas.chart')) !== undefined")
    assert page.inner_text("#funnel-booked") == "3"
    with db.write() as session:  # a fourth booking arrives while the officer reads
        _book_one_more(session, settings)
    page.clock.run_for(31_000)
    expect(page.locator("#funnel-booked")).to_have_text("4")
    assert page.locator("canvas.chart").count() >= 3  # redrawn after the refresh

    page.click("nav >> text=Day lists")
    page.select_option("select[name=center_id]", str(center_id))
    page.click("button:has-text('Show')")
    page.click("a:has-text('Tomorrow')")
    assert f"on {day:%a %d %b %Y}" in page.inner_text("#day-title")
    table = page.inner_text("#day-list")
    assert "+919812340002" in table and "health worker (SMS)" in table
    with page.expect_download() as download:
        page.click("#download-pdf")
    path = download.value.path()
    assert download.value.suggested_filename.endswith(f"{day}.pdf")
    assert open(path, "rb").read(5) == b"%PDF-"

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the table scrolls alone
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.set_viewport_size({"width": 1100, "height": 900})
    page.click("a:has-text('Not reached (1)')")
    assert refs[1] in page.inner_text("#not-reached")
    with page.expect_download() as call_list:
        page.click("#call-list-pdf")
    name = call_list.value.suggested_filename
    assert name.startswith("call-") and name.endswith(f"-{day}.pdf")
    page.click("#not-reached button:has-text('Send again')")
    page.wait_for_selector("text=Reminder sent again to सीता देवी")

    page.goto("/admin/health-workers")
    page.fill("#add-worker input[name=name]", "Asha Kumari")
    page.fill("#add-worker input[name=phone]", "9812300009")
    page.click("#add-worker button")
    page.wait_for_selector("text=Asha Kumari added.")
    page.click("#health-workers >> text=Asha Kumari")
    page.wait_for_selector("text=Asha Kumari's day")

    page.click("nav >> text=Imports")
    page.set_input_files("#import-slots input[type=file]", files=[{
        "name": "slots.csv", "mimeType": "text/csv", "buffer": SLOTS_WITH_ERRORS}])
    page.click("#import-slots button")
    page.wait_for_selector("#import-progress progress")
    assert page.locator("#import-slots").count() == 0  # on the job's page: sent once
    worker()  # a worker takes the job; the page sees it done and shows the result
    page.wait_for_selector("#import-problems")
    assert "Row 2: capacity: must be a whole number" in page.inner_text("#import-problems")


def _book_one_more(session, settings) -> None:
    today = dt.datetime.now(ZoneInfo(settings.timezone)).date()
    person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
        phone="+919812340099", name="Gita Devi", birth_year=1950, gender="F",
        id_type="aadhaar", id_last4="4821", pincode="800020"), today=today, min_age=18, cap=4)
    slot = session.scalar(select(Slot).join(Center).where(
        Center.district == "Patna", Slot.date == today + dt.timedelta(days=1),
        Slot.age_group == "45+").order_by(Slot.id).limit(1))
    appointments.book(session, person.id, slot.id, today=today)


def test_an_admin_edits_a_hindi_prompt_compares_reverts_and_deactivates_a_user(page):
    sign_in(page, "root")
    page.click("nav >> text=Menus")
    page.click("a[href$='/menus/prompts/main.yaml']")
    page.fill("textarea[name='p:menu:hi']", "टीका बुकिंग")
    page.click("#prompt-form button")
    page.wait_for_selector("text=Preview")
    page.fill("#menu-form input[name=phones]", "9812340011")
    page.click("#menu-form button[value=draft]")
    page.wait_for_selector("#menu-draft")
    phone = Phone(page, "+919812340011")  # the test phone sees the draft in the simulator
    phone.dial()
    assert "टीका बुकिंग" in phone.send("2")
    page.goto("/admin/menus")
    page.click("#publish-draft")
    page.wait_for_selector("text=Published version #1")
    page.click("text=Compare versions")
    diff = page.inner_text("#menu-diff")
    assert "-    prompt: {en: \"VaxGate COVID vaccination\", hi: \"कोविड टीकाकरण\"" in diff
    assert "टीका बुकिंग" in diff
    page.click("text=← Menus")
    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#revert-builtin")
    page.wait_for_selector("text=Published version #2")

    page.goto("/admin/users")
    row = page.locator("tr", has_text="watcher")
    page.once("dialog", lambda dialog: dialog.dismiss())
    row.locator("button:has-text('Deactivate')").click()
    assert row.locator("button:has-text('Deactivate')").count() == 1  # nothing changed
    page.once("dialog", lambda dialog: dialog.accept())
    row.locator("button:has-text('Deactivate')").click()
    page.wait_for_selector("text=watcher deactivated.")
    assert page.locator("tr", has_text="root").locator("text=you").count() == 1
