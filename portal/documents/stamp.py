"""The visible appearance of a signature: who signed, as what, for whom, and when.

It covers the signature block's box, so the page prints the Name, Title, Organization and
Date of the signature itself (taken from the signer's certificate at signing time) instead
of blank lines beside it. It is drawn with reportlab and the portal's fonts (`fonts`), so a
name in any script prints shaped, in order and embedded, like the rest of the document;
pyHanko imports the one-page PDF as the signature widget's appearance stream.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.content import PdfContent
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import StaticStampStyle
from pyhanko.stamp.static import StaticContentStamp
from reportlab.lib import colors
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas

from portal.documents.fonts import SANS, draw_string, register_fonts, runs, visual

STAMP_HEADING = "Digitally signed"
_PADDING = 5.0
_LABEL_WIDTH = 62.0
_MIN_SIZE = 5.5


def text_width(text: str, font: str, size: float) -> float:
    """The width `draw_string` will draw `text` at, fallback faces included."""
    register_fonts()
    bold = font.endswith("Bold")
    base = font.removesuffix("-Bold")
    return sum(
        pdfmetrics.stringWidth(piece, f"{family}-Bold" if bold else family, size)
        for family, piece in runs(visual(text), base)
    )


def _fitted(text: str, font: str, size: float, width: float) -> tuple[str, float]:
    """A font size at which `text` fits `width`; below the smallest, the text is cut short."""
    while size > _MIN_SIZE and text_width(text, font, size) > width:
        size -= 0.25
    while len(text) > 1 and text_width(text, font, size) > width:
        text = text[:-2] + "…"
    return text, size


def render_stamp(width: float, height: float, rows: Sequence[tuple[str, str]]) -> bytes:
    """A one-page PDF of `width` × `height` points: the heading, then label/value rows."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(width, height), invariant=1, initialFontName=SANS)
    canvas.setFillColor(colors.white)
    canvas.setStrokeColor(colors.Color(0.2, 0.35, 0.6))
    canvas.setLineWidth(0.9)
    canvas.rect(0.45, 0.45, width - 0.9, height - 0.9, stroke=1, fill=1)

    size = min(8.5, (height - 2 * _PADDING - 7) / (len(rows) + 0.9) / 1.2)
    leading = size * 1.22
    y = height - _PADDING - 6.5
    canvas.setFillColor(colors.Color(0.2, 0.35, 0.6))
    draw_string(canvas, _PADDING, y, STAMP_HEADING, f"{SANS}-Bold", 6.5)
    value_width = width - 2 * _PADDING - _LABEL_WIDTH
    for label, value in rows:
        y -= leading
        canvas.setFillColor(colors.Color(0.35, 0.35, 0.35))
        draw_string(canvas, _PADDING, y, label, SANS, min(size, 7.5))
        canvas.setFillColor(colors.black)
        text, fitted = _fitted(value, SANS, size, value_width)
        draw_string(canvas, _PADDING + _LABEL_WIDTH, y, text, SANS, fitted)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# The rows of the stamp and the appearance parameter each one prints.
STAMP_ROWS = (("Name", "name"), ("Title", "title"), ("Organization", "organization"),
              ("Date", "signed_on"))  # fmt: skip


class _RenderedPage(PdfContent):
    """The first page of a PDF in memory, imported as a form XObject."""

    def __init__(self, pdf: bytes) -> None:
        super().__init__()
        self.pdf = pdf

    def render(self) -> bytes:
        writer = self._ensure_writer
        xobject = writer.import_page_as_xobject(PdfFileReader(io.BytesIO(self.pdf)), page_ix=0)
        self.resources.xobject["/SignatureStamp"] = xobject
        x1, y1, x2, y2 = xobject.get_object()["/BBox"]
        self.box = layout.BoxConstraints(width=abs(x2 - x1), height=abs(y2 - y1))
        return b"/SignatureStamp Do"


@dataclass(frozen=True)
class PortalStampStyle(StaticStampStyle):
    """pyHanko stamp style whose appearance is `render_stamp` at the field's size.

    The appearance parameters are the keys of STAMP_ROWS; an empty value leaves its row out.
    """

    border_width: int = 0  # render_stamp draws its own
    background_layout: layout.SimpleBoxLayoutRule = field(
        default_factory=lambda: layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MIN,
            y_align=layout.AxisAlignment.ALIGN_MIN,
            margins=layout.Margins.uniform(0),
        )
    )

    def create_stamp(
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: Mapping
    ) -> StaticContentStamp:
        params = text_params or {}
        rows = [(label, str(params.get(key) or "")) for label, key in STAMP_ROWS]
        pdf = render_stamp(box.width, box.height, [(label, v) for label, v in rows if v])
        style = replace(self, background=_RenderedPage(pdf))
        return StaticContentStamp(writer=writer, style=style, box=box)
