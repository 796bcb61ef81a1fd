"""Re-signing campaigns: who gets the new template version, the new agreement replacing the
old one when both have signed, the deadline, a selection, the form key, and who may do what.

The agreements in effect are rows (tests/factories.py); the campaign's own agreements go
through the real services (rendered, certified and sent), and one of them is signed by both
parties, so the replacement is seen end to end once.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agreement, Campaign, OutboxMessage, SignatureRequest
from portal.services import (
    agreement_signatures,
    agreements,
    campaign_progress,
    campaign_steps,
    campaigns,
    cases,
    deadlines,
    templates,
    tracking,
)
from portal.services.errors import NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.notices import give_default
from tests.services.helpers import REQ

PACIFIC = ZoneInfo("America/Los_Angeles")
START = datetime(2027, 3, 1, 10, 0, tzinfo=PACIFIC)  # a Monday
KEY = "campaign-form-key-0001"


@pytest.fixture
def travel():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def old_agreements(app, cast, travel):
    """Both agencies' agreements in effect on version 1, then version 2 published."""
    rows = {
        "mine": factories.agreement(cast.agency, at=START - timedelta(days=400)),
        "other": factories.agreement(cast.other_agency, at=START - timedelta(days=400)),
    }
    templates.publish(
        cast.admin,
        version="2",
        revised_date="03/01/2027",
        title="HMIS Partner Agency Agreement",
        body=templates.current().body,
        request=REQ,
    )
    return rows


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _mail_to(address: str) -> list[str]:
    query = select(OutboxMessage.subject).where(OutboxMessage.to_addr == address)
    return list(db.session.scalars(query))


def test_a_campaign_sends_the_new_version_to_eligible_agencies_only(app, cast, old_agreements):
    # The other agency has a default notice in its cure period: superseding its agreement
    # would close the notice and cut the remedy short, so the campaign leaves it out.
    notice = give_default(cast.signatory, old_agreements["other"])
    third = factories.agency("Third Agency", created_by=cast.admin)
    factories.person(third, email="ed@third.test", name="T", title="ED", role="agency_ed")
    factories.agreement(third)  # already on version 2: nothing to re-sign
    found = {c.agency.id: c.skipped for c in campaigns.candidates(templates.current())}
    assert set(found) == {cast.agency.id, cast.other_agency.id}
    assert found[cast.agency.id] == ""
    assert notice.reference in found[cast.other_agency.id]
    assert [c.agency.id for c in campaigns.eligible_agencies()] == [cast.agency.id]

    campaign = campaigns.start(cast.admin, note="Yearly re-signing", request=REQ)

    assert campaign.state == "open" and campaign.template.version == "2"
    assert campaign.due_on == date(2027, 3, 31)  # today + SIGNATURE_REQUEST_DAYS
    [new] = campaign.agreements
    assert (new.agency_id, new.state, new.replaces_id) == (
        cast.agency.id,
        "sent",
        old_agreements["mine"].id,
    )
    assert old_agreements["mine"].state == "effective"  # side by side until both sign
    assert _mail_to("ed@hope.test") == [
        f"Please sign the HMIS Partner Agency Agreement {new.reference}"
    ]
    assert not any("Please sign" in subject for subject in _mail_to("ed@other.test"))
    # The request expires at the campaign's deadline, not 30 days from its own invitation.
    [expiry] = deadlines.pending_for("agreement", new.id)
    assert expiry.due_at == campaign_steps.due_at(campaign)
    assert "campaign " + campaign.reference in expiry.rule_text
    [own] = deadlines.pending_for("campaign", campaign.id)
    assert own.due_at == datetime(2027, 3, 31, 23, 59, 59, tzinfo=PACIFIC)
    # Tracking lists the agency once, by the agreement that binds it (in effect).
    rows = tracking.page(cast.admin, tracking.Filters(agency_id=cast.agency.id, kind="agency"))
    assert [r.state_label for r in rows.rows] == ["In effect"]


