"""Helpers for the privacy and security-of-data tests."""
from __future__ import annotations

from typing import Any

from gateway.config import Settings


def with_changes(settings: Settings, changes: dict[str, Any]) -> Settings:
    """``settings`` with whole sections merged from ``changes`` (validated again)."""
    data = settings.model_dump()
    for section, values in changes.items():
        data[section] = {**data[section], **values} if isinstance(values, dict) else values
    return Settings.model_validate(data)
