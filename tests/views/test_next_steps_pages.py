"""Every case page shows one person only the steps they may take now; otherwise one line
saying who must act, or what happens by itself and when. States are shown in the words the
machines declare, on the lists, the home page, the agency page and the case pages alike."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from html import unescape

import pytest
import time_machine

from portal.extensions import db
from portal.models.remedies import DefaultNotice
from portal.services import cures, deadlines, documents, suspensions
from tests import factories
from tests.conftest import csrf_token
from tests.notices import give_default, give_termination
from tests.services.helpers import REQ
from workflows.agreement import AGREEMENT
from workflows.default_notice import DEFAULT_NOTICE
from workflows.suspension import SUSPENSION
from workflows.termination_notice import TERMINATION_NOTICE

SIGNER_WORDS = (
    "the agency's registered executive director or a representative the lead agency has designated"
)
# Words of the portal's inner workings that no page may show.
INNER_WORDS = re.compile(r"\b(scheduler|system|sweep|timer)s?\b", re.I)


def section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}".*?</section>', page, re.S)
    assert found, heading_id
    return found.group(0)


def buttons(html: str) -> list[str]:
    """The words of every button and button-styled link."""
    found = re.findall(r'<(button|a) class="btn[^"]*"[^>]*>(.*?)</\1>', html, re.S)
    return [unescape(re.sub(r"<[^>]+>", "", text)).strip() for _, text in found]


def note(html: str) -> str | None:
    found = re.findall(r'<p class="mb-3 next-steps-note">(.*?)</p>', html, re.S)
    assert len(found) <= 1, found  # one line, never a list of refusals
    return unescape(found[0]) if found else None


def shown(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def steps(client, url: str) -> tuple[list[str], str | None]:
    """The buttons and the one line of a case page's Next steps."""
    part = section(shown(client, url), "h-actions")
    return buttons(part), note(part)


def words(page: str) -> str:
    """What a person reads on the page, without the agreement's own text (whose HMIS is a
    "Homeless Management Information System")."""
    page = re.sub(r'<div class="agreement-text.*?</div>', "", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", page))


def as_(auth, email: str):
    auth.logout()
    auth.login(email)


# --- the agreement -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "email", "expected_buttons", "line"),
    [
        ("draft", "admin@ssf.test", ["Send for signature", "Void the agreement"], None),
        (
            "draft",
            "ed@hope.test",
            [],
            "Waiting for a lead agency HMIS admin to send for signature.",
        ),
        ("sent", "ed@hope.test", ["Sign the agreement", "Decline to sign"], None),
        (
            "sent",
            "admin@ssf.test",
            ["Void the agreement"],
            f"Waiting for {SIGNER_WORDS} to sign the agreement or decline to sign.",
        ),
        (
            "sent",
            "so@hope.test",
            [],
            f"Waiting for {SIGNER_WORDS} to sign the agreement or decline to sign.",
        ),
        (
            "sent",
            "audit@ssf.test",
            [],
            f"Waiting for {SIGNER_WORDS} to sign the agreement or decline to sign.",
        ),
        ("agency_signed", "sign@ssf.test", ["Countersign the agreement"], None),
        (
            "agency_signed",
            "ed@hope.test",
            [],
            "Waiting for a lead agency signatory to countersign the agreement.",
        ),
        (
            "agency_signed",
            "admin@ssf.test",
            ["Void the agreement"],
            "Waiting for a lead agency signatory to countersign the agreement.",
        ),
    ],
)
def test_the_agreement_page_offers_each_person_their_steps_or_says_who_acts(
    client, app, cast, auth, state, email, expected_buttons, line
):
    agreement = factories.agreement(cast.agency, state=state)
    auth.login(email)
    assert steps(client, f"/agreements/{agreement.id}") == (expected_buttons, line)


def test_an_agreement_in_effect_waits_for_nobody(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="effective")
    for email in ("admin@ssf.test", "sign@ssf.test", "ed@hope.test"):
        as_(auth, email)
        part = section(shown(client, f"/agreements/{agreement.id}"), "h-actions")
        assert (buttons(part), note(part)) == ([], None)
        assert "Nothing is waiting for you on this agreement." in part


