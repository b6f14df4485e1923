"""The fixed world the golden journeys are played in: the shared app on a real Redis and
database (tests/conftest.py), with the clock, demo centers, reference codes and the Twilio
signing key pinned as tests/golden/journeys.py describes."""
from __future__ import annotations

import os

import pytest
import time_machine

from gateway.registry import appointments
from gateway.registry.demo_data import load_demo_data
from tests.golden import journeys


@pytest.fixture
def settings(settings, tmp_path):
    """The shared test settings with no recorded prompts: every line is text-to-speech."""
    settings.ivr.audio_dir = str(tmp_path / "ivr_audio")
    return settings


@pytest.fixture
def golden_world(db, settings, monkeypatch):
    """Frozen clock, that day's demo centers, seeded reference codes, a Twilio auth token."""
    monkeypatch.setattr(appointments, "new_reference", journeys.reference_codes())
    for var in (settings.ivr.twilio_auth_token_env, settings.ivr.africastalking_secret_env):
        monkeypatch.delenv(f"{var}_FILE", raising=False)
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(settings.ivr.twilio_auth_token_env, journeys.TWILIO_TOKEN)
    with time_machine.travel(journeys.CLOCK, tick=False):
        with db.write() as session:
            load_demo_data(session, journeys.CLOCK.date(), days=settings.booking.days_ahead)
        yield


@pytest.fixture
def regenerating() -> bool:
    """True when the transcripts are being regenerated rather than checked."""
    return os.environ.get(journeys.RECORD_ENV) == "1"
