"""Render a remedy notice (default, declaration of termination, termination) as a PDF.

A notice is a short letter under the Partner Agency Agreement (VIII.B.1, VIII.B.3): who gives
it to whom and when, the provisions concerned, the issuer's text, the deadline details, and
one empty box where the issuing side's signer will place a digital signature. Every string
is plain text from the portal or a person: it is escaped so "<b>&" prints literally. The
output is byte-for-byte deterministic for the same input (see pdf_layout.build_pdf).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
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
    check_field_name,
    paragraph_styles,
    signature_lines,
    signer_details,
)

NOTICE_OF_DEFAULT = "Notice of Default"
DECLARATION_OF_TERMINATION = "Declaration of Termination"
NOTICE_OF_TERMINATION = "Notice of Termination"
NOTICE_TITLES = (NOTICE_OF_DEFAULT, DECLARATION_OF_TERMINATION, NOTICE_OF_TERMINATION)

_KICKER = "HMIS Partner Agency Agreement"
_FRAME_WIDTH = 456.0  # letter width less 1 in margins and the frame's 6 pt paddings
_LABEL_WIDTH = 110.0
_CITATION_WIDTH = 56.0
_RULE = colors.Color(0.75, 0.75, 0.75)
_KIND = re.compile(r"[a-z][a-z0-9_]*")  # the stored document kind, e.g. "default_notice"
# C0 controls other than tab and newline break reportlab's parser and mean nothing on paper.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean(text: str) -> str:
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def _markup(text: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept."""
    return xml_escape(_clean(text)).replace("\n", "<br/>")


def _label_table(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle]) -> Table:
    """Label/value rows; a row taller than a page may split (splitInRow) rather than fail."""
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


def _heading_block(
    title: str,
    reference: str,
    agreement_reference: str,
    from_party: str,
    to_party: str,
    to_address: str,
    given_on: str,
    styles: dict[str, ParagraphStyle],
) -> tuple[list[Flowable], list[str]]:
    recipient = f"<b>{_markup(to_party)}</b>"
    if to_address.strip():
        recipient += f"<br/>{_markup(to_address.strip())}"
    rows = [
        ("Reference", _markup(reference)),
        ("Agreement", _markup(agreement_reference)),
        ("Date given", _markup(given_on)),
        ("From", f"<b>{_markup(from_party)}</b>"),
        ("To", recipient),
    ]
    flowables: list[Flowable] = [
        PdfParagraph(_KICKER, styles["kicker"]),
        PdfParagraph(xml_escape(title), styles["title"]),
        _label_table(rows, styles),
        Spacer(1, 10),
    ]
    address_lines = [line.strip() for line in _clean(to_address).splitlines() if line.strip()]
    lines = [
        title,
        f"Reference: {_clean(reference)}",
        f"Agreement: {_clean(agreement_reference)}",
        f"Date given: {_clean(given_on)}",
        f"From: {_clean(from_party)}",
        f"To: {_clean(to_party)}",
        *(f"    {line}" for line in address_lines),
    ]
    return flowables, lines


def _provisions_block(
    provisions: Sequence[tuple[str, str]], styles: dict[str, ParagraphStyle]
) -> tuple[list[Flowable], list[str]]:
    if not provisions:
        return [], []
    # The citation hangs in the left margin of its title, like the agreement's own numbering.
    item = ParagraphStyle(
        "provision",
        parent=styles["body"],
        leftIndent=_CITATION_WIDTH,
        bulletIndent=0,
        bulletFontName=styles["section"].fontName,
        spaceAfter=2,
    )
    flowables: list[Flowable] = [
        PdfParagraph("Provisions of the agreement concerned", styles["section"])
    ]
    lines = ["", "Provisions of the agreement concerned:"]
    for citation, short_title in provisions:
        flowables.append(PdfParagraph(_markup(short_title), item, bulletText=_clean(citation)))
        lines.append(f"  {_clean(citation)}  {_clean(short_title)}")
    flowables.append(Spacer(1, 8))
    return flowables, lines


def _body_block(
    paragraphs: Sequence[str], styles: dict[str, ParagraphStyle]
) -> tuple[list[Flowable], list[str]]:
    flowables: list[Flowable] = []
    lines: list[str] = []
    for text in paragraphs:
        cleaned = _clean(text).strip("\n")
        if not cleaned.strip():
            continue
        flowables.append(PdfParagraph(_markup(cleaned), styles["body"]))
        lines += ["", cleaned]
    return flowables, lines


