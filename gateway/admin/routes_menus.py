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
from . import menu_diff, menu_drafts
from . import menu_prompts as menu_prompts_module
from .access import admin_required, audit, bp, current_user, login_required
from .models import MenuVersion
from .publishing import builtin_files, check_files, list_versions, parse_files

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
                           live=runtime.flows.version, draft=menu_drafts.current(runtime.redis))


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
                               base=files[name], errors=[], rows=None)
    text = _form_text("text")
    base = _form_text("base") if "base" in request.form else files[name]
    if base != files[name]:  # someone published this file since the form was opened
        return render_template(
            "admin/menu_edit.html", name=name, text=text, base=files[name], errors=[],
            rows=None, stale=menu_diff.files_diff({name: base}, {name: files[name]})), 409
    errors = check_files({**files, name: text}, _action_names())
    if not errors and request.form.get("action") == "draft":
        return _save_draft(name, files, text, base)
    if errors or request.form.get("action") != "publish":
        return _checked(name, files, text, base, errors)
    draft = {**files, name: text}
    _publish(draft, request.form.get("note", "") or f"edited {name}",
             {"file": name, "diff": menu_diff.unified(files[name], text, name)})
    return redirect(url_for("admin.menus"))


def _checked(name: str, files: dict[str, str], text: str, base: str,
             errors: list[str] | None = None):
    """The editor with the draft's problems, or its preview in every language."""
    draft = {**files, name: text}
    errors = check_files(draft, _action_names()) if errors is None else errors
    rows = None
    if not errors:
        flows, _ = parse_files(draft)
        rows = preview(flows, None if name == "messages.yaml" else name.removesuffix(".yaml"))
    return render_template("admin/menu_edit.html", name=name, text=text, base=base,
                           errors=errors, rows=rows), 422 if errors else 200


@bp.route("/menus/prompts/<name>", methods=["GET", "POST"])
@admin_required
def menu_prompts(name: str):
    """Each screen's prompt per language in a form; sending it checks and previews the
    changed file in the editor, where it is published."""
    files = get_runtime().menus.live_files()
    if name not in files:
        abort(404)
    if request.method == "GET":
        return render_template("admin/menu_prompts.html", name=name, langs=LANGUAGES,
                               table=menu_prompts_module.by_screen(files[name]))
    changes = {}
    for field, value in request.form.items():
        _, screen, lang = (field.split(":", 2) + ["", ""])[:3]
        if field.startswith("p:") and lang in LANGUAGES:
            changes[(screen, lang)] = value[:2000]
    text = menu_prompts_module.with_prompts(files[name], changes)
    return _checked(name, files, text, files[name])


def _save_draft(name: str, files: dict[str, str], text: str, base: str):
    """Keep the checked draft for its test phones, or show why not."""
    try:
        phones = menu_drafts.test_phones(request.form.get("phones", ""))
    except menu_drafts.DraftError as exc:
        flash(str(exc), "error")
        return _checked(name, files, text, base, [])
    runtime = get_runtime()
    menu_drafts.save(runtime.redis, {**files, name: text}, phones, current_user().username)
    with runtime.db.write() as session:
        audit(session, "menus.draft", f"draft of {name}", None,
              {"phones": len(phones), "diff": menu_diff.unified(files[name], text, name)})
    flash(f"Draft saved. {', '.join(phones)} now see it when they dial; everyone else "
          "keeps the live menus until you publish.")
    return redirect(url_for("admin.menus"))


@bp.post("/menus/draft/publish")
@admin_required
def menu_draft_publish():
    """Make the draft live for everyone (checked again first)."""
    runtime = get_runtime()
    draft = menu_drafts.current(runtime.redis)
    if draft is None:
        abort(404)
    errors = check_files(draft["files"], _action_names())
    if errors:
        flash(f"The draft was not published: {errors[0]}", "error")
        return redirect(url_for("admin.menus"))
    live = runtime.menus.live_files()
    _publish(draft["files"], "draft tried on test phones", {"diff": "".join(
        menu_diff.unified(live.get(n, ""), draft["files"].get(n, ""), n)
        for n in sorted(set(live) | set(draft["files"])))})
    return redirect(url_for("admin.menus"))


@bp.post("/menus/draft/discard")
@admin_required
def menu_draft_discard():
    """Drop the draft: its test phones see the live menus again."""
    menu_drafts.discard(get_runtime().redis)
    flash("Draft discarded: the test phones see the live menus again.")
    return redirect(url_for("admin.menus"))


def _form_text(field: str) -> str:
    return request.form.get(field, "").replace("\r\n", "\n")[:MAX_FILE_CHARS]


BUILTIN = "builtin"


def _version_files(session, ref: str) -> dict[str, str] | None:
    """The files of a published version (its id) or of the built-in menus."""
    if ref == BUILTIN:
        return builtin_files(get_runtime().menus.menu_dir)
    row = session.get(MenuVersion, int(ref)) if ref.isdigit() and inv.valid_id(int(ref)) \
        else None
    return json.loads(row.files) if row else None


@bp.get("/menus/diff")
@login_required
def menus_diff():
    """What changed between any two versions (or the built-in menus)."""
    old, new = request.args.get("from", BUILTIN)[:12], request.args.get("to", BUILTIN)[:12]
    with get_runtime().db.read() as session:
        before, after = _version_files(session, old), _version_files(session, new)
        versions = list_versions(session)
    if before is None or after is None:
        abort(404)
    return render_template("admin/menu_diff.html", old=old, new=new, versions=versions,
                           changed=menu_diff.files_diff(before, after))


@bp.post("/menus/revert-builtin")
@admin_required
def menu_revert_builtin():
    """Publish the menus shipped with vaxgate again, as the newest version."""
    runtime = get_runtime()
    files, live = builtin_files(runtime.menus.menu_dir), runtime.menus.live_files()
    _publish(files, "back to the built-in menus",
             {"diff": "".join(menu_diff.unified(live.get(n, ""), files.get(n, ""), n)
                              for n in sorted(set(files) | set(live)))})
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
    live = runtime.menus.live_files()
    _publish(files, f"rollback to #{version_id}", {"to_id": version_id, "to": version, "diff": (
        "".join(menu_diff.unified(live.get(n, ""), files.get(n, ""), n)
                for n in sorted(set(files) | set(live))))})
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
    menu_drafts.discard(runtime.redis)  # published: the test phones see what everyone sees
    flash(f"Published version #{row_id} ({version}); it is live in every worker within "
          "a second. Sessions already in progress finish on their version.")