def test_the_signing_page_offers_declining_only_to_who_may_decline(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent")
    auth.login("ed@hope.test")
    assert "Decline instead" in shown(client, f"/agreements/{agreement.id}/sign")
    signed = factories.agreement(cast.other_agency, state="agency_signed")
    as_(auth, "sign@ssf.test")
    assert "Decline instead" not in shown(client, f"/agreements/{signed.id}/sign")


# --- a notice of default -------------------------------------------------------------------


def test_the_notice_of_default_page_in_each_state(client, app, cast, auth, pki):
    notice = give_default(cast.signatory, factories.agreement(cast.agency, state="effective"))
    url = f"/notices/default/{notice.id}"
    ends = "The cure period ends by itself on "

    auth.login("ed@hope.test")  # the defaulting party
    [submit], line = steps(client, url)
    assert submit == "Submit the cure"
    assert line.startswith(ends) and "counted from the day after notice" in line
    for email in ("sign@ssf.test", "admin@ssf.test"):  # the party that gave the notice
        as_(auth, email)
        found, line = steps(client, url)
        assert found == ["Withdraw the notice"]
        assert line.startswith("Waiting for the defaulting party to submit a cure. " + ends)
    for email in ("so@hope.test", "audit@ssf.test"):  # neither may act
        as_(auth, email)
        found, line = steps(client, url)
        assert found == [] and line.startswith("Waiting for the defaulting party to submit")

    cures.submit_cure(cast.ed, notice.id, text="Done.", uploads=[], request=REQ)
    as_(auth, "sign@ssf.test")
    assert steps(client, url) == (
        ["Accept the cure", "Reject the cure", "Withdraw the notice"],
        None,
    )
    for email in ("ed@hope.test", "so@hope.test"):
        as_(auth, email)
        assert steps(client, url) == (
            [],
            "Waiting for the party that gave the notice to accept or reject the cure.",
        )

    cures.reject_cure(cast.signatory, notice.id, reason="Not all.", request=REQ)
    db.session.expire_all()
    with time_machine.travel(notice.cure_ends_at + timedelta(seconds=1), tick=False):
        deadlines.sweep()
        db.session.expire_all()
        assert db.session.get(DefaultNotice, notice.id).state == "lapsed"
        as_(auth, "sign@ssf.test")
        assert steps(client, url) == (
            ["Declare the agreement terminated", "Waive the default"],
            None,
        )
        as_(auth, "admin@ssf.test")  # SSF's admin may waive; its signatory declares
        assert steps(client, url) == (
            ["Waive the default"],
            "Waiting for the party that gave the notice, through a lead agency signatory or the "
            "agency's authorized signer, to declare the agreement terminated.",
        )
        as_(auth, "ed@hope.test")
        found, line = steps(client, url)
        assert found == [] and line.startswith("Waiting for the party that gave the notice")
        page = shown(client, url)
    assert f"Status: <strong>{DEFAULT_NOTICE.state('lapsed').label}</strong>" in page
    assert "End the cure period by the portal itself" in section(page, "h-history")
    assert not INNER_WORDS.search(words(page)), INNER_WORDS.search(words(page))


# --- a notice of termination ---------------------------------------------------------------


def test_the_notice_of_termination_page(client, app, cast, auth, pki):
    agreement = factories.agreement(cast.agency, state="effective")
    notice = give_termination(cast.ed, agreement)
    url = f"/notices/termination/{notice.id}"
    ends = "The notice period ends and the agreement terminates by itself on "
    auth.login("ed@hope.test")
    found, line = steps(client, url)
    assert found == ["Rescind the notice"] and line.startswith(ends)
    for email in ("sign@ssf.test", "admin@ssf.test", "so@hope.test"):
        as_(auth, email)
        found, line = steps(client, url)
        assert found == [] and line.startswith(ends)
        assert "counted from the day after notice" in line
    page = shown(client, url)
    label = TERMINATION_NOTICE.state("notice_period").label
    assert f"Status: <strong>{label}</strong>" in page
    assert not INNER_WORDS.search(words(page))
    # The agreement page's Remedies section shows the same label.
    remedies = section(shown(client, f"/agreements/{agreement.id}"), "h-remedies")
    assert f"<td>{label}</td>" in remedies
    # The verify page names a notice's state as its page does.
    checked = client.post(
        "/verify",
        data={
            "csrf_token": csrf_token(client.get("/verify")),
            "pdf": (io.BytesIO(documents.read_bytes(notice.document.current)), "n.pdf"),
        },
        content_type="multipart/form-data",
    )
    assert f"current status: {label}." in checked.get_data(as_text=True)
    # A second notice cannot be given while one runs: the give page says so, with no form.
    as_(auth, "sign@ssf.test")
    refused = unescape(shown(client, f"/notices/termination/give/{agreement.id}"))
    assert f"Notice of termination {notice.reference} is already running" in refused
    assert 'name="password"' not in refused


# --- a suspension --------------------------------------------------------------------------


def test_a_suspension_offers_lifting_to_admins_and_names_them_to_others(client, app, cast, auth):
    suspension = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.officer.id, reason="Check", request=REQ
    )
    url = f"/agencies/{cast.agency.id}"
    auth.login("admin@ssf.test")
    part = section(shown(client, url), "h-suspensions")
    assert "Lift the suspension" in buttons(part)
    assert f">{SUSPENSION.state('suspended').label}</span>" in part
    for email in ("ed@hope.test", "sign@ssf.test"):
        as_(auth, email)
        part = section(shown(client, url), "h-suspensions")
        assert buttons(part) == [] and "Suspend access" not in part
        assert "Waiting for a lead agency HMIS admin to lift the suspension." in part
    assert not INNER_WORDS.search(words(shown(client, url)))
    suspensions.lift(cast.admin, suspension.id, reason="Cleared.", request=REQ)
    part = section(shown(client, url), "h-suspensions")
    assert f"<td>{SUSPENSION.state('lifted').label}</td>" in part
    assert "Waiting for" not in part


