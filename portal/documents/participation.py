"""The certificate of participation (IV.B.4): one page in which the lead agency states that a
partner agency takes part in the HMIS and that one of its staff was issued HMIS access.

Every value comes from people (names, ids) and is escaped, so "<b>&Co" prints literally;
long values wrap, and the page shrinks to fit rather than spill onto a second one. The lead
agency seals the PDF afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import Flowable, HRFlowable, KeepInFrame, Spacer, Table, TableStyle

from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdf_layout import build_pdf, document_fonts, paragraph_styles

CERTIFICATE_TITLE = "Certificate of Participation"
_FRAME_WIDTH = 456.0  # letter width less 1 in margins and the frame's 6 pt paddings
# Letter height less build_pdf's margins (0.9 in top, 1 in bottom) and the frame's paddings.
_FRAME_HEIGHT = LETTER[1] - 1.9 * inch - 12
_GRID = colors.Color(0.75, 0.75, 0.75)


@dataclass(frozen=True)
class Participation:
    """What the certificate states; dates already written out for people."""

    lead_agency_name: str
    agency_name: str
    agreement_reference: str
    agreement_since: str
    user_name: str
    job_title: str
    hmis_user_id: str
    access_issued_on: str
    request_reference: str
    issued_on: str


def _details(facts: Participation) -> Table:
    fonts = document_fonts()
    body = paragraph_styles()["body"]
    cell = ParagraphStyle("cell", parent=body, spaceAfter=0)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.bold)
    rows = [
        ("Partner agency", facts.agency_name),
        ("HMIS Partner Agency Agreement", facts.agreement_reference),
        ("In effect since", facts.agreement_since),
        ("HMIS user", facts.user_name),
        ("Job title", facts.job_title),
        ("HMIS user id", facts.hmis_user_id),
        ("HMIS access issued on", facts.access_issued_on),
        ("Access request", facts.request_reference),
        ("Certificate issued on", facts.issued_on),
    ]
    table = Table(
        [
            [PdfParagraph(xml_escape(label), head), PdfParagraph(xml_escape(value), cell)]
            for label, value in rows
        ],
        colWidths=[170, _FRAME_WIDTH - 170],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def render_participation_certificate(facts: Participation) -> bytes:
    """The certificate as an unsealed PDF (deterministic for the same input)."""
    styles = paragraph_styles()
    e = xml_escape
    story: list[Flowable] = [
        PdfParagraph(f"{e(facts.lead_agency_name)} · HMIS Partner Portal", styles["kicker"]),
        PdfParagraph(CERTIFICATE_TITLE, styles["title"]),
        HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=10),
        PdfParagraph(
            f"<b>{e(facts.lead_agency_name)}</b>, as the HMIS Lead Agency, certifies that:",
            styles["body"],
        ),
        PdfParagraph(
            f"<b>{e(facts.agency_name)}</b> participates in the Homeless Management Information "
            f"System (HMIS) under the HMIS Partner Agency Agreement "
            f"<b>{e(facts.agreement_reference)}</b>, in effect since {e(facts.agreement_since)}; "
            "and",
            styles["body"],
        ),
        PdfParagraph(
            f"<b>{e(facts.user_name)}</b> was issued HMIS access on {e(facts.access_issued_on)} "
            f"with HMIS user id <b>{e(facts.hmis_user_id)}</b>, having met the conditions of "
            "section IV.B.4 of that agreement.",
            styles["body"],
        ),
        Spacer(1, 8),
        _details(facts),
        Spacer(1, 14),
        PdfParagraph(f"Issued on {e(facts.issued_on)}.", styles["body"]),
        PdfParagraph(
            f"{e(facts.lead_agency_name)} seals this certificate digitally. Anyone can check "
            "the seal with a PDF reader, or on the portal's “Verify a PDF” page.",
            styles["small"],
        ),
    ]
    # One page, whatever the names: very long ones shrink the whole text a little instead.
    page = KeepInFrame(_FRAME_WIDTH, _FRAME_HEIGHT, story, mode="shrink")
    return build_pdf(
        [page],
        footer_prefix=f"{CERTIFICATE_TITLE} · {facts.request_reference}",
        title=f"{CERTIFICATE_TITLE}: {facts.user_name}",
        author=facts.lead_agency_name,
        subject=f"HMIS participation of {facts.agency_name} and HMIS access of "
        f"{facts.user_name} ({facts.request_reference})",
    )
