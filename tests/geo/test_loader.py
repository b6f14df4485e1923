"""Loading the bundled directory: once by the migration, again only for another build."""
from __future__ import annotations

import shutil

from sqlalchemy import func, select

from gateway.geo import loader, places
from gateway.geo.models import GeoPincode
from gateway.storage import Center, Database, upgrade_database


def test_the_migration_loads_the_bundled_build_and_loading_it_again_does_nothing(db):
    with db.write() as session:
        assert loader.loaded_build(session) == loader.build_id()
        assert loader.load(session) is None


def test_a_reload_is_bulk_and_places_centers_without_a_point(tmp_path):
    """A database of its own: this test replaces the directory's rows."""
    url = f"sqlite:///{tmp_path / 'geo.db'}"
    upgrade_database(url)
    database = Database(url)
    try:
        with database.write() as session:
            session.add(Center(code="C1", name="PHC", state="Bihar", district="Patna",
                               pincode="800020"))
        with database.write() as session:
            counts = loader.load(session, force=True)
        with database.read() as session:
            rows = session.scalar(select(func.count()).select_from(GeoPincode))
            center = session.scalar(select(Center))
            place = places.place_of(session, "800020")
    finally:
        database.dispose()
    assert counts["geo_pincodes"] == rows > 20_000 and counts["centers_placed"] == 1
    assert (center.latitude, center.longitude) == place.point


def test_another_build_is_loaded_at_start(tmp_path, db):
    """A data folder whose source.json names another build is loaded by ``load``."""
    data = tmp_path / "data"
    shutil.copytree(loader.DATA_DIR, data)
    loader.source.cache_clear()
    text = (data / "source.json").read_text().replace('"2025.10.03"', '"2099.01.01"')
    (data / "source.json").write_text(text)
    url = f"sqlite:///{tmp_path / 'other.db'}"
    upgrade_database(url)
    database = Database(url)
    try:
        with database.write() as session:
            assert loader.load(session, data_dir=data) is not None
            assert loader.loaded_build(session).startswith("2099.01.01/")
            assert loader.load(session, data_dir=data) is None
    finally:
        database.dispose()
        loader.source.cache_clear()
