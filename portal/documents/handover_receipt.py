"""The receipt of a program's hand-over (VIII.B.7): one page in which both agencies state
that the signed client consent and release-of-information forms of a reallocated program
were delivered and received, with a signature field for each agency. It names no client.

Every value comes from people and is escaped; the lead agency certifies the PDF afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdf_layout import (
    SIGNATURE_BOX_SIZE,
    PartyBlock,
    RenderedDocument,
    SignatureBox,
    SignatureFieldPlacement,
    build_pdf,
    paragraph_styles,
    signature_lines,
    signer_details,
)

RECEIPT_TITLE = "Receipt of a Program Hand-over"


@dataclass(frozen=True)
class HandoverFacts:
    """What the receipt states; dates already written out for people."""

    lead_agency_name: str
    reference: str
    program_name: str
    hud_grant_number: str
    releasing_agency: str
    acquiring_agency: str
    reallocated_on: str
    forms_count: int
    method: str
    delivered_on: str
    received_on: str


def _rows(facts: HandoverFacts) -> list[tuple[str, str]]:
    return [
        ("Reallocation", facts.reference),
        ("Program", facts.program_name),
        ("HUD grant number", facts.hud_grant_number or "—"),
        ("Releasing agency", facts.releasing_agency),
        ("Acquiring agency", facts.acquiring_agency),
        ("Reallocated on", facts.reallocated_on),
        ("Signed consent and release forms", str(facts.forms_count)),
        ("Delivered by", facts.method),
        ("Delivered on", facts.delivered_on),
        ("Receipt confirmed on", facts.received_on),
    ]


def render_receipt(facts: HandoverFacts, parties: list[PartyBlock]) -> RenderedDocument:
    styles = paragraph_styles()
    statement = (
        f"{facts.releasing_agency} delivered to {facts.acquiring_agency} the signed client "
        f"consent and release-of-information forms of the program {facts.program_name}, "
        f"which {facts.lead_agency_name} reallocated between them. {facts.acquiring_agency} "
        "confirms that it received them. This receipt holds no client information."
    )
    table = Table(
        [
            [
                PdfParagraph(xml_escape(k), styles["label"]),
                PdfParagraph(xml_escape(v), styles["value"]),
            ]
            for k, v in _rows(facts)
        ],
        colWidths=[190, 266],
        hAlign="LEFT",
    )
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story = [
        PdfParagraph(xml_escape(RECEIPT_TITLE), styles["title"]),
        PdfParagraph(xml_escape(statement), styles["body"]),
        Spacer(1, 8),
        table,
        Spacer(1, 16),
    ]
    placements: list[SignatureFieldPlacement] = []
    lines = [RECEIPT_TITLE, statement, *(f"{k}: {v}" for k, v in _rows(facts))]
    for party in parties:
        story.append(
            KeepTogether(
                [
                    PdfParagraph(xml_escape(party.heading), styles["section"]),
                    SignatureBox(party.field_name, placements, SIGNATURE_BOX_SIZE),
                    PdfParagraph("Digital signature", styles["caption"]),
                    Spacer(1, 6),
                    signer_details(party, styles),
                    Spacer(1, 14),
                ]
            )
        )
        lines += signature_lines(party)
    pdf = build_pdf(
        story,
        footer_prefix=f"Reallocation {facts.reference}",
        title=RECEIPT_TITLE,
        subject=f"{RECEIPT_TITLE}: {facts.program_name}, {facts.reference}",
        author=facts.lead_agency_name,
    )
    return RenderedDocument(pdf=pdf, signature_fields=placements, text="\n".join(lines) + "\n")
