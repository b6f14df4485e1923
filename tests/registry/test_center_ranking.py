"""The order of a caller's center list: home PIN code, then district, then nearest by km
within ``booking.near_km``; with none of those, the nearest anywhere."""
from __future__ import annotations

import datetime as dt

import pytest

from gateway.geo.distance import km_between
from gateway.geo.places import Place
from gateway.registry import centers
from gateway.registry.centers import FreeSlot

DAY = dt.date(2026, 12, 7)
HOME = Place("800020", "Lohia Nagar", "Patna", "Bihar", 114, 5, 25.599, 85.163)


def slot(center_id: int, name: str, pincode: str, point, district="Patna", state="Bihar",
         start=9) -> FreeSlot:
    lat, lon = point if point else (None, None)
    return FreeSlot(center_id * 10 + start, center_id, name, state, district, pincode, lat,
                    lon, DAY, dt.time(start), dt.time(start + 2), 5)


KANKARBAGH = slot(1, "UPHC Kankarbagh", "800020", (25.599, 85.163))
PMCH = slot(2, "PMCH Patna", "800004", (25.619, 85.159))
BARH = slot(3, "SDH Barh", "803213", (25.409, 85.708))  # Patna district, 58 km away
HAJIPUR = slot(4, "Sadar Hospital Hajipur", "844101", (25.69, 85.21), district="Vaishali")
GAYA = slot(5, "ANMMCH Gaya", "823001", (24.79, 85.0), district="Gaya")
UNPLACED = slot(6, "PHC Nowhere", "800020", None)


@pytest.mark.parametrize("found,expected", [
    ([GAYA, HAJIPUR, BARH, PMCH, KANKARBAGH],
     ["UPHC Kankarbagh", "PMCH Patna", "SDH Barh", "Sadar Hospital Hajipur"]),
    ([HAJIPUR, PMCH], ["PMCH Patna", "Sadar Hospital Hajipur"]),
    ([GAYA], []),
    ([UNPLACED, PMCH], ["PHC Nowhere", "PMCH Patna"]),
])
def test_centers_are_ranked_home_pin_then_district_then_nearest_within_near_km(found,
                                                                               expected):
    ranked = centers.rank(found, HOME, "800020", near_km=50)
    assert [r.slot.center_name for r in ranked] == expected


def test_each_ranked_center_carries_its_distance_and_scope():
    ranked = centers.rank([HAJIPUR, BARH, KANKARBAGH], HOME, "800020", near_km=50)
    assert [(r.scope, round(r.km)) for r in ranked] == [
        ("pincode", 0), ("district", 59), ("near", 11)]


def test_a_center_appears_once_with_its_first_free_slot():
    later = slot(2, "PMCH Patna", "800004", (25.619, 85.159), start=14)
    [ranked] = centers.rank([PMCH, later], HOME, "800020", near_km=50)
    assert ranked.slot.start_time == dt.time(9)


def test_the_nearest_far_centers_come_nearest_first_and_only_so_many():
    ranked = centers.rank_far([GAYA, HAJIPUR, BARH], HOME, count=2)
    assert [r.slot.center_name for r in ranked] == ["Sadar Hospital Hajipur", "SDH Barh"]
    assert ranked[0].km == pytest.approx(km_between(HOME.point, HAJIPUR.point))


def test_the_cells_near_a_home_cover_every_point_within_the_radius():
    cells = centers.cells_near(HOME.point, 50)
    assert centers.cell_of(HOME.point) in cells
    assert centers.cell_of(BARH.point) in cells and centers.cell_of(HAJIPUR.point) in cells
    assert len(cells) <= 4
