"""gateway/geo/build_data.py derives the bundled files from India Post's offices: one point
per PIN code that placeholder spots and slips in the source do not move far."""
from __future__ import annotations

import csv
import gzip
import json

from gateway.geo.build_data import Office, build

PATNA, GAYA = ("BIHAR", "PATNA"), ("BIHAR", "GAYA")
PLACEHOLDER = (25.5941, 85.13756)  # one spot given to offices of many PIN codes


def office(pin: str, where: tuple[str, str], point, kind: int = 1, name: str = "X SO"):
    return Office(pin, name, kind, where[1], where[0], point)


def offices() -> list[Office]:
    return [
        office("800001", PATNA, (25.603, 85.132), kind=0, name="Patna GPO"),
        office("800001", PATNA, (25.611, 85.121)),
        office("800020", PATNA, (25.598, 85.155), name="LOHIA NAGAR H.O"),
        office("800020", PATNA, (25.593, 85.171)),
        office("800020", PATNA, PLACEHOLDER),
        office("801503", PATNA, PLACEHOLDER),
        office("801505", PATNA, PLACEHOLDER),
        office("823001", GAYA, (24.792, 85.000), kind=0, name="Gaya HO"),
        office("823002", GAYA, (24.780, 84.990)),
        office("799002", ("TRIPURA", "WEST TRIPURA"), (23.84, 91.28)),
        office("504106", ("TELANGANA", "NIRMAL"), (19.09, 78.34), kind=0),
        # Agartala's head office, filed by the source under a district of Telangana
        office("799001", ("TELANGANA", "NIRMAL"), (23.83, 91.279), kind=0, name="Agartala HO"),
    ]


def read(out):
    with gzip.open(out / "pincodes.csv.gz", "rt") as handle:
        rows = {row["pincode"]: row for row in csv.DictReader(handle)}
    with (out / "districts.csv").open() as handle:
        districts = {row["district_id"]: row for row in csv.DictReader(handle)}
    return rows, districts


def test_every_pin_code_gets_its_district_and_a_point_near_its_offices(tmp_path):
    summary = build(offices(), tmp_path, "2025.10.03", "test")
    rows, districts = read(tmp_path)
    assert summary["pincodes"] == 9 and summary["districts"] == 4
    assert districts[rows["800020"]["district_id"]]["district"] == "Patna"
    assert rows["800020"]["locality"] == "Lohia Nagar"
    lat, lon = float(rows["800020"]["latitude"]), float(rows["800020"]["longitude"])
    assert abs(lat - 25.596) < 0.01 and abs(lon - 85.163) < 0.01  # not the placeholder
    assert float(rows["801503"]["latitude"]) != PLACEHOLDER[0]  # its district's point


def test_a_head_office_filed_far_from_its_district_takes_the_nearest_one(tmp_path):
    build(offices(), tmp_path, "2025.10.03", "test")
    rows, districts = read(tmp_path)
    assert districts[rows["799001"]["district_id"]]["district"] == "West Tripura"


def test_a_rebuild_keeps_the_ids_partner_apps_hold(tmp_path):
    build(offices(), tmp_path, "2025.10.03", "test")
    _, before = read(tmp_path)
    more = [*offices(), office("110001", ("DELHI", "NEW DELHI"), (28.62, 77.21), kind=0)]
    build(more, tmp_path, "2026.01.01", "test")
    _, after = read(tmp_path)
    assert {k: v["district"] for k, v in before.items()}.items() <= \
        {k: v["district"] for k, v in after.items()}.items()
    assert json.loads((tmp_path / "source.json").read_text())["data_version"] == "2026.01.01"
