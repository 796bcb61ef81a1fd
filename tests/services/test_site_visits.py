"""Site visits (IV.B.8): scheduled, visited, findings recorded, closed; a notice of default
given from a finding through the notices' own service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from portal.models import DefaultNotice
from portal.services import site_visits
from portal.services.errors import Forbidden, NotFound, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.support import programs as steps

WHEN = datetime(2030, 1, 7, 18, 0, tzinfo=UTC)


def _visited(cast):
    visit = site_visits.schedule(
        cast.admin, cast.agency.id, visit_at=WHEN, visitors="Ada Admin", request=steps.REQ
    )
    return site_visits.step(cast.admin, visit.id, "record_visit", request=steps.REQ)


def test_a_visit_is_scheduled_visited_found_and_closed(app, cast, mailbox):
    visit = _visited(cast)
    assert visit.state == "findings" and visit.reference.startswith("VIS-")
    site_visits.add_finding(
        cast.admin, visit.id, kind="compliant", text="Workstations lock.", request=steps.REQ
    )
    site_visits.add_finding(
        cast.admin, visit.id, kind="finding", text="Passwords on sticky notes.", request=steps.REQ
    )
    site_visits.step(cast.admin, visit.id, "close", request=steps.REQ)
    assert visit.state == "closed" and [f.kind for f in visit.findings] == [
        "compliant",
        "finding",
    ]
    with pytest.raises(ServiceError, match="after the visit"):
        site_visits.add_finding(
            cast.admin, visit.id, kind="finding", text="late", request=steps.REQ
        )
    mailbox.deliver()
    assert any("Site visit scheduled" in m["Subject"] for m in mailbox.to("ed@hope.test"))


def test_bad_input_and_other_people_are_refused(app, cast):
    with pytest.raises(ServiceError, match="date and time"):
        site_visits.schedule(
            cast.admin, cast.agency.id, visit_at=None, visitors="x", request=steps.REQ
        )
    with pytest.raises(Forbidden):
        site_visits.schedule(
            cast.ed, cast.agency.id, visit_at=WHEN, visitors="x", request=steps.REQ
        )
    visit = _visited(cast)
    with pytest.raises(ServiceError, match="compliant or a finding"):
        site_visits.add_finding(cast.admin, visit.id, kind="maybe", text="x", request=steps.REQ)
    with pytest.raises(NotFound):
        site_visits.get(cast.other_ed, visit.id)


def test_a_signatory_gives_a_notice_of_default_from_a_finding(app, cast):
    factories.agreement(cast.agency, state="effective", documents=True)
    visit = _visited(cast)
    finding = site_visits.add_finding(
        cast.admin, visit.id, kind="finding", text="Passwords on sticky notes.", request=steps.REQ
    )
    notice = site_visits.give_notice(
        cast.signatory,
        visit.id,
        finding.id,
        provisions=["IV.B.8"],
        description=f"Found at {visit.reference}: {finding.text}",
        cure_required="Train staff on password rules.",
        password=PASSWORD,
        intent=True,
        consent=True,
        request=steps.REQ,
    )
    assert isinstance(notice, DefaultNotice) and notice.state == "cure_period"
    assert "sticky notes" in notice.description
    with pytest.raises(Forbidden):
        site_visits.give_notice(
            cast.admin, visit.id, finding.id, provisions=["IV.B.8"], description="x",
            cure_required="y", password=PASSWORD, intent=True, consent=True, request=steps.REQ,
        )  # fmt: skip
