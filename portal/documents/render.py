"""Render a filled agreement template to PDF (reportlab), with empty signature boxes.

The signer (portal/documents/signing.py) later creates a PDF signature field at each
returned SignatureFieldPlacement. The pages, fonts, styles and signature boxes are the
shared ones of `pdf_layout`, so the output is byte-for-byte deterministic for the same input.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, PageBreak, Spacer

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
from portal.documents.template_markup import (
    Block,
    Paragraph,
    Provision,
    SubItem,
    TemplateDoc,
    parse_template,
)
from portal.documents.template_text import check_values, pdf_markup, plain_text, to_plain_text

DEFAULT_LEAD_AGENCY_ROLE = "as the HMIS Lead Agency for the Sacramento Continuum of Care"


class _AgreementStory:
    """Turns the template tree into flowables; keeps the numbering of the template."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self.values = values
        self.styles = paragraph_styles()
        self.flowables: list[Flowable] = []

    def markup(self, text: str) -> str:
        return pdf_markup(text, self.values)

    def indented(self, indent: float, marker_width: float = 22) -> ParagraphStyle:
        """Hanging indent: the marker ("10.", "b.", "•") sits in the gap left of the text."""
        return ParagraphStyle(
            f"indent{indent}",
            parent=self.styles["body"],
            leftIndent=indent,
            bulletIndent=max(indent - marker_width, 0),
        )

    def blocks(self, blocks: list[Block], indent: float) -> None:
        for block in blocks:
            if isinstance(block, Paragraph):
                style = self.indented(indent) if indent else self.styles["body"]
                self.flowables.append(PdfParagraph(self.markup(block.text), style))
                continue
            style = ParagraphStyle(
                "bullet", parent=self.indented(indent + 16, 12), spaceAfter=2, bulletFontSize=9
            )
            for item in block.items:
                self.flowables.append(PdfParagraph(self.markup(item.text), style, bulletText="•"))
            self.flowables.append(Spacer(1, 4))

    def numbered(self, item: Provision | SubItem, marker: str, indent: float) -> None:
        lead = ""
        if item.title:
            title = self.markup(item.title)
            stop = "" if item.title[-1] in ".:?!" else "."
            lead = f"<b>{title}{stop}</b> "
        text = lead + self.markup(item.text)
        self.flowables.append(PdfParagraph(text, self.indented(indent), bulletText=f"{marker}."))
        self.blocks(item.blocks, indent)

    def body(self, doc: TemplateDoc) -> None:
        self.blocks(doc.preamble, 0)
        for article in doc.articles:
            heading = f"{article.numeral}. {self.markup(article.title)}"
            self.flowables.append(PdfParagraph(heading, self.styles["article"]))
            self.blocks(article.blocks, 0)
            for section in article.sections:
                heading = f"{section.letter}. {self.markup(section.title)}"
                self.flowables.append(PdfParagraph(heading, self.styles["section"]))
                self.blocks(section.blocks, 0)
                for provision in section.provisions:
                    self.numbered(provision, str(provision.number), 24)
                    for item in provision.items:
                        self.numbered(item, item.letter, 46)
        if doc.footnotes:
            notes: list[Flowable] = [
                HRFlowable(width="30%", thickness=0.5, color=colors.grey, hAlign="LEFT",
                           spaceBefore=10, spaceAfter=4),
            ]  # fmt: skip
            for note in doc.footnotes:
                text = f"<super>{xml_escape(note.label)}</super> {self.markup(note.text)}"
                notes.append(PdfParagraph(text, self.styles["small"]))
            # The notes travel with the last paragraph, never alone on a page of their own.
            last = self.flowables.pop() if self.flowables else Spacer(1, 0)
            self.flowables.append(KeepTogether([last, *notes]))