# --- state labels everywhere ---------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "sent", "agency_signed", "effective"])
def test_the_lists_the_agency_page_and_the_agreement_page_show_the_machines_label(
    client, app, cast, auth, state
):
    agreement = factories.agreement(cast.agency, state=state)
    label = AGREEMENT.state(state).label
    auth.login("admin@ssf.test")
    agreement_page = shown(client, f"/agreements/{agreement.id}")
    assert f"Status: <strong>{label}</strong>" in unescape(agreement_page)
    row = re.search(
        rf"{agreement.reference}</a></td>\s*<td>(.*?)</td>",
        shown(client, f"/agencies/{cast.agency.id}"),
    )
    assert unescape(row.group(1)) == label
    row = re.search(
        rf"{agreement.reference}</a></td>\s*<td>.*?</td>\s*<td>(.*?)</td>",
        shown(client, "/agreements/"),
    )
    assert unescape(row.group(1)) == label
    for page in (agreement_page, shown(client, "/agreements/")):
        assert not INNER_WORDS.search(words(page))


def test_the_home_page_heads_its_lists_with_the_machines_labels(client, app, cast, auth):
    signed = factories.agreement(cast.agency, state="agency_signed")
    sent = factories.agreement(cast.other_agency, state="sent")
    auth.login("admin@ssf.test")
    page = unescape(shown(client, "/"))
    for state, agreement in (("agency_signed", signed), ("sent", sent)):
        label = re.escape(AGREEMENT.state(state).label)
        heading = re.search(
            rf'<h2 id="h-[a-z]+" class="h4">{label}</h2>(.*?)</section>', page, re.S
        )
        assert heading and agreement.reference in heading.group(1), state
    assert ">Sent, awaiting the agency<" not in page


def test_closing_an_agreement_reports_its_new_state_in_the_machines_words(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent")
    auth.login("admin@ssf.test")
    page = client.get(f"/agreements/{agreement.id}")
    done = client.post(
        f"/agreements/{agreement.id}/void",
        data={
            "csrf_token": csrf_token(page),
            "reason": "Sent to the wrong agency.",
            "lock_version": str(agreement.lock_version),
        },
        follow_redirects=True,
    )
    page = unescape(done.get_data(as_text=True))
    label = AGREEMENT.state("voided").label
    assert f'role="status">{label}.</div>' in page
    assert f"Status: <strong>{label}</strong>" in page
