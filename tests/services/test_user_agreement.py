"""The HMIS User Agreement through its services: prepared and certified with the request,
signed by the new user, approved by the agency's ED or security officer, checked by pyHanko
and poppler's pdfsig; refusals, failures halfway and replayed forms change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal import runtime
from portal.documents.verify import verify_pdf
from portal.extensions import db
from portal.models import AuditEvent, Onboarding, OutboxMessage, Transition
from portal.services import documents, templates, user_agreements
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.support import onboarding as steps
from tests.support.pki import pdfsig


def _events(ob: Onboarding) -> list[str]:
    query = select(Transition.event).where(
        Transition.case_type == "onboarding", Transition.case_id == ob.id
    )
    return list(db.session.scalars(query.order_by(Transition.id)))


def _count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _pdf(ob: Onboarding) -> bytes:
    return documents.read_bytes(ob.document.current)


def test_the_request_prepares_a_certified_user_agreement(app, cast, pki):
    ob = steps.requested(cast, name="Nia <b>Newhire</b> & Co").onboarding
    assert ob.state == "invited"
    assert ob.template.kind == "user_agreement" and ob.template.version == "1"
    document = ob.document
    assert (document.kind, document.case_type, document.case_id) == (
        "user_agreement",
        "onboarding",
        ob.id,
    )
    [version] = document.versions
    assert version.label.startswith("Issued and certified by")
    report = verify_pdf(_pdf(ob), pki.trust_roots)
    assert report.all_valid and [s.field_name for s in report.signatures] == ["certification"]
    assert report.signatures[0].is_certification
    text = user_agreements.text(ob)
    for words in ("Nia <b>Newhire</b> & Co", "Case Manager", "Case manager", "Hope & Harbor"):
        assert words in text
    assert "For the partner agency: executive director or security officer".upper() in text


def test_the_new_user_signs_then_the_ed_approves(app, cast, mailbox, pki, nss_db, tmp_path):
    steps.required_course()
    ob = steps.at_signing(cast)
    new_user = ob.user
    mailbox.deliver()
    mailbox.clear()

    ob = steps.sign(new_user, ob)
    assert ob.state == "approval" and ob.user_signed_at is not None
    mailbox.deliver()
    for approver in ("ed@hope.test", "so@hope.test"):
        [mail] = mailbox.to(approver)
        assert "approve the HMIS User Agreement of Nia Newhire" in mail["Subject"]
        assert f"/onboarding/{ob.id}" in mail.get_content()
    assert not mailbox.to(steps.NEW_EMAIL)

    ob = steps.approve(cast.ed, ob)
    assert ob.state == "training"
    assert ob.approved_by_id == cast.ed.id and ob.approved_at is not None
    assert _events(ob) == ["create", "accept_invitation", "user_signs", "agency_approves"]
    mailbox.deliver()
    [mail] = mailbox.to(steps.NEW_EMAIL)
    assert "training is next" in mail["Subject"]
    assert "http://portal.test/training/" in mail.get_content()

    labels = [v.label for v in ob.document.versions]
    assert labels[1] == "Signed by the new user: Nia Newhire"
    assert labels[2] == "Approved for the partner agency: Eve Director"
    data = _pdf(ob)
    report = verify_pdf(data, pki.trust_roots)
    assert report.error is None and report.all_valid
    certification, signed, approved = report.signatures
    assert certification.is_certification
    assert (signed.field_name, signed.signer_name, signed.signer_organization) == (
        user_agreements.USER_FIELD,
        "Nia Newhire",
        "Hope & Harbor <Shelter>",
    )
    assert (approved.field_name, approved.signer_name, approved.signer_title) == (
        user_agreements.APPROVAL_FIELD,
        "Eve Director",
        "Executive Director",
    )
    for s in report.signatures:
        assert s.intact and s.valid and s.trusted and s.modifications_permitted
    assert approved.covers_whole_document

    path = tmp_path / "user-agreement.pdf"
    path.write_bytes(data)
    out = pdfsig(nss_db, path)
    assert out.count("Signature Validation: Signature is Valid.") == 3, out
    assert out.count("Certificate Validation: Certificate is Trusted.") == 3, out
    assert "Signer Certificate Common Name: Nia Newhire" in out
    assert "Signer Certificate Common Name: Eve Director" in out


def test_the_security_officer_may_approve_and_training_already_done_completes(app, cast, mailbox):
    steps.required_course()
    ob = steps.at_signing(cast)
    steps.train(ob.user)
    steps.sign(ob.user, ob)
    mailbox.deliver()
    mailbox.clear()
    ob = steps.approve(cast.officer, ob)
    assert ob.state == "complete" and ob.training_completed_at is not None
    assert ob.approved_by_id == cast.officer.id
    assert _events(ob)[-2:] == ["agency_approves", "training_completed"]
    mailbox.deliver()
    [mail] = mailbox.to(steps.NEW_EMAIL)
    assert "training is next" not in mail["Subject"]
    assert "onboarding is done" in mail.get_content()


def test_a_person_cannot_approve_their_own_user_agreement(app, cast):
    # The agency's security officer is also getting HMIS access: another must approve.
    ob = steps.requested(
        cast, email="so@hope.test", name="Sam Officer", job_title="Security Officer"
    ).onboarding
    assert ob.user_id == cast.officer.id and ob.state == "signing"
    steps.sign(cast.officer, ob)
    with pytest.raises(ServiceError, match="cannot approve their own user agreement"):
        steps.approve(cast.officer, ob)
    db.session.expire_all()
    assert ob.state == "approval" and ob.approved_at is None and len(ob.document.versions) == 2
    assert steps.approve(cast.ed, ob).state in ("training", "complete")


def test_a_plain_new_user_cannot_approve_nor_sign_for_another(app, cast):
    ob = steps.at_signing(cast)
    colleague = factories.person(
        cast.agency, email="col@hope.test", name="Col League", title="Clerk", role="agency_user"
    )
    with pytest.raises(NotFound):  # a colleague does not even see it
        steps.sign(colleague, ob)
    with pytest.raises(ServiceError, match="Only the new user"):
        steps.sign(cast.ed, ob)
    steps.sign(ob.user, ob)
    with pytest.raises(ServiceError, match="executive director or security officer"):
        steps.approve(ob.user, ob)
    db.session.expire_all()
    assert ob.state == "approval" and len(ob.document.versions) == 2


def test_another_agencys_people_get_not_found(app, cast):
    ob = steps.at_signing(cast)
    with pytest.raises(NotFound):
        steps.sign(cast.other_ed, ob)
    steps.sign(ob.user, ob)
    with pytest.raises(NotFound):
        steps.approve(cast.other_ed, ob)
    with pytest.raises(NotFound):
        user_agreements.approve(
            cast.ed, 10_000, password=PASSWORD, intent=True, consent=True, request=steps.REQ
        )
    db.session.expire_all()
    assert ob.state == "approval"


def _unchanged(ob_id: int, state: str, versions: int) -> Onboarding:
    db.session.expire_all()
    ob = db.session.get(Onboarding, ob_id)
    assert ob.state == state
    assert len(ob.document.versions) == versions
    return ob


@pytest.mark.parametrize("step", ["sign", "approve"])
def test_a_signing_failure_changes_nothing_and_a_retry_works(app, cast, mailbox, step, monkeypatch):
    from portal.documents.signing import SigningError

    ob = steps.at_signing(cast)
    steps.train(ob.user)  # so the approval, once it works, completes onboarding
    if step == "approve":
        steps.sign(ob.user, ob)
    person = ob.user if step == "sign" else cast.ed
    state, versions = ob.state, len(ob.document.versions)
    mail_before = _count(OutboxMessage)
    audit_before = _count(AuditEvent)
    consent_before = person.esign_consent_at
    ob_id = ob.id

    def down(*args, **kwargs):
        raise SigningError("The signing service did not answer.")

    monkeypatch.setattr(runtime.signer(), "approve", down)
    act = steps.sign if step == "sign" else steps.approve
    with pytest.raises(ServiceError, match="did not answer. Nothing was signed; try again"):
        act(person, ob)
    ob = _unchanged(ob_id, state, versions)
    assert (ob.user_signed_at is None) == (step == "sign")
    assert ob.approved_at is None
    assert _count(OutboxMessage) == mail_before and _count(AuditEvent) == audit_before
    assert person.esign_consent_at == consent_before
    assert _events(ob)[-1] == ("accept_invitation" if step == "sign" else "user_signs")

    monkeypatch.undo()
    ob = act(person, ob)
    assert ob.state == ("approval" if step == "sign" else "complete")
    assert len(ob.document.versions) == versions + 1


def test_a_replayed_form_is_refused_without_a_second_signature(app, cast):
    ob = steps.at_signing(cast)
    steps.train(ob.user)
    steps.sign(ob.user, ob)
    with pytest.raises(ServiceError, match="You already signed this HMIS User Agreement on"):
        steps.sign(ob.user, ob)
    _unchanged(ob.id, "approval", 2)
    steps.approve(cast.ed, ob)
    with pytest.raises(ServiceError, match="Eve Director already approved"):
        steps.approve(cast.officer, ob)
    with pytest.raises(ServiceError, match="Eve Director already approved"):
        steps.approve(cast.ed, ob)
    _unchanged(ob.id, "complete", 3)


def test_a_wrong_password_or_no_intent_signs_nothing(app, cast):
    ob = steps.at_signing(cast)
    with pytest.raises(ServiceError, match="password you re-entered is not correct"):
        steps.sign(ob.user, ob, password="not the password")
    with pytest.raises(ServiceError, match="Confirm that you intend to sign"):
        user_agreements.sign(
            ob.user, ob.id, password=PASSWORD, intent=False, consent=True, request=steps.REQ
        )
    ob = _unchanged(ob.id, "signing", 1)
    assert ob.user.esign_consent_at is None


def test_the_newest_user_agreement_template_is_used(app, cast):
    sample = templates.current(templates.USER_AGREEMENT)
    templates.publish(
        cast.admin,
        version="2",
        revised_date="02/01/2027",
        title="HMIS User Agreement",
        body=sample.body.replace("# IV. Term", "# IV. Term and Renewal"),
        request=steps.REQ,
        kind=templates.USER_AGREEMENT,
    )
    ob = steps.at_signing(cast)
    assert ob.template.version == "2"
    assert "IV. TERM AND RENEWAL" in user_agreements.text(ob)
    # The partner agency agreement keeps its own current version.
    assert templates.current().version == "1" and templates.current().kind == "partner_agency"
