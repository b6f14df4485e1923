"""Engine mechanics on small purpose-built menus (copied messages.yaml + a tiny main.yaml)."""

from __future__ import annotations

import json
import shutil

import pytest

from gateway import MENU_DIR
from gateway.flows import ActionResult, Context, Effect, Item, MenuError, load_flows, resume, start
from gateway.flows.engine import MAX_ACTIONS_IN_A_ROW, current_screen

TODAY = "2021-11-20"


class ScriptedServices:
    """Returns a fixed result per action name; raises for names mapped to an exception."""

    def __init__(self, results=None):
        self.results = results or {}
        self.calls = []

    def action_names(self):
        return set(self.results)

    def call(self, name, vars):
        self.calls.append(name)
        result = self.results.get(name, ActionResult())
        if isinstance(result, Exception):
            raise result
        return result


def make_flows(tmp_path, main_yaml):
    """A menu dir with the shipped messages.yaml and the given main.yaml."""
    shutil.copy(MENU_DIR / "messages.yaml", tmp_path / "messages.yaml")
    (tmp_path / "main.yaml").write_text(main_yaml, encoding="utf-8")
    return load_flows(tmp_path)


def ctx(services, lang="en"):
    return Context("+919800000001", lang, TODAY, services, {})


LOOP = """
start: spin
home: menu
screens:
  spin: {type: action, call: tick, next: spin}
  menu:
    type: menu
    prompt: {en: "Menu", hi: "मेन्यू", bn: "মেনু"}
    options: [{label: "Spin", next: spin}]
"""

GREETING = """
start: menu
home: menu
screens:
  menu:
    type: menu
    prompt: {en: "Hello {name}! {missing}.", hi: "नमस्ते {name}", bn: "নমস্কার {name}"}
    options:
      - {label: "Ask", next: ask}
      - {label: "Lookup", next: lookup}
      - {label: "Pick", next: pick}
  ask:
    type: input
    prompt: {en: "Code?", hi: "कोड?", bn: "কোড?"}
    validate: {digits: {min: 2, max: 3}}
    save: code
    next: done
  lookup:
    type: action
    call: lookup
    next: {found: done}
  pick:
    type: list
    source: things
    prompt: {en: "Pick", hi: "चुनें", bn: "বাছুন"}
    save: thing
    next: done
    empty: done
  done:
    type: end
    prompt: {en: "Done {code}{thing}", hi: "हो गया", bn: "হয়েছে"}
"""


def test_endless_action_loop_ends_with_error_screen(tmp_path):
    flows = make_flows(tmp_path, LOOP)
    services = ScriptedServices()
    state, screen = start(flows, ctx(services))
    assert screen.final and screen.screen_id == "session.error_end"
    assert len(services.calls) == MAX_ACTIONS_IN_A_ROW
    assert state["done"] is True


def test_action_loop_reports_error_effect_on_resume(tmp_path):
    flows = make_flows(tmp_path, LOOP.replace("start: spin", "start: menu"))
    state, _ = start(flows, ctx(ScriptedServices()))
    _, screen, effects = resume(flows, state, "1", ScriptedServices())
    assert screen.final
    assert effects[-1].kind == "ended" and effects[-1].data["reason"] == "error"


def test_missing_variable_renders_as_empty_text(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    _, screen = start(flows, ctx(ScriptedServices()))
    assert screen.text == "Hello ! ."


def test_unknown_outcome_ends_with_generic_error(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    services = ScriptedServices({"lookup": ActionResult("surprise")})
    state, _ = start(flows, ctx(services))
    state, screen, effects = resume(flows, state, "2", services)
    assert screen.final and screen.screen_id == "session.error_end" and "1075" in screen.text
    detail = "no route for outcome 'surprise' of main.lookup"
    assert effects == [Effect("ended", {"reason": "error", "detail": detail})]


def test_failing_action_ends_with_generic_error_instead_of_raising(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    services = ScriptedServices({"lookup": RuntimeError("database down")})
    state, _ = start(flows, ctx(services))
    _, screen, effects = resume(flows, state, "2", services)
    assert screen.screen_id == "session.error_end"
    assert effects[0].data["detail"] == "action 'lookup' failed"


def test_empty_list_follows_empty_route(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    state, _ = start(flows, ctx(ScriptedServices()))
    _, screen, _ = resume(flows, state, "3", ScriptedServices({"things": ActionResult()}))
    assert screen.screen_id == "main.done"


def test_list_choice_saves_value_and_merges_item_vars(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    services = ScriptedServices({"things": ActionResult(items=[
        Item("a", "Apple", {"colour": "red"}), Item("b", "Banana", {"colour": "yellow"})])})
    state, _ = start(flows, ctx(services))
    state, screen, _ = resume(flows, state, "3", services)
    assert [(o.key, o.label) for o in screen.options] == [("1", "Apple"), ("2", "Banana")]
    state, screen, _ = resume(flows, state, "2", services)
    assert (state["vars"]["thing"], state["vars"]["colour"]) == ("b", "yellow")
    assert screen.text == "Done b"


@pytest.mark.parametrize("answer, accepted", [
    ("12", True), ("123", True), ("1", False), ("1234", False), ("ab", False), ("", False),
])
def test_digits_range_input(tmp_path, answer, accepted):
    flows = make_flows(tmp_path, GREETING)
    state, _ = start(flows, ctx(ScriptedServices()))
    state, screen, _ = resume(flows, state, "1", ScriptedServices())
    assert screen.input is not None and (screen.input.kind, screen.input.min_len) == ("digits", 2)
    _, screen, _ = resume(flows, state, answer, ScriptedServices())
    assert (screen.screen_id == "main.done") is accepted
    if not accepted:
        assert screen.error == "Enter 2-3 digits."


def test_resume_does_not_modify_the_given_state(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    state, _ = start(flows, ctx(ScriptedServices()))
    before = json.dumps(state, sort_keys=True)
    resume(flows, state, "1", ScriptedServices())
    assert json.dumps(state, sort_keys=True) == before


def test_state_from_other_menu_version_reshows_current_screen(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    state, _ = start(flows, ctx(ScriptedServices()))
    state["version"] = "older"
    state, screen, effects = resume(flows, state, "1", ScriptedServices())
    assert (screen.screen_id, state["version"], effects) == ("main.menu", flows.version, [])


def test_answer_after_session_end_reshows_end_screen(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    services = ScriptedServices({"lookup": ActionResult("found")})
    state, _ = start(flows, ctx(services))
    state, screen, _ = resume(flows, state, "2", services)
    assert screen.final
    _, again, effects = resume(flows, state, "1", services)
    assert (again.screen_id, effects) == (screen.screen_id, [])


def test_current_screen_rebuilds_list_without_calling_actions(tmp_path):
    flows = make_flows(tmp_path, GREETING)
    services = ScriptedServices({"things": ActionResult(items=[Item("a", "Apple")])})
    state, _ = start(flows, ctx(services))
    state, screen, _ = resume(flows, state, "3", services)
    calls = len(services.calls)
    assert current_screen(flows, json.loads(json.dumps(state))) == screen
    assert len(services.calls) == calls


def test_invalid_menu_raises_menu_error_with_paths(tmp_path):
    with pytest.raises(MenuError) as raised:
        make_flows(tmp_path, GREETING.replace("next: done\n  lookup", "next: gone\n  lookup"))
    assert "main.yaml: screens.ask.next: 'gone' does not exist" in raised.value.errors
