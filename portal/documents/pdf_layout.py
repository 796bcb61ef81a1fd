"""The PDF building blocks every portal document shares (reportlab): fonts, letter pages
with a numbered footer, paragraph styles, and the empty signature box with the signer's
details under it, which records where it lands so the signer can put a field there.

Output is byte-for-byte deterministic for the same input: reportlab's invariant mode fixes
the creation date and document ID; the signatures, not the PDF's own metadata, carry the
real dates. The agreement's layout is in `render`, the notices' in `notices`, the
certificate of completion's in `certificate`.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Table, TableStyle
from reportlab.platypus import Paragraph as PdfParagraph

PDF_CREATOR = "HMIS Partner Portal"  # the author is the party issuing the document
SIGNATURE_BOX_SIZE = (240.0, 60.0)
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
_FIELD_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")  # no "." : PDF field names nest on dots


@dataclass(frozen=True)
class PartyBlock:
    field_name: str  # name of the PDF signature field to create, e.g. "agency_signature"
    heading: str  # e.g. "PARTNER AGENCY"
    name: str
    title: str
    organization: str


@dataclass(frozen=True)
class SignatureFieldPlacement:
    name: str
    page: int  # 0-based
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points, origin bottom-left


@dataclass(frozen=True)
class RenderedDocument:
    pdf: bytes
    signature_fields: list[SignatureFieldPlacement]
    text: str


# ---------------------------------------------------------------- fonts and page furniture


@dataclass(frozen=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    mono: str
    embedded: bool  # True: a TrueType font with wide Unicode coverage is embedded


@functools.cache
def document_fonts() -> Fonts:
    """DejaVu (embedded, covers "Café Ñandú – Hope House") if installed, else Helvetica."""
    files = {
        "PortalSans": "DejaVuSans.ttf",
        "PortalSans-Bold": "DejaVuSans-Bold.ttf",
        "PortalSans-Oblique": "DejaVuSans-Oblique.ttf",
        "PortalSans-BoldOblique": "DejaVuSans-BoldOblique.ttf",
        "PortalMono": "DejaVuSansMono.ttf",
    }
    if not all((FONT_DIR / name).is_file() for name in files.values()):
        return Fonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", "Courier", False)
    for font_name, file_name in files.items():
        pdfmetrics.registerFont(TTFont(font_name, str(FONT_DIR / file_name)))
    # Lets <b> and <i> inside Paragraph markup find the bold and oblique faces.
    pdfmetrics.registerFontFamily(
        "PortalSans",
        normal="PortalSans",
        bold="PortalSans-Bold",
        italic="PortalSans-Oblique",
        boldItalic="PortalSans-BoldOblique",
    )
    return Fonts("PortalSans", "PortalSans-Bold", "PortalSans-Oblique", "PortalMono", True)


class NumberedCanvas(Canvas):
    """Holds every page until the end so the footer can say "Page x of y"."""

    def __init__(self, *args: Any, footer: Callable[[Canvas, int, int], None], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._page_states: list[dict[str, Any]] = []

    def showPage(self) -> None:  # noqa: N802 (reportlab's name)
        self._page_states.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._page_states)
        for state in self._page_states:
            self.__dict__.update(state)
            self._footer(self, self._pageNumber, total)
            super().showPage()
        super().save()


def footer_drawer(prefix: str) -> Callable[[Canvas, int, int], None]:
    """A footer "<prefix> · Page x of y" centred near the bottom edge, with a hairline."""
    fonts = document_fonts()

    def draw(canvas: Canvas, page: int, total: int) -> None:
        width = canvas._pagesize[0]
        canvas.saveState()
        canvas.setStrokeColor(colors.Color(0.7, 0.7, 0.7))
        canvas.setLineWidth(0.5)
        canvas.line(inch, 0.72 * inch, width - inch, 0.72 * inch)
        canvas.setFont(fonts.regular, 8.5)
        canvas.setFillColor(colors.Color(0.3, 0.3, 0.3))
        canvas.drawCentredString(width / 2, 0.5 * inch, f"{prefix} · Page {page} of {total}")
        canvas.restoreState()

    return draw


def build_pdf(
    story: list[Flowable], *, footer_prefix: str, title: str, subject: str, author: str
) -> bytes:
    """Lay out `story` on letter pages with the numbered footer; deterministic bytes.

    `author` is the party issuing the document (the lead agency, or a notice's issuer).
    """
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=LETTER,
        leftMargin=inch,
        rightMargin=inch,
        topMargin=0.9 * inch,
        bottomMargin=inch,
        title=title,
        subject=subject,
        author=author,
        creator=PDF_CREATOR,
        lang="en-US",
        invariant=1,
    )
    canvasmaker = functools.partial(NumberedCanvas, footer=footer_drawer(footer_prefix))
    doc.build(story, canvasmaker=canvasmaker)
    return buffer.getvalue()


def paragraph_styles() -> dict[str, ParagraphStyle]:
    fonts = document_fonts()
    body = ParagraphStyle(
        "body",
        fontName=fonts.regular,
        fontSize=10,
        leading=13.5,
        spaceAfter=5,
        bulletFontName=fonts.regular,
        bulletFontSize=10,
    )
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11, spaceAfter=3),
        "kicker": ParagraphStyle(
            "kicker", parent=body, fontSize=10, alignment=TA_CENTER, spaceAfter=4,
            textColor=colors.Color(0.3, 0.3, 0.3),
        ),
        "title": ParagraphStyle(
            "title", parent=body, fontName=fonts.bold, fontSize=17, leading=21,
            alignment=TA_CENTER, spaceAfter=10,
        ),
        "party": ParagraphStyle(
            "party", parent=body, fontName=fonts.bold, fontSize=11.5, leading=14.5,
            alignment=TA_CENTER, spaceAfter=1,
        ),
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER, spaceAfter=3),
        "article": ParagraphStyle(
            "article", parent=body, fontName=fonts.bold, fontSize=12, leading=15,
            spaceBefore=12, spaceAfter=6, keepWithNext=1,
        ),
        "section": ParagraphStyle(
            "section", parent=body, fontName=fonts.bold, fontSize=10.5, leading=14,
            spaceBefore=6, spaceAfter=4, keepWithNext=1,
        ),
        "label": ParagraphStyle(
            "label", parent=body, spaceAfter=0, textColor=colors.Color(0.35, 0.35, 0.35)
        ),
        "value": ParagraphStyle("value", parent=body, spaceAfter=0),
        "caption": ParagraphStyle(
            "caption", parent=body, fontSize=8, leading=10, spaceBefore=2, spaceAfter=0,
            textColor=colors.Color(0.35, 0.35, 0.35),
        ),
    }  # fmt: skip


# ---------------------------------------------------------------- signature boxes


class SignatureBox(Flowable):
    """The empty rectangle a digital signature's appearance will fill; records where it lands."""

    def __init__(
        self, field_name: str, placements: list[SignatureFieldPlacement], size: tuple[float, float]
    ) -> None:
        super().__init__()
        self.field_name = field_name
        self.placements = placements
        self.width, self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        self.canv.saveState()
        self.canv.setStrokeColor(colors.Color(0.45, 0.45, 0.45))
        self.canv.setLineWidth(0.75)
        self.canv.rect(0, 0, self.width, self.height)
        self.canv.restoreState()
        x, y = self.canv.absolutePosition(0, 0)
        box = (round(x, 2), round(y, 2), round(x + self.width, 2), round(y + self.height, 2))
        page = self.canv.getPageNumber() - 1
        self.placements.append(SignatureFieldPlacement(self.field_name, page, box))


def check_field_name(name: str) -> None:
    """A signature field name the PDF can hold as one field (no "." : field names nest on dots)."""
    if not _FIELD_NAME.fullmatch(name):
        raise ValueError(f"signature field name {name!r}: use letters, digits, _ and -")


def signer_details(
    party: PartyBlock,
    styles: dict[str, ParagraphStyle],
    markup: Callable[[str], str] = xml_escape,
) -> Table:
    """Name, title, organization and a ruled line to date, under a signature box.

    markup turns each plain value into Paragraph markup (escaped by default).
    """
    width = SIGNATURE_BOX_SIZE[0]
    details = Table(
        [
            [PdfParagraph(label, styles["label"]), PdfParagraph(markup(text), styles["value"])]
            for label, text in (
                ("Name", party.name),
                ("Title", party.title),
                ("Organization", party.organization),
                ("Date", ""),
            )
        ],
        colWidths=[72, width + 120 - 72],
        hAlign="LEFT",
    )
    details.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LINEBELOW", (1, 3), (1, 3), 0.5, colors.grey),
                ("TOPPADDING", (0, 3), (-1, 3), 14),
            ]
        )
    )
    return details
