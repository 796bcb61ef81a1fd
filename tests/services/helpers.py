"""Short ways to drive an agreement through its services, for tests of that journey: each
step renders, certifies or signs a real PDF. A test about something else (a remedy, a
page, the API) stands on rows from tests/factories.py instead."""

from portal.services import agreement_signatures, agreements
from portal.services.access import RequestInfo
from tests.conftest import PASSWORD

REQ = RequestInfo(ip="192.0.2.10", user_agent="pytest-agent/1.0")


def sent_agreement(cast):
    agreement = agreements.create(cast.admin, cast.agency.id, REQ)
    return agreements.send(cast.admin, agreement.id, REQ)


def agency_signed(cast):
    agreement = sent_agreement(cast)
    return agreement_signatures.sign_as_agency(
        cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def effective(cast):
    agreement = agency_signed(cast)
    return agreement_signatures.countersign(
        cast.signatory, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
