"""Voice recordings per prompt and language: listen to what a caller hears (a human
recording, else the one espeak-ng made for the live menu version) and upload a human
recording (MP3) that replaces it (docs/ivr.md, "Recordings")."""
from __future__ import annotations

from pathlib import Path

from flask import abort, flash, redirect, render_template, request, url_for

from gateway.ivr.recordings import audio_folder, generated_folder, recording_texts
from gateway.text.i18n import LANGUAGES
from gateway.web.runtime import get_runtime

from .access import admin_required, audit, bp, login_required

MAX_RECORDING_BYTES = 2 * 1024 * 1024
MP3_STARTS = (b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")  # ID3 tag or an MPEG frame


@bp.get("/recordings")
@login_required
def recordings():
    """Every recorded prompt of the live menus in one language, with a player each."""
    lang = request.args.get("lang", "hi")
    if lang not in LANGUAGES:
        abort(404)
    runtime = get_runtime()
    root, flows = audio_folder(runtime.settings.ivr), runtime.flows
    rows = [_row(root, flows.version, lang, key, text)
            for key, text in sorted(recording_texts(flows, lang).items())]
    return render_template("admin/recordings.html", rows=rows, lang=lang,
                           languages=LANGUAGES, version=flows.version)


def _row(root: Path, version: str, lang: str, key: str, text: str) -> dict:
    human = root / lang / f"{key}.mp3"
    made = generated_folder(root, version) / lang / f"{key}.wav"
    found = human if human.is_file() else made if made.is_file() else None
    return {"key": key, "text": text, "human": human.is_file(),
            "src": f"/ivr/audio/{found.relative_to(root).as_posix()}" if found else ""}


@bp.post("/recordings/<lang>/<key>")
@admin_required
def upload_recording(lang: str, key: str):
    """Store an admin's MP3 as the recording of ``key`` in ``lang``."""
    runtime = get_runtime()
    if lang not in LANGUAGES or key not in recording_texts(runtime.flows, lang):
        abort(404)
    upload = request.files.get("audio")
    data = upload.read(MAX_RECORDING_BYTES + 1) if upload else b""
    if not data.startswith(MP3_STARTS) or len(data) > MAX_RECORDING_BYTES:
        flash("Upload an MP3 file of at most 2 MB.", "error")
        return redirect(url_for("admin.recordings", lang=lang))
    target = audio_folder(runtime.settings.ivr) / lang / f"{key}.mp3"
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".upload")
    partial.write_bytes(data)
    partial.replace(target)
    with runtime.db.write() as session:
        audit(session, "recordings.upload", f"{lang}/{key}", after={"bytes": len(data)})
    flash(f"The recording of {key} ({lang}) is now the one callers hear.", "ok")
    return redirect(url_for("admin.recordings", lang=lang) + f"#{key}")
