"""The console's state and district pickers: India Post's directory as select options."""
from __future__ import annotations

from gateway.geo import places
from gateway.storage import Database


def district_choices(db: Database) -> list[tuple[str, list[str]]]:
    """[(state, [district, ...])], both by name: a select's optgroups and options."""
    with db.read() as session:
        by_state = {state.id: (state.name, []) for state in places.states(session)}
        for district in places.districts(session):
            by_state[district.state_id][1].append(district.name)
    return sorted(by_state.values())
