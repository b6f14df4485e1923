"""Read the bundled directory files and load them into SQL in a few bulk statements.

The readers return plain rows keyed by column name, so the migration that creates the
tables can load them with its own table definitions; ``load`` replaces the rows of a
database whose loaded data version differs from the bundled one.
"""
from __future__ import annotations

import csv
import gzip
import json
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.geo.models import GeoDistrict, GeoPincode, GeoSource, GeoState
from gateway.storage.models import Center

DATA_DIR = Path(__file__).resolve().parent / "data"
SOURCE_KEYS = ("data_version", "source", "licence", "attribution")

Row = dict[str, Any]


@cache
def source(data_dir: Path = DATA_DIR) -> dict[str, Any]:
    """The bundled data's description (data/source.json)."""
    return json.loads((data_dir / "source.json").read_text(encoding="utf-8"))


def read_states(data_dir: Path = DATA_DIR) -> list[Row]:
    """[{id, name}] of every state and union territory."""
    found = {int(row["state_id"]): row["state"] for row in _districts_csv(data_dir)}
    return [{"id": number, "name": name} for number, name in sorted(found.items())]


def read_districts(data_dir: Path = DATA_DIR) -> list[Row]:
    """[{id, state_id, name, latitude, longitude}] of every district."""
    return [{"id": int(row["district_id"]), "state_id": int(row["state_id"]),
             "name": row["district"], "latitude": float(row["latitude"]),
             "longitude": float(row["longitude"])} for row in _districts_csv(data_dir)]


def read_pincodes(data_dir: Path = DATA_DIR) -> list[Row]:
    """[{pincode, district_id, is_primary, locality, latitude, longitude}]."""
    with gzip.open(data_dir / "pincodes.csv.gz", "rt", encoding="utf-8", newline="") as handle:
        return [{"pincode": row["pincode"], "district_id": int(row["district_id"]),
                 "is_primary": row["primary"] == "1", "locality": row["locality"][:60],
                 "latitude": float(row["latitude"]), "longitude": float(row["longitude"])}
                for row in csv.DictReader(handle)]


def source_rows(data_dir: Path = DATA_DIR) -> list[Row]:
    """[{key, value}] describing the bundled data, for the geo_source table."""
    described = source(data_dir)
    return [{"key": key, "value": str(described[key])[:300]} for key in SOURCE_KEYS] + [
        {"key": "build", "value": build_id(data_dir)}]


def build_id(data_dir: Path = DATA_DIR) -> str:
    """Names the bundled files' contents: a rebuild from the same snapshot may differ."""
    digests = source(data_dir)["sha256"]
    return f"{source(data_dir)['data_version']}/{digests['pincodes.csv.gz'][:12]}" \
           f"/{digests['districts.csv'][:12]}"


def _districts_csv(data_dir: Path) -> list[dict[str, str]]:
    with (data_dir / "districts.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def loaded_build(session: Session) -> str | None:
    """The build id of the data in the database (see ``build_id``), or None before the
    first load."""
    return session.scalar(select(GeoSource.value).where(GeoSource.key == "build"))


def load(session: Session, data_dir: Path = DATA_DIR, force: bool = False) -> Row | None:
    """Replace the directory's rows with the bundled ones unless they are already loaded
    (``force``: in any case); the counts loaded, or None when nothing was done. Centers
    without a point get their PIN code's."""
    if not force and loaded_build(session) == build_id(data_dir):
        return None
    for table in (GeoPincode, GeoDistrict, GeoState, GeoSource):
        session.execute(delete(table))
    counts = {}
    for table, rows in ((GeoState, read_states(data_dir)),
                        (GeoDistrict, read_districts(data_dir)),
                        (GeoPincode, read_pincodes(data_dir)),
                        (GeoSource, source_rows(data_dir))):
        session.execute(insert(table), rows)
        counts[table.__tablename__] = len(rows)
    counts["centers_placed"] = place_centers(session)
    places.forget()
    return counts


def place_centers(session: Session) -> int:
    """Give every center without a point its PIN code's; how many were placed."""
    primary = select(GeoPincode).where(GeoPincode.pincode == Center.pincode,
                                       GeoPincode.is_primary.is_(True))
    done = session.execute(
        update(Center).where(Center.latitude.is_(None), primary.exists())
        .values(latitude=primary.with_only_columns(GeoPincode.latitude).scalar_subquery(),
                longitude=primary.with_only_columns(GeoPincode.longitude).scalar_subquery())
        .execution_options(synchronize_session=False))
    return done.rowcount