def _title_block(
    title: str, values: Mapping[str, str], lead_agency_role: str
) -> tuple[list[Flowable], list[str]]:
    styles = paragraph_styles()

    def value(name: str) -> str:
        return pdf_markup("{{" + name + "}}", values)

    flowables = [
        PdfParagraph("Homeless Management Information System (HMIS)", styles["kicker"]),
        PdfParagraph(xml_escape(title), styles["title"]),
        PdfParagraph("between", styles["centre"]),
        PdfParagraph(value("lead_agency_name"), styles["party"]),
        PdfParagraph(f"{xml_escape(lead_agency_role)},", styles["centre"]),
        PdfParagraph("and", styles["centre"]),
        PdfParagraph(value("agency_name"), styles["party"]),
        PdfParagraph(f"{value('agency_address')} (the Partner Agency)", styles["centre"]),
        Spacer(1, 6),
        HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=6),
    ]
    lines = [
        title,
        "between",
        f"{plain_text('{{lead_agency_name}}', values)}, {lead_agency_role},",
        "and",
        f"{plain_text('{{agency_name}}', values)}, {plain_text('{{agency_address}}', values)}"
        " (the Partner Agency)",
    ]
    return flowables, lines


def _signature_page(
    parties: Sequence[PartyBlock], placements: list[SignatureFieldPlacement]
) -> tuple[list[Flowable], list[str]]:
    styles = paragraph_styles()
    flowables: list[Flowable] = [
        PageBreak(),
        PdfParagraph("Signatures", styles["article"]),
        PdfParagraph(
            "By signing below, each party agrees to the terms and conditions above.",
            styles["body"],
        ),
        Spacer(1, 10),
    ]
    lines = [
        "",
        "SIGNATURES",
        "By signing below, each party agrees to the terms and conditions above.",
    ]
    for party in parties:
        block = [
            PdfParagraph(xml_escape(party.heading), styles["section"]),
            SignatureBox(party.field_name, placements, SIGNATURE_BOX_SIZE),
            PdfParagraph("Digital signature", styles["caption"]),
            Spacer(1, 8),
            signer_details(party, styles),
            Spacer(1, 26),
        ]
        flowables.append(KeepTogether(block))
        lines += signature_lines(party)
    return flowables, lines


def _check_parties(parties: Sequence[PartyBlock]) -> None:
    if not parties:
        raise ValueError("an agreement needs at least one signing party")
    names = [party.field_name for party in parties]
    for name in names:
        check_field_name(name)
    if len(set(names)) != len(names):
        raise ValueError(f"signature field names must be unique: {names}")


def render_agreement(
    body: str,
    values: Mapping[str, str],
    *,
    title: str,
    template_version: str,
    revised_date: str,
    parties: Sequence[PartyBlock],
    lead_agency_role: str = DEFAULT_LEAD_AGENCY_ROLE,
) -> RenderedDocument:
    """Fill `body` (template markup) with `values` and lay it out as the agreement PDF.

    template_version and revised_date also fill their placeholders unless `values` gives
    them (it must then agree). Raises TemplateError for bad markup or values, ValueError
    for bad parties.
    """
    _check_parties(parties)
    filled = dict(values)
    for name, given in (("template_version", template_version), ("revised_date", revised_date)):
        if filled.setdefault(name, given) != given:
            raise ValueError(f"values[{name!r}] disagrees with the {name} argument")
    doc = parse_template(body)
    check_values(body, filled)  # whole body at once, so errors carry the right line

    title_flowables, title_lines = _title_block(title, filled, lead_agency_role)
    story = _AgreementStory(filled)
    story.body(doc)
    placements: list[SignatureFieldPlacement] = []
    signature_flowables, signature_lines = _signature_page(parties, placements)

    agency = plain_text("{{agency_name}}", filled)
    lead = plain_text("{{lead_agency_name}}", filled)
    pdf = build_pdf(
        title_flowables + story.flowables + signature_flowables,
        footer_prefix=f"Template version {template_version} · Revised {revised_date}",
        title=title,
        author=lead,
        subject=f"{title} between {lead} and {agency} "
        f"(template version {template_version}, revised {revised_date})",
    )
    text = "\n".join([*title_lines, "", to_plain_text(doc, filled).rstrip(), *signature_lines])
    return RenderedDocument(pdf=pdf, signature_fields=placements, text=text + "\n")
