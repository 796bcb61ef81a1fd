"""The yearly security self-assessment as a PDF: the agency, the year, each question with the
security officer's answer and comment, grouped as V.E.11 a–c and the V.B.6 postings, and one
signature field for the officer. The lead agency certifies it before the officer signs.

The questions are ours, written from what V.E.11 and V.B.6 ask; every value from people is
escaped, so "<b>&Co" prints literally.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, Spacer, Table, TableStyle

from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdf_layout import (
    SIGNATURE_BOX_SIZE,
    PartyBlock,
    RenderedDocument,
    SignatureBox,
    SignatureFieldPlacement,
    build_pdf,
    document_fonts,
    paragraph_styles,
    signature_lines,
    signer_details,
)

TITLE = "Yearly HMIS Security Self-Assessment"
OFFICER_FIELD = "security_officer_signature"
_WIDTH = 468.0
_GRID = colors.Color(0.75, 0.75, 0.75)


@dataclass(frozen=True)
class Question:
    key: str
    text: str


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    clause: str
    questions: tuple[Question, ...]


SECTIONS: tuple[Section, ...] = (
    Section("products", "Products: physical and technical security", "V.E.11 a", (
        Question("p1", "Rooms where the HMIS is used or client files are kept are locked when "
                       "nobody is there."),
        Question("p2", "Screens showing HMIS data cannot be read by clients or visitors."),
        Question("p3", "Every computer or device that reaches the HMIS locks itself after a "
                       "short idle time and needs a password to unlock."),
        Question("p4", "The agency's network and computers are protected by a firewall."),
        Question("p5", "Every computer that reaches the HMIS runs anti-virus software that "
                       "updates itself."),
        Question("p6", "Operating systems and browsers get their security updates promptly."),
        Question("p7", "Laptops, phones and removable drives that may hold client data are "
                       "encrypted."),
        Question("p8", "The local network and Wi-Fi need a password, and the Wi-Fi is "
                       "encrypted."),
    )),
    Section("people", "People: personnel security", "V.E.11 b", (
        Question("h1", "Only staff with an issued HMIS account use the HMIS; nobody shares a "
                       "login or password."),
        Question("h2", "Every HMIS user completed the privacy and security training within "
                       "the last year."),
        Question("h3", "A signed HMIS User Agreement is on file for every HMIS user."),
        Question("h4", "Staff know client information is confidential and have signed a "
                       "confidentiality statement."),
        Question("h5", "The security officer reviews at least once a year who has HMIS access "
                       "and whether they still need it."),
    )),
    Section("procedures", "Procedures: organizational security", "V.E.11 c", (
        Question("c1", "A written procedure says how staff report a suspected security lapse, "
                       "and the lead agency is told at once."),
        Question("c2", "When an HMIS user leaves, the lead agency is told within one business "
                       "day and their access is removed."),
        Question("c3", "Paper and electronic media holding client data are shredded or wiped "
                       "before disposal."),
        Question("c4", "Client data leaves the HMIS only with the client's consent or where the "
                       "law allows."),
        Question("c5", "The agency's HMIS privacy and security policies are written down and "
                       "reviewed every year."),
    )),
    Section("postings", "Postings: privacy statement and consent notice", "V.B.6", (
        Question("b1", "The HMIS privacy statement and the consumer consent notice are posted "
                       "at each intake desk or comparable place."),
        Question("b2", "Both are given in writing to any client who asks."),
        Question("b3", "If the agency has a website, its home page links to the HMIS privacy "
                       "statement."),
    )),
)  # fmt: skip

QUESTIONS: tuple[Question, ...] = tuple(q for s in SECTIONS for q in s.questions)


@dataclass(frozen=True)
class Facts:
    """What the PDF states."""

    lead_agency_name: str
    agency_name: str
    year: int
    officer: PartyBlock


def _answer_table(section: Section, answers: Mapping[str, Mapping[str, str]]) -> Table:
    fonts = document_fonts()
    body = paragraph_styles()["body"]
    cell = ParagraphStyle("cell", parent=body, spaceAfter=0, fontSize=9, leading=11.5)
    head = ParagraphStyle("head", parent=cell, fontName=fonts.bold)
    rows = [[PdfParagraph("Question", head), PdfParagraph("Answer", head),
             PdfParagraph("Comment", head)]]  # fmt: skip
    for q in section.questions:
        given = answers.get(q.key, {})
        rows.append(
            [
                PdfParagraph(xml_escape(q.text), cell),
                PdfParagraph(xml_escape(str(given.get("answer", "")).capitalize()), cell),
                PdfParagraph(xml_escape(str(given.get("comment", ""))), cell),
            ]
        )
    table = Table(rows, colWidths=[250, 50, _WIDTH - 300], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 2),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def render_self_assessment(
    facts: Facts, answers: Mapping[str, Mapping[str, str]]
) -> RenderedDocument:
    """The assessment as an unsigned PDF with the officer's empty signature field."""
    styles = paragraph_styles()
    e = xml_escape
    story: list[Flowable] = [
        PdfParagraph(f"{e(facts.lead_agency_name)} · HMIS Partner Portal", styles["kicker"]),
        PdfParagraph(f"{TITLE} {facts.year}", styles["title"]),
        HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=10),
        PdfParagraph(
            f"<b>{e(facts.agency_name)}</b>: the agency's security officer assesses the "
            f"agency's local security standards (section V.E.11 of the HMIS Partner Agency "
            f"Agreement) and its privacy postings (section V.B.6) for {facts.year}.",
            styles["body"],
        ),
    ]
    lines = [f"{TITLE} {facts.year}", facts.agency_name, ""]
    for section in SECTIONS:
        story += [
            Spacer(1, 6),
            PdfParagraph(f"{e(section.title)} ({e(section.clause)})", styles["section"]),
            _answer_table(section, answers),
        ]
        lines.append(f"{section.title} ({section.clause})")
        for q in section.questions:
            given = answers.get(q.key, {})
            lines.append(
                f"- {q.text} {given.get('answer', '')} {given.get('comment', '')}".rstrip()
            )
    placements: list[SignatureFieldPlacement] = []
    party = facts.officer
    story.append(
        KeepTogether(
            [
                Spacer(1, 14),
                PdfParagraph(
                    "By signing, the security officer states that these answers are true to "
                    "the best of their knowledge.",
                    styles["body"],
                ),
                PdfParagraph(e(party.heading), styles["section"]),
                SignatureBox(party.field_name, placements, SIGNATURE_BOX_SIZE),
                PdfParagraph("Digital signature", styles["caption"]),
                Spacer(1, 8),
                signer_details(party, styles),
            ]
        )
    )
    lines += signature_lines(party)
    pdf = build_pdf(
        story,
        footer_prefix=f"{TITLE} {facts.year} · {facts.agency_name}",
        title=f"{TITLE} {facts.year}: {facts.agency_name}",
        author=facts.lead_agency_name,
        subject=f"Security self-assessment of {facts.agency_name} for {facts.year}",
    )
    return RenderedDocument(pdf=pdf, signature_fields=placements, text="\n".join(lines) + "\n")


def officer_block(name: str, title: str, agency: str) -> PartyBlock:
    return PartyBlock(OFFICER_FIELD, "SECURITY OFFICER", name, title, agency)


def question_keys() -> Sequence[str]:
    return [q.key for q in QUESTIONS]
