"""Menus in the console: edit a journey's YAML, see every screen in every language, publish,
roll back. Editing and publishing are for admins; everyone signed in may look."""
from __future__ import annotations

import json
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for

from gateway.flows import FlowSet, build_screen
from gateway.text.i18n import LANGUAGES
from gateway.ussd_menus.check import sample_items, sample_vars
from gateway.ussd_menus.render import render
from gateway.web.runtime import get_runtime

from . import inventory as inv
from .access import admin_required, audit, bp, current_user, login_required
from .models import MenuVersion
from .publishing import check_files, list_versions, parse_files

MAX_FILE_CHARS = 200_000


def preview(flows: FlowSet, journey: str | None = None) -> list[dict[str, Any]]:
    """Every page of every screen (of one journey, or all) in every language, with counts."""
    rows = []
    for screen_id in sorted(flows.screens):
        definition = flows.screens[screen_id]
        if journey and not screen_id.startswith(journey + "."):
            continue
        if not (definition.interactive or definition.type == "end"):
            continue
        langs = []
        for lang in LANGUAGES:
            vars = sample_vars(lang)
            items = sample_items(definition.source, lang) if definition.source else []
            screen = build_screen(flows, screen_id, vars, items, None,
                                  can_go_back=screen_id != flows.home)
            first = render(screen, 0, flows.messages)
            pages = [first] + [render(screen, n, flows.messages)
                               for n in range(1, first.page_count)]
            langs.append({"lang": lang, "pages": [
                {"text": p.text, "chars": p.needed, "limit": p.limit,
                 "ok": p.needed <= p.limit} for p in pages]})
        rows.append({"id": screen_id, "type": definition.type, "langs": langs})
    return rows


def _action_names() -> set[str]:
    from gateway.registry.actions import ACTIONS

    return set(ACTIONS)


@bp.get("/menus")
@login_required
def menus():
    """The live menu files and every published version (newest first)."""
    runtime = get_runtime()
    with runtime.db.read() as session:
        versions = list_versions(session)
    files = runtime.menus.live_files()
    return render_template("admin/menus.html", files=sorted(files), versions=versions,
                           live=runtime.flows.version)


@bp.get("/menus/preview")
@login_required
def menus_preview():
    """Every screen of the live menus in every language, with character counts."""
    flows = get_runtime().flows
    return render_template("admin/menu_preview.html", rows=preview(flows), version=flows.version,
                           title="Live menus")


@bp.route("/menus/edit/<name>", methods=["GET", "POST"])
@admin_required
def menu_edit(name: str):
    """Edit one file; "Check" validates and previews, "Publish" also makes it live."""
    runtime = get_runtime()
    files = runtime.menus.live_files()
    if name not in files:
        abort(404)
    if request.method == "GET":
        return render_template("admin/menu_edit.html", name=name, text=files[name],
                               errors=[], rows=None)
    text = request.form.get("text", "").replace("\r\n", "\n")[:MAX_FILE_CHARS]
    draft = {**files, name: text}
    errors = check_files(draft, _action_names())
    rows = None
    if not errors:
        flows, _ = parse_files(draft)
        rows = preview(flows, None if name == "messages.yaml" else name.removesuffix(".yaml"))
    if errors or request.form.get("action") != "publish":
        return render_template("admin/menu_edit.html", name=name, text=text, errors=errors,
                               rows=rows), 422 if errors else 200
    _publish(draft, request.form.get("note", "") or f"edited {name}",
             {"file": name, "before": files[name], "after": text})
    return redirect(url_for("admin.menus"))


@bp.post("/menus/rollback/<int:version_id>")
@admin_required
def menu_rollback(version_id: int):
    """Publish an earlier version again, as the newest version."""
    runtime = get_runtime()
    with runtime.db.read() as session:
        row = session.get(MenuVersion, version_id) if inv.valid_id(version_id) else None
        if row is None:
            abort(404)
        files, version = json.loads(row.files), row.version
    _publish(files, f"rollback to #{version_id}", {"to_id": version_id, "to": version})
    return redirect(url_for("admin.menus"))


def _publish(files: dict[str, str], note: str, details: dict[str, Any]) -> None:
    runtime = get_runtime()
    before = runtime.flows.version
    with runtime.db.write() as session:
        row = runtime.menus.publish(session, files, current_user().username, note)
        audit(session, "menus.publish", f"menu version #{row.id}",
              {"version": before}, {"version": row.version, "note": note, **details})
        row_id, version = row.id, row.version
    runtime.menus.announce(row_id)
    flash(f"Published version #{row_id} ({version}); it is live in every worker within "
          "a second. Sessions already in progress finish on their version.")
