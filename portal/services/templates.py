"""Template versions: published by SSF, never edited, kept by every document made from them.

Each kind of document has its own versions: the Partner Agency Agreement ("partner_agency")
and the HMIS User Agreement ("user_agreement"). A version label is unique within its kind.
"""

from __future__ import annotations

from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import AgreementTemplate, User
from portal.services import audit
from portal.services.access import RequestInfo, require_role
from portal.services.errors import NotFound, ServiceError
from portal.services.unit import unit_of_work
from portal.services.validation import clean_text, max_length

COLUMNS = AgreementTemplate.__table__.c

PARTNER_AGENCY = "partner_agency"
USER_AGREEMENT = "user_agreement"
# Each kind, as the pages name it, and the sample text the portal ships for it.
KINDS: dict[str, str] = {
    PARTNER_AGENCY: "HMIS Partner Agency Agreement",
    USER_AGREEMENT: "HMIS User Agreement",
}
SAMPLES: dict[str, str] = {
    PARTNER_AGENCY: "partner-agency-agreement-v1",
    USER_AGREEMENT: "hmis-user-agreement-v1",
}


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ServiceError(f"There is no kind of template called {kind!r}.")
    return kind


def kind_label(kind: str) -> str:
    return KINDS.get(kind, kind)


def current(kind: str = PARTNER_AGENCY) -> AgreementTemplate:
    """The newest published version of `kind`: new documents of that kind are made from it."""
    query = (
        select(AgreementTemplate)
        .where(AgreementTemplate.kind == _check_kind(kind))
        .order_by(AgreementTemplate.id.desc())
        .limit(1)
    )
    template = db.session.scalar(query)
    if template is None:
        raise ServiceError(f"No {kind_label(kind)} template is published yet.")
    return template


def all_versions(kind: str | None = None) -> list[AgreementTemplate]:
    """Every published version, newest first; only those of `kind` when given."""
    query = select(AgreementTemplate).order_by(AgreementTemplate.id.desc())
    if kind is not None:
        query = query.where(AgreementTemplate.kind == _check_kind(kind))
    return list(db.session.scalars(query))


def get(template_id: int) -> AgreementTemplate:
    template = db.session.get(AgreementTemplate, template_id)
    if template is None:
        raise NotFound()
    return template


def may_publish(user: User) -> bool:
    """Whether the templates page should offer this person to publish a version (`publish`
    checks the same again, with the reason)."""
    return user.active and user.role == "ssf_admin"


def publish(
    admin: User | None,
    *,
    version: str,
    revised_date: str,
    title: str,
    body: str,
    notes: str = "",
    request: RequestInfo | None = None,
    kind: str = PARTNER_AGENCY,
) -> AgreementTemplate:
    """Publishes a new version of `kind` after checking its markup and placeholders."""
    from portal.documents.template_markup import TemplateError, parse_template

    if admin is not None:
        require_role(
            admin, "ssf_admin", message="Only a lead agency HMIS admin can publish templates."
        )
    _check_kind(kind)
    what = kind_label(kind)
    with unit_of_work(f"{what} template version {version!r} already exists."):
        version = clean_text(version, "Version", max_len=max_length(COLUMNS.version))
        taken = select(AgreementTemplate.id).where(
            AgreementTemplate.kind == kind, AgreementTemplate.version == version
        )
        if db.session.scalar(taken):
            raise ServiceError(
                f"{what} template version {version} already exists; versions never change."
            )
        body = clean_text(body, "Template text", max_len=200_000, multiline=True)
        try:
            parse_template(body)
        except TemplateError as exc:
            raise ServiceError(f"The template text has a problem: {exc}") from exc
        template = AgreementTemplate(
            kind=kind,
            version=version,
            revised_date=clean_text(
                revised_date, "Revised date", max_len=max_length(COLUMNS.revised_date)
            ),
            title=clean_text(title, "Title", max_len=max_length(COLUMNS.title)),
            body=body,
            notes=clean_text(notes, "Notes", max_len=2000, required=False, multiline=True),
            published_at=clock.now(),
            published_by_id=admin.id if admin else None,
        )
        db.session.add(template)
        db.session.flush()
        audit.record(
            admin,
            "template.publish",
            template,
            f"Published {what} template version {template.version}",
            agency_id=None,
            after={"kind": kind, "version": template.version},
            request=request,
        )
    return template


def publish_sample_if_missing() -> list[AgreementTemplate]:
    """Publishes the sample the project ships for each kind that has no version yet."""
    from portal.documents.template_text import load_sample_template

    published = []
    for kind, name in SAMPLES.items():
        exists = select(AgreementTemplate.id).where(AgreementTemplate.kind == kind).limit(1)
        if db.session.scalar(exists) is not None:
            continue
        sample = load_sample_template(name)
        published.append(
            publish(
                None,
                version=sample.template_version,
                revised_date=sample.revised_date,
                title=sample.title,
                body=sample.body,
                notes="The sample shipped with the portal.",
                kind=kind,
            )
        )
    return published
