"""The lists of agreements: a page of an agency's, a page of those a person may see, and
their count (the API's total). Each row loads what a list shows, in a few queries."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import defer, joinedload, selectinload

from portal.extensions import db
from portal.models import Agreement, AgreementTemplate, Document, User
from portal.services import keyset
from portal.services.access import is_lead_staff, require_agency_visible


def _listed():
    """Agreements as a list shows them: without their filled text (about 21 KB each), with
    what each row shows loaded in the same few queries."""
    return select(Agreement).options(
        defer(Agreement.filled_text),
        joinedload(Agreement.agency),
        joinedload(Agreement.template).load_only(
            AgreementTemplate.version, AgreementTemplate.revised_date
        ),
        selectinload(Agreement.document).selectinload(Document.versions),
        selectinload(Agreement.certificate).selectinload(Document.versions),
    )


def for_agency(
    viewer: User,
    agency_id: int,
    *,
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
) -> keyset.Page:
    """One page of an agency's agreements, newest first."""
    require_agency_visible(viewer, agency_id)
    query = _listed().where(Agreement.agency_id == agency_id)
    return keyset.paged(query, Agreement, after=after, before=before, per_page=per_page)


def list_for(
    viewer: User,
    *,
    state: str = "",
    after: int | None = None,
    before: int | None = None,
    per_page: int = 25,
) -> keyset.Page:
    """One page of the agreements `viewer` may see, newest first."""
    query = _listed()
    if not is_lead_staff(viewer):
        query = query.where(Agreement.agency_id == viewer.agency_id)
    if state:
        query = query.where(Agreement.state == state)
    return keyset.paged(query, Agreement, after=after, before=before, per_page=per_page)


def count_for(viewer: User, *, state: str = "") -> int:
    """How many agreements `viewer` may see (the API's `total`; the pages count none)."""
    query = select(func.count(Agreement.id))
    if not is_lead_staff(viewer):
        query = query.where(Agreement.agency_id == viewer.agency_id)
    if state:
        query = query.where(Agreement.state == state)
    return db.session.scalar(query) or 0
