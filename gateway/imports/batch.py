"""Write one batch of validated paper rows in one transaction, with a few set-based
statements instead of a dozen per row.

The rules are the registry's: the phones' profile rows are locked first (as
``beneficiaries.register`` does), the same phone + name + birth year is the same person
(a duplicate, not an error), and a phone holds at most ``cap`` people. Each new person gets
its ``beneficiary.registered`` upstream event in the same transaction.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.geo import places
from gateway.imports.rows import PaperRow, RowError
from gateway.registry.beneficiaries import name_key
from gateway.registry.outbox import beneficiary_data, event_row
from gateway.storage import dialect_insert
from gateway.storage.models import Beneficiary, Center, PhoneProfile, utcnow
from gateway.storage.outbox import UpstreamEvent
from gateway.text.i18n import DEFAULT_LANGUAGE

Key = tuple[str, str, int]


@dataclass
class BatchOutcome:
    """Per line: the person's id (new or known), or the reason the row was refused."""

    person: dict[int, int] = field(default_factory=dict)
    created: set[int] = field(default_factory=set)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    centers: dict[str, Center] = field(default_factory=dict)


def write_batch(session: Session, batch: list[tuple[int, PaperRow]], cap: int,
                channel: str) -> BatchOutcome:
    """Register the batch's new people; report duplicates and refusals (a PIN code India
    Post's directory does not have, too many people on a phone) by line."""
    out = BatchOutcome(centers=_centers(session, batch))
    unknown = places.unknown_pincodes(session, {row.pincode for _, row in batch})
    out.rejected += [(line, f"pincode: {row.pincode} is not a PIN code in India Post's "
                            "directory") for line, row in batch if row.pincode in unknown]
    batch = [(line, row) for line, row in batch if row.pincode not in unknown]
    phones = sorted({row.phone for _, row in batch})
    _lock_phones(session, phones)
    known, counts = _existing(session, phones)
    fresh: dict[Key, dict] = {}
    lines: dict[Key, list[int]] = {}
    for line, row in batch:
        key = (row.phone, name_key(row.name), row.birth_year)
        if row.vaccinated_on and row.center_code not in out.centers:
            out.rejected.append((line, f"center_code: no center {row.center_code!r}"))
        elif key in known or key in fresh:
            lines.setdefault(key, []).append(line)
        elif counts[row.phone] >= cap:
            out.rejected.append((line, f"phone: already has {counts[row.phone]} people "
                                       f"registered (at most {cap} per phone)"))
        else:
            counts[row.phone] += 1
            fresh[key] = _values(row, key, channel)
            lines.setdefault(key, []).append(line)
    known.update(_insert(session, fresh))
    for key, key_lines in lines.items():
        for line in key_lines:
            out.person[line] = known[key]
        if key in fresh:
            out.created.add(key_lines[0])
    return out


def _centers(session: Session, batch: list[tuple[int, PaperRow]]) -> dict[str, Center]:
    codes = {row.center_code for _, row in batch if row.vaccinated_on}
    if not codes:
        return {}
    return {c.code: c for c in session.scalars(select(Center).where(Center.code.in_(codes)))}


def _lock_phones(session: Session, phones: list[str]) -> None:
    """Create missing profile rows, then hold their row locks until commit."""
    upsert = dialect_insert(session)
    session.execute(upsert(PhoneProfile).on_conflict_do_nothing(index_elements=["phone"]),
                    [{"phone": p, "language": DEFAULT_LANGUAGE} for p in phones])
    session.execute(select(PhoneProfile.phone).where(PhoneProfile.phone.in_(phones))
                    .with_for_update())


def _existing(session: Session, phones: list[str]) -> tuple[dict[Key, int], Counter]:
    rows = session.execute(select(Beneficiary.phone, Beneficiary.name_key,
                                  Beneficiary.birth_year, Beneficiary.id)
                           .where(Beneficiary.phone.in_(phones))).all()
    return {(p, k, y): i for p, k, y, i in rows}, Counter(p for p, _, _, _ in rows)


def _values(row: PaperRow, key: Key, channel: str) -> dict:
    return {"phone": row.phone, "name": " ".join(row.name.split()), "name_key": key[1],
            "birth_year": row.birth_year, "gender": row.gender, "id_type": row.id_type,
            "id_last4": row.id_last4, "pincode": row.pincode, "language": DEFAULT_LANGUAGE,
            "channel": channel, "created_at": utcnow()}


def _insert(session: Session, fresh: dict[Key, dict]) -> dict[Key, int]:
    """Insert the new people and their upstream events; return their ids by key."""
    if not fresh:
        return {}
    returning = insert(Beneficiary).returning(Beneficiary, sort_by_parameter_order=True)
    people = session.scalars(returning, list(fresh.values())).all()
    session.execute(insert(UpstreamEvent), [
        event_row("beneficiary.registered", p.id, beneficiary_data(p)) for p in people])
    ids = {key: p.id for key, p in zip(fresh, people, strict=True)}
    session.expunge_all()  # keep the session small: nothing here is read again
    return ids


__all__ = ["BatchOutcome", "RowError", "write_batch"]
