"""A call id (Twilio CallSid, Africa's Talking sessionId) sent with another caller's number
starts that number's own call; it never continues the first caller's."""
from __future__ import annotations

from tests.ivr.conftest import VoicePhone
from tests.sessions.test_session_binding import OTHER, _mismatches


def test_another_number_with_my_call_id_starts_its_own_call(ivr_client, redis_client):
    owner = VoicePhone(ivr_client, "twilio")
    owner.call()
    owner.press("1")  # English: the owner is now at the main menu
    mine = f"vaxgate:ivr:{{{owner.phone}}}:session:{owner.call_id}"
    before, counted = redis_client.get(mine), _mismatches("ivr")
    thief = VoicePhone(ivr_client, "twilio", phone=OTHER)
    thief.call_id, thief.turn = owner.call_id, owner.turn
    thief.press("2")
    assert _mismatches("ivr") == counted + 1
    assert redis_client.get(mine) == before  # the owner's call is untouched
    assert redis_client.exists(f"vaxgate:ivr:{{{OTHER}}}:session:{owner.call_id}")