def test_signed_by_both_the_new_agreement_supersedes_the_old(app, cast, old_agreements, travel):
    old = old_agreements["mine"]
    campaign = campaigns.start(cast.admin, agency_ids=[cast.agency.id], request=REQ)
    [new] = campaign.agreements
    travel.shift(timedelta(days=2))
    agreement_signatures.sign_as_agency(
        cast.ed, new.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    travel.shift(timedelta(days=1))
    agreement_signatures.countersign(
        cast.signatory, new.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    db.session.expire_all()
    assert new.state == "effective" and new.effective_on == date(2027, 3, 4)
    assert old.state == "superseded" and old.ended_on == date(2027, 3, 4)
    history = [(t.event, t.target) for t in cases.history("agreement", old.id)]
    assert history[0] == ("create", "draft")  # its own history is kept, then superseded
    assert history[-1] == ("supersede", "superseded")
    [last] = cases.history("agreement", old.id)[-1:]
    assert last.actor_id is None and new.reference in last.reason
    assert campaign.state == "completed"
    rows = campaign_progress.progress(cast.admin, campaign).rows
    assert [(r.old_reference, r.days_waiting) for r in rows] == [(old.reference, None)]
    assert rows[0].signed_at is not None and rows[0].opened_at.tzinfo is not None


def test_unsigned_requests_expire_at_the_deadline_and_the_campaign_completes(
    app, cast, old_agreements, travel
):
    campaign = campaigns.start(
        cast.admin, agency_ids=[cast.other_agency.id], due_on=date(2027, 3, 5), request=REQ
    )
    [new] = campaign.agreements
    end = campaign_steps.due_at(campaign)
    travel.move_to(end - timedelta(seconds=1))
    deadlines.sweep()
    db.session.expire_all()
    assert (new.state, campaign.state) == ("sent", "open")
    assert campaign_progress.progress(cast.admin, campaign).rows[0].days_waiting == 4
    travel.move_to(end)
    deadlines.sweep()
    db.session.expire_all()
    assert new.state == "expired" and "campaign" in new.closed_reason
    assert campaign.state == "completed"
    events = [t.event for t in cases.history("campaign", campaign.id)]
    assert events == ["create", "deadline_passes", "complete"]
    assert old_agreements["other"].state == "effective"  # the old one simply stays
    assert old_agreements["other"].ended_on is None
    [link] = db.session.scalars(select(SignatureRequest).where(SignatureRequest.case_id == new.id))
    assert link.ended_at is not None  # its link stops working


def test_a_selection_a_form_sent_twice_and_closing(app, cast, old_agreements):
    with pytest.raises(ServiceError, match="Choose at least one agency"):
        campaigns.start(cast.admin, agency_ids=[], request=REQ)
    with pytest.raises(ServiceError, match="nothing to re-sign"):
        campaigns.start(cast.admin, agency_ids=[999], request=REQ)
    with pytest.raises(ServiceError, match="after today"):
        campaigns.start(cast.admin, due_on=date(2027, 3, 1), request=REQ)
    first = campaigns.start(
        cast.admin, agency_ids=[cast.other_agency.id], form_key=KEY, request=REQ
    )
    again = campaigns.start(
        cast.admin, agency_ids=[cast.other_agency.id], form_key=KEY, request=REQ
    )
    assert again.id == first.id and getattr(again, "already_given", False)
    assert _count(Campaign) == 1 and _count(Agreement) == 3
    assert [a.agency_id for a in first.agreements] == [cast.other_agency.id]
    # The other agency's agreement is on its way now: a second campaign leaves it out.
    assert [c.agency.id for c in campaigns.eligible_agencies()] == [cast.agency.id]

    closed = campaigns.close(cast.admin, first.id, reason="Wrong version", request=REQ)
    [new] = closed.agreements
    assert (closed.state, new.state) == ("closed", "voided")
    assert "Wrong version" in new.closed_reason
    assert any("No need to sign" in s for s in _mail_to("ed@other.test"))
    with pytest.raises(ServiceError):
        campaigns.close(cast.admin, first.id, reason="Again", request=REQ)


def test_who_may_start_see_and_close(app, cast, old_agreements):
    for person in (cast.ed, cast.signatory, cast.auditor):
        with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
            campaigns.start(person, request=REQ)
    campaign = campaigns.start(cast.admin, agency_ids=[cast.agency.id], request=REQ)
    assert campaigns.get(cast.auditor, campaign.id) == campaign
    # An agency's people see a campaign that includes their agency, and their row only.
    assert campaigns.get(cast.ed, campaign.id) == campaign
    assert [c.id for c in campaigns.list_for(cast.ed)] == [campaign.id]
    assert [r.agency_id for r in campaign_progress.progress(cast.ed, campaign).rows] == [
        cast.agency.id
    ]
    with pytest.raises(NotFound):
        campaigns.get(cast.other_ed, campaign.id)
    assert campaigns.list_for(cast.other_ed) == []
    with pytest.raises(ServiceError, match="Only a lead agency HMIS admin"):
        campaigns.close(cast.ed, campaign.id, reason="No", request=REQ)


def test_a_replacement_waits_while_a_remedy_runs_under_the_old_agreement(app, cast, travel):
    old = factories.agreement(cast.agency)
    new = factories.agreement(cast.other_agency, state="agency_signed")
    new.agency, new.replaces = cast.agency, old  # a campaign's agreement, as rows
    db.session.commit()
    notice = give_default(cast.signatory, old)
    with pytest.raises(ServiceError, match=notice.reference):
        campaign_steps.supersede_replaced(new, at=START)
    assert old.state == "effective"


def test_declined_and_voided_agreements_resolve_the_campaign(app, cast, old_agreements):
    campaign = campaigns.start(cast.admin, request=REQ)
    mine, theirs = sorted(campaign.agreements, key=lambda a: a.agency_id != cast.agency.id)
    agreements.decline(cast.ed, mine.id, reason="We need board approval first", request=REQ)
    assert (mine.state, campaign.state) == ("declined", "open")  # one still pending
    agreements.void(cast.admin, theirs.id, reason="Sent in error", request=REQ)
    assert (theirs.state, campaign.state) == ("voided", "completed")
    assert [t.event for t in cases.history("campaign", campaign.id)] == ["create", "complete"]
    assert {a.state for a in old_agreements.values()} == {"effective"}
