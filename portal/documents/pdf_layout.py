"""The PDF building blocks every portal document shares (reportlab): fonts, letter pages
with a numbered footer, paragraph styles, and the empty signature box with the party it is
for under it, which records where it lands so the signer can put a field there.

Every document is PDF/A-3b (`pdfa`: OutputIntent, XMP) with embedded Noto fonts and text
prepared for any script (`fonts`); the signature's appearance prints the signer's name,
title and date in the box (`stamp`). Output is byte-for-byte deterministic for the same
input: reportlab's invariant mode fixes the creation date and document ID; the signatures,
not the PDF's own metadata, carry the real dates. The agreement's layout is in `render`,
the notices' in `notices`, the certificate of completion's in `certificate`.
"""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Table, TableStyle

from portal.documents import pdfa
from portal.documents.fonts import MONO, SANS, draw_string, register_fonts
from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdfa import Attachment

PDF_CREATOR = "HMIS Partner Portal"  # the author is the party issuing the document
# Room for the signature's appearance: a heading and Name, Title, Organization and Date.
SIGNATURE_BOX_SIZE = (300.0, 74.0)
SIGNATURE_PLACEHOLDER = (
    "Signature: [digital signature field; signing prints the signer's name, title, "
    "organization, and the date and time]"
)
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
    embedded: bool  # always True: PDF/A embeds every font (see `fonts`)


@functools.cache
def document_fonts() -> Fonts:
    """Noto Sans (and DejaVu Sans Mono), embedded, with a fallback face per script."""
    register_fonts()
    return Fonts(SANS, f"{SANS}-Bold", f"{SANS}-Italic", MONO, True)


class NumberedCanvas(Canvas):
    """Holds every page until the end so the footer can say "Page x of y"."""

    def __init__(
        self,
        *args: Any,
        footer: Callable[[Canvas, int, int], None],
        attachments: Sequence[Attachment] = (),
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self._footer = footer
        self._attachments = attachments
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
        pdfa.finish(self, self._attachments)
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
        canvas.setFillColor(colors.Color(0.3, 0.3, 0.3))
        text = f"{prefix} · Page {page} of {total}"
        draw_string(canvas, width / 2, 0.5 * inch, text, fonts.regular, 8.5, align="centre")
        canvas.restoreState()

    return draw


def build_pdf(
    story: list[Flowable],
    *,
    footer_prefix: str,
    title: str,
    subject: str,
    author: str,
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """Lay out `story` on letter pages with the numbered footer; deterministic PDF/A-3b bytes.

    `author` is the party issuing the document (the lead agency, or a notice's issuer);
    `attachments` are carried inside as PDF/A-3 associated files.
    """
    document_fonts()
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
        initialFontName=SANS,  # else reportlab declares Helvetica, which is never embedded
    )
    canvasmaker = functools.partial(
        NumberedCanvas, footer=footer_drawer(footer_prefix), attachments=attachments
    )
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
    """The party the signature box is for, under the box.

    The signer's Name, Title and Date are not printed here: the signature's own appearance
    prints them in the box, from the signer's certificate at signing time (see `stamp`), so
    the page cannot show blank lines or a name that disagrees with the signature.
    markup turns each plain value into Paragraph markup (escaped by default).
    """
    width = SIGNATURE_BOX_SIZE[0]
    details = Table(
        [[PdfParagraph("Organization", styles["label"]),
          PdfParagraph(markup(party.organization), styles["value"])]],
        colWidths=[72, width - 72],
        hAlign="LEFT",
    )  # fmt: skip
    details.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return details


def signature_lines(party: PartyBlock, clean: Callable[[str], str] = str) -> list[str]:
    """The plain-text counterpart of a signature block (box and `signer_details`)."""
    return [
        "",
        clean(party.heading),
        SIGNATURE_PLACEHOLDER,
        f"Organization: {clean(party.organization)}",
    ]
