"""The remedy pages: notices of default and termination, cures, suspensions, holidays."""

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
import time_machine

from portal import clock
from portal.extensions import db
from portal.models.deadlines import Holiday
from portal.models.remedies import DefaultNotice, Suspension, TerminationNotice
from portal.services import cures, deadlines, default_notices, standing, suspensions, terminations
from portal.views.remedies import time_left
from tests import factories
from tests.conftest import PASSWORD, csrf_token, form_key
from tests.services.helpers import REQ

PDF = b"%PDF-1.4\n% a cure report\n"


def give_default(cast, agreement, who=None, provisions=("V.E.12",)):
    return default_notices.give(
        who or cast.signatory,
        agreement.id,
        provisions=list(provisions),
        description="Separations were reported late.",
        cure_required="Report every separation within one business day.",
        password=PASSWORD,
        intent=True,
        consent=True,
        request=REQ,
    )


def submit_cure(cast, notice, uploads=()):
    return cures.submit_cure(
        cast.ed, notice.id, text="Reported them all.", uploads=list(uploads), request=REQ
    )


def lapse(notice):
    with time_machine.travel(notice.cure_ends_at + timedelta(seconds=1), tick=False):
        deadlines.sweep()
    db.session.refresh(notice)
    assert notice.state == "lapsed"


def html(response) -> str:
    return response.get_data(as_text=True)


def next_steps(page: str) -> str:
    """The page's "Next steps" section: the buttons and the one line (not the diagram)."""
    return re.search(r'<section aria-labelledby="h-actions".*?</section>', page, re.S).group(0)


def reload(model, id_):
    db.session.expire_all()
    return db.session.get(model, id_)


# --- notices of default ------------------------------------------------------------------


