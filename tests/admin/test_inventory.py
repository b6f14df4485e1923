"""Centers and slots from the console: district scope, bulk slots, capacity rules, CSV."""
from __future__ import annotations

import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from gateway.admin.models import AuditEntry
from gateway.registry.demo_data import DEMO_CENTERS
from gateway.storage import Center, Slot

NEW_CENTER = {"code": "NEW001", "name": "PHC Test Nagar", "state": "Bihar",
              "district": "Patna", "pincode": "800001", "address": "", "active": "on"}


def center_id(db, district: str) -> int:
    with db.read() as session:
        return session.scalar(select(Center.id).where(Center.district == district).limit(1))


@pytest.mark.usefixtures("demo_centers")
def test_a_district_user_sees_only_their_district(auth, client, db):
    auth.login("patna")
    page = client.get("/admin/centers").get_data(as_text=True)
    assert "Patna" in page and "Lucknow" not in page
    assert client.get(f"/admin/centers/{center_id(db, 'Lucknow')}").status_code == 404
    csv_text = client.get("/admin/export/centers.csv").get_data(as_text=True)
    assert "Patna" in csv_text and "Lucknow" not in csv_text


@pytest.mark.usefixtures("demo_centers")
def test_search_finds_a_center_by_pin_code(auth, client):
    auth.login()
    page = client.get("/admin/centers?q=226001").get_data(as_text=True)
    assert "Lucknow" in page and "Patna" not in page


@pytest.mark.parametrize("change, field", [
    ({"pincode": "12345"}, "pincode"), ({"code": "x"}, "code"), ({"name": ""}, "name")])
def test_a_bad_center_is_refused_naming_the_field(auth, users, change, field):
    auth.login()
    response = auth.post("/admin/centers/new", {**NEW_CENTER, **change})
    assert response.status_code == 400 and field in response.get_data(as_text=True)


def test_a_district_user_cannot_create_a_center_elsewhere(auth):
    auth.login("lucknow")
    response = auth.post("/admin/centers/new", NEW_CENTER)
    assert response.status_code == 400
    assert "only manage centers in Lucknow" in response.get_data(as_text=True)


def test_create_edit_and_deactivate_a_center_is_audited(auth, db):
    auth.login("patna")
    response = auth.post("/admin/centers/new", NEW_CENTER)
    assert response.status_code == 302
    created = center_id(db, "Patna")
    auth.post(f"/admin/centers/{created}", {**NEW_CENTER, "name": "PHC Renamed",
                                            "active": None})
    with db.read() as session:
        center = session.get(Center, created)
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert center.name == "PHC Renamed" and not center.active
    assert actions[-2:] == ["center.create", "center.update"]


@pytest.mark.usefixtures("demo_centers")
def test_bulk_slots_cover_the_range_windows_and_age_groups_and_skip_existing(auth, db):
    auth.login()
    target = center_id(db, "Patna")
    start = dt.date.today() + dt.timedelta(days=20)
    form = {"date_from": start.isoformat(), "date_to": (start + dt.timedelta(days=2)).isoformat(),
            "windows": "08:00-09:00, 17:00-18:30", "capacity": "15",
            "age_groups": ["18-44", "45+"]}
    auth.post(f"/admin/centers/{target}/slots", form)
    auth.post(f"/admin/centers/{target}/slots", form)
    with db.read() as session:
        count = session.scalar(select(func.count()).select_from(Slot).where(
            Slot.center_id == target, Slot.date >= start))
    assert count == 3 * 2 * 2


@pytest.mark.usefixtures("demo_centers")
def test_capacity_below_booked_is_refused_with_the_numbers(auth, client, db):
    auth.login()
    with db.write() as session:
        slot = session.scalar(select(Slot).order_by(Slot.id).limit(1))
        slot.capacity, slot.booked = 10, 7
        slot_id = slot.id
    response = auth.post(f"/admin/slots/{slot_id}/capacity", {"capacity": "5"},
                         follow_redirects=True)
    assert "5 is below the 7 places already booked" in html.unescape(
        response.get_data(as_text=True))
    auth.post(f"/admin/slots/{slot_id}/capacity", {"capacity": "8"})
    with db.read() as session:
        assert session.get(Slot, slot_id).capacity == 8


