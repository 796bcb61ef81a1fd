"""Render the HMIS User Agreement to PDF (reportlab), with its two empty signature boxes:
the new user's, and the partner agency's approval.

The body is a published template in the agreement markup, laid out exactly as the Partner
Agency Agreement's (`render`); what differs is the head, which names the user, their job,
their HMIS role and their agency, and the signature page, which says what each signature
means. Output is deterministic for the same input, like every portal PDF.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape

from reportlab.lib import colors
from reportlab.platypus import Flowable, HRFlowable, KeepTogether, PageBreak, Spacer

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

# The agreement's body layout and party checks, shared so both agreements number and
# indent their provisions the same way.
from portal.documents.render import _AgreementStory, _check_parties
from portal.documents.template_markup import parse_template
from portal.documents.template_text import check_values, plain_text, to_plain_text

SIGNATURE_NOTE = (
    "By signing, the User accepts every term above. By approving, the Partner Agency's "
    "executive director or security officer confirms that the User works for the Partner "
    "Agency, needs HMIS access for their job, and will be supervised in using it."
)


@dataclass(frozen=True)
class UserDetails:
    """Who the agreement is for, as the access request names them."""

    name: str
    job_title: str
    hmis_role: str  # the role's label, e.g. "Case manager"
    agency_name: str


def _head(title: str, user: UserDetails, lead_agency_name: str) -> tuple[list[Flowable], list[str]]:
    styles = paragraph_styles()
    role_line = f"{user.job_title} · HMIS role: {user.hmis_role}"
    flowables: list[Flowable] = [
        PdfParagraph("Homeless Management Information System (HMIS)", styles["kicker"]),
        PdfParagraph(xml_escape(title), styles["title"]),
        PdfParagraph("made by", styles["centre"]),
        PdfParagraph(xml_escape(user.name), styles["party"]),
        PdfParagraph(f"{xml_escape(role_line)} (the User),", styles["centre"]),
        PdfParagraph("a staff member of", styles["centre"]),
        PdfParagraph(xml_escape(user.agency_name), styles["party"]),
        PdfParagraph("(the Partner Agency), with", styles["centre"]),
        PdfParagraph(xml_escape(lead_agency_name), styles["party"]),
        PdfParagraph("as the HMIS Lead Agency", styles["centre"]),
        Spacer(1, 6),
        HRFlowable(width="100%", thickness=0.75, color=colors.grey, spaceAfter=6),
    ]
    lines = [
        title,
        "made by",
        user.name,
        f"{role_line} (the User),",
        "a staff member of",
        f"{user.agency_name} (the Partner Agency), with",
        f"{lead_agency_name} as the HMIS Lead Agency",
    ]
    return flowables, lines


def _signatures(
    parties: Sequence[PartyBlock], placements: list[SignatureFieldPlacement]
) -> tuple[list[Flowable], list[str]]:
    styles = paragraph_styles()
    flowables: list[Flowable] = [
        PageBreak(),
        PdfParagraph("Signatures", styles["article"]),
        PdfParagraph(xml_escape(SIGNATURE_NOTE), styles["body"]),
        Spacer(1, 10),
    ]
    lines = ["", "SIGNATURES", SIGNATURE_NOTE]
    for party in parties:
        flowables.append(
            KeepTogether(
                [
                    PdfParagraph(xml_escape(party.heading), styles["section"]),
                    SignatureBox(party.field_name, placements, SIGNATURE_BOX_SIZE),
                    PdfParagraph("Digital signature", styles["caption"]),
                    Spacer(1, 8),
                    signer_details(party, styles),
                    Spacer(1, 26),
                ]
            )
        )
        lines += signature_lines(party)
    return flowables, lines


def _filled(
    body: str, values: Mapping[str, str], template_version: str, revised_date: str
) -> dict[str, str]:
    filled = dict(values)
    filled.setdefault("template_version", template_version)
    filled.setdefault("revised_date", revised_date)
    check_values(body, filled)  # the whole body at once, so errors carry the right line
    return filled


def user_agreement_text(
    body: str,
    values: Mapping[str, str],
    *,
    title: str,
    template_version: str,
    revised_date: str,
    user: UserDetails,
    parties: Sequence[PartyBlock],
) -> str:
    """The agreement as plain text, as `render_user_agreement` lays it out (for pages that
    show the text beside the PDF)."""
    filled = _filled(body, values, template_version, revised_date)
    lead = plain_text("{{lead_agency_name}}", filled)
    _, head = _head(title, user, lead)
    _, signature_lines = _signatures(parties, [])
    doc = to_plain_text(parse_template(body), filled).rstrip()
    return "\n".join([*head, "", doc, *signature_lines]) + "\n"


def render_user_agreement(
    body: str,
    values: Mapping[str, str],
    *,
    title: str,
    template_version: str,
    revised_date: str,
    user: UserDetails,
    parties: Sequence[PartyBlock],
) -> RenderedDocument:
    """Fill `body` (template markup) with `values` and lay it out as the user agreement.

    `values` holds the template's placeholders (at least lead_agency_name); the user's own
    details come in `user` and print in the head. Raises TemplateError for bad markup or
    values, ValueError for bad parties.
    """
    _check_parties(parties)
    filled = _filled(body, values, template_version, revised_date)
    lead = plain_text("{{lead_agency_name}}", filled)
    head, _ = _head(title, user, lead)
    story = _AgreementStory(filled)
    story.body(parse_template(body))
    placements: list[SignatureFieldPlacement] = []
    signatures, _ = _signatures(parties, placements)
    pdf = build_pdf(
        head + story.flowables + signatures,
        footer_prefix=f"{title} · Template version {template_version} · Revised {revised_date}",
        title=f"{title}: {user.name}",
        author=lead,
        subject=f"{title} of {user.name} ({user.agency_name}), issued by {lead} "
        f"(template version {template_version}, revised {revised_date})",
    )
    text = user_agreement_text(
        body,
        values,
        title=title,
        template_version=template_version,
        revised_date=revised_date,
        user=user,
        parties=parties,
    )
    return RenderedDocument(pdf=pdf, signature_fields=placements, text=text)
