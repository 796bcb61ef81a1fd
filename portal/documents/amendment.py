"""Render an amendment to the Partner Agency Agreement (VIII.B.2) as a PDF.

An amendment is its own document: its reference, the agreement it amends (reference and
effective date), the parties, the sections that change, their new text and the reason, then
one empty signature box for the agency's executive director and one for the lead agency's
signatory. Every string is plain text from a person or the portal and is escaped, so
"<b>&" prints literally. The output is byte-for-byte deterministic for the same input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, Spacer, Table, TableStyle

from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdf_layout import (
    SIGNATURE_BOX_SIZE,
    PartyBlock,
    RenderedDocument,
    SignatureBox,
    SignatureFieldPlacement,
    build_pdf,
    check_field_name,
    paragraph_styles,
    signature_lines,
    signer_details,
)

TITLE = "Amendment to the HMIS Partner Agency Agreement"
_FRAME_WIDTH = 456.0  # letter width less 1 in margins and the frame's 6 pt paddings
_LABEL_WIDTH = 120.0
_RULE = colors.Color(0.75, 0.75, 0.75)
# C0 controls other than tab and newline break reportlab's parser and mean nothing on paper.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True)
class AmendmentText:
    """What the amendment says, as plain text."""

    reference: str
    agreement_reference: str
    agreement_effective_on: str  # the date in words, e.g. "December 2, 2026"
    lead_agency_name: str
    agency_name: str
    sections: str
    new_text: str
    reason: str


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _markup(text: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept."""
    return xml_escape(_clean(text)).replace("\n", "<br/>")


def _facts(rows: list[tuple[str, str]], styles) -> Table:
    table = Table(
        [
            [PdfParagraph(_markup(label), styles["label"]), PdfParagraph(value, styles["value"])]
            for label, value in rows
        ],
        colWidths=[_LABEL_WIDTH, _FRAME_WIDTH - _LABEL_WIDTH],
        hAlign="LEFT",
        splitInRow=1,
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _RULE),
            ]
        )
    )
    return table


def _section(heading: str, text: str, styles) -> tuple[list[Flowable], list[str]]:
    paragraphs = [p for p in _clean(text).split("\n\n") if p.strip()]
    flowables: list[Flowable] = [PdfParagraph(xml_escape(heading), styles["section"])]
    flowables += [PdfParagraph(_markup(p.strip("\n")), styles["body"]) for p in paragraphs]
    return flowables, ["", f"{heading}:", *(p.strip("\n") for p in paragraphs)]


def _signatures(
    parties: list[PartyBlock], placements: list[SignatureFieldPlacement], styles
) -> tuple[list[Flowable], list[str]]:
    flowables: list[Flowable] = [
        Spacer(1, 12),
        PdfParagraph("Signatures", styles["article"]),
        PdfParagraph(
            "By signing below, each party agrees to this amendment, which takes effect on "
            "the date of the later signature. The agreement is otherwise unchanged.",
            styles["body"],
        ),
        Spacer(1, 8),
    ]
    lines = ["", "SIGNATURES"]
    for party in parties:
        check_field_name(party.field_name)
        flowables.append(
            KeepTogether(
                [
                    PdfParagraph(_markup(party.heading), styles["section"]),
                    SignatureBox(party.field_name, placements, SIGNATURE_BOX_SIZE),
                    PdfParagraph("Digital signature", styles["caption"]),
                    Spacer(1, 8),
                    signer_details(party, styles, _markup),
                    Spacer(1, 20),
                ]
            )
        )
        lines += signature_lines(party, _clean)
    return flowables, lines


def render_amendment(text: AmendmentText, parties: list[PartyBlock]) -> RenderedDocument:
    """The amendment PDF (unsigned) with a signature box per party, and its plain text.
    Raises ValueError for a missing reference or new text, or a bad field name."""
    if not text.reference.strip() or not _clean(text.new_text).strip():
        raise ValueError("an amendment needs a reference and its new text")
    if len({p.field_name for p in parties}) != len(parties) or not parties:
        raise ValueError("an amendment needs signing parties with distinct field names")
    styles = paragraph_styles()
    facts = [
        ("Reference", _markup(text.reference)),
        ("Agreement amended", _markup(text.agreement_reference)),
        ("In effect since", _markup(text.agreement_effective_on)),
        ("Between", f"<b>{_markup(text.lead_agency_name)}</b>"),
        ("and", f"<b>{_markup(text.agency_name)}</b> (the Partner Agency)"),
        ("Sections changed", _markup(text.sections)),
    ]
    flowables: list[Flowable] = [
        PdfParagraph("Homeless Management Information System (HMIS)", styles["kicker"]),
        PdfParagraph(xml_escape(TITLE), styles["title"]),
        _facts(facts, styles),
        Spacer(1, 8),
        PdfParagraph(
            "Under section VIII.B.2 of the agreement, the parties amend it as follows. "
            "The new text replaces the text of the sections named above.",
            styles["body"],
        ),
        HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=8),
    ]
    lines = [
        TITLE,
        f"Reference: {_clean(text.reference)}",
        f"Agreement amended: {_clean(text.agreement_reference)}",
        f"In effect since: {_clean(text.agreement_effective_on)}",
        f"Between: {_clean(text.lead_agency_name)}",
        f"and: {_clean(text.agency_name)} (the Partner Agency)",
        f"Sections changed: {_clean(text.sections)}",
    ]
    placements: list[SignatureFieldPlacement] = []
    for part, part_lines in (
        _section("New text", text.new_text, styles),
        _section("Reason for the amendment", text.reason, styles) if text.reason.strip()
        else ([], []),
        _signatures(parties, placements, styles),
    ):  # fmt: skip
        flowables += part
        lines += part_lines
    reference = _clean(text.reference)
    pdf = build_pdf(
        flowables,
        footer_prefix=f"Amendment {reference} to {_clean(text.agreement_reference)}",
        title=f"{TITLE} {reference}",
        author=_clean(text.lead_agency_name),
        subject=f"Amendment {reference} to the HMIS Partner Agency Agreement "
        f"{_clean(text.agreement_reference)} between {_clean(text.lead_agency_name)} and "
        f"{_clean(text.agency_name)}",
    )
    return RenderedDocument(pdf=pdf, signature_fields=placements, text="\n".join(lines) + "\n")