@pytest.mark.usefixtures("demo_centers")
def test_csv_import_reports_every_bad_row_and_changes_nothing(auth, client, db):
    auth.login()
    text = ("center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
            "DEMO001,2030-01-01,09:00,11:00,18-44,COVISHIELD,10\n"
            "NOPE,2030-01-01,09:00,11:00,18-44,COVISHIELD,10\n"
            "DEMO001,2030-01-02,11:00,09:00,18-44,COVISHIELD,10\n"
            "DEMO001,2030-01-03,09:00,11:00,60+,COVISHIELD,10\n")
    response = auth.post("/admin/import/slots", {"text": text})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "row 3: center_code: no center 'NOPE'" in page
    assert "row 4: body: end_time must be after start_time" in page
    assert "row 5: age_group" in page
    with db.read() as session:
        assert not session.scalar(select(Slot).where(Slot.date == dt.date(2030, 1, 1)))


@pytest.mark.usefixtures("demo_centers")
def test_csv_export_then_import_round_trips(auth, client):
    auth.login()
    exported = client.get("/admin/export/centers.csv").get_data(as_text=True)
    response = auth.post("/admin/import/centers", {"text": exported})
    assert response.status_code == 200
    assert f"0 created, {len(DEMO_CENTERS)} updated" in response.get_data(as_text=True)


@pytest.mark.usefixtures("demo_centers")
def test_a_viewer_cannot_change_anything(auth, db):
    auth.login("watcher")
    target = center_id(db, "Patna")
    assert auth.post(f"/admin/centers/{target}", NEW_CENTER).status_code == 403
    assert auth.post("/admin/import/centers", {"text": "x"}).status_code == 403


def _slots_csv(rows: int) -> str:
    """A valid slots CSV with one row per day from 2030-01-01 (~60 bytes a row)."""
    start = dt.date(2030, 1, 1)
    lines = ["center_code,date,start_time,end_time,age_group,vaccine,capacity"]
    lines += [f"DEMO001,{start + dt.timedelta(days=n)},09:00,11:00,18-44,COVISHIELD,10"
              for n in range(rows)]
    return "\n".join(lines) + "\n"


def _slots_from_2030(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count(Slot.id)).where(Slot.date >= dt.date(2030, 1, 1)))


@pytest.mark.usefixtures("demo_centers")
def test_a_csv_past_the_webhook_body_limit_imports_in_the_console_and_api(auth, client, db):
    """Webhooks are capped at 64 KB; a CSV import may be up to 5 MB (csvio.MAX_UPLOAD_BYTES)."""
    text = _slots_csv(1500)
    assert len(text) > 64 * 1024
    auth.login()
    response = auth.post("/admin/import/slots", {"text": text})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert _slots_from_2030(db) == 1500


@pytest.mark.usefixtures("demo_centers")
def test_a_csv_past_the_upload_limit_is_a_413_and_imports_nothing(auth, client, db):
    from gateway.admin.csvio import MAX_UPLOAD_BYTES
    text = _slots_csv(10)
    text += "#" * (MAX_UPLOAD_BYTES + 1 - len(text))
    auth.login()
    assert auth.post("/admin/import/slots", {"text": text}).status_code == 413
    assert _slots_from_2030(db) == 0


@pytest.mark.usefixtures("demo_centers")
def test_csv_header_names_ignore_case_spaces_and_a_byte_order_mark(auth, db):
    """Spreadsheets save "Center Code"-style headers and a UTF-8 BOM; the names still match."""
    auth.login()
    text = ("\ufeffCENTER_CODE, Date ,Start_Time,end_time,AGE_GROUP,Vaccine,Capacity\n"
            "DEMO001,2030-01-01,09:00,11:00,18-44,COVISHIELD,10\n")
    response = auth.post("/admin/import/slots", {"text": text})
    assert response.status_code == 200, html.unescape(response.get_data(as_text=True))[-400:]
    assert _slots_from_2030(db) == 1
