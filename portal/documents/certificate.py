"""The certificate of completion: a case's audit trail and documents as a PDF the lead signs.

Every text that comes from people (names, user agents, labels) is escaped, so "<b>&Co"
prints literally; tables wrap long cells (user agents, digests) instead of cutting them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, Flowable, Spacer, Table, TableStyle

from portal.documents.fonts import Paragraph as PdfParagraph
from portal.documents.pdf_layout import build_pdf, document_fonts, paragraph_styles
from portal.documents.pdfa import Attachment

CERTIFICATE_TITLE = "Certificate of Completion"
_FRAME_WIDTH = 456.0  # letter width less 1 in margins and the frame's 6 pt paddings
_HEADER_BACKGROUND = colors.Color(0.9, 0.92, 0.95)
_GRID = colors.Color(0.75, 0.75, 0.75)


@dataclass(frozen=True)
class CertificateEvent:
    when: str  # already formatted, with its time zone
    who: str
    role: str
    action: str
    ip: str
    user_agent: str


@dataclass(frozen=True)
class CertificateDocument:
    label: str
    sha256: str
    size: int  # bytes
    created: str


def _cell_styles() -> dict[str, ParagraphStyle]:
    fonts = document_fonts()
    body = paragraph_styles()["body"]
    cell = ParagraphStyle("cell", parent=body, fontSize=8.5, leading=10.5, spaceAfter=0)
    return {
        "cell": cell,
        "head": ParagraphStyle("head", parent=cell, fontName=fonts.bold),
        "muted": ParagraphStyle("muted", parent=cell, fontSize=7.5, leading=9,
                                textColor=colors.Color(0.35, 0.35, 0.35)),
        "mono": ParagraphStyle("mono", parent=cell, fontName=fonts.mono, fontSize=7.5, leading=9),
    }  # fmt: skip


def _text(value: str, style: ParagraphStyle) -> PdfParagraph:
    return PdfParagraph(xml_escape(value), style)


def _table(rows: list[list[Flowable]], widths: list[float]) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, 0), _HEADER_BACKGROUND),
                ("GRID", (0, 0), (-1, -1), 0.5, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def _summary(
    case_title: str,
    case_reference: str,
    agency_name: str,
    status: str,
    generated_at: str,
    audit_head: str = "",
) -> Table:
    styles = _cell_styles()
    rows = [
        ("Case", case_title),
        ("Reference", case_reference),
        ("Partner agency", agency_name),
        ("Status", status),
        ("Certificate generated", generated_at),
    ]
    if audit_head:
        rows.append(("Audit log head", audit_head))
    table = Table(
        [[_text(label, styles["head"]), _text(value, styles["cell"])] for label, value in rows],
        colWidths=[120, _FRAME_WIDTH - 120],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, -1), 0.5, _GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    return table


def _documents_table(documents: Sequence[CertificateDocument]) -> Table:
    styles = _cell_styles()
    header = [_text(h, styles["head"]) for h in ("Document", "SHA-256", "Size", "Created")]
    rows = [
        [
            _text(document.label, styles["cell"]),
            _text(document.sha256, styles["mono"]),
            _text(f"{document.size:,} bytes", styles["cell"]),
            _text(document.created, styles["cell"]),
        ]
        for document in documents
    ]
    return _table([header, *rows], [140, 170, 56, _FRAME_WIDTH - 366])


def _events_table(events: Sequence[CertificateEvent]) -> Table:
    styles = _cell_styles()
    header = [_text(h, styles["head"]) for h in ("When", "Who", "Action", "IP address and browser")]
    rows = [
        [
            _text(event.when, styles["cell"]),
            PdfParagraph(
                f"{xml_escape(event.who)}<br/><font size=7.5>{xml_escape(event.role)}</font>",
                styles["cell"],
            ),
            _text(event.action, styles["cell"]),
            PdfParagraph(
                f"{xml_escape(event.ip)}<br/>"
                f"<font size=7 color='#595959'>{xml_escape(event.user_agent)}</font>",
                styles["cell"],
            ),
        ]
        for event in events
    ]
    return _table([header, *rows], [80, 96, 100, _FRAME_WIDTH - 276])


def _heading(text: str) -> list[Flowable]:
    # keepWithNext would glue the heading to the whole (page-long) table and push both to
    # the next page; instead only start a section when some rows still fit below it.
    style = paragraph_styles()["article"]
    return [CondPageBreak(1.5 * inch), PdfParagraph(text, style.clone("heading", keepWithNext=0))]


def render_certificate(
    *,
    lead_agency_name: str,
    case_title: str,
    case_reference: str,
    agency_name: str,
    status: str,
    events: Sequence[CertificateEvent],
    documents: Sequence[CertificateDocument],
    generated_at: str,
    audit_head: str = "",
    attachments: Sequence[Attachment] = (),
) -> bytes:
    """The certificate of completion PDF (unsigned; deterministic for the same input).

    `lead_agency_name` is the HMIS Lead Agency that issues and seals it; `audit_head` names
    the audit log's hash chain head when it was made (portal/services/audit_chain.py).
    `attachments` travel inside it as PDF/A-3 associated files (the final signed agreement,
    so that one file carries the whole evidence); the text says so.
    """
    styles = paragraph_styles()
    story: list[Flowable] = [
        PdfParagraph(f"{xml_escape(lead_agency_name)} · HMIS Partner Portal", styles["kicker"]),
        PdfParagraph(CERTIFICATE_TITLE, styles["title"]),
        _summary(case_title, case_reference, agency_name, status, generated_at, audit_head),
        *_heading("Documents"),
    ]
    if documents:
        story.append(_documents_table(documents))
    else:
        story.append(PdfParagraph("No documents were recorded for this case.", styles["body"]))
    story += _heading("Events")
    if events:
        story.append(_events_table(events))
    else:
        story.append(PdfParagraph("No events were recorded for this case.", styles["body"]))
    story += [
        Spacer(1, 12),
        PdfParagraph(
            "This certificate lists every recorded step of the case and every document it "
            "produced. The HMIS Lead Agency signs it digitally; anyone can check that "
            "signature and compare each SHA-256 digest with the documents on record.",
            styles["small"],
        ),
    ]
    for attachment in attachments:
        story.append(
            PdfParagraph(
                f"Attached to this file: {xml_escape(attachment.file_name)} "
                f"({len(attachment.data):,} bytes, SHA-256 "
                f"{hashlib.sha256(attachment.data).hexdigest()}), "
                f"{xml_escape(attachment.description)}.",
                styles["small"],
            )
        )
    return build_pdf(
        story,
        footer_prefix=f"{CERTIFICATE_TITLE} · {case_reference}",
        title=f"{CERTIFICATE_TITLE}: {case_title}",
        author=lead_agency_name,
        subject=f"Audit trail of case {case_reference} for {agency_name}",
        attachments=attachments,
    )
