"""A CSV import that is not CSV at all is refused with where and why; nothing is imported."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gateway.storage import Center
from tests.admin.test_api import call, keys  # noqa: F401 - the fixture

GARBAGE = [
    b"\x1e\xc2\x99\x0c\r\xc2\x83",  # a bare carriage return inside an unquoted field
    b'code,name,state,district,pincode\nC1,"PHC \x00 Nul,Bihar,Patna,800001\n',
    b"\xff\xfe\x00garbage",
]


@pytest.mark.parametrize("body", GARBAGE)
def test_garbage_csv_is_a_400_and_imports_nothing(client, db, keys, body):  # noqa: F811
    answer = call(client, "post", "/api/v1/import/centers", keys["admin"], data=body,
                  content_type="text/csv")
    assert answer.status_code == 400
    assert answer.json["field"] == "body"
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Center)) == 0
