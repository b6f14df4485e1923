"""Open an uploaded CSV as text without holding it in memory: UTF-8, UTF-8 with BOM or
Windows-1252 (what Excel on Windows saves), detected by a streaming first pass."""
from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

CHUNK = 64 * 1024
BOM = codecs.BOM_UTF8


def detect_encoding(stream: BinaryIO) -> str:
    """``utf-8-sig`` (BOM), ``utf-8``, or ``cp1252`` when the bytes are not valid UTF-8.

    Reads the seekable ``stream`` once in chunks and rewinds it.
    """
    start = stream.read(len(BOM))
    if start == BOM:
        stream.seek(0)
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    chunk = start
    try:
        while chunk:
            decoder.decode(chunk)
            chunk = stream.read(CHUNK)
        decoder.decode(b"", final=True)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"
    finally:
        stream.seek(0)


def rows(stream: BinaryIO, encoding: str) -> Iterator[tuple[int, dict[str, str]]]:
    """(line number, row) for every data row; header names lower-cased and stripped.

    The line number is the row's first physical line in the file (the header is line 1).
    """
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    reader = csv.reader(text)
    header = [name.strip().lower() for name in next(reader, [])]
    line = reader.line_num
    for values in reader:
        first_line, line = line + 1, reader.line_num
        if not any(value.strip() for value in values):
            continue
        yield first_line, dict(zip(header, (v.strip() for v in values), strict=False))
    text.detach()


def header(stream: BinaryIO, encoding: str) -> list[str]:
    """The lower-cased column names (the stream is rewound)."""
    text = io.TextIOWrapper(stream, encoding=encoding, errors="replace", newline="")
    names = [name.strip().lower() for name in next(csv.reader(text), [])]
    text.detach()
    stream.seek(0)
    return names
