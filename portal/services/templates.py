"""Agreement template versions: published by SSF, never edited, kept by every agreement."""

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


def current() -> AgreementTemplate:
    query = select(AgreementTemplate).order_by(AgreementTemplate.id.desc()).limit(1)
    template = db.session.scalar(query)
    if template is None:
        raise ServiceError("No agreement template is published yet.")
    return template


def all_versions() -> list[AgreementTemplate]:
    return list(db.session.scalars(select(AgreementTemplate).order_by(AgreementTemplate.id.desc())))


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
) -> AgreementTemplate:
    """Publishes a new version after checking its markup and placeholders."""
    from portal.documents.template_markup import TemplateError, parse_template

    if admin is not None:
        require_role(
            admin, "ssf_admin", message="Only a lead agency HMIS admin can publish templates."
        )
    with unit_of_work(f"Template version {version!r} already exists."):
        version = clean_text(version, "Version", max_len=max_length(COLUMNS.version))
        if db.session.scalar(select(AgreementTemplate).where(AgreementTemplate.version == version)):
            raise ServiceError(f"Template version {version} already exists; versions never change.")
        body = clean_text(body, "Template text", max_len=200_000, multiline=True)
        try:
            parse_template(body)
        except TemplateError as exc:
            raise ServiceError(f"The template text has a problem: {exc}") from exc
        template = AgreementTemplate(
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
            f"Published agreement template version {template.version}",
            agency_id=None,
            after={"version": template.version},
            request=request,
        )
    return template


def publish_sample_if_missing() -> AgreementTemplate | None:
    """Publishes the template the project ships when no version exists yet."""
    if db.session.scalar(select(AgreementTemplate.id).limit(1)) is not None:
        return None
    from portal.documents.template_text import load_sample_template

    sample = load_sample_template()
    return publish(
        None,
        version=sample.template_version,
        revised_date=sample.revised_date,
        title=sample.title,
        body=sample.body,
        notes="The sample shipped with the portal.",
    )
