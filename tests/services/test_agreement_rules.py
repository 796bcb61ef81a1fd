"""Who may do what to an agreement, and the clear refusals when they may not."""

import pytest

from portal.extensions import db
from portal.services import agencies, agreement_signatures, agreements
from portal.services.errors import Conflict, NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed, sent_agreement


def _sign(user, agreement, **kw):
    args = {"password": PASSWORD, "intent": True, "consent": True, "request": REQ} | kw
    return agreement_signatures.sign_as_agency(user, agreement.id, **args)


def _mark_vawa_provider(agency) -> None:
    """As a row from before registration refused VAWA-covered providers would be."""
    agency.vawa_provider = True
    db.session.commit()


def test_vawa_provider_on_record_cannot_start_an_agreement(app, cast):
    _mark_vawa_provider(cast.agency)
    with pytest.raises(ServiceError) as refused:
        agreements.create(cast.admin, cast.agency.id, REQ)
    assert refused.value.message == agencies.refusal_to_partner(True)
    assert agreements.for_agency(cast.admin, cast.agency.id).items == []


def test_vawa_provider_on_record_cannot_be_sent_its_draft(app, cast):
    draft = agreements.create(cast.admin, cast.agency.id, REQ)
    _mark_vawa_provider(cast.agency)
    with pytest.raises(ServiceError) as refused:
        agreements.send(cast.admin, draft.id, REQ)
    assert refused.value.message == agencies.refusal_to_partner(True)
    assert db.session.get(type(draft), draft.id).state == "draft"


def test_no_second_agreement_while_one_is_open_or_in_effect(app, cast):
    factories.agreement(cast.agency, state="sent")
    with pytest.raises(ServiceError, match="cannot start while it is open"):
        agreements.create(cast.admin, cast.agency.id, REQ)


def test_second_agreement_may_follow_a_voided_one(app, cast):
    first = factories.agreement(cast.agency, state="sent")
    agreements.void(cast.admin, first.id, reason="Wrong address", request=REQ)
    second = agreements.create(cast.admin, cast.agency.id, REQ)
    assert second.state == "draft"


def test_only_the_registered_ed_may_sign(app, cast):
    agreement = sent_agreement(cast)
    with pytest.raises(ServiceError, match="(?i)executive director|may not|role"):
        _sign(cast.officer, agreement)
    assert db.session.get(type(agreement), agreement.id).state == "sent"


def test_a_designated_representative_may_sign(app, cast):
    from portal.services import auth
    from portal.services.unit import unit_of_work

    agreement = sent_agreement(cast)
    designation = agencies.designate_signer(
        cast.admin,
        cast.agency.id,
        agencies.Contact("Rae Rep", "Deputy Director", "rep@hope.test"),
        "ED on leave",
        REQ,
    )
    rep = designation.user
    with unit_of_work():
        token = auth.invite(rep, purpose="t")
    auth.accept_invitation(token, PASSWORD, PASSWORD, REQ)
    assert _sign(rep, agreement).state == "agency_signed"


def test_another_agencys_people_cannot_see_or_act(app, cast):
    agreement = factories.agreement(cast.agency, state="sent")
    with pytest.raises(NotFound):
        agreements.get(cast.other_ed, agreement.id)
    with pytest.raises(NotFound):
        _sign(cast.other_ed, agreement)
    with pytest.raises(NotFound):
        agencies.get(cast.other_ed, cast.agency.id)
    assert agreements.list_for(cast.other_ed).items == []


def test_wrong_password_signs_nothing(app, cast):
    agreement = sent_agreement(cast)
    with pytest.raises(ServiceError, match="password you re-entered is not correct"):
        _sign(cast.ed, agreement, password="wrong password!!")
    db.session.expire_all()
    assert agreement.state == "sent" and len(agreement.document.versions) == 1
    assert cast.ed.esign_consent_at is None


def test_intent_and_first_time_consent_are_required(app, cast):
    agreement = sent_agreement(cast)
    with pytest.raises(ServiceError, match="intend to sign"):
        _sign(cast.ed, agreement, intent=False)
    with pytest.raises(ServiceError, match="consent to do business electronically"):
        _sign(cast.ed, agreement, consent=False)


def test_replayed_signature_is_refused_clearly(app, cast):
    agreement = agency_signed(cast)
    with pytest.raises(ServiceError, match="(?i)not|cannot"):
        _sign(cast.ed, agreement)
    assert len(agreement.document.versions) == 2


