"""The drive, live: the figures behind the dashboard and ``GET /api/v1/stats``.

Every query is an aggregate in SQL; a district principal sees its own district's figures.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

import redis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.config import Settings
from gateway.registry.appointments import district_phones
from gateway.storage import Appointment, Beneficiary, Center, Message, Slot
from gateway.text.times import as_utc

from .auth import Principal

QUEUES = ("otp", "notify", "bulk", "upstream")  # the RQ queues `vaxgate worker` drains
HOURS = 24


def hour_buckets(now: dt.datetime, hours: int = HOURS) -> list[dt.datetime]:
    """The start of each of the last ``hours`` hours (UTC), oldest first."""
    top = now.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)
    return [top - dt.timedelta(hours=n) for n in range(hours - 1, -1, -1)]


def per_hour(session: Session, who: Principal, now: dt.datetime) -> dict[str, list[int]]:
    """Registrations and bookings in each of the last 24 hours."""
    buckets = hour_buckets(now)
    since = buckets[0]
    regs = select(Beneficiary.created_at).where(Beneficiary.created_at >= since)
    books = (select(Appointment.created_at).join(Slot, Slot.id == Appointment.slot_id)
             .join(Center, Center.id == Slot.center_id).where(Appointment.created_at >= since))
    if who.scope:
        regs = regs.where(Beneficiary.pincode.in_(scope_pincodes(who)))
        books = books.where(who.within(Center.state, Center.district))
    return {"hours": [b.isoformat() for b in buckets],
            "registrations": _count_by_hour(session.scalars(regs), buckets),
            "bookings": _count_by_hour(session.scalars(books), buckets)}


def _count_by_hour(times, buckets: list[dt.datetime]) -> list[int]:
    counts = dict.fromkeys(buckets, 0)
    for at in times:
        key = as_utc(at).replace(minute=0, second=0, microsecond=0)
        if key in counts:
            counts[key] += 1
    return list(counts.values())


def slot_fill(session: Session, who: Principal, today: dt.date, days: int = 7
              ) -> list[dict[str, Any]]:
    """Booked and capacity per district for the coming ``days`` days."""
    query = (select(Center.district, func.sum(Slot.booked), func.sum(Slot.capacity))
             .join(Center, Center.id == Slot.center_id)
             .where(Slot.date >= today, Slot.date < today + dt.timedelta(days=days),
                    Center.active.is_(True))
             .group_by(Center.district).order_by(Center.district))
    query = query.where(who.within(Center.state, Center.district))
    return [{"district": d, "booked": int(b or 0), "capacity": int(c or 0)}
            for d, b, c in session.execute(query)]


def sms_by_provider(session: Session, who: Principal, now: dt.datetime
                    ) -> list[dict[str, Any]]:
    """SMS of the last 7 days by provider and status."""
    query = (select(Message.provider, Message.status, func.count())
             .where(Message.created_at >= now - dt.timedelta(days=7))
             .group_by(Message.provider, Message.status)
             .order_by(Message.provider, Message.status))
    query = scope_messages(query, who)
    return [{"provider": p or "(none yet)", "status": s, "count": n}
            for p, s, n in session.execute(query)]


def reminder_reach(session: Session, who: Principal, now: dt.datetime) -> dict[str, int]:
    """Reminder SMS of the last 7 days by status (delivered, sent, failed...)."""
    query = (select(Message.status, func.count())
             .where(Message.kind == "reminder",
                    Message.created_at >= now - dt.timedelta(days=7))
             .group_by(Message.status))
    return {s: n for s, n in session.execute(scope_messages(query, who))}


def scope_messages(query, who: Principal):
    """Only messages to phones with an appointment in the principal's district."""
    if not who.scope:
        return query
    return query.where(Message.phone.in_(scope_phones(who)))


def scope_phones(who: Principal):
    """A subquery: the phones with an appointment at a center in the principal's scope."""
    return district_phones(who.scope, who.scope_state)


def scope_pincodes(who: Principal):
    """A subquery: the PIN codes of the centers in the principal's scope."""
    return select(Center.pincode).where(who.within(Center.state, Center.district))


def queue_depths(conn: redis.Redis) -> dict[str, int | None]:
    """Jobs waiting in each RQ queue (None when Redis does not answer)."""
    from rq import Queue

    depths: dict[str, int | None] = {}
    for name in QUEUES:
        try:
            depths[name] = Queue(name, connection=conn).count
        except RedisError:
            depths[name] = None
    return depths


def circuit_states(conn: redis.Redis, settings: Settings) -> dict[str, str]:
    """Each SMS provider's circuit: closed (healthy), open (skipped) or half-open."""
    from gateway.sms.breaker import build_breaker

    states = {}
    for provider in settings.sms.providers:
        try:
            states[provider.name] = build_breaker(provider.name, conn, settings.sms).state().value
        except RedisError:
            states[provider.name] = "unknown"
    return states


def upstream_backlog(session: Session, who: Principal) -> dict[str, int]:
    """Upstream sync events by status (pending = not yet accepted upstream), of the people
    ``who`` may see."""
    from gateway.upstream.sweeper import status_counts

    return status_counts(session, who.scope, who.scope_state)


def totals(session: Session, who: Principal) -> dict[str, int]:
    """Headline counts: registrations and active bookings."""
    regs = select(func.count()).select_from(Beneficiary)
    books = (select(func.count()).select_from(Appointment)
             .join(Slot, Slot.id == Appointment.slot_id)
             .join(Center, Center.id == Slot.center_id)
             .where(Appointment.status == "booked"))
    if who.scope:
        regs = regs.where(Beneficiary.pincode.in_(scope_pincodes(who)))
        books = books.where(who.within(Center.state, Center.district))
    return {"registrations": session.scalar(regs) or 0, "bookings": session.scalar(books) or 0}


def funnel(session: Session, who: Principal, since: dt.datetime) -> dict[str, int]:
    """Since ``since`` (the start of today): people registered, bookings made, reminders
    sent and delivered, and people vaccinated ("dialled" comes from Redis, admin/giveups)."""
    regs = select(func.count()).select_from(Beneficiary).where(Beneficiary.created_at >= since)
    booked = _appointments_since(Appointment.created_at, since, who)
    vaccinated = _appointments_since(Appointment.updated_at, since, who) \
        .where(Appointment.status == "vaccinated")
    if who.scope:
        regs = regs.where(Beneficiary.pincode.in_(scope_pincodes(who)))
    reminded = scope_messages(select(func.count()).select_from(Message).where(
        Message.kind == "reminder", Message.sent_at >= since), who)
    reached = scope_messages(select(func.count()).select_from(Message).where(
        Message.kind == "reminder", Message.delivered_at >= since), who)
    return {name: session.scalar(query) or 0 for name, query in (
        ("registered", regs), ("booked", booked), ("reminded", reminded),
        ("reached", reached), ("vaccinated", vaccinated))}


def _appointments_since(column, since: dt.datetime, who: Principal):
    query = (select(func.count()).select_from(Appointment)
             .join(Slot, Slot.id == Appointment.slot_id)
             .join(Center, Center.id == Slot.center_id).where(column >= since))
    return query.where(who.within(Center.state, Center.district))
