"""The JSON error body of /api/v1: ``{"error": code, "message": text, ...}``."""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    """A JSON error answer; ``extra`` names the field or carries details."""
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response
