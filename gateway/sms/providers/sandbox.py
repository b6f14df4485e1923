"""The ``sandbox`` provider: needs no account; "sends" by writing to the SQL sandbox inbox.

``make run`` uses it by default; the phone simulator reads :func:`sandbox_inbox`.
"""
from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.sms.dlt import DltTag
from gateway.sms.providers.base import Provider
from gateway.storage.ledger import SandboxMessage


class SandboxProvider(Provider):
    kind = "sandbox"

    def send(self, phone: str, body: str, dlt: DltTag | None = None) -> str:
        """Record the message in ``sms_sandbox_inbox``; the id is ``SB`` + 32 hex digits."""
        message_id = "SB" + uuid.uuid4().hex
        with self.db.write() as session:
            session.add(SandboxMessage(phone=phone, body=body, provider_message_id=message_id))
        return message_id


def sandbox_inbox(session: Session, phone: str, limit: int = 50) -> list[dict]:
    """The messages the sandbox "sent" to ``phone``, newest first, as plain dicts."""
    rows = session.scalars(select(SandboxMessage).where(SandboxMessage.phone == phone)
                           .order_by(SandboxMessage.id.desc()).limit(limit))
    return [{"id": r.provider_message_id, "phone": r.phone, "body": r.body, "at": r.at}
            for r in rows]