def test_ssf_signatory_gives_notice_of_default_through_the_pages(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("sign@ssf.test")
    page = html(client.get(f"/agreements/{agreement.id}"))
    assert "Remedies" in page and "No notice has been given" in page
    assert f"/notices/default/give/{agreement.id}" in page
    assert f"/notices/termination/give/{agreement.id}" in page

    form = client.get(f"/notices/default/give/{agreement.id}")
    assert 'value="VIII.B.3"' in html(form) and "V.E.12 — Separation notice" in html(form)
    assert "10 calendar days counted from the day after notice" in html(form)
    fields = {
        "csrf_token": csrf_token(form),
        "form_key": form_key(form),
        "description": "Separations were reported late.",
        "cure_required": "Report every separation within one business day.",
        "consent": "y",
        "intent": "y",
        "password": PASSWORD,
    }
    none_chosen = client.post(f"/notices/default/give/{agreement.id}", data=fields)
    assert "Choose at least one provision" in html(none_chosen)
    assert "Separations were reported late." in html(none_chosen)  # what was typed stays
    not_ours = client.post(
        f"/notices/default/give/{agreement.id}", data={**fields, "provisions": ["IX.Z.9"]}
    )
    assert not_ours.status_code == 200 and db.session.query(DefaultNotice).count() == 0

    given = client.post(
        f"/notices/default/give/{agreement.id}",
        data={**fields, "provisions": ["V.E.12", "IV.B.4"]},
    )
    assert given.status_code == 302
    notice = db.session.query(DefaultNotice).one()
    assert given.headers["Location"].endswith(f"/notices/default/{notice.id}")
    assert [p[0] for p in notice.provisions] == ["V.E.12", "IV.B.4"]

    shown = html(client.get(f"/notices/default/{notice.id}"))
    assert "Sacramento Steps Forward — Sol Signer" in shown
    assert "Hope &amp; Harbor &lt;Shelter&gt;" in shown and "<Shelter>" not in shown
    assert "V.E.12 — Separation notice" in shown and "IV.B.4 — User accounts" in shown
    assert notice.cure_rule_text in shown
    assert re.search(r"Time left: <strong>(9|10) days( \d+ hours?)? left", shown)
    version = notice.document.current
    assert f'<object class="pdf-frame" data="/documents/versions/{version.id}.pdf"' in shown
    assert "Withdraw the notice" in shown and "Given by Sol Signer (Lead agency signatory)" in shown
    steps = next_steps(shown)
    assert "Withdraw the notice</button>" in steps and "Declare" not in steps
    assert "Waiting for the defaulting party to submit a cure. The cure period ends by" in steps
    assert 'class="workflow-diagram"' in shown
    agreement_page = html(client.get(f"/agreements/{agreement.id}"))
    assert notice.reference in agreement_page and "Cure period running" in agreement_page


def test_time_left_is_computed_by_the_server(client, app, cast, auth):
    notice = give_default(cast, factories.agreement(cast.agency))
    left = timedelta(days=6, hours=4, minutes=30)
    # Days pass between the visits, so each signs in afresh (a session ends when idle).
    with time_machine.travel(notice.cure_ends_at - left, tick=False):
        auth.login("ed@hope.test")
        assert "6 days 4 hours left" in html(client.get(f"/notices/default/{notice.id}"))
    with time_machine.travel(notice.cure_ends_at + timedelta(minutes=5), tick=False):
        auth.login("ed@hope.test")
        shown = html(client.get(f"/notices/default/{notice.id}"))
    assert "Time left: <strong>ended</strong>" in shown


def test_time_left_words():
    end = clock.now()
    assert time_left(end, end) == "ended"
    assert time_left(end, end + timedelta(seconds=1)) == "ended"
    assert time_left(end, end - timedelta(seconds=30)) == "less than a minute left"
    assert time_left(end, end - timedelta(minutes=35, seconds=5)) == "35 minutes left"
    assert time_left(end, end - timedelta(hours=1, minutes=1)) == "1 hour 1 minute left"
    assert time_left(end, end - timedelta(days=6, hours=4, minutes=59)) == "6 days 4 hours left"
    assert time_left(end, end - timedelta(days=1, minutes=3)) == "1 day left"


def test_who_is_offered_to_give_notices(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("so@hope.test")
    page = html(client.get(f"/agreements/{agreement.id}"))
    assert "Remedies" in page and "/notices/default/give/" not in page
    assert "Notices are signed by Sacramento Steps Forward's signatory" in unescape(page)
    refused = unescape(html(client.get(f"/notices/default/give/{agreement.id}")))
    assert (
        "signed by Sacramento Steps Forward's signatory or by the agency's executive director"
        in refused
    )
    assert 'name="password"' not in refused
    auth.logout()
    auth.login("ed@hope.test")
    page = html(client.get(f"/agreements/{agreement.id}"))
    assert f"/notices/default/give/{agreement.id}" in page
    auth.logout()
    auth.login("admin@ssf.test")  # SSF's admin acts on notices, its signatory signs them
    assert "/notices/default/give/" not in html(client.get(f"/agreements/{agreement.id}"))


def test_cure_with_attachments_rejected_then_accepted(client, app, cast, auth):
    notice = give_default(cast, factories.agreement(cast.agency))
    auth.login("ed@hope.test")
    page = client.get(f"/notices/default/{notice.id}")
    assert "Submit a cure" in html(page) and 'enctype="multipart/form-data"' in html(page)
    assert "Withdraw the notice" not in next_steps(html(page))
    token = csrf_token(page)

    wrong = client.post(
        f"/notices/default/{notice.id}/cure",
        data={
            "csrf_token": token,
            "text": "Our report, attached.",
            "files": [(io.BytesIO(PDF), "report.pdf"), (io.BytesIO(b"MZ\x90\x00"), "tool.exe")],
        },
        content_type="multipart/form-data",
    )
    assert wrong.status_code == 400
    assert "tool.exe: attach PDF, PNG, JPEG or plain-text files only." in html(wrong)
    assert "Our report, attached." in html(wrong)
    assert reload(DefaultNotice, notice.id).state == "cure_period"
    # A file named like text that is not text is refused too: the content decides.
    disguised = client.post(
        f"/notices/default/{notice.id}/cure",
        data={"csrf_token": token, "text": "x", "files": [(io.BytesIO(b"\xff\xfe\x00"), "a.txt")]},
        content_type="multipart/form-data",
    )
    assert "a.txt: attach PDF" in html(disguised)

    sent = client.post(
        f"/notices/default/{notice.id}/cure",
        data={
            "csrf_token": token,
            "text": "Our report, attached.",
            "files": [(io.BytesIO(PDF), "report.pdf"), (io.BytesIO(b"all done\n"), "log.txt")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    notice = reload(DefaultNotice, notice.id)
    assert notice.state == "cure_submitted"
    cure = notice.cures[0]
    shown = html(client.get(f"/notices/default/{notice.id}"))
    assert "report.pdf" in shown and "log.txt" in shown and cure.attachments[0]["sha256"] in shown
    file_url = f"/notices/default/{notice.id}/cures/{cure.id}/files/0"
    download = client.get(file_url)
    assert download.data == PDF and download.mimetype == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/notices/default/{notice.id}/cures/{cure.id}/files/2").status_code == 404
    auth.logout()

    auth.login("sign@ssf.test")
    page = client.get(f"/notices/default/{notice.id}")
    assert "Accept the cure" in html(page) and "Reject the cure" in html(page)
    assert client.get(file_url).data == PDF
    rejected = client.post(
        f"/notices/default/{notice.id}/reject",
        data={"csrf_token": csrf_token(page), "reason": "Two separations are still missing."},
    )
    assert rejected.status_code == 302
    notice = reload(DefaultNotice, notice.id)
    assert notice.state == "cure_period" and notice.cures[0].decision == "rejected"
    assert "Two separations are still missing." in html(client.get(f"/notices/default/{notice.id}"))
    auth.logout()

    submit_cure(cast, notice)
    auth.login("admin@ssf.test")
    page = client.get(f"/notices/default/{notice.id}")
    accepted = client.post(
        f"/notices/default/{notice.id}/accept", data={"csrf_token": csrf_token(page)}
    )
    assert accepted.status_code == 302
    assert reload(DefaultNotice, notice.id).state == "cured"
    shown = html(client.get(f"/notices/default/{notice.id}", follow_redirects=True))
    assert "Cured — the agreement continues" in shown


def test_withdraw_needs_a_reason_and_the_issuer(client, app, cast, auth):
    notice = give_default(cast, factories.agreement(cast.agency))
    auth.login("ed@hope.test")
    page = client.get(f"/notices/default/{notice.id}")
    refused = client.post(
        f"/notices/default/{notice.id}/withdraw",
        data={"csrf_token": csrf_token(page), "reason": "We were right all along."},
        follow_redirects=True,
    )
    assert "Only the party that gave the notice may withdraw the notice." in html(refused)
    auth.logout()
    auth.login("sign@ssf.test")
    page = client.get(f"/notices/default/{notice.id}")
    no_reason = client.post(
        f"/notices/default/{notice.id}/withdraw",
        data={"csrf_token": csrf_token(page), "reason": ""},
        follow_redirects=True,
    )
    assert "Give a reason." in html(no_reason)
    assert reload(DefaultNotice, notice.id).state == "cure_period"
    client.post(
        f"/notices/default/{notice.id}/withdraw",
        data={"csrf_token": csrf_token(page), "reason": "Reported by phone meanwhile."},
    )
    notice = reload(DefaultNotice, notice.id)
    assert notice.state == "withdrawn" and notice.closed_reason == "Reported by phone meanwhile."


def test_declaring_waits_for_the_lapse_then_ends_the_agreement(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    waived, declared = give_default(cast, agreement), give_default(cast, agreement, None, ["V.C.2"])
    auth.login("sign@ssf.test")
    early = client.get(f"/notices/default/{declared.id}/declare")
    assert "Termination may be declared only after the cure period has lapsed." in html(early)
    assert 'name="password"' not in html(early)
    tried = client.post(
        f"/notices/default/{declared.id}/declare",
        data={"csrf_token": csrf_token(early), "intent": "y", "password": PASSWORD},
        follow_redirects=True,
    )
    assert "only after the cure period has lapsed" in html(tried)
    assert reload(DefaultNotice, declared.id).state == "cure_period"

    lapse(waived)
    lapse(declared)
    page = client.get(f"/notices/default/{waived.id}")
    assert "Waive the default" in html(page) and "Declare the agreement terminated" in html(page)
    client.post(
        f"/notices/default/{waived.id}/waive",
        data={"csrf_token": csrf_token(page), "reason": "A first lapse; reported since."},
    )
    assert reload(DefaultNotice, waived.id).state == "waived"

    form = client.get(f"/notices/default/{declared.id}/declare")
    assert 'name="password"' in html(form) and "deactivated" in html(form)
    signed = {"csrf_token": csrf_token(form), "form_key": form_key(form), "intent": "y"}
    wrong = client.post(
        f"/notices/default/{declared.id}/declare",
        data={**signed, "password": "not it at all"},
    )
    assert "not correct" in html(wrong)
    done = client.post(
        f"/notices/default/{declared.id}/declare", data={**signed, "password": PASSWORD}
    )
    assert done.status_code == 302
    notice = reload(DefaultNotice, declared.id)
    assert notice.state == "terminated" and notice.agreement.state == "terminated"
    shown = html(client.get(f"/notices/default/{notice.id}"))
    assert "The declaration of termination" in shown
    assert f"/documents/versions/{notice.declaration.current.id}.pdf" in shown
    assert "Cure period lapsed" in shown and "End the cure period by the portal itself" in shown


# --- notices of termination ----------------------------------------------------------------


def test_thirty_days_notice_given_shown_and_rescinded(client, app, cast, auth):
    agreement = factories.agreement(cast.agency)
    auth.login("ed@hope.test")
    form = client.get(f"/notices/termination/give/{agreement.id}")
    assert "30 calendar days counted from the day after notice" in html(form)
    given = client.post(
        f"/notices/termination/give/{agreement.id}",
        data={
            "csrf_token": csrf_token(form),
            "form_key": form_key(form),
            "intent": "y",
            "consent": "",
            "password": PASSWORD,
        },
    )
    assert given.status_code == 302
    notice = db.session.query(TerminationNotice).one()
    assert notice.reason == ""
    shown = html(client.get(given.headers["Location"]))
    assert notice.rule_text in shown
    assert re.search(r"Time left: <strong>(29|30) days( \d+ hours?)? left", shown)
    assert "Hope &amp; Harbor &lt;Shelter&gt; — Eve Director" in shown
    assert f"/documents/versions/{notice.document.current.id}.pdf" in shown
    agreement_page = html(client.get(f"/agreements/{agreement.id}"))
    assert f"{notice.reference} is running" in agreement_page
    assert "/notices/termination/give/" not in agreement_page  # one running notice at a time
    auth.logout()

    auth.login("sign@ssf.test")
    page = client.get(f"/notices/termination/{notice.id}")
    steps = next_steps(html(page))
    assert "Rescind" not in steps  # only the party that gave the notice may
    assert "The notice period ends and the agreement terminates by itself on " in steps
    auth.logout()
    auth.login("ed@hope.test")
    page = client.get(f"/notices/termination/{notice.id}")
    client.post(
        f"/notices/termination/{notice.id}/rescind",
        data={"csrf_token": csrf_token(page), "reason": "The board changed its mind."},
    )
    notice = reload(TerminationNotice, notice.id)
    assert notice.state == "rescinded" and notice.agreement.state == "effective"


# --- suspensions ---------------------------------------------------------------------------


def test_admin_suspends_a_person_then_the_agency_and_lifts(client, app, cast, auth):
    auth.login("admin@ssf.test")
    page = client.get(f"/agencies/{cast.agency.id}")
    assert "No suspension on record." in html(page)
    no_reason = client.post(
        f"/agencies/{cast.agency.id}/suspensions",
        data={"csrf_token": csrf_token(page), "person": str(cast.officer.id), "reason": ""},
        follow_redirects=True,
    )
    assert "Give the reason" in html(no_reason)
    client.post(
        f"/agencies/{cast.agency.id}/suspensions",
        data={
            "csrf_token": csrf_token(page),
            "form_key": form_key(page),
            "person": str(cast.officer.id),
            "reason": "Shared a password.",
        },
    )
    shown = html(client.get(f"/agencies/{cast.agency.id}"))
    officer_line = re.search(r"\(so@hope\.test\)(.*?)</li>", shown, re.S).group(1)
    assert ">Suspended pending investigation</span> since" in officer_line
    assert "Shared a password." in shown
    assert standing.active_for_user(cast.officer) is not None

    again = client.get(f"/agencies/{cast.agency.id}")  # the page anew: a new form key
    client.post(
        f"/agencies/{cast.agency.id}/suspensions",
        data={
            "csrf_token": csrf_token(page),
            "form_key": form_key(again),
            "person": "",
            "reason": "Data breach reported.",
        },
    )
    shown = html(client.get(f"/agencies/{cast.agency.id}"))
    assert re.search(
        r"<h1>Hope &amp; Harbor &lt;Shelter&gt; <span[^>]*>Suspended pending investigation</span>",
        shown,
    )
    assert "Data breach reported." in shown
    ed_line = re.search(r"\(ed@hope\.test\)(.*?)</li>", shown, re.S).group(1)
    assert ">Suspended pending investigation</span> with the agency" in ed_line

    person_suspension = db.session.query(Suspension).filter_by(user_id=cast.officer.id).one()
    client.post(
        f"/agencies/{cast.agency.id}/suspensions/{person_suspension.id}/lift",
        data={"csrf_token": csrf_token(page), "reason": "Password reset; trained again."},
    )
    assert reload(Suspension, person_suspension.id).state == "lifted"
    assert "Password reset; trained again." in html(client.get(f"/agencies/{cast.agency.id}"))


def test_only_ssf_admins_suspend(client, app, cast, auth):
    auth.login("ed@hope.test")
    page = client.get(f"/agencies/{cast.agency.id}")
    assert "Suspend access" not in html(page)
    refused = client.post(
        f"/agencies/{cast.agency.id}/suspensions",
        data={
            "csrf_token": csrf_token(page),
            "form_key": "k" * 32,  # a well-formed key: the refusal is the role's
            "person": str(cast.officer.id),
            "reason": "Mine",
        },
        follow_redirects=True,
    )
    assert "Only a lead agency HMIS admin can suspend access." in html(refused)
    assert db.session.query(Suspension).count() == 0


# --- who may see what ----------------------------------------------------------------------


@pytest.fixture
def remedies_of_hope(cast):
    """One of each remedy on the first agency, for the other agency's people to try."""
    agreement = factories.agreement(cast.agency)
    notice = give_default(cast, agreement)
    cure = submit_cure(cast, notice, [cures.Upload("r.pdf", PDF)])
    termination = terminations.give(
        cast.signatory,
        agreement.id,
        reason="",
        password=PASSWORD,
        intent=True,
        consent=True,
        request=REQ,
    )
    suspension = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.officer.id, reason="Check", request=REQ
    )
    return agreement, notice, cure, termination, suspension


def test_other_agency_gets_404_on_every_remedy_url(client, app, cast, auth, remedies_of_hope):
    agreement, notice, cure, termination, suspension = remedies_of_hope
    auth.login("ed@other.test")
    for url in (
        f"/notices/default/give/{agreement.id}",
        f"/notices/default/{notice.id}",
        f"/notices/default/{notice.id}/declare",
        f"/notices/default/{notice.id}/cures/{cure.id}/files/0",
        f"/notices/termination/give/{agreement.id}",
        f"/notices/termination/{termination.id}",
    ):
        assert client.get(url).status_code == 404, url
    token = csrf_token(client.get("/calculator"))
    for url in (
        f"/notices/default/give/{agreement.id}",
        f"/notices/default/{notice.id}/cure",
        f"/notices/default/{notice.id}/accept",
        f"/notices/default/{notice.id}/reject",
        f"/notices/default/{notice.id}/withdraw",
        f"/notices/default/{notice.id}/waive",
        f"/notices/default/{notice.id}/declare",
        f"/notices/termination/give/{agreement.id}",
        f"/notices/termination/{termination.id}/rescind",
        f"/agencies/{cast.agency.id}/suspensions",
        f"/agencies/{cast.agency.id}/suspensions/{suspension.id}/lift",
        f"/agencies/{cast.other_agency.id}/suspensions/{suspension.id}/lift",
    ):
        response = client.post(
            url,
            data={
                "csrf_token": token,
                "reason": "mine now",
                "text": "cured",
                "intent": "y",
                "password": PASSWORD,
                "provisions": ["V.E.12"],
                "description": "x",
                "cure_required": "y",
                "person": "",
            },
        )
        assert response.status_code == 404, url
    assert reload(DefaultNotice, notice.id).state == "cure_submitted"
    assert reload(TerminationNotice, termination.id).state == "notice_period"
    assert reload(Suspension, suspension.id).state == "suspended"
    assert db.session.query(Suspension).count() == 1


def test_every_remedy_form_needs_its_csrf_token(client, app, cast, auth, remedies_of_hope):
    agreement, notice, cure, termination, suspension = remedies_of_hope
    holiday = db.session.query(Holiday).first()
    for email, urls in (
        (
            "sign@ssf.test",
            [
                f"/notices/default/give/{agreement.id}",
                f"/notices/default/{notice.id}/accept",
                f"/notices/default/{notice.id}/reject",
                f"/notices/default/{notice.id}/withdraw",
                f"/notices/default/{notice.id}/waive",
                f"/notices/default/{notice.id}/declare",
                f"/notices/termination/give/{agreement.id}",
                f"/notices/termination/{termination.id}/rescind",
            ],
        ),
        (
            "admin@ssf.test",
            [
                f"/agencies/{cast.agency.id}/suspensions",
                f"/agencies/{cast.agency.id}/suspensions/{suspension.id}/lift",
                "/holidays",
                f"/holidays/{holiday.id}/remove",
            ],
        ),
        ("ed@hope.test", [f"/notices/default/{notice.id}/cure"]),
    ):
        auth.login(email)
        for url in urls:
            response = client.post(
                url,
                data={
                    "reason": "because",
                    "text": "cured",
                    "intent": "y",
                    "password": PASSWORD,
                    "provisions": ["V.E.12"],
                    "description": "x",
                    "cure_required": "y",
                    "person": "",
                    "day": "2026-12-24",
                    "name": "Christmas Eve",
                },
            )
            assert response.status_code == 400, url
            assert "The form expired" in html(response), url
        auth.logout()
    assert reload(DefaultNotice, notice.id).state == "cure_submitted"
    assert len(reload(DefaultNotice, notice.id).cures) == 1
    assert reload(TerminationNotice, termination.id).state == "notice_period"
    assert reload(Suspension, suspension.id).state == "suspended"
    assert db.session.query(DefaultNotice).count() == 1
    assert db.session.get(Holiday, holiday.id) is not None
    assert not db.session.query(Holiday).filter_by(day=date(2026, 12, 24)).count()


# --- holidays ------------------------------------------------------------------------------


def test_holidays_page_for_ssf_staff_and_admin_edits(client, app, cast, auth):
    auth.login("ed@hope.test")
    assert client.get("/holidays?year=2026").status_code == 302
    auth.logout()
    auth.login("audit@ssf.test")
    page = html(client.get("/holidays?year=2026"))
    assert "Friday, December 25, 2026" in page and "Christmas Day" in page and "Federal" in page
    assert "Add a holiday" not in page and "Remove" not in page
    auth.logout()

    auth.login("admin@ssf.test")
    page = client.get("/holidays?year=2026")
    added = client.post(
        "/holidays",
        data={"csrf_token": csrf_token(page), "day": "2026-12-24", "name": "Christmas Eve"},
    )
    assert added.headers["Location"].endswith("/holidays?year=2026")
    shown = html(client.get("/holidays?year=2026"))
    assert "Thursday, December 24, 2026" in shown and ">Sacramento Steps Forward<" in shown
    again = client.post(
        "/holidays",
        data={"csrf_token": csrf_token(page), "day": "2026-12-24", "name": "Again"},
        follow_redirects=True,
    )
    assert "already a holiday" in html(again)
    eve = db.session.query(Holiday).filter_by(day=date(2026, 12, 24)).one()
    christmas = db.session.query(Holiday).filter_by(day=date(2026, 12, 25)).one()
    assert f"/holidays/{eve.id}/remove" in shown and f"/holidays/{christmas.id}/remove" not in shown
    client.post(f"/holidays/{eve.id}/remove?year=2026", data={"csrf_token": csrf_token(page)})
    assert reload(Holiday, eve.id) is None
    auth.logout()

    auth.login("sign@ssf.test")
    page = client.get("/holidays?year=2026")  # a new session has its own CSRF token
    refused = client.post(
        "/holidays",
        data={"csrf_token": csrf_token(page), "day": "2026-12-31", "name": "New Year's Eve"},
        follow_redirects=True,
    )
    assert "Only a lead agency HMIS admin can edit the holidays." in html(refused)
