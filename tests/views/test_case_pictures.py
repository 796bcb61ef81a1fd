"""Every case page draws its workflow beside its history: the current state marked, and the
steps its history took highlighted (issue 9, item 6)."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine

from portal.extensions import db
from portal.models import Transition
from tests import factories
from tests.notices import give_default, give_termination
from tests.services.helpers import REQ
from tests.support import access as access_steps
from tests.support import onboarding as steps
from tests.support import recertification as recert
from tests.support.separations import calendar_for, issued, staff
from workflows.agreement import AGREEMENT
from workflows.diagram import render_svg

NOW = "2027-03-10 18:00:00+00:00"


@pytest.fixture
def travel():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _picture(html: str) -> str:
    match = re.search(r'<svg[^>]*class="workflow-diagram".*?</svg>', html, re.S)
    assert match, "no workflow diagram on the page"
    return match.group(0)


def _marked(svg: str, state: str) -> None:
    assert re.search(rf'<g class="state current[^"]*" data-state="{state}">', svg), state
    assert "(current state)" in svg


def _taken(svg: str, source: str, target: str) -> None:
    steps_taken = re.findall(
        r'<polyline class="step taken" data-source="([^"]*)" '
        r'data-target="([^"]*)"',
        svg,
    )
    assert any(source in s.split(" ") and t == target for s, t in steps_taken), steps_taken


def test_render_svg_highlights_the_path_and_only_the_path():
    svg = render_svg(
        AGREEMENT,
        "agency_signed",
        path=[("", "draft"), ("draft", "sent"), ("sent", "agency_signed")],
    )
    _marked(svg, "agency_signed")
    _taken(svg, "draft", "sent")
    _taken(svg, "sent", "agency_signed")
    assert svg.count('class="step taken"') == 2
    assert 'class="state visited" data-state="draft"' in svg
    assert "Steps taken so far" in svg
    plain = render_svg(AGREEMENT, "draft")
    assert "step taken" not in plain and "visited" not in plain


def test_agreement_and_notice_pages(client, auth, cast, travel):
    agreement = factories.agreement(cast.agency, state="effective", documents=True)
    auth.login(cast.admin.email)
    svg = _picture(client.get(f"/agreements/{agreement.id}").get_data(as_text=True))
    _marked(svg, "effective")
    _taken(svg, "agency_signed", "effective")
    _taken(svg, "draft", "sent")

    notice = give_default(cast.signatory, agreement)
    svg = _picture(client.get(f"/notices/default/{notice.id}").get_data(as_text=True))
    _marked(svg, notice.state)
    assert 'data-state="cure_period"' in svg

    termination = give_termination(cast.signatory, agreement)
    svg = _picture(client.get(f"/notices/termination/{termination.id}").get_data(as_text=True))
    _marked(svg, termination.state)


def test_access_request_and_onboarding_pages(client, auth, cast, travel):
    row = steps.requested(cast)
    access_steps.sign_and_approve(cast, row)
    steps.train(row.user)
    row = steps.issued(cast, row)
    db.session.expire_all()
    auth.login(cast.ed.email)
    svg = _picture(client.get(f"/access-requests/{row.id}").get_data(as_text=True))
    _marked(svg, "issued")
    _taken(svg, "in_progress", "issued")

    svg = _picture(client.get(f"/onboarding/{row.onboarding.id}").get_data(as_text=True))
    _marked(svg, row.onboarding.state)
    moved = db.session.scalars(
        db.select(Transition).where(
            Transition.case_type == "onboarding",
            Transition.case_id == row.onboarding.id,
            Transition.source != "",
        )
    ).first()
    _taken(svg, moved.source, moved.target)


def test_separation_page(client, auth, cast, travel):
    from portal.services import separations

    calendar_for(2027)
    person = staff(cast.agency, "nia@hope.test")
    issued(person, "HMIS-77")
    row = separations.report(
        cast.ed, cast.agency.id, user_id=person.id, last_day=date(2027, 3, 9), request=REQ
    )
    row = separations.record_hmis_deactivation(cast.admin, row.id, request=REQ)
    auth.login(cast.ed.email)
    svg = _picture(client.get(f"/separations/{row.id}").get_data(as_text=True))
    _marked(svg, "hmis_deactivated")
    _taken(svg, "reported", "hmis_deactivated")


def test_recertification_page(client, auth, cast, app, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_MAX_AGE_DAYS", 0)
    with time_machine.travel(recert.ISSUED_AT, tick=False) as traveller:
        user = recert.issued_user(cast)
        traveller.move_to(recert.CAMPAIGN_AT)
        [row] = recert.campaign(cast)
        row = recert.sign(user, row)
        auth.login(cast.admin.email)
        svg = _picture(client.get(f"/recertification/{row.id}").get_data(as_text=True))
        _marked(svg, row.state)
        assert 'class="step taken"' in svg


def test_self_assessment_page(client, auth, cast):
    from portal.documents.self_assessment import QUESTIONS
    from portal.models import SecurityAssessment
    from tests.conftest import PASSWORD, csrf_token

    auth.login(cast.officer.email)
    answers = {q.key: "yes" for q in QUESTIONS}
    page = client.get("/self-assessment/")
    client.post("/self-assessment/", data={"csrf_token": csrf_token(page), **answers})
    row = db.session.query(SecurityAssessment).one()
    page = client.get(f"/self-assessment/{row.id}")
    _marked(_picture(page.get_data(as_text=True)), "draft")
    client.post(
        f"/self-assessment/{row.id}/sign",
        data={"csrf_token": csrf_token(page), "intent": "y", "consent": "y", "password": PASSWORD},
    )
    svg = _picture(client.get(f"/self-assessment/{row.id}").get_data(as_text=True))
    _marked(svg, "signed")
    _taken(svg, "draft", "signed")
