"""The gateway's logging: one stderr handler whose formatter masks phone and ID numbers.

Code masks what it logs (``gateway.text.phones.mask_phone``); this filter is the second line, for
what a library or an exception message carries: any run of 10-15 digits, with or without a
leading ``+``, is masked to ``+91******3210``. OTPs and PINs are never logged at all (the
privacy tests grep a whole journey's logs for them). SQL statements are not logged, and the
engine hides their parameters even from error messages (gateway/storage/database.py).
"""
from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

from gateway.text.phones import mask_phone

LONG_NUMBER = re.compile(r"(?<![\w.])\+?\d{10,15}(?![\w.])")
# rq.cron: its "Registered …" lines describe RQ's own cron loop; workers/cron.py runs ours
QUIET = {"sqlalchemy": logging.WARNING, "urllib3": logging.WARNING, "rq.cron": logging.WARNING}
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask_numbers(text: str) -> str:
    """``text`` with every run of 10-15 digits (phone, ID number) masked."""
    return LONG_NUMBER.sub(lambda m: mask_phone(m.group()), text)


class MaskingFormatter(logging.Formatter):
    """Format as usual, then mask long numbers in the whole line, traceback included."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


def configure_logging(level: str | int = "INFO", stream: TextIO | None = None) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) through the mask; returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(MaskingFormatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet in QUIET.items():
        logging.getLogger(name).setLevel(quiet)
    return handler
