"""Lists: a center's day list and the district reach report,
printable. District users see only their own centers and district."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import abort, render_template, request

from gateway.reminders import daylists, reach
from gateway.storage.models import utcnow
from gateway.web.runtime import get_runtime

from . import inventory as inv
from .access import bp, login_required, principal


@bp.get("/lists")
@login_required
def lists():
    """Pick a center and a date; the day list prints on its own (the menus are hidden)."""
    runtime, who = get_runtime(), principal()
    today = dt.datetime.now(ZoneInfo(runtime.settings.timezone)).date()
    try:
        day = dt.date.fromisoformat(request.args.get("date") or today.isoformat())
    except ValueError:
        abort(400)
    center_id = request.args.get("center_id", type=int)
    rows, center, report = [], None, None
    with runtime.db.report() as session:  # the replica when there is one
        centers = inv.search_centers(session, who, include_inactive=False)
        if center_id:
            try:
                center = inv.get_center(session, who, center_id)
            except inv.NotFound:
                abort(404)
            rows = [daylists.as_dict(r) for r in
                    daylists.day_rows(session, center.id, day, runtime.settings, utcnow())]
        district = center.district if center else who.scope
        if district:
            report = reach.district_report(session, district, runtime.settings.reminders
                                           .report_days, runtime.settings, utcnow())
    return render_template("admin/lists.html", centers=centers, center=center, day=day,
                           rows=rows, report=report)
