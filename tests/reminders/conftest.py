"""Reminder/waitlist fixtures: settings with a fixed time zone and the default rule."""
from __future__ import annotations

import pytest


@pytest.fixture
def rsettings(settings):
    """App settings with reminders at 24 h and 2 h, quiet 21:00-08:00 IST."""
    data = settings.model_dump()
    data["timezone"] = "Asia/Kolkata"
    data["reminders"] = {"offsets": ["24h", "2h"],
                         "quiet_hours": {"start": "21:00", "end": "08:00"}}
    return type(settings).model_validate(data)


# The SMS tests' fake provider and real-SDK settings, for the inbound webhook tests.
from tests.sms.conftest import (  # noqa: E402,F401
    fake,
    fake_server,
    provider_env,
    sms_app,
    sms_client,
    sms_settings,
)
