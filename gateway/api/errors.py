"""Every error of /api/v1 (and of the webhooks beside it): RFC 9457 problem details,
``{"type", "title", "status", "detail", "field"?, ...}`` as ``application/problem+json``
(gateway/web/problems.py defines the shape)."""
from __future__ import annotations

from typing import Any

from flask import Response

from gateway.web.problems import problem, problem_type

__all__ = ["error", "problem_type"]


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """A problem-details answer of kind ``code``; ``extra`` names the field or carries
    details."""
    return problem(status, code, message, **extra)
