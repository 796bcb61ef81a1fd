"""The lead agency is named by the LEAD_AGENCY_NAME setting on pages, in e-mails and in PDFs."""

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.models import DocumentVersion, OutboxMessage
from portal.services import agreements, documents
from tests.rendering.pdf_text import flat, needs_pdftotext, page_texts
from tests.services.helpers import REQ, effective

VALLEY = "Valley Housing Collaborative"
DEFAULT = "Sacramento Steps Forward"


@pytest.fixture
def valley(app):
    """The app with another lead agency's name; the fixtures after it (cast) see it too."""
    saved = app.config["LEAD_AGENCY_NAME"]
    app.config["LEAD_AGENCY_NAME"] = VALLEY
    yield VALLEY
    app.config["LEAD_AGENCY_NAME"] = saved


@needs_pdftotext
def test_every_pdf_names_the_lead_agency_from_the_setting(valley, app, cast):
    agreement = effective(cast)
    versions = db.session.scalars(select(DocumentVersion)).all()
    kinds = {v.document.kind for v in versions}
    assert {"agreement", "certificate"} <= kinds
    for version in versions:
        text = flat(" ".join(page_texts(documents.read_bytes(version))))
        assert VALLEY in text, version.label
        assert DEFAULT not in text, version.label
        assert VALLEY in version.label or "agency" in version.label
        assert DEFAULT not in version.label
    first_page = flat(page_texts(documents.read_bytes(agreement.document.current))[0])
    assert f"between {VALLEY} as the HMIS Lead Agency" in first_page


def test_pages_and_mail_name_the_lead_agency_from_the_setting(valley, client, app, cast, auth):
    draft = agreements.create(cast.admin, cast.agency.id, REQ)
    agreements.send(cast.admin, draft.id, REQ)
    mails = db.session.scalars(select(OutboxMessage)).all()
    [ask] = [m for m in mails if m.to_addr == "ed@hope.test" and "Please sign" in m.subject]
    assert f"{VALLEY} sent the HMIS Partner Agency Agreement" in ask.body
    assert all(DEFAULT not in m.subject + m.body for m in mails)
    auth.login("ed@hope.test")
    page = client.get(f"/agreements/{draft.id}/sign").get_data(as_text=True)
    assert f"between {VALLEY} and" in page
    assert f"do business electronically with {VALLEY}" in page
    assert DEFAULT not in page  # (the shipped template's own text abbreviates it "SSF")
    auth.logout()
    auth.login("admin@ssf.test")
    for path in ("/", f"/agencies/{cast.agency.id}", f"/agreements/{draft.id}", "/holidays"):
        shown = client.get(path).get_data(as_text=True)
        assert VALLEY in shown, path
        assert DEFAULT not in shown, path
