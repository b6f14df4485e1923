"""Where callers give up, counted from a scripted set of abandoned USSD sessions: too many
invalid answers, hang-ups and dropped sessions (Africa's Talking's end notification)."""
from __future__ import annotations

import datetime as dt

from gateway.admin import giveups
from gateway.flows.engine import MAX_INVALID
from tests.conftest import UssdPhone


def _ended(client, phone: UssdPhone, status: str):
    return client.post("/ussd/africastalking/ended", data={
        "sessionId": phone.session_id, "phoneNumber": phone.phone, "status": status,
        "serviceCode": phone.code, "durationInMillis": "30000"})


def test_abandoned_sessions_are_counted_by_screen_language_and_reason(client, redis_client,
                                                                      auth):
    invalid = UssdPhone(client, "+919800000001")
    invalid.dial()
    menu = invalid.send("2")  # Hindi: the main menu
    assert menu.startswith("CON")
    last = invalid.send(*["77"] * MAX_INVALID)
    assert last.startswith("END")
    hung_up = UssdPhone(client, "+919800000002")
    hung_up.dial()  # hangs up on the language screen
    assert _ended(client, hung_up, "Incomplete").status_code == 200
    assert _ended(client, hung_up, "Incomplete").status_code == 200  # reported twice
    dropped = UssdPhone(client, "+919800000003")
    dropped.dial()
    dropped.send("3")  # Bengali, then the network drops it
    _ended(client, dropped, "Failed")
    finished = UssdPhone(client, "+919800000004")
    finished.dial()
    _ended(client, finished, "Success")  # not a give-up
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    giveups.record(redis_client, "main.pick_language", "", "hung up or timed out", "old-1",
                   now=earlier)

    found = {(r["screen"], r["lang"], r["reason"]): (r["hour"], r["day"])
             for r in giveups.summary(redis_client)}
    assert found == {
        ("main.menu", "hi", "too many invalid answers"): (1, 1),
        ("main.pick_language", "not chosen yet", "hung up or timed out"): (1, 2),
        ("main.menu", "bn", "network dropped the session"): (1, 1)}
    assert giveups.dialled(redis_client, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)) == 4
    auth.login()
    page = client.get("/admin/").get_data(as_text=True)
    assert '<b id="funnel-dialled">4</b>' in page
    page = page.split('id="giveups"')[1]
    assert "pick_language" in page and "Hindi" in page and "Bengali" in page


def test_a_malformed_end_notification_names_the_field(client):
    answer = client.post("/ussd/africastalking/ended", data={"sessionId": "x",
                                                             "phoneNumber": "12"})
    assert answer.status_code == 400 and "phoneNumber" in answer.get_data(as_text=True)
