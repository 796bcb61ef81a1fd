"""Read rendered PDFs back without pypdf: poppler's pdftotext and pyHanko's reader."""

from __future__ import annotations

import html
import io
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader

needs_pdftotext = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="poppler's pdftotext is not installed"
)


def page_texts(pdf: bytes, *, layout: bool = False) -> list[str]:
    """Text of every page, in order (pdftotext ends each page with a form feed)."""
    args = ["pdftotext", *(["-layout"] if layout else []), "-", "-"]
    out = subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()
    return out.split("\f")[:-1]


def flat(text: str) -> str:
    """Whitespace collapsed, so words wrapped across lines still match."""
    return " ".join(text.split())


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float  # from the TOP of the page, as pdftotext reports it
    x_max: float
    y_max: float


def words(pdf: bytes, page: int) -> list[Word]:
    """Words on a 0-based page with their boxes (pdftotext -bbox)."""
    number = str(page + 1)
    args = ["pdftotext", "-bbox", "-f", number, "-l", number, "-", "-"]
    out = subprocess.run(args, input=pdf, capture_output=True, check=True).stdout.decode()
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        Word(html.unescape(m.group(5)), *(float(m.group(i)) for i in range(1, 5)))
        for m in pattern.finditer(out)
    ]


def reader(pdf: bytes) -> PdfFileReader:
    return PdfFileReader(io.BytesIO(pdf))


def page_count(pdf: bytes) -> int:
    return int(reader(pdf).root["/Pages"]["/Count"])


def media_box(pdf: bytes, page: int) -> tuple[float, float, float, float]:
    page_ref, _ = reader(pdf).find_page_for_modification(page)
    x1, y1, x2, y2 = (float(v) for v in page_ref.get_object()["/MediaBox"])
    return x1, y1, x2, y2
