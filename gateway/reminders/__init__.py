"""Reminders, day lists, the "who was reached" report, SMS opt-outs and the waitlist.

- ``planner``: the pure rule (offsets, quiet hours, never after the appointment);
- ``sweeper``: creates due reminders in the SMS ledger, exactly once per (appointment, offset);
- ``daylists`` / ``reach``: per-center day lists, the district report, re-send, phone history;
- ``waitlist``: offers freed places first-come-first-served with a hold;
- ``api``: the JSON/CSV/HTML routes under ``/api/v1/``.
"""