def test_stale_page_is_a_conflict(app, cast):
    agreement = factories.agreement(cast.agency, state="sent")
    old = agreement.lock_version
    agreements.void(cast.admin, agreement.id, reason="Mistake", request=REQ)
    with pytest.raises(Conflict, match="changed since you opened it"):
        _sign(cast.ed, agreement, expected_version=old)


def test_decline_needs_a_reason_and_closes_it(app, cast):
    agreement = factories.agreement(cast.agency, state="sent")
    with pytest.raises(ServiceError, match="(?i)reason"):
        agreements.decline(cast.ed, agreement.id, reason="   ", request=REQ)
    declined = agreements.decline(cast.ed, agreement.id, reason="Board review pending", request=REQ)
    assert declined.state == "declined" and declined.closed_reason == "Board review pending"


def test_an_effective_agreement_cannot_be_voided(app, cast):
    agreement = factories.agreement(cast.agency)
    with pytest.raises(ServiceError):
        agreements.void(cast.admin, agreement.id, reason="no", request=REQ)


def test_agency_cannot_countersign_and_signatory_cannot_send(app, cast):
    agreement = agreements.create(cast.admin, cast.agency.id, REQ)
    with pytest.raises(ServiceError):
        agreements.send(cast.signatory, agreement.id, REQ)
    agreements.send(cast.admin, agreement.id, REQ)
    _sign(cast.ed, agreement)
    with pytest.raises(ServiceError):
        agreement_signatures.countersign(
            cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
        )


def test_hostile_input_is_cleaned_or_refused(app, cast):
    weird = "Ünïcödé \u202eevil\u202c <script>alert(1)</script> Café"
    agency = agencies.register(
        cast.admin,
        legal_name=weird,
        address="a\x00b",
        vawa_provider=False,
        executive_director=agencies.Contact("Zoë <b>Ed</b>", "ED", "zoe@weird.test"),
        security_officer=agencies.Contact("Ōscar", "SO", "oscar@weird.test"),
        request=REQ,
    )
    assert "\u202e" not in agency.legal_name and "\x00" not in agency.address
    with pytest.raises(
        ServiceError, match="^Legal name is at most 200 characters; you entered 201"
    ):
        agencies.register(
            cast.admin,
            legal_name="x" * 201,
            address="a",
            vawa_provider=False,
            executive_director=agencies.Contact("A", "ED", "a1@x.test"),
            security_officer=agencies.Contact("B", "SO", "b1@x.test"),
            request=REQ,
        )
    with pytest.raises(ServiceError, match="not a valid address"):
        agencies.register(
            cast.admin,
            legal_name="Fine Name",
            address="a",
            vawa_provider=False,
            executive_director=agencies.Contact("A", "ED", "not-an-email"),
            security_officer=agencies.Contact("B", "SO", "b2@x.test"),
            request=REQ,
        )
    with pytest.raises(ServiceError, match="already registered"):
        agencies.register(
            cast.admin,
            legal_name="other agency",
            address="a",
            vawa_provider=False,
            executive_director=agencies.Contact("A", "ED", "a3@x.test"),
            security_officer=agencies.Contact("B", "SO", "b3@x.test"),
            request=REQ,
        )
    # The odd name goes through the whole PDF pipeline.
    agreement = agreements.create(cast.admin, agency.id, REQ)
    assert agreements.send(cast.admin, agreement.id, REQ).state == "sent"


def test_only_an_admin_registers_agencies(app, cast):
    from portal.services.errors import Forbidden

    with pytest.raises(Forbidden):
        agencies.register(
            cast.ed,
            legal_name="Sneaky",
            address="a",
            vawa_provider=False,
            executive_director=agencies.Contact("A", "ED", "a4@x.test"),
            security_officer=agencies.Contact("B", "SO", "b4@x.test"),
            request=REQ,
        )


def test_the_designated_representative_is_asked_to_sign_too(app, cast, mailbox):
    agencies.designate_signer(
        cast.admin,
        cast.agency.id,
        agencies.Contact("Rae Rep", "Deputy Director", "rep@hope.test"),
        "ED on leave",
        REQ,
    )
    mailbox.deliver()
    mailbox.clear()
    agreement = sent_agreement(cast)
    mailbox.deliver()
    assert mailbox.to("ed@hope.test")
    [invite] = mailbox.to("rep@hope.test")  # no password yet: an invitation to the agreement
    assert "/sign/" in invite.get_content()
    # Each of the two is asked with a link of their own.
    from portal.services import signature_requests

    asked = {row.signer.email for row in signature_requests.live("agreement", agreement.id)}
    assert asked == {"ed@hope.test", "rep@hope.test"}
