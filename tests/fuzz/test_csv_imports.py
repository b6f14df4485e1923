"""The CSV importers under hostile files: any bytes, BOMs, encodings, huge fields, wrong
column counts, stray quotes, formula injection.

- Paper registrations, ``POST /api/v1/imports`` (body or multipart ``file``): a 400 naming
  the field for an unusable file (nothing written), else a 200 whose every refused row is
  ``(line, "field: reason")``. The contract (gateway/imports/batch.py): valid rows are
  written in batches, each batch in one transaction with its upstream events and paper
  vaccinations — so the database changes by exactly what the result reports, no more, no
  less, and every invariant holds.
- Centers and slots, ``POST /api/v1/import/<kind>`` and the console's upload: all rows or
  none — a 400 lists every bad row (``row N: field: ...``) and changes nothing. A cell that
  a spreadsheet would run as a formula is refused, so exports never carry one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway.api.keys import create_key
from gateway.storage import Center, Slot
from gateway.storage.outbox import UpstreamEvent
from tests.fuzz import tally

from .conftest import fuzz_settings
from .invariants import check_consistent, counts, slot_drift
from .strategies import ENCODINGS, Blob, big_bytes, big_text, encode, nasty_text

FORMULAS = ("=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "+SUM(1,2)", "-2+3",
            "@SUM(A1)", "=1+1")
REGISTRATION_CELLS = {
    "name": ("Sita Devi", "Ram Lal", "Åsa O'Neil", "सीता देवी", "x"),
    "birth_year": ("1950", "1990", "19x8", "2030", "1850"),
    "gender": ("F", "male", "o", "x"),
    "phone": ("9812345678", "+919812345679", "919812345680", "98123", "+14155550100"),
    "pincode": ("800001", "226001", "000000", "8000011"),
    "id_type": ("aadhaar", "voter", "", "nope"),
    "id_last4": ("1234", "0042", "12", "abcd"),
    "vaccinated_on": ("", "2021-05-01", "", "2099-01-01", "yesterday"),
    "center_code": ("DEMO001", "DEMO002", "NOPE", ""),
    "dose": ("1", "2", "4", ""),
}
CENTER_CELLS = {
    "code": ("FZ001", "FZ002", "DEMO001", "bad code", "F"),
    "name": ("PHC Fuzzpur", "UPHC Testnagar", "x"),
    "state": ("Bihar", "Uttar Pradesh"),
    "district": ("Patna", "Lucknow"),
    "pincode": ("800001", "800020", "000001", "80000"),
    "address": ("Main Road", ""),
    "active": ("true", "false", "", "maybe"),
}
SLOT_CELLS = {
    "center_code": ("DEMO001", "DEMO002", "NOPE"),
    "date": ("2030-01-01", "2030-01-02", "2021-13-01", "soon"),
    "start_time": ("09:00", "14:00", "25:00"),
    "end_time": ("11:00", "16:00", "08:00"),
    "age_group": ("18-44", "45+", "60+"),
    "vaccine": ("COVAXIN", "COVISHIELD", "X"),
    "capacity": ("10", "0", "-1", "abc", "99999"),
    "booked": ("0", ""),
}


def cell(plausible: tuple[str, ...]) -> st.SearchStrategy[str]:
    return st.one_of(*[st.sampled_from(plausible)] * 8, st.sampled_from(FORMULAS), nasty_text,
                     big_text, st.text(max_size=20))


@st.composite
def csv_files(draw, cells: dict[str, tuple[str, ...]]) -> bytes:
    """A CSV of ``cells`` columns: header variations, rows of any length, any quoting and
    encoding — or any bytes at all."""
    if draw(st.integers(0, 9)) == 0:
        return Blob(draw(big_bytes))
    columns = draw(st.permutations(sorted(cells)))
    if draw(st.integers(0, 4)) == 0:  # a column missing
        columns = columns[:-1]
    header = [draw(st.sampled_from((name,) * 12 + (name.upper(), f" {name} ")))
              for name in columns]
    header += draw(st.lists(st.one_of(st.sampled_from(("extra", "", "name")), nasty_text),
                            max_size=1))
    rows = []
    for _ in range(draw(st.one_of(st.integers(0, 3), st.integers(0, 12)))):
        # half the rows are made of good values only (the first two of each column)
        pick = (lambda good: st.sampled_from(good[:2])) if draw(st.booleans()) else cell
        row = [draw(pick(cells.get(name.strip().lower(), ("",)))) for name in header]
        cut = draw(st.sampled_from((None, None, None, None, -1, 1)))  # wrong column counts
        rows.append(row[:cut] if cut else row)
    text = _serialise(draw, [header, *rows])
    return Blob(encode(text, draw(st.sampled_from(("utf-8",) * 6 + ENCODINGS))))


def _serialise(draw, table: list[list[str]]) -> str:
    how = draw(st.sampled_from(("csv", "csv", "csv", "naive")))
    if how == "naive":  # commas, quotes and line breaks inside cells left as they are
        return "\n".join(",".join(row) for row in table) + draw(st.sampled_from(("", "\n")))
    out = io.StringIO()
    writer = csv.writer(out, quoting=draw(st.sampled_from((csv.QUOTE_MINIMAL, csv.QUOTE_ALL))),
                        lineterminator=draw(st.sampled_from(("\r\n", "\n"))))
    writer.writerows(table)
    return out.getvalue()


@pytest.fixture
def keys(db) -> dict[str, str]:
    with db.write() as session:
        return {role: create_key(session, f"fuzz {role}", role, district, "fuzz")[1]
                for role, district in (("admin", None), ("district", "Patna"))}


def registered_events(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(UpstreamEvent).where(
            UpstreamEvent.kind == "beneficiary.registered"))


REASON = re.compile(r"^\w+: .+", re.S)


@given(data=csv_files(REGISTRATION_CELLS), multipart=st.booleans())
@example(data="\ufeffname,birth_year,gender,phone,pincode\nSita Devi,1950,F,9812345678,800001\n"
              "=HYPERLINK(\"x\"),1950,F,9812345678,800001\n".encode(), multipart=False)
@example(data=b"name,birth_year,gender,phone,pincode\n\"Sita,1950\n", multipart=True)
@example(data=b"\xff\xfen\x00a\x00m\x00e\x00", multipart=False)
@example(data=b"name,birth_year,gender,phone,pincode,vaccinated_on,center_code\n"
              b"Sita Devi,1950,F,9812345678,800001,2021-05-01,DE\x00MO\n",
         multipart=False)  # was a 500 on PostgreSQL (NUL in a query)
@fuzz_settings(examples=60)
@pytest.mark.usefixtures("demo_centers")
def test_registration_imports_change_exactly_what_they_report(sandbox_client, db, keys,
                                                               error_log, data, multipart):
    with tally.case("CSV import POST /api/v1/imports (registrations)"):
        before, events, drift = counts(db), registered_events(db), slot_drift(db)
        payload = {"data": {"file": (io.BytesIO(data), "paper.csv")}} if multipart else {
            "data": data, "content_type": "text/csv"}
        response = sandbox_client.post("/api/v1/imports", headers={"X-API-Key": keys["admin"]},
                                       **payload)
        body = response.get_json()
        event(f"status {response.status_code}")
        assert response.status_code in (200, 400), (response.status_code, body)
        error_log.check()
        after = counts(db)
        if response.status_code == 400:
            assert body["field"] and after == before, body
            return
        event(f"registered {min(body['registered'], 3)}+, vaccinations {body['vaccinations']}")
        assert body["rows"] == body["registered"] + body["duplicates"] + body["rejected_count"]
        for refused in body["rejected"]:
            assert refused["line"] >= 2 and REASON.match(refused["reason"]), refused
        assert after["beneficiaries"] - before["beneficiaries"] == body["registered"]
        assert registered_events(db) - events == body["registered"]
        assert after["appointments"] - before["appointments"] == body["vaccinations"]
        check_consistent(db, drift)


def inventory(db) -> str:
    """A fingerprint of every center and slot row."""
    with db.read() as session:
        rows = [repr(r) for r in session.execute(select(Center.__table__).order_by(Center.id))]
        rows += [repr(r) for r in session.execute(select(Slot.__table__).order_by(Slot.id))]
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


FORMULA_START = ("=", "+", "-", "@")


def check_exports_carry_no_formula(client, key: str) -> None:
    for kind in ("centers", "slots"):
        text = client.get(f"/api/v1/export/{kind}.csv", headers={"X-API-Key": key}).get_data(
            as_text=True)
        bad = [value for row in csv.reader(io.StringIO(text)) for value in row
               if value.startswith(FORMULA_START)]
        assert not bad, f"{kind} export carries formulas: {bad[:3]}"


inventory_import = st.sampled_from((("centers", CENTER_CELLS), ("slots", SLOT_CELLS))).flatmap(
    lambda kind: st.tuples(st.just(kind[0]), csv_files(kind[1])))


@given(upload=inventory_import, role=st.sampled_from(("admin", "district")))
@example(upload=("centers", b"code,name,state,district,pincode\nFZ9,=1+1,Bihar,Patna,800001\n"),
         role="admin")  # was exported as a live formula
@example(upload=("slots", b"center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
                          b"DE\x00MO,2030-01-01,09:00,11:00,18-44,X,1\n"),
         role="admin")  # was a 500 on PostgreSQL (NUL in a query)
@example(upload=("centers", b"code,name,state,district,pincode\nFZ9,PHC Nine,Bihar,Patna,800001\n"
                            b"DEMO001,PHC Renamed,Bihar,Patna,800001\n"), role="district")
@example(upload=("centers", b"code,name,state,district,pincode\n"
                            b"DEMO011,PHC Renamed,Uttar Pradesh,Lucknow,226001\n"),
         role="district")  # another district's center: its error named no column
@example(upload=("slots", b"center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
                          b"DEMO011,2030-01-01,09:00,11:00,18-44,X,1\n"), role="district")
@fuzz_settings(examples=30)
@pytest.mark.usefixtures("demo_centers")
def test_inventory_imports_by_api_are_all_or_nothing(sandbox_client, db, keys, error_log,
                                                     upload, role):
    kind, data = upload
    with tally.case("CSV import POST /api/v1/import/<centers|slots>"):
        before = inventory(db)
        response = sandbox_client.post(f"/api/v1/import/{kind}", data=data,
                                       content_type="text/csv", headers={"X-API-Key": keys[role]})
        body = response.get_json()
        event(f"{kind} {response.status_code}")
        assert response.status_code in (200, 400, 413), (response.status_code, body)  # 413: 64 KB
        error_log.check()
        if response.status_code == 413:
            assert inventory(db) == before
        elif response.status_code == 400:
            assert body["errors"] and inventory(db) == before, body
            for line in body["errors"]:
                assert re.match(r"^(row \d+: \w+|line \d+|header): ", line), line
        check_exports_carry_no_formula(sandbox_client, keys["admin"])


@given(upload=inventory_import)
@example(upload=("slots", b"center_code,date,start_time,end_time,age_group,vaccine,capacity\n"
                          b"DEMO001,2030-01-01,09:00,11:00,18-44,@SUM(A1),5\n"))
@fuzz_settings(examples=15)
@pytest.mark.usefixtures("demo_centers")
def test_inventory_uploads_in_the_console_are_all_or_nothing(console, db, error_log, upload):
    kind, data = upload
    with tally.case("CSV upload POST /admin/import/<centers|slots>"):
        before = inventory(db)
        response = console.post(f"/admin/import/{kind}",
                                {"file": (io.BytesIO(data), f"{kind}.csv")})
        event(f"{kind} {response.status_code}")
        assert response.status_code in (200, 400, 413), response.status_code  # 413: 64 KB
        error_log.check()
        if response.status_code != 200:
            assert inventory(db) == before
