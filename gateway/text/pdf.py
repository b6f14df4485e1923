"""Printable tables as PDF (day lists, call lists) with fpdf2.

Names are in Latin, Devanagari or Bengali script, so the PDF embeds Debian's Noto fonts
(``fonts-noto-core``; Lohit and DejaVu are second choices) and shapes text with HarfBuzz
(``uharfbuzz``), which joins conjuncts and vowel signs correctly. A script without any
font installed is still written, as boxes, rather than refused.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

FONT_DIRS = tuple(Path("/usr/share/fonts/truetype") / d for d in
                  ("noto", "lohit-devanagari", "lohit-bengali", "dejavu"))
# (family, candidate files, first found wins); the first family found is the main font
FONTS = (("latin", ("NotoSans-Regular.ttf", "DejaVuSans.ttf")),
         ("deva", ("NotoSansDevanagari-Regular.ttf", "Lohit-Devanagari.ttf")),
         ("beng", ("NotoSansBengali-Regular.ttf", "Lohit-Bengali.ttf")))


def font_files() -> dict[str, Path]:
    """The font file of each family that this machine has."""
    found = {}
    for family, names in FONTS:
        path = next((d / n for n in names for d in FONT_DIRS if (d / n).is_file()), None)
        if path is not None:
            found[family] = path
    return found


def table_pdf(title: str, subtitle: str, header: Sequence[str], rows: Sequence[Sequence],
              widths: Sequence[float]) -> bytes:
    """A landscape A4 table: ``widths`` are relative column widths; the header repeats on
    every page, which is numbered."""
    doc = _document(title)
    doc.add_page()
    families = _fonts(doc)
    doc.set_font(families[0], size=14)
    doc.multi_cell(0, 8, title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.set_font(size=9)
    doc.multi_cell(0, 5, subtitle, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    doc.ln(2)
    scale = doc.epw / sum(widths)
    with doc.table(col_widths=[w * scale for w in widths], text_align="LEFT",
                   line_height=5.5, repeat_headings=1,
                   headings_style=FontFace(emphasis="", fill_color=(225, 225, 225))) as table:
        table.row([str(h) for h in header])
        for row in rows:
            table.row(["" if c is None else str(c) for c in row])
    return bytes(doc.output())


class _Numbered(FPDF):
    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(size=8)
        self.cell(0, 5, f"{self.title} · page {self.page_no()}/{{nb}}", align="C")


def _document(title: str) -> FPDF:
    doc = _Numbered(orientation="L", format="A4")
    doc.set_title(title)
    doc.set_creator("vaxgate")
    doc.set_auto_page_break(auto=True, margin=14)
    doc.set_margins(10, 10, 10)
    return doc


def _fonts(doc: FPDF) -> list[str]:
    """Add every installed family; the first is the main one, the rest are fallbacks."""
    families = []
    for family, path in font_files().items():
        doc.add_font(family, fname=str(path))
        families.append(family)
    if not families:  # no TrueType font at all: the built-in one (Latin only)
        return ["helvetica"]
    doc.set_font(families[0], size=9)
    doc.set_fallback_fonts(families[1:])
    doc.set_text_shaping(True)
    return families
