"""Slot search is cached briefly per postal circle; no cache can let a booking exceed capacity."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from gateway.registry.availability import AvailabilityCache
from gateway.storage import Appointment, Center, Slot
from tests.ussd_menus.test_ussd_journeys import BOOK, ENGLISH, YES, register

# A date that is bookable whatever the hour the suite runs at (slots are in India's time zone).
TODAY = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date() + dt.timedelta(days=1)


def _one_slot_center(db, capacity: int = 2) -> int:
    with db.write() as session:
        center = Center(code="C1", name="PHC Cache", state="Bihar", district="Patna",
                        pincode="800001")
        session.add(center)
        session.flush()
        slot = Slot(center_id=center.id, date=TODAY, start_time=dt.time(9),
                    end_time=dt.time(11), age_group="45+", capacity=capacity)
        session.add(slot)
        session.flush()
        return slot.id


def test_a_second_search_is_served_from_the_cache_until_a_booking_invalidates(db,
                                                                              redis_client):
    cache = AvailabilityCache(redis_client, ttl_seconds=60)
    slot_id = _one_slot_center(db)
    with db.read() as session:
        first = cache.free_slots(session, "800001", "45+", [TODAY])
    with db.write() as session:
        session.execute(update(Slot).values(booked=Slot.capacity))
    with db.read() as session:
        assert cache.free_slots(session, "800001", "45+", [TODAY]) == first  # cached
        cache.invalidate("800099")  # any pincode of the same postal circle
        assert cache.free_slots(session, "800001", "45+", [TODAY]) == []
    assert first[0].slot_id == slot_id and first[0].free == 2


def test_a_stale_cache_never_lets_a_booking_exceed_capacity(phone, db, redis_client):
    slot_id = _one_slot_center(db, capacity=1)
    phone.dial()
    phone.send(ENGLISH)
    register(phone, pincode="800001")
    confirm = phone.send("00", BOOK, "1", "1", "1", "1")  # the cached list offered the slot
    assert "PHC Cache" in confirm
    with db.write() as session:  # someone else takes the last place meanwhile
        session.execute(update(Slot).where(Slot.id == slot_id).values(booked=1))
    answer = phone.send(YES)
    assert "Booked" not in answer
    with db.read() as session:
        assert session.get(Slot, slot_id).booked == 1
        assert session.scalar(select(func.count()).select_from(Appointment)) == 0


def test_a_broken_redis_falls_back_to_the_database(db, tmp_path):
    import redis

    broken = AvailabilityCache(redis.Redis(unix_socket_path=str(tmp_path / "none.sock")))
    _one_slot_center(db)
    with db.read() as session:
        assert len(broken.free_slots(session, "800001", "45+", [TODAY])) == 1
    broken.invalidate("800001")  # logged, not raised


def test_a_booking_that_fills_a_slot_drops_it_from_cached_lists(phone, db, redis_client):
    """A booking leaves cached counts alone until it takes a slot's last place: then no
    cached list offers that slot any more."""
    _one_slot_center(db, capacity=2)
    cache = AvailabilityCache(redis_client, ttl_seconds=60)

    def cached_free():
        with db.read() as session:
            return [s.free for s in cache.free_slots(session, "800001", "45+", [TODAY])]

    def book_for(number: str) -> str:
        caller = type(phone)(phone.client, number)
        caller.dial()
        caller.send(ENGLISH)
        register(caller, pincode="800001")
        return caller.send("00", BOOK, "1", "1", "1", "1", YES)

    assert cached_free() == [2]
    assert "Booked" in book_for("+919812340001")
    assert cached_free() == [2]  # one place left: the count may lag for ttl_seconds
    assert "Booked" in book_for("+919812340002")
    assert cached_free() == []  # the last place: gone from every cached list at once


def test_the_districts_of_a_pincode_are_cached_beside_the_slots(db, redis_client):
    cache = AvailabilityCache(redis_client, ttl_seconds=60)
    _one_slot_center(db)
    with db.read() as session:
        slots, districts = cache.search(session, "800001", "45+", [TODAY], districts=True)
    with db.write() as session:
        session.execute(update(Center).values(district="Renamed"))
    with db.read() as session:
        assert cache.search(session, "800001", "45+", [TODAY], districts=True) == (
            slots, {"Patna"})
        assert cache.search(session, "800001", "45+", [TODAY])[1] == set()  # not asked for