def _details_block(
    details: Sequence[tuple[str, str]], styles: dict[str, ParagraphStyle]
) -> tuple[list[Flowable], list[str]]:
    if not details:
        return [], []
    flowables: list[Flowable] = [
        Spacer(1, 4),
        PdfParagraph("Details", styles["section"]),
        _label_table([(label, _markup(value)) for label, value in details], styles),
    ]
    lines = ["", "Details:", *(f"{_clean(label)}: {_clean(value)}" for label, value in details)]
    return flowables, lines


def _signature_block(
    signer: PartyBlock,
    placements: list[SignatureFieldPlacement],
    styles: dict[str, ParagraphStyle],
) -> tuple[list[Flowable], list[str]]:
    block: list[Flowable] = [
        Spacer(1, 14),
        PdfParagraph(_markup(signer.heading), styles["section"]),
        SignatureBox(signer.field_name, placements, SIGNATURE_BOX_SIZE),
        PdfParagraph("Digital signature", styles["caption"]),
        Spacer(1, 8),
        signer_details(signer, styles, _markup),
    ]
    lines = signature_lines(signer, _clean)
    return block, lines


def _closing_block(
    details: Sequence[tuple[str, str]],
    signer: PartyBlock,
    placements: list[SignatureFieldPlacement],
    styles: dict[str, ParagraphStyle],
) -> tuple[list[Flowable], list[str]]:
    """Details and signature block on one page, so the signed page shows the deadline too.

    One KeepTogether around both, not nested ones: a KeepTogether reports a huge height to
    force its own split, so an outer one would always see its content as too tall.
    """
    detail_flowables, detail_lines = _details_block(details, styles)
    signature_flowables, signature_lines = _signature_block(signer, placements, styles)
    return [KeepTogether(detail_flowables + signature_flowables)], detail_lines + signature_lines


def _check(
    kind: str, title: str, reference: str, paragraphs: Sequence[str], signer: PartyBlock
) -> None:
    if not _KIND.fullmatch(kind):
        raise ValueError(f"notice kind {kind!r}: use lower-case letters, digits and _")
    if title not in NOTICE_TITLES:
        raise ValueError(f"notice title {title!r} is not one of {NOTICE_TITLES}")
    if not reference.strip():
        raise ValueError("a notice needs a reference")
    if not any(_clean(text).strip() for text in paragraphs):
        raise ValueError("a notice needs at least one paragraph of text")
    check_field_name(signer.field_name)


def render_notice(
    *,
    kind: str,
    title: str,
    reference: str,
    agreement_reference: str,
    from_party: str,
    to_party: str,
    to_address: str,
    given_on: str,
    paragraphs: Sequence[str],
    provisions: Sequence[tuple[str, str]] = (),
    details: Sequence[tuple[str, str]] = (),
    signer: PartyBlock,
) -> RenderedDocument:
    """The notice PDF (unsigned) with one signature box for `signer`, and its plain text.

    `kind` is the stored document kind (e.g. "default_notice"); `title` is one of
    NOTICE_TITLES. Raises ValueError for a bad kind, title, reference, body or field name.
    """
    _check(kind, title, reference, paragraphs, signer)
    styles = paragraph_styles()
    placements: list[SignatureFieldPlacement] = []
    flowables: list[Flowable] = []
    lines: list[str] = []
    for part_flowables, part_lines in (
        _heading_block(
            title, reference, agreement_reference, from_party, to_party, to_address, given_on,
            styles,
        ),
        _provisions_block(provisions, styles),
        ([HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=8)], []),
        _body_block(paragraphs, styles),
        _closing_block(details, signer, placements, styles),
    ):  # fmt: skip
        flowables += part_flowables
        lines += part_lines

    clean_reference = _clean(reference)
    pdf = build_pdf(
        flowables,
        footer_prefix=f"{title} · {clean_reference}",
        title=f"{title} {clean_reference}",
        author=_clean(from_party),
        subject=f"{title} ({kind}) under {_clean(agreement_reference)} from "
        f"{_clean(from_party)} to {_clean(to_party)}, given {_clean(given_on)}",
    )
    return RenderedDocument(pdf=pdf, signature_fields=placements, text="\n".join(lines) + "\n")
