"""The phone simulator page and its sandbox SMS inbox; off when simulator.enabled is false."""
from __future__ import annotations

from gateway import create_app
from gateway.storage import SandboxMessage


def test_the_simulator_page_has_a_keypad_and_the_short_code(client):
    page = client.get("/simulator/").get_data(as_text=True)
    assert 'data-key="#"' in page and "*384*1234#" in page


def test_the_inbox_lists_what_the_sandbox_sent_to_that_number(client, db):
    with db.write() as session:
        session.add(SandboxMessage(phone="+919812345678", body="Your code is 123456",
                                   provider_message_id="SBtest1"))
    found = client.get("/simulator/inbox?phone=9812345678").get_json()
    assert found["phone"] == "+919812345678"
    assert [m["body"] for m in found["messages"]] == ["Your code is 123456"]


def test_a_bad_number_gets_a_400_naming_the_field(client):
    response = client.get("/simulator/inbox?phone=12")
    assert response.status_code == 400 and response.get_json()["field"] == "phone"


def test_the_simulator_is_off_when_disabled(settings, db, redis_client):
    off = create_app(settings.model_copy(update={
        "simulator": settings.simulator.model_copy(update={"enabled": False})}))
    assert off.test_client().get("/simulator/").status_code == 404
