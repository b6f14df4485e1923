"""Overload handling: a ceiling on concurrent sessions, a fair virtual queue with an SMS
when it is your turn, callers in a session never cut off, and a per-phone rate limit."""
from __future__ import annotations

import time

import pytest
from redis.crc import key_slot
from sqlalchemy import select

from gateway import create_app
from gateway.sessions.admission import Admission
from gateway.storage.ledger import Message
from tests.conftest import UssdPhone
from workers.jobs import release_turns
from workers.worker import build_context


@pytest.fixture
def crowded_app(settings, db, redis_client, demo_centers):
    settings.admission.max_active_sessions = 2
    return create_app(settings)


def _phones(app, count: int) -> list[UssdPhone]:
    return [UssdPhone(app.test_client(), phone=f"+9198765{n:05d}") for n in range(count)]


def test_past_the_ceiling_new_callers_get_their_place_in_the_queue(crowded_app):
    first, second, third, fourth = _phones(crowded_app, 4)
    assert first.dial().startswith("CON ") and second.dial().startswith("CON ")
    assert "number 1 in the queue" in third.dial()
    assert "number 2 in the queue" in fourth.dial()
    assert "number 1 in the queue" in third.dial()  # redialling keeps the place


def test_callers_inside_a_session_are_never_cut_off(crowded_app):
    first, second, newcomer = _phones(crowded_app, 3)
    first.dial()
    second.dial()
    newcomer.dial()
    for answer in ("1", "1", "Sita Devi", "1948"):
        assert first.send(answer).startswith("CON ")


def test_a_finished_session_frees_its_place_for_the_queue_in_order(crowded_app, settings,
                                                                  redis_client, db):
    first, second, third, fourth = _phones(crowded_app, 4)
    first.dial(), second.dial(), third.dial(), fourth.dial()
    assert first.send("1", "00", "9", "9", "9").startswith("END ")  # 3 invalid answers end it

    ctx = build_context(settings, redis_client)
    assert release_turns(ctx) == [third.phone]  # first come, first served
    with db.read() as session:
        message = session.scalar(select(Message))
    assert message.phone == third.phone and "*384*1234#" in message.body
    assert "number 1 in the queue" in fourth.dial()  # the pass holds third's place
    assert third.dial().startswith("CON ")


def test_the_ceiling_is_shared_across_app_instances(settings, db, redis_client):
    settings.admission.max_active_sessions = 1
    one, other = create_app(settings), create_app(settings)
    assert UssdPhone(one.test_client(), phone="+919800000001").dial().startswith("CON ")
    assert "queue" in UssdPhone(other.test_client(), phone="+919800000002").dial()


def test_no_ceiling_means_everyone_is_admitted(redis_client):
    admission = Admission(redis_client, 0, 180, 600)
    assert all(admission.enter(f"s{n}", f"+9198000000{n:02d}").admitted for n in range(50))


def test_one_phone_past_its_rate_limit_gets_a_polite_end(settings, db, redis_client):
    settings.admission.rate_limit_per_phone = "3/minute"
    client = create_app(settings).test_client()
    noisy, quiet = UssdPhone(client, phone="+919811111111"), UssdPhone(client)
    replies = [noisy.dial() for _ in range(4)]
    assert all(r.startswith("CON ") for r in replies[:3])
    assert replies[3].startswith("END ") and "Too many requests" in replies[3]
    assert quiet.dial().startswith("CON ")  # other phones are not affected


def _fill(admission: Admission, count: int, prefix: str = "+91977") -> list[str]:
    """``count`` new callers dial; the phones admitted."""
    phones = [f"{prefix}{n:07d}" for n in range(count)]
    return [p for p in phones if admission.enter(f"ussd:s-{p}", p).admitted]


def test_every_admission_script_touches_one_hash_slot(redis_client):
    admission = Admission(redis_client, 2000, 180, 600, shards=8)
    assert admission.shards == 8
    slots = [{key_slot(k.encode()) for k in admission.keys(s)} for s in range(8)]
    assert all(len(one) == 1 for one in slots) and len(set.union(*slots)) == 8


def test_sharded_ceiling_is_never_exceeded_and_nearly_filled(redis_client):
    admission = Admission(redis_client, 300, 180, 600, shards=3)
    assert len(_fill(admission, 1000)) == 300  # each shard holds exactly its 100
    assert admission.active() == 300 and admission.waiting() == 700


def test_small_ceilings_keep_one_exact_shard(redis_client):
    assert Admission(redis_client, 150, 180, 600, shards=8).shards == 1
    assert Admission(redis_client, 2000, 180, 600, shards=8).shards == 8


def test_the_queue_drains_without_any_worker_and_new_callers_get_in_again(redis_client):
    admission = Admission(redis_client, 2, 180, 600, shards=8)
    first, second, third = _fill(admission, 3)[:2] + ["+919770000002"]
    assert admission.enter("ussd:s3", third).position == 1
    admission.leave(f"ussd:s-{first}", first)  # the END screen hands the place on at once
    assert admission.waiting() == 0
    assert admission.enter("ussd:late", "+919770000099").position == 1  # the pass holds it
    assert admission.enter("ussd:s3b", third).admitted
    admission.leave(f"ussd:s-{second}", second)
    admission.leave("ussd:s3b", third)
    admission.leave("ussd:late", "+919770000099")
    assert admission.enter("ussd:new", "+919770000100").admitted  # nobody is queued for good
    assert [t.phone for t in admission.release_turns()] == [third, "+919770000099"]


def test_sessions_idle_since_their_first_screen_stop_counting(redis_client, time_machine):
    time_machine.move_to(time.time(), tick=False)
    admission = Admission(redis_client, 1, 180, 600)
    assert admission.enter("ussd:a", "+919770000001").admitted
    assert not admission.enter("ussd:b", "+919770000002").admitted
    time_machine.shift(181)
    assert [t.phone for t in admission.release_turns()] == ["+919770000002"]


def test_mid_journey_steps_write_no_admission_key(crowded_app, redis_client):
    first = _phones(crowded_app, 1)[0]
    first.dial()
    before = redis_client.zrange("vaxgate:admission:{a0}:active", 0, -1, withscores=True)
    first.send("1", "1", "Sita Devi")
    assert redis_client.zrange("vaxgate:admission:{a0}:active", 0, -1,
                               withscores=True) == before != []
