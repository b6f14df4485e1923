"""The audit trail of health-worker actions: who, from which phone, when, which channel."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.healthworkers.models import HealthWorker, HealthWorkerAction
from gateway.storage.retention import Rule

RETENTION = Rule("health_worker_audit", HealthWorkerAction, lambda: HealthWorkerAction.at,
                 "audit_days", lambda: HealthWorkerAction.id.is_not(None))


def record(session: Session, worker: HealthWorker, *, channel: str, action: str,
           subject: str = "", detail: str = "", phone: str | None = None) -> None:
    """Add one audit row in the caller's transaction (so it stands or falls with the action)."""
    session.add(HealthWorkerAction(worker_id=worker.id, phone=phone or worker.phone,
                                   channel=channel, action=action, subject=str(subject)[:40],
                                   detail=detail[:200]))


def recent(session: Session, worker_id: int | None = None,
           limit: int = 100) -> list[HealthWorkerAction]:
    """The newest audit rows, for one worker or all."""
    query = select(HealthWorkerAction).order_by(HealthWorkerAction.id.desc()).limit(limit)
    if worker_id is not None:
        query = query.where(HealthWorkerAction.worker_id == worker_id)
    return list(session.scalars(query))
