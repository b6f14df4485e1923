"""Slot search is cached briefly per district and per one-degree cell; no cache can let a
booking exceed capacity."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from gateway.geo import places
from gateway.registry import centers
from gateway.registry.availability import AvailabilityCache
from gateway.storage import Appointment, Center, Slot
from tests.ussd_menus.test_ussd_journeys import BOOK, ENGLISH, YES, register

# A date that is bookable whatever the hour the suite runs at (slots are in India's time zone).
TODAY = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date() + dt.timedelta(days=1)
NEAR_KM = 50.0


def _one_slot_center(db, capacity: int = 2, pincode: str = "800001", district: str = "Patna",
                     code: str = "C1") -> int:
    with db.write() as session:
        place = places.place_of(session, pincode)
        center = Center(code=code, name=f"PHC {code}", state="Bihar", district=district,
                        pincode=pincode, latitude=place.latitude, longitude=place.longitude)
        session.add(center)
        session.flush()
        slot = Slot(center_id=center.id, date=TODAY, start_time=dt.time(9),
                    end_time=dt.time(11), age_group="45+", capacity=capacity)
        session.add(slot)
        session.flush()
        return slot.id


def _near(cache, db, pincode: str = "800001") -> list[centers.FreeSlot]:
    with db.read() as session:
        home = places.place_of(session, pincode)
        return cache.near(session, home, "45+", [TODAY], NEAR_KM)


def _area(db, slot_id: int) -> centers.Area:
    with db.read() as session:
        return centers.area_of(session.get(Slot, slot_id).center)


def test_a_second_search_is_served_from_the_cache_until_a_booking_invalidates(db,
                                                                              redis_client):
    cache = AvailabilityCache(redis_client, ttl_seconds=60)
    slot_id = _one_slot_center(db)
    first = _near(cache, db)
    with db.write() as session:
        session.execute(update(Slot).values(booked=Slot.capacity))
    assert _near(cache, db) == first  # cached
    cache.invalidate(_area(db, slot_id))
    assert _near(cache, db) == []
    assert first[0].slot_id == slot_id and first[0].free == 2


def test_a_full_slot_in_a_neighbouring_district_drops_from_the_cached_lists_of_homes_near_it(
        db, redis_client):
    """Hajipur (Vaishali) is 12 km from Kankarbagh (Patna): its slot is in the Patna home's
    cached list through their shared cell, and a booking that fills it reaches that list."""
    cache = AvailabilityCache(redis_client, ttl_seconds=60)
    slot_id = _one_slot_center(db, pincode="844101", district="Vaishali")
    assert [s.slot_id for s in _near(cache, db, "800020")] == [slot_id]
    with db.write() as session:
        session.execute(update(Slot).values(booked=Slot.capacity))
    cache.invalidate(_area(db, slot_id))
    assert _near(cache, db, "800020") == []


def test_the_nearest_centers_far_away_are_cached_per_home(db, redis_client):
    cache = AvailabilityCache(redis_client, ttl_seconds=60)
    slot_id = _one_slot_center(db)
    with db.read() as session:
        agartala = places.place_of(session, "799001")
        first = cache.nearest(session, agartala, "45+", [TODAY], 5)
    with db.write() as session:
        session.execute(update(Slot).values(booked=Slot.capacity))
    with db.read() as session:
        assert cache.nearest(session, agartala, "45+", [TODAY], 5) == first  # for ttl_seconds
        redis_client.flushdb()
        assert cache.nearest(session, agartala, "45+", [TODAY], 5) == []
    assert [s.slot_id for s in first] == [slot_id]


def test_a_stale_cache_never_lets_a_booking_exceed_capacity(phone, db, redis_client):
    slot_id = _one_slot_center(db, capacity=1)
    phone.dial()
    phone.send(ENGLISH)
    register(phone, pincode="800001")
    confirm = phone.send("00", BOOK, "1", "1", "1", "1")  # the cached list offered the slot
    assert "PHC C1" in confirm
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
    slot_id = _one_slot_center(db)
    assert len(_near(broken, db)) == 1
    with db.read() as session:
        home = places.place_of(session, "799001")
        assert len(broken.nearest(session, home, "45+", [TODAY], 5)) == 1
    broken.invalidate(_area(db, slot_id))  # logged, not raised


def test_a_booking_that_fills_a_slot_drops_it_from_cached_lists(phone, db, redis_client):
    """A booking leaves cached counts alone until it takes a slot's last place: then no
    cached list offers that slot any more."""
    _one_slot_center(db, capacity=2)
    cache = AvailabilityCache(redis_client, ttl_seconds=60)

    def cached_free():
        return [s.free for s in _near(cache, db)]

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
