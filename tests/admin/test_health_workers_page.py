"""The Health workers page: add, list with last activity, unlock, deactivate, her day."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from gateway.healthworkers import audit as hw_audit
from gateway.healthworkers.models import HealthWorker
from gateway.registry import beneficiaries
from gateway.storage import Center
from gateway.storage.models import utcnow

pytestmark = pytest.mark.usefixtures("demo_centers")


def _patna_code(db) -> str:
    with db.read() as session:
        return session.scalar(select(Center.code).where(Center.district == "Patna")
                              .order_by(Center.id).limit(1))


def _worker(db) -> HealthWorker:
    with db.read() as session:
        return session.scalar(select(HealthWorker))


def test_a_district_user_adds_a_worker_who_then_shows_with_no_pin_yet(auth, client, db):
    auth.login("patna")
    done = auth.post("/admin/health-workers", {"name": "Asha Kumari", "phone": "9812300001",
                                               "center_code": _patna_code(db)},
                     follow_redirects=True).get_data(True)
    assert "Asha Kumari added. She sets her 4-6 digit PIN" in done
    assert "+919812300001" in done and "not set yet" in done and "nothing yet" in done
    bad = auth.post("/admin/health-workers", {"name": "Asha Kumari", "phone": "12",
                                              "center_code": _patna_code(db)},
                    follow_redirects=True).get_data(True)
    assert "Health worker not added: phone number:" in bad


def test_a_district_user_cannot_add_at_another_districts_center(auth, client, db):
    auth.login("lucknow")
    done = auth.post("/admin/health-workers", {"name": "Asha Kumari", "phone": "9812300001",
                                               "center_code": _patna_code(db)},
                     follow_redirects=True).get_data(True)
    assert "center: choose one of your centers" in done and _worker(db) is None


def test_a_locked_worker_is_unlocked_deactivated_and_her_day_listed(auth, client, db,
                                                                    settings):
    auth.login("patna")
    auth.post("/admin/health-workers", {"name": "Asha Kumari", "phone": "9812300001",
                                        "center_code": _patna_code(db)})
    with db.write() as session:
        worker = session.scalar(select(HealthWorker))
        worker.locked_until = utcnow() + dt.timedelta(minutes=30)
        person, _ = beneficiaries.register(session, beneficiaries.NewBeneficiary(
            phone="+919812345678", name="Sita Devi", birth_year=1950, gender="F",
            id_type="aadhaar", id_last4="4821", pincode="800020"),
            today=dt.date.today(), min_age=18, cap=4)
        hw_audit.record(session, worker, channel="ussd", action="register",
                        subject=str(person.id))
    page = client.get("/admin/health-workers").get_data(True)
    assert "locked (wrong PINs)" in page and "nothing yet" not in page
    worker_id = _worker(db).id
    unlocked = auth.post(f"/admin/health-workers/{worker_id}/unlock", follow_redirects=True)
    assert "can sign in with her PIN again" in unlocked.get_data(True)
    assert _worker(db).locked_until is None
    day = client.get(f"/admin/health-workers/{worker_id}").get_data(True)
    assert "registered: <b>1</b>" in day and "Sita Devi" in day
    auth.post(f"/admin/health-workers/{worker_id}/active", {"active": "0"})
    assert not _worker(db).active
    auth.login("lucknow")
    assert client.get(f"/admin/health-workers/{worker_id}").status_code == 404
    assert "Asha Kumari" not in client.get("/admin/health-workers").get_data(True)
