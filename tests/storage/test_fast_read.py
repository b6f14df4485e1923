"""FastRead: a Core statement run on the driver's cursor gives what the ORM would."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.exc import OperationalError

from gateway.storage import Beneficiary, Center, Slot
from gateway.storage.fast_read import FastRead, attach_row, columns_of
from gateway.storage.ledger import Message


def _center_with_slot(db) -> tuple[int, int]:
    with db.write() as session:
        center = Center(code="C1", name="PHC One", state="Bihar", district="Patna",
                        pincode="800020", active=True, latitude=25.6, longitude=85.1)
        slot = Slot(center=center, date=dt.date(2026, 12, 7), start_time=dt.time(9),
                    end_time=dt.time(11), age_group="45+", capacity=10, booked=3)
        session.add_all([center, slot])
        session.flush()
        return center.id, slot.id


def test_rows_come_back_with_their_column_types(db):
    center_id, slot_id = _center_with_slot(db)
    read = FastRead(select(Slot.date, Slot.start_time, Center.active, Center.latitude,
                           Center.created_at, Slot.capacity - Slot.booked)
                    .join(Center, Slot.center_id == Center.id)
                    .where(Slot.id == bindparam("slot")))

    date, start, active, latitude, created, free = read.first(db, slot=slot_id)

    assert (date, start, active, latitude, free) == (dt.date(2026, 12, 7), dt.time(9), True,
                                                     25.6, 7)
    assert isinstance(created, dt.datetime)
    assert read.first(db, slot=slot_id + 1000) is None
    assert read.scalar(db, slot=slot_id + 1000) is None


def test_parameters_are_converted_as_the_orm_would_and_literals_are_kept(db):
    now = dt.datetime.now(dt.UTC)
    with db.write() as session:
        for n, (kind, created) in enumerate((("confirmation", now - dt.timedelta(minutes=5)),
                                             ("otp", now - dt.timedelta(minutes=5)),
                                             ("confirmation", now - dt.timedelta(hours=3)))):
            session.add(Message(dedupe_key=f"m{n}", phone="+919800000001", kind=kind,
                                body="x", encoding="GSM7", segments=1, status="queued",
                                created_at=created, updated_at=created))
    since = FastRead(select(Message.kind).where(
        Message.phone == bindparam("phone"), Message.kind != "otp",
        Message.created_at > bindparam("after", type_=Message.created_at.type)))

    # an aware datetime, compared with what SQLAlchemy stored: as its own type would bind it
    assert since.rows(db, phone="+919800000001", after=now - dt.timedelta(hours=1)) == \
        [("confirmation",)]
    with db.read() as session:  # inside a session's transaction too
        assert len(since.rows(session, phone="+919800000001",
                              after=now - dt.timedelta(days=1))) == 2


def test_attach_row_gives_persistent_objects_with_no_further_select(db):
    center_id, slot_id = _center_with_slot(db)
    read = FastRead(select(*columns_of(Slot, Center)).join(Center, Slot.center_id == Center.id)
                    .where(Slot.id == bindparam("slot")))
    with db.write() as session:
        statements = []
        from sqlalchemy import event

        event.listen(session.get_bind(), "before_cursor_execute",
                     lambda *args: statements.append(args[2]))
        slot, center = attach_row(session, (Slot, Center), read.first(session, slot=slot_id))
        assert (slot.id, slot.booked, center.id, center.name) == (slot_id, 3, center_id,
                                                                 "PHC One")
        assert session.get(Slot, slot_id) is slot  # in the identity map, as if loaded
        slot.booked = 4  # and tracked: the unit of work writes the change
        again = attach_row(session, (Slot,), read.first(session, slot=slot_id)[:9])
        assert again[0] is slot  # an object the session holds is used as it is
        assert statements == []  # FastRead's own cursor is not SQLAlchemy's execution
    with db.read() as session:
        assert session.get(Slot, slot_id).booked == 4


def test_a_database_error_is_raised_as_sqlalchemys(db):
    read = FastRead(select(Beneficiary.id).where(Beneficiary.phone == bindparam("phone")))
    with db.engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE beneficiaries RENAME TO beneficiaries_gone")
    try:
        with pytest.raises(OperationalError) if db.is_sqlite else pytest.raises(Exception) as e:
            read.rows(db, phone="+919800000001")
        if not db.is_sqlite:
            assert "beneficiaries" in str(e.value)
    finally:
        with db.engine.begin() as conn:
            conn.exec_driver_sql("ALTER TABLE beneficiaries_gone RENAME TO beneficiaries")
    assert read.rows(db, phone="+919800000001") == []  # the pool's connection still works


def test_an_in_list_is_refused_with_a_reason(db):
    read = FastRead(select(Beneficiary.id).where(Beneficiary.phone.in_(["+1", "+2"])))
    with pytest.raises(ValueError, match="IN"):
        read.rows(db)
