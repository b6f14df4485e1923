"""Photo-ID numbers are never stored beyond their last 4 digits: a whole number typed over
USSD, written in a CSV import (CLI or API) is looked for in every column of every table, in
every Redis key and value, and (SQLite) in the raw database file."""
from __future__ import annotations

import datetime as dt
import io
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from gateway.api.keys import create_key
from gateway.imports.registrations import import_registrations
from gateway.storage import Base, Beneficiary
from tests.conftest import UssdPhone

HEADER = "name,birth_year,gender,phone,pincode,id_type,id_last4"


def full_id() -> tuple[str, str]:
    """A fresh 12-digit ID number (as Aadhaar) and its last 4 digits."""
    number = f"{secrets.randbelow(9 * 10**11) + 10**11}"
    return number, number[-4:]


def everything_stored(db, redis_client) -> str:
    """Every row of every table, every Redis key and value, and the raw SQLite files."""
    parts = []
    with db.read() as session:
        for table in Base.metadata.sorted_tables:
            parts += [repr(tuple(row)) for row in session.execute(select(table))]
    for key in redis_client.scan_iter(count=1000):
        parts.append(key.decode(errors="replace"))
        kind = redis_client.type(key)
        values = {b"string": lambda k: [redis_client.get(k)],
                  b"hash": lambda k: [*redis_client.hgetall(k).items()],
                  b"list": lambda k: redis_client.lrange(k, 0, -1),
                  b"set": lambda k: list(redis_client.smembers(k)),
                  b"zset": lambda k: redis_client.zrange(k, 0, -1)}.get(kind, lambda k: [])(key)
        parts.append(repr(values))
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        for suffix in ("", "-wal"):
            path = Path(f"{url.database}{suffix}")
            if path.exists():
                parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)


def assert_only_last4(db, redis_client, number: str, last4: str) -> None:
    stored = everything_stored(db, redis_client)
    assert number not in stored
    assert number[:8] not in stored  # not even the first digits, in any form
    with db.read() as session:
        assert last4 in session.scalars(select(Beneficiary.id_last4)).all()


@pytest.mark.usefixtures("demo_centers")
def test_a_whole_id_typed_over_ussd_is_asked_again_and_never_stored(client, db, redis_client):
    number, last4 = full_id()
    phone = UssdPhone(client, phone="+919812377400")
    phone.dial()
    screen = phone.send("1", "1", "Sita Devi", "1948", "2", "1", number)
    assert screen.startswith("CON Enter 4 digits.")  # the last-4 prompt again
    assert "Register Sita Devi" in phone.send(last4, "800020")
    assert phone.send("1").startswith("CON Registered Sita Devi.")
    assert phone.send("1", "1", "1", "1", "1").startswith("END Booked!")
    assert_only_last4(db, redis_client, number, last4)


@pytest.mark.usefixtures("demo_centers")
def test_a_whole_id_in_a_csv_import_keeps_only_its_last_4_digits(db, settings, redis_client):
    number, last4 = full_id()
    spaced = f"{number[:4]} {number[4:8]} {number[8:]}"
    text = (f"{HEADER}\nSita Devi,1948,F,9812377401,800001,aadhaar,{number}\n"
            f"Ram Lal,1950,M,9812377402,800001,aadhaar,{spaced}\n")
    result = import_registrations(db, settings, io.BytesIO(text.encode()),
                                  today=dt.date.today())
    assert (result.registered, result.rejected) == (2, [])
    assert_only_last4(db, redis_client, number, last4)


@pytest.mark.usefixtures("demo_centers")
def test_a_whole_id_posted_to_the_import_api_keeps_only_its_last_4_digits(client, db,
                                                                           redis_client):
    number, last4 = full_id()
    with db.write() as session:
        _, key = create_key(session, "importer", "admin", None, "test")
    body = f"{HEADER}\nSita Devi,1948,F,9812377403,800001,voter,{number}\n"
    reply = client.post("/api/v1/imports", data=body, content_type="text/csv",
                        headers={"X-API-Key": key})
    assert reply.status_code == 200 and reply.json["registered"] == 1
    assert_only_last4(db, redis_client, number, last4)


def test_an_id_that_is_not_a_number_is_rejected_without_repeating_it(db, settings):
    text = f"{HEADER}\nSita Devi,1948,F,9812377404,800001,pan,SECRET-ID-X\n"
    result = import_registrations(db, settings, io.BytesIO(text.encode()),
                                  today=dt.date.today())
    assert result.rejected == [(2, "id_last4: must be the last 4 digits of the ID")]
