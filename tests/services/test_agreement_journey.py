"""The agreement from draft to effective, through the services the pages call."""

from datetime import UTC, date, datetime

import time_machine

from portal.models import Transition
from portal.services import agreement_signatures, cases, documents, signature_requests
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed, effective, sent_agreement


def test_send_certifies_the_pdf_and_asks_the_ed_to_sign(app, cast, mailbox):
    agreement = sent_agreement(cast)
    assert agreement.state == "sent"
    version = agreement.document.current
    assert version.seq == 1 and version.label.startswith("Issued and certified")
    pdf = documents.read_bytes(version)
    assert pdf.startswith(b"%PDF") and len(pdf) == version.size
    assert "Hope & Harbor <Shelter>" in agreement.filled_text
    mailbox.deliver()
    [mail] = mailbox.to("ed@hope.test")
    assert agreement.reference in mail["Subject"]
    # The link is the signature request's own (a resend replaces it), leading to the page.
    assert "/sign/" in mail.get_content()
    [request_row] = signature_requests.live("agreement", agreement.id)
    assert request_row.signer.email == "ed@hope.test" and request_row.opened_at is None


def test_new_ed_gets_an_invitation_that_leads_to_the_agreement(app, cast, mailbox):
    from portal.extensions import db

    cast.ed.password_hash = None
    db.session.commit()
    agreement = sent_agreement(cast)
    mailbox.deliver()
    [mail] = mailbox.to("ed@hope.test")
    body = mail.get_content()
    assert "Set your" in mail["Subject"]
    assert "/invitation/" in body and "/sign/" in body
    assert signature_requests.live("agreement", agreement.id)


def test_both_signatures_make_it_effective_on_the_later_date(app, cast, mailbox):
    with time_machine.travel(datetime(2026, 11, 24, 18, 0, tzinfo=UTC), tick=False):
        agreement = agency_signed(cast)
    # 07:30 UTC on Nov 27 is still Nov 26 in Sacramento (Thanksgiving evening).
    with time_machine.travel(datetime(2026, 11, 27, 7, 30, tzinfo=UTC), tick=False):
        agreement = agreement_signatures.countersign(
            cast.signatory, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )
        mailbox.deliver()
    assert agreement.state == "effective"
    assert agreement.effective_on == date(2026, 11, 26)
    labels = [v.label for v in agreement.document.versions]
    assert len(labels) == 3 and "Countersigned" in labels[2]
    assert agreement.certificate is not None
    events = [t.event for t in cases.history("agreement", agreement.id)]
    assert events == ["create", "send", "agency_signs", "lead_countersigns"]
    signed = mailbox.to("ed@hope.test")[-1]
    assert "Fully signed" in signed["Subject"]
    names = sorted(p.get_filename() for p in signed.iter_attachments())
    assert names == sorted(
        [
            f"{agreement.reference}-signed.pdf",
            f"{agreement.reference}-certificate-of-completion.pdf",
        ]
    )
    assert mailbox.to("so@hope.test") and mailbox.to("sign@ssf.test")


def test_every_transition_records_who_when_where(app, cast):
    agreement = agency_signed(cast)
    step = [t for t in cases.history("agreement", agreement.id) if t.event == "agency_signs"][0]
    assert isinstance(step, Transition)
    assert step.actor_id == cast.ed.id and step.actor_role == "agency_ed"
    assert step.ip == "192.0.2.10" and step.user_agent == "pytest-agent/1.0"
    assert step.at.tzinfo is not None


def test_consent_is_recorded_once(app, cast):
    assert cast.ed.esign_consent_at is None
    agency_signed(cast)
    assert cast.ed.esign_consent_at is not None and cast.ed.esign_consent_ip == "192.0.2.10"


def test_the_agreement_keeps_its_template_version(app, cast):
    from portal.services import templates

    agreement = effective(cast)
    body = templates.current().body
    templates.publish(
        cast.admin,
        version="2",
        revised_date="01/01/2027",
        title="HMIS Partner Agency Agreement",
        body=body,
        request=REQ,
    )
    assert agreement.template.version != "2"
    assert templates.current().version == "2"
