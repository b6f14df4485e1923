"""The dashboard raises the alarm when the deployment's SMS of today pass its daily budget
(sms.budget.deployment_per_day, gateway/sms/budget.py)."""
from __future__ import annotations

import pytest

from gateway.sms import outbox
from tests.sms.support import with_sms


@pytest.fixture
def settings(settings):
    return with_sms(settings, budget={"deployment_per_day": 3})


def _record(db, count: int) -> None:
    with db.write() as session:
        for n in range(count):
            outbox.record_message(session, phone=f"+91981230020{n}", kind="otp", body="code",
                                  lang="en", dedupe_key=f"card-{n}", budget=None)


def test_the_dashboard_shows_the_days_sms_and_alarms_past_the_budget(auth, client, db):
    auth.login()
    _record(db, 3)
    page = client.get("/admin/").get_data(as_text=True)
    assert "<b>3</b> of a daily budget of 3" in page and 'role="alert"' not in page
    _record(db, 4)  # keys card-0..2 again, and one more
    page = client.get("/admin/").get_data(as_text=True)
    assert "<b>4</b> of a daily budget of 3" in page
    assert 'role="alert"' in page and "Over the daily SMS budget" in page
