"""Short ways through yearly recertification: an issued HMIS user (the real request, user
agreement and issue services), the year's campaign, the renewed agreement's signatures and
the privacy and security test passed again through the portal."""

from __future__ import annotations

from portal.extensions import db
from portal.models import Recertification, User
from portal.services import (
    recertification_campaign,
    recertification_renewal,
    training,
)
from portal.services.access import RequestInfo
from tests.conftest import PASSWORD
from tests.support import onboarding as steps
from tests.support.training import answers

REQ = RequestInfo(ip="192.0.2.40", user_agent="pytest-recertification/1.0")
ISSUED_AT = "2027-03-10 17:00:00+00:00"  # 365 days on: lapses Thursday, March 9, 2028
CAMPAIGN_AT = "2028-01-15 17:00:00+00:00"


def issued_user(cast, *, email: str = steps.NEW_EMAIL, name: str = "Nia Newhire") -> User:
    """A person with issued HMIS access: the agreement signed, trained, approved, issued."""
    ob = steps.at_signing(cast, email=email, name=name)
    steps.sign(ob.user, ob)
    steps.train(ob.user)
    steps.approve(cast.officer, ob)
    steps.issued(cast, ob.request, hmis_user_id=f"HMIS-{ob.user.id}")
    return ob.user


def campaign(cast, year: int = 2028) -> list[Recertification]:
    return recertification_campaign.open_campaign(cast.admin, year, request=REQ)


def sign(person: User, row: Recertification) -> Recertification:
    return recertification_renewal.sign(
        person, row.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def approve(person: User, row: Recertification) -> Recertification:
    return recertification_renewal.approve(
        person, row.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def pass_again(person: User, row: Recertification, *, right: int | None = None):
    """The person takes the privacy and security test again and submits it."""
    attempt = recertification_renewal.start_test(person, row.id, request=REQ)
    count = len(attempt.question_ids) if right is None else right
    return training.submit_attempt(person, attempt.id, answers(attempt, count), request=REQ)


def reload(row: Recertification) -> Recertification:
    db.session.expire_all()
    return db.session.get(Recertification, row.id)
