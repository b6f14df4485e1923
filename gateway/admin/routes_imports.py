"""The Imports page: upload paper registrations, centers or slots as CSV; the import runs
in the background (``import_jobs``) and its page shows a progress bar, then the result
with every problem of every refused row in plain words."""
from __future__ import annotations

from flask import abort, jsonify, redirect, render_template, request, url_for
from redis.exceptions import RedisError

from gateway.web.runtime import get_runtime

from . import import_jobs
from .access import bp, login_required, principal, writer_required
from .csvio import MAX_UPLOAD_BYTES


@bp.get("/imports")
@writer_required
def imports():
    """Three upload forms, each with a one-time token against double submission."""
    return render_template("admin/imports.html", kinds=_kinds(),
                           token=import_jobs.new_token(), max_mb=MAX_UPLOAD_BYTES >> 20)


def _kinds() -> dict[str, str]:
    kinds = dict(import_jobs.KINDS)
    if not principal().is_admin:  # paper registrations may name any district's center
        kinds.pop("registrations")
    return kinds


@bp.post("/imports")
@writer_required
def import_start():
    """Keep the upload, start its import in the background, show its progress."""
    kind = request.form.get("kind", "")
    if kind not in _kinds():
        abort(403 if kind in import_jobs.KINDS else 400)
    upload = request.files.get("file")
    runtime = get_runtime()
    try:
        job_id = import_jobs.start(runtime.redis, runtime.queue_redis, kind,
                                   upload.read() if upload else b"", principal(),
                                   request.form.get("token", "") or import_jobs.new_token())
    except import_jobs.ImportJobError as exc:
        return render_template("admin/imports.html", kinds=_kinds(), error=str(exc),
                               token=import_jobs.new_token(),
                               max_mb=MAX_UPLOAD_BYTES >> 20), 400
    except RedisError:
        return render_template("admin/error.html", code=503, message=(
            "Imports cannot start just now (the job queue does not answer). "
            "Try again in a minute.")), 503
    return redirect(url_for("admin.import_job", job_id=job_id), 303)


def _found(job_id: str) -> dict:
    found = import_jobs.state(get_runtime().redis, job_id)
    if found is None or not import_jobs.visible_to(found, principal()):
        abort(404)
    return found


@bp.get("/imports/<job_id>")
@login_required
def import_job(job_id: str):
    """One import: a progress bar while it runs (admin.js polls), then its result."""
    return render_template("admin/import_job.html", job=_found(job_id), job_id=job_id)


@bp.get("/imports/<job_id>/progress")
@login_required
def import_progress(job_id: str):
    """The progress of an import, for the page's script."""
    found = _found(job_id)
    return jsonify({"status": found["status"], "percent": found["percent"],
                    "rows": int(found["rows"])})
