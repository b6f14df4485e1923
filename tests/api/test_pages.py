"""Every /api/v1 list is paged by cursor: nothing is cut off, no row repeats across pages."""
from __future__ import annotations

import pytest
from sqlalchemy import insert

from gateway.admin.audit import record
from gateway.storage import Center
from tests.admin.test_api import call, keys  # noqa: F401 - the fixture


def every_page(client, key: str, path: str, name: str) -> tuple[list[dict], int]:
    """All items of a list, following next_cursor (and the Link header), and the pages."""
    items, url, pages = [], path, 0
    while url:
        answer = call(client, "get", url, key)
        assert answer.status_code == 200, answer.get_json()
        body, pages = answer.get_json(), pages + 1
        items += body[name]
        link = answer.headers.get("Link")
        assert (link is None) == (body["next_cursor"] is None)
        url = link[1:link.index(">")] if link else None
    return items, pages


def test_six_hundred_centers_all_come_out_in_pages_of_the_asked_size(client, db,
                                                                     keys):  # noqa: F811
    with db.write() as session:
        session.execute(insert(Center), [
            {"code": f"C{n:04d}", "name": f"PHC {n}", "state": "Bihar", "district": "Patna",
             "pincode": "800001", "address": "", "active": True} for n in range(600)])
    found, pages = every_page(client, keys["admin"], "/api/v1/centers?limit=250", "centers")
    assert len(found) == 600 and pages == 3
    assert [c["id"] for c in found] == sorted({c["id"] for c in found})  # once each, in order


def test_a_log_is_paged_newest_first(client, db, keys):  # noqa: F811
    with db.write() as session:
        for n in range(5):
            record(session, "tester", "test.thing", f"thing {n}", None, None)
    found, pages = every_page(client, keys["admin"], "/api/v1/audit?action=test.thing&limit=2",
                              "entries")
    assert [e["target"] for e in found] == [f"thing {n}" for n in range(4, -1, -1)]
    assert pages == 3


@pytest.mark.parametrize("query, field", [("cursor=nonsense", "cursor"), ("limit=0", "limit"),
                                          ("limit=501", "limit"), ("limit=x", "limit")])
def test_a_bad_cursor_or_limit_is_a_400_naming_it(client, keys, query, field):  # noqa: F811
    answer = call(client, "get", f"/api/v1/keys?{query}", keys["admin"])
    assert answer.status_code == 400 and answer.get_json()["field"] == field
