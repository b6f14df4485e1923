"""Paper registrations from CSV: every bad row rejected with its line and exact reason,
duplicates and the per-phone cap checked against what is already registered, re-import
changes nothing, UTF-8 / BOM / Windows-1252 files, and a 100k-row file streamed."""
from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import func, select

from gateway.imports.registrations import ImportRefused, import_registrations
from gateway.storage import Appointment, Beneficiary, UpstreamEvent

TODAY = dt.date.today()
HEADER = "name,birth_year,gender,phone,pincode,id_type,id_last4,center_code,vaccinated_on"
GOOD = "Sita Devi,1948,F,9812345678,800001,aadhaar,1234,,"


def run(db, settings, text: str, encoding: str = "utf-8", **kwargs):
    stream = io.BytesIO(text.encode(encoding))
    return import_registrations(db, settings, stream, today=TODAY, **kwargs)


def count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("row, reason", [
    ("Sita Devi,19x8,F,9812345678,800001,,,,", "birth_year: '19x8' is not a year between "
                                               f"{TODAY.year - 120} and {TODAY.year}"),
    ("Sita Devi,1820,F,9812345678,800001,,,,", "birth_year: '1820' is not a year between "
                                               f"{TODAY.year - 120} and {TODAY.year}"),
    (f"Sita Devi,{TODAY.year - 5},F,9812345678,800001,,,,",
     f"birth_year: {TODAY.year - 5} is under the minimum age of 18"),
    ("Sita Devi,1948,F,9812345678,8000011,,,,", "pincode: '8000011' is not 6 digits starting 1-9"),
    ("Sita Devi,1948,F,9812345678,080001,,,,", "pincode: '080001' is not 6 digits starting 1-9"),
    ("Sita Devi,1948,F,9812345678,800999,,,,",
     "pincode: 800999 is not a PIN code in India Post's directory"),
    (",1948,F,9812345678,800001,,,,", "name: missing"),
    ("S1ta,1948,F,9812345678,800001,,,,", "name: 2-40 letters, spaces, dots or apostrophes"),
    ("Sita Devi,1948,X,9812345678,800001,,,,", "gender: 'X' is not M, F or O"),
    ("Sita Devi,1948,F,12,800001,,,,", "phone: '12' is not a mobile number"),
    ("Sita Devi,1948,F,9812345678,800001,passport,12,,",
     "id_last4: must be the last 4 digits of the ID"),
    ("Sita Devi,1948,F,9812345678,800001,,,,2021-13-01",
     "vaccinated_on: '2021-13-01' is not a date like 2021-05-01"),
    ("Sita Devi,1948,F,9812345678,800001,,,DEMO999,2021-05-01",
     "center_code: no center 'DEMO999'"),
    ("Sita Devi,1948,F,9812345678,800001,,,,2021-05-01", "center_code: missing"),
])
def test_a_bad_row_is_rejected_with_its_line_and_reason(db, settings, demo_centers, row,
                                                        reason):
    result = run(db, settings, f"{HEADER}\n{GOOD}\n{row}\n")

    assert result.rejected == [(3, reason)]
    assert result.registered == 1


def test_a_fifth_person_on_a_phone_is_rejected_counting_people_already_registered(
        db, settings):
    run(db, settings, HEADER + "\n" + "\n".join(
        f"{name},1950,F,9812345678,800001,,,," for name in ("Asha", "Bina", "Chitra")))
    result = run(db, settings, HEADER + "\nDiya,1951,F,9812345678,800001,,,,\n"
                                        "Esha,1952,F,+91 98123 45678,800001,,,,\n")

    assert result.registered == 1
    assert result.rejected == [(3, "phone: already has 4 people registered (at most 4 per phone)")]


def test_importing_the_same_file_twice_changes_nothing(db, settings, demo_centers):
    text = (f"{HEADER}\n{GOOD}\nRam Lal,1950,M,9812345679,800020,voter,9876,DEMO002,"
            f"{TODAY.isoformat()}\nbad row\n")
    first = run(db, settings, text)
    counts = [count(db, model) for model in (Beneficiary, Appointment, UpstreamEvent)]
    second = run(db, settings, text)

    assert (first.registered, first.duplicates, first.vaccinations) == (2, 0, 1)
    assert (second.registered, second.duplicates, second.vaccinations) == (0, 2, 0)
    assert first.rejected == second.rejected == [
        (4, "birth_year: missing; gender: missing; phone: missing; pincode: missing")]
    assert [count(db, model) for model in (Beneficiary, Appointment, UpstreamEvent)] == counts
    assert counts == [2, 1, 3]  # two registrations + one paper vaccination


@pytest.mark.parametrize("encoding, expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1252", "cp1252"),
])
def test_utf8_bom_and_windows_1252_files_are_read(db, settings, encoding, expected):
    result = run(db, settings, f"{HEADER}\nJosé Müller,1950,M,9812345678,800001,,,,\n",
                 encoding=encoding)

    assert (result.encoding, result.registered, result.rejected) == (expected, 1, [])
    with db.read() as session:
        assert session.scalar(select(Beneficiary.name)) == "José Müller"


def test_hindi_names_in_utf8_are_kept(db, settings):
    run(db, settings, f"{HEADER}\nसीता देवी,1950,F,9812345678,800001,,,,\n")
    with db.read() as session:
        assert session.scalar(select(Beneficiary.name)) == "सीता देवी"


def test_a_file_without_a_required_column_is_refused_naming_it(db, settings):
    with pytest.raises(ImportRefused, match="missing column\\(s\\): phone"):
        run(db, settings, "name,birth_year,gender,pincode\nSita,1950,F,800001\n")


def test_a_multi_line_quoted_field_keeps_later_line_numbers_true(db, settings):
    result = run(db, settings, f'{HEADER}\n"Sita\nDevi",1948,F,9812345678,800001,,,,\n'
                               f"Ram,1948,Q,9812345678,800001,,,,\n")
    assert result.rejected == [(4, "gender: 'Q' is not M, F or O")]
    assert result.registered == 1  # "Sita Devi", over two lines


@pytest.mark.slow
def test_a_100k_row_file_is_streamed_in_batches_with_progress(db, settings, tmp_path):
    path = tmp_path / "paper.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER + "\n")
        for n in range(100_000):
            out.write(f"Person {_letters(n)},1960,F,+9170{n:08d},800001,,,,\n"
                      if n % 1000 else "bad row\n")
    size = path.stat().st_size
    seen = []

    def progress(rows: int, read: int) -> None:
        seen.append((rows, read, count(db, Beneficiary)))

    with path.open("rb") as stream:
        result = run_stream(db, settings, stream, progress=progress)

    assert (result.rows, result.registered, len(result.rejected)) == (100_000, 99_900, 100)
    assert result.rejected[0] == (2, "birth_year: missing; gender: missing; phone: missing; "
                                     "pincode: missing")
    assert seen[-1] == (100_000, size, 99_900)
    first_rows, first_read, first_saved = seen[0]
    assert first_read < size // 10 and 0 < first_saved < first_rows  # written while reading
    assert len(seen) >= 100


def run_stream(db, settings, stream, **kwargs):
    return import_registrations(db, settings, stream, today=TODAY, **kwargs)


def _letters(n: int) -> str:
    """A distinct all-letter name part per row."""
    out = ""
    for _ in range(5):
        n, digit = divmod(n, 26)
        out += chr(ord("a") + digit)
    return out
