"""Regenerate the golden transcripts after an intended menu change:
``.venv/bin/python -m tests.golden.record`` (or ``make golden``), then review
``git diff tests/golden/testdata``: it shows what callers will now see and hear.

The journeys are played by the same test and fixtures that check them, in recording mode."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.golden.journeys import RECORD_ENV

HERE = Path(__file__).resolve().parent


def main() -> int:
    """Play every journey and write tests/golden/testdata/*.json; the pytest exit code."""
    os.environ[RECORD_ENV] = "1"
    code = pytest.main(["-q", "-p", "no:cacheprovider", str(HERE / "test_golden_journeys.py")])
    if code == 0:
        print(f"Transcripts written to {HERE / 'testdata'}; review: git diff {HERE / 'testdata'}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
