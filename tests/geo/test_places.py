"""India Post's directory as the registry and the console ask it (loaded by the migration)."""
from __future__ import annotations

import pytest

from gateway.geo import places
from gateway.geo.distance import bounding_box, km_between


def test_a_pin_code_is_placed_in_its_district_state_and_point(db):
    with db.read() as session:
        found = places.place_of(session, "800020")
    assert (found.district, found.state, found.exact) == ("Patna", "Bihar", True)
    assert found.point == pytest.approx((25.60, 85.16), abs=0.05)


@pytest.mark.parametrize("pincode", ["800999", "000000", "12345", "abcdef"])
def test_a_pin_code_the_directory_does_not_have_is_unknown(db, pincode):
    with db.read() as session:
        assert places.place_of(session, pincode) is None
        assert not places.is_pincode(session, pincode)
        assert places.unknown_pincodes(session, {pincode, "800020"}) == {pincode}


def test_an_old_registration_outside_the_directory_is_placed_at_its_neighbour(db):
    with db.read() as session:
        near = places.place_near(session, "800999")
    assert near.district == "Patna" and not near.exact and near.pincode == "800999"


def test_a_pin_code_may_lie_in_more_than_one_district(db):
    with db.read() as session:
        assert places.districts_of_pincode(session, "208001")[0] == "Kanpur Nagar"
        assert places.lies_in(session, "208001", "Uttar Pradesh", "Fatehpur")
        assert not places.lies_in(session, "208001", "Bihar", "Patna")


def test_states_and_districts_are_named_as_india_post_does_in_any_case(db):
    with db.read() as session:
        state, district = places.district_named(session, "west bengal", " KOLKATA ")
        assert (state.name, district.name) == ("West Bengal", "Kolkata")
        with pytest.raises(places.UnknownPlace) as refused:
            places.district_named(session, "Bihar", "Patana")
    assert refused.value.field == "district" and refused.value.suggestions[0] == "Patna"


def test_the_directory_covers_every_state_with_its_districts(db):
    with db.read() as session:
        states = places.states(session)
        bihar = next(s for s in states if s.name == "Bihar")
        assert len(states) == 36 and len(places.districts(session, bihar.id)) == 38
        assert places.count_pincodes(session) > 19_000


def test_haversine_distances_and_the_box_around_a_point():
    patna, delhi = (25.594, 85.137), (28.614, 77.209)
    assert km_between(patna, delhi) == pytest.approx(860, abs=15)
    (south, west), (north, east) = bounding_box(patna, 50)
    assert km_between(patna, (north, patna[1])) == pytest.approx(50, abs=0.5)
    assert km_between(patna, (patna[0], east)) >= 50 and west < patna[1] < east


def test_every_demo_center_lies_in_its_district_and_each_state_has_three_districts(db):
    from gateway.registry.demo_data import DEMO_CENTERS

    with db.read() as session:
        outside = [(s, d, n, pin) for s, d, n, pin in DEMO_CENTERS
                   if not places.lies_in(session, pin, s, d)]
    assert outside == []
    districts: dict[str, set[str]] = {}
    for state, district, _, _ in DEMO_CENTERS:
        districts.setdefault(state, set()).add(district)
    assert len(districts) == 4 and min(len(d) for d in districts.values()) >= 3, districts
