"""The menu loader and the menu publishing paths under arbitrary YAML and bytes.

- ``load_flows`` on a menu folder whose files are mutated shipped menus, any YAML document
  or any bytes: a valid FlowSet, or MenuError whose every line names the file and the
  problem — never another exception.
- ``POST /api/v1/menus/versions`` and the console's edit form: a 201/302 publish, or a
  400/422 naming the problems; a refused draft changes nothing (no new version, the live
  version stays).
"""
from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import event, example, given
from hypothesis import strategies as st
from sqlalchemy import func, select

from gateway import MENU_DIR
from gateway.admin.models import MenuVersion
from gateway.admin.publishing import builtin_files
from gateway.api.keys import create_key
from gateway.flows import FlowSet, MenuError, load_flows
from tests.fuzz import tally

from .conftest import fuzz_settings
from .strategies import ENCODINGS, any_bytes, dump, encode, mutated, nasty_text, yaml_values

SHIPPED = builtin_files(MENU_DIR)
NAMES = sorted(SHIPPED)
DOCS = {name: yaml.safe_load(text) for name, text in SHIPPED.items()}

@st.composite
def menu_files(draw) -> dict[str, bytes]:
    """The shipped files, some changed: a mutation, any YAML document, text or bytes."""
    files = {name: text.encode() for name, text in SHIPPED.items()}
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=3, unique=True)):
        how = draw(st.sampled_from(("mutate", "mutate", "mutate", "yaml", "text", "bytes",
                                    "drop")))
        if how == "drop":
            del files[name]
        elif how == "mutate":
            files[name] = dump(draw(mutated(DOCS[name]))).encode("utf-8", "surrogatepass")
        elif how == "yaml":
            files[name] = dump(draw(yaml_values)).encode("utf-8", "surrogatepass")
        elif how == "text":
            files[name] = encode(draw(nasty_text), draw(st.sampled_from(ENCODINGS)))
        else:
            files[name] = draw(any_bytes)
    if draw(st.integers(0, 9)) == 0:
        files[draw(st.sampled_from(("extra.yaml", "x.yaml")))] = dump(draw(yaml_values)).encode(
            "utf-8", "surrogatepass")
    return files


NAMED = re.compile(r"^[\w.\-/ ]*\.yaml\b|not a directory")


@given(files=menu_files())
@example(files={**{n: t.encode() for n, t in SHIPPED.items()}, "main.yaml": b"\xff\xfe\x00"})
@example(files={**{n: t.encode() for n, t in SHIPPED.items()},
                "booking.yaml": b"screens: {}\n1: a\nb: c\n"})
@example(files={**{n: t.encode() for n, t in SHIPPED.items()},
                "main.yaml": b"[" * 2000 + b"]" * 2000})
@fuzz_settings(examples=30)
def test_the_loader_gives_flows_or_menu_errors_naming_the_file(files):
    with tally.case("menu YAML loader (load_flows)"), \
            tempfile.TemporaryDirectory(prefix="vaxgate-fuzz-menus-") as folder:
        for name, data in files.items():
            (Path(folder) / name).write_bytes(data)
        try:
            flows = load_flows(folder)
            event("valid flows")
        except MenuError as exc:
            event("MenuError")
            assert exc.errors, "a MenuError must say what is wrong"
            for line in exc.errors:
                assert NAMED.match(line) and ": " in line, line
        else:
            assert isinstance(flows, FlowSet) and flows.start in flows.screens


# ---- publishing ------------------------------------------------------------------------

@pytest.fixture
def admin_key(db) -> str:
    with db.write() as session:
        return create_key(session, "fuzz admin", "admin", None, "fuzz")[1]


def versions(db) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(MenuVersion))


json_files = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.sampled_from(NAMES), st.text(max_size=12)),
    st.one_of(st.builds(dump, st.sampled_from(NAMES).map(DOCS.get).flatmap(mutated)),
              st.builds(dump, yaml_values), nasty_text, st.sampled_from(list(SHIPPED.values()))),
    max_size=3)
bodies = st.one_of(st.fixed_dictionaries({"files": json_files}, optional={"note": nasty_text}),
                   st.fixed_dictionaries({"files": yaml_values}), yaml_values)


@given(body=bodies)
@example(body={"files": {"messages.yaml": SHIPPED["messages.yaml"] + "\n# \ud800\n"}})
@example(body={"files": {"main.yaml": SHIPPED["main.yaml"] + "\n# a harmless comment\n"}})
@fuzz_settings(examples=40)
def test_publishing_by_api_refuses_bad_menus_and_changes_nothing(sandbox_client, db,
                                                                 admin_key, error_log, body):
    with tally.case("menu publish POST /api/v1/menus/versions"):
        before, live = versions(db), sandbox_client.get(
            "/api/v1/menus/versions", headers={"X-API-Key": admin_key}).get_json()["live"]
        response = sandbox_client.post("/api/v1/menus/versions", data=json.dumps(body),
                                       content_type="application/json",
                                       headers={"X-API-Key": admin_key})
        event(f"status {response.status_code}")
        assert response.status_code in (201, 400, 422), response.get_data(as_text=True)[:500]
        error_log.check()
        if response.status_code == 201:
            assert versions(db) == before + 1
            return
        assert response.get_json()["field"], response.get_json()
        assert versions(db) == before
        assert sandbox_client.get("/api/v1/menus/versions", headers={
            "X-API-Key": admin_key}).get_json()["live"] == live


console_texts = st.one_of(st.builds(dump, st.sampled_from(NAMES).map(DOCS.get).flatmap(mutated)),
                          st.builds(dump, yaml_values), nasty_text)


@given(name=st.sampled_from(NAMES), text=console_texts, publish=st.booleans())
@example(name="main.yaml", text=SHIPPED["main.yaml"] + "\n# edited\n", publish=True)
@example(name="booking.yaml", text=SHIPPED["booking.yaml"].replace("call: book_slot",
                                                                   "call: [book_slot]"),
         publish=False)  # a list where an action name goes was a 500
@fuzz_settings(examples=10)
def test_publishing_in_the_console_refuses_bad_menus_and_changes_nothing(console, db, error_log,
                                                                         name, text, publish):
    with tally.case("menu edit/publish POST /admin/menus/edit/<name>"):
        before = versions(db)
        response = console.post(f"/admin/menus/edit/{name}", {
            "text": text.encode("utf-8", "replace").decode(), "note": "fuzz",
            "action": "publish" if publish else "check"})
        event(f"status {response.status_code}")
        assert response.status_code in (200, 302, 422), response.get_data(as_text=True)[:500]
        error_log.check()
        published = response.status_code == 302
        assert publish or not published
        assert versions(db) == before + published
