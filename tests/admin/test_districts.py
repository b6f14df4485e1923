"""States and districts come from India Post's directory: centers, console users and API
keys name one of its districts (a misspelt one is refused with close names), and a center's
PIN code lies in its district."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from gateway.admin.auth import UserError, create_user
from gateway.admin.models import AdminUser
from gateway.storage import Center
from tests.admin.conftest import AuthActions
from tests.admin.test_api import call, keys  # noqa: F401 - the fixture

CENTER = {"code": "NEW1", "name": "PHC Digha", "state": "Bihar", "district": "Patna",
          "pincode": "800011"}


@pytest.mark.parametrize("changes, field, hint", [
    ({"district": "Patana"}, "district", "Patna"),
    ({"state": "Bihaar"}, "state", "Bihar"),
    ({"district": "Lucknow"}, "district", None),  # a district, but of another state
    ({"pincode": "226001"}, "pincode", "Lucknow"),  # Lucknow's PIN code, not Patna's
    ({"pincode": "800999"}, "pincode", "not in India Post's directory"),
])
def test_a_center_outside_the_directory_is_refused_naming_the_field(
        client, keys, changes, field, hint):  # noqa: F811
    response = call(client, "post", "/api/v1/centers", keys["admin"], json=CENTER | changes)
    problem = response.get_json()
    assert response.status_code == 400 and problem["field"] == field, problem
    if hint:
        assert hint in problem["detail"]


def test_a_misspelt_district_lists_the_close_names(client, keys):  # noqa: F811
    response = call(client, "post", "/api/v1/centers", keys["admin"],
                    json=CENTER | {"district": "Patana"})
    assert response.get_json()["suggestions"][0] == "Patna"


def test_a_center_is_spelt_as_the_directory_does_and_stands_at_its_pin_codes_point(
        client, db, keys):  # noqa: F811
    made = call(client, "post", "/api/v1/centers", keys["admin"],
                json=CENTER | {"state": "BIHAR", "district": " patna "})
    assert made.status_code == 201, made.get_json()
    assert (made.json["state"], made.json["district"]) == ("Bihar", "Patna")
    assert made.json["latitude"] == pytest.approx(25.64, abs=0.05)
    moved = call(client, "put", f"/api/v1/centers/{made.json['id']}", keys["admin"],
                 json=CENTER | {"latitude": 25.6, "longitude": 85.1})
    assert (moved.json["latitude"], moved.json["longitude"]) == (25.6, 85.1)
    with db.read() as session:
        assert session.scalar(select(Center.longitude).where(Center.code == "NEW1")) == 85.1


def test_a_point_needs_both_its_latitude_and_longitude(client, keys):  # noqa: F811
    response = call(client, "post", "/api/v1/centers", keys["admin"],
                    json=CENTER | {"latitude": 25.6})
    assert response.status_code == 400 and "both" in response.get_json()["detail"]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/keys", {"name": "portal", "role": "district", "district": "Patana"}),
    ("/api/v1/users", {"username": "asha", "password": "long enough pw", "role": "district",
                       "district": "Patana"}),
])
def test_keys_and_users_name_a_district_of_the_directory(
        client, keys, path, body):  # noqa: F811
    refused = call(client, "post", path, keys["admin"], json=body)
    assert refused.status_code == 400 and refused.json["field"] == "district"
    assert refused.json["suggestions"][0] == "Patna"
    made = call(client, "post", path, keys["admin"], json=body | {"district": "patna"})
    assert made.status_code == 201 and made.json["district"] == "Patna"


def test_a_console_user_is_refused_a_district_that_does_not_exist(db):
    with db.write() as session, pytest.raises(UserError, match="Patna"):
        create_user(session, "asha", "long enough pw", "district", "Patana")


def test_a_misspelt_district_filter_is_refused_rather_than_answered_empty(client,
                                                                          keys):  # noqa: F811
    refused = call(client, "get", "/api/v1/centers?district=Patana", keys["admin"])
    assert refused.status_code == 400 and refused.json["suggestions"][0] == "Patna"
    assert call(client, "get", "/api/v1/centers?district=patna",
                keys["admin"]).status_code == 200


USER = {"username": "asha", "password": "long enough pw", "role": "district"}
KEY = {"name": "portal", "role": "district"}


@pytest.mark.parametrize("path, body", [("/api/v1/keys", KEY), ("/api/v1/users", USER)])
@pytest.mark.parametrize("place, field, suggestion", [
    ({"state": "Bihar", "district": "Aurangabd"}, "district", "Aurangabad"),
    ({"state": "Bihaar", "district": "Aurangabad"}, "state", "Bihar"),
    # a district of two states needs its state: both are offered
    ({"district": "Aurangabad"}, "state", "Maharashtra"),
    ({"state": "Bihar"}, "district", None),  # a state alone scopes nothing
])
def test_keys_and_users_name_a_state_and_one_of_its_districts(
        client, keys, path, body, place, field, suggestion):  # noqa: F811
    refused = call(client, "post", path, keys["admin"], json=body | place)
    assert refused.status_code == 400, refused.json
    assert refused.mimetype == "application/problem+json" and refused.json["field"] == field
    if suggestion:
        assert suggestion in refused.json["suggestions"]


@pytest.mark.parametrize("path, body", [("/api/v1/keys", KEY), ("/api/v1/users", USER)])
def test_a_key_or_user_keeps_the_state_of_its_district(client, keys, path, body):  # noqa: F811
    made = call(client, "post", path, keys["admin"],
                json=body | {"state": "maharashtra", "district": "aurangabad"})
    assert made.status_code == 201, made.json
    assert (made.json["state"], made.json["district"]) == ("Maharashtra", "Aurangabad")
    alone = call(client, "post", path, keys["admin"],
                 json=body | {"username": "asha2", "name": "other", "district": "Gaya"})
    assert (alone.json["state"], alone.json["district"]) == ("Bihar", "Gaya")


@pytest.mark.parametrize("form, action", [
    ({"username": "asha", "password": "long enough pw"}, "/admin/users"),
    ({"name": "portal"}, "/admin/keys"),
])
def test_the_console_refuses_a_misspelt_district_with_close_names(client, db, users, form,
                                                                  action):
    auth = AuthActions(client)
    auth.login()
    page = auth.post(action, form | {"role": "district", "state": "Bihar",
                                     "district": "Aurangabd"}, follow_redirects=True)
    assert "did you mean Aurangabad" in page.get_data(as_text=True)
    made = auth.post(action, form | {"role": "district", "state": "Bihar",
                                     "district": "Aurangabad"}, follow_redirects=True)
    assert "Aurangabad, Bihar" in made.get_data(as_text=True)


def test_users_and_keys_named_before_states_were_stored_show_state_not_set(client, db, auth):
    with db.write() as session:
        create_user(session, "old.aurangabad", "long enough pw", "district", "Aurangabad",
                    "Bihar")
        session.scalar(select(AdminUser).where(AdminUser.username == "old.aurangabad")
                       ).state = None
    auth.login()
    page = client.get("/admin/users").get_data(as_text=True)
    assert "state not set" in page and "Patna, Bihar" in page


def test_the_centers_filter_tells_the_two_aurangabads_apart(client, keys):  # noqa: F811
    for code, state, pincode in (("AURBR1", "Bihar", "824101"),
                                 ("AURMH1", "Maharashtra", "431001")):
        made = call(client, "post", "/api/v1/centers", keys["admin"], json=CENTER | {
            "code": code, "state": state, "district": "Aurangabad", "pincode": pincode})
        assert made.status_code == 201, made.json
    both = call(client, "get", "/api/v1/centers?district=Aurangabad", keys["admin"])
    assert {c["code"] for c in both.json["centers"]} == {"AURBR1", "AURMH1"}
    one = call(client, "get", "/api/v1/centers?state=maharashtra&district=Aurangabad",
               keys["admin"])
    assert [c["code"] for c in one.json["centers"]] == ["AURMH1"]
    refused = call(client, "get", "/api/v1/centers?state=Bihaar", keys["admin"])
    assert refused.status_code == 400 and refused.json["field"] == "state"
    assert refused.json["suggestions"][0] == "Bihar"
