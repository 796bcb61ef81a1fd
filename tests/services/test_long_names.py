"""Labels the portal composes from names it holds fit their columns: a person with the
longest name and e-mail the forms accept still leaves whole records (PostgreSQL enforces
the lengths that SQLite ignores, so this runs on both)."""

from sqlalchemy import select

from portal.extensions import db
from portal.models import AuditEvent, DocumentVersion
from portal.services import audit, documents
from portal.services.unit import unit_of_work
from tests import factories

PDF = b"%PDF-1.4\n% a stand-in document\n"


def test_the_longest_name_and_email_still_leave_whole_records(app):
    name = "ع" * 200  # right-to-left, at the column's limit
    email = ("x" * 63) + "@" + ("d" * 60 + ".") * 3 + "example"
    person = factories.lead_person(email=email, name=name, title="T" * 200, role="ssf_admin")
    with unit_of_work():
        document = documents.new_document(
            case_type="agreement",
            case_id=1,
            agency_id=person.agency_id,
            kind="agreement",
            title="A document",
        )
        documents.add_version(document, PDF, f"Countersigned by {person.name}", by=person)
        audit.record(person, "test.long_names", document, "A long name acted", agency_id=None)
    version = db.session.scalar(select(DocumentVersion))
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "test.long_names"))
    assert len(version.label) == 200 and version.label.endswith("…")
    assert version.label.startswith("Countersigned by ععع")
    assert len(event.actor_label) == 300 and event.actor_label.startswith(name)
