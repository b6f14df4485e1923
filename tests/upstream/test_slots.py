"""The in-flight cap per registry: a Redis semaphore whose leases expire."""
from __future__ import annotations

import datetime as dt

import time_machine

from gateway.config import UpstreamSettings
from gateway.upstream.slots import Slots

CONFIG = UpstreamSettings(url="http://registry.example/events", timeout_seconds=2,
                          max_in_flight=3)
START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_no_more_than_max_in_flight_slots_are_handed_out(redis_client):
    slots = Slots(redis_client, CONFIG)

    tokens = [slots.take() for _ in range(5)]

    assert [t is not None for t in tokens] == [True, True, True, False, False]
    slots.give_back(tokens[0])
    assert slots.take() is not None and slots.in_use() == 3


def test_a_slot_is_given_back_when_its_block_ends_even_on_error(redis_client):
    slots = Slots(redis_client, CONFIG)
    try:
        with slots.held() as got:
            assert got and slots.in_use() == 1
            raise RuntimeError("the request blew up")
    except RuntimeError:
        pass
    assert slots.in_use() == 0


def test_a_killed_worker_holds_its_slot_only_until_the_lease_ends(redis_client):
    slots = Slots(redis_client, CONFIG)
    with time_machine.travel(START, tick=False) as clock:
        for _ in range(3):
            slots.take()  # never given back: their workers were killed mid-request
        assert slots.take() is None
        clock.move_to(START + dt.timedelta(seconds=2 * CONFIG.timeout_seconds + 11))
        assert slots.take() is not None and slots.in_use() == 1


def test_each_registry_has_its_own_slots(redis_client):
    slots = Slots(redis_client, CONFIG)
    other = Slots(redis_client, CONFIG.model_copy(update={"url": "https://other.example/e"}))
    for _ in range(3):
        slots.take()
    assert slots.take() is None and other.take() is not None
