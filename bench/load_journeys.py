"""What the bench's people do, over HTTP: register agencies, sign agreements, give notices,
cure, decline, browse. Each client thread plays these until the run's end."""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bench.load_client import Browser, Page, Refused, Tally

SIGNED = {"consent": "y", "intent": "y"}
BROWSE = ["/", "/agreements/", "/agencies/", "/calculator", "/holidays", "/audit/"]
INVITE = re.compile(r"(http://\S+/invitation/\S+)")


@dataclass
class Run:
    """What every client shares: where the portal is, the demo password, the tally, the
    received mail (for invitation links) and when to stop."""

    base_url: str
    password: str
    tally: Tally
    stop_at: float
    mail: Callable[[], list]
    rng: random.Random = field(default_factory=random.Random)

    def browser(self) -> Browser:
        return Browser(self.base_url, self.tally, self.stop_at)

    def over(self) -> bool:
        return time.monotonic() >= self.stop_at


@dataclass
class Agency:
    """A partner agency whose executive director has a password and which has no open
    agreement, so a new one can be started for it."""

    id: int
    ed: Browser


def _id(page: Page, pattern: str) -> int:
    found = re.search(pattern + r"(\d+)$", urlsplit(page.url).path)
    if not found:
        raise Refused(f"expected {pattern}<id>, landed on {page.url}")
    return int(found.group(1))


def browse(run: Run, who: Browser, extra: list[str] = ()) -> None:
    """A few page views; an agreement page also opens one of its PDFs."""
    for path in run.rng.sample([*BROWSE, *extra], k=min(2, len(BROWSE) + len(extra))):
        try:
            page = who.get(path)
            pdfs = page.links(r"/documents/versions/\d+\.pdf")
            if pdfs:
                who.get(run.rng.choice(pdfs))
        except Refused:
            pass  # already tallied; a person just moves on


def start_and_send(admin: Browser, agency_id: int) -> int:
    page = admin.step(f"/agencies/{agency_id}", f"/agreements/start/{agency_id}", {})
    agreement_id = _id(page, "/agreements/")
    admin.step(f"/agreements/{agreement_id}", f"/agreements/{agreement_id}/send", {})
    return agreement_id


def _invitation(run: Run, address: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in run.mail():
            if address in str(message["To"]) and "password" in str(message["Subject"]):
                body = message.get_body(preferencelist=("plain",)).get_content()
                found = INVITE.search(body)
                if found:
                    return found.group(1)
        time.sleep(0.5)
    raise Refused(f"no invitation for {address} within {seconds:.0f} s")


def enlist(run: Run, admin: Browser, tag: str) -> Agency:
    """Registers an agency, sends it an agreement, lets its ED set a password from the
    e-mailed invitation and decline: the agency is then ready for a full journey."""
    contact = {"title": "Executive Director", "email": f"ed-{tag}@load.test"}
    page = admin.step(
        "/agencies/new",
        "",
        {
            "legal_name": f"Load Test Agency {tag}",
            "address": "1 Main Street\nSacramento, CA 95814",
            "ed_name": f"Ed {tag}",
            "ed_title": contact["title"],
            "ed_email": contact["email"],
            "so_name": f"So {tag}",
            "so_title": "Security Officer",
            "so_email": f"so-{tag}@load.test",
        },
    )
    agency_id = _id(page, "/agencies/")
    agreement_id = start_and_send(admin, agency_id)
    link = _invitation(run, contact["email"], 90)
    ed = run.browser()
    ed.submit(ed.get(link), "", {"password": run.password, "confirm": run.password})
    decline(ed, agreement_id)
    return Agency(agency_id, ed)


def decline(ed: Browser, agreement_id: int) -> None:
    action = f"/agreements/{agreement_id}/decline"
    ed.step(f"/agreements/{agreement_id}", action, {"reason": "Load test: not this time."})


def sign(who: Browser, agreement_id: int, password: str) -> Page:
    return who.step(f"/agreements/{agreement_id}/sign", "", {**SIGNED, "password": password})


def double_submit(who: Browser, agreement_id: int, password: str) -> None:
    """The same signing form posted twice at once, as an impatient double click does; the
    portal must record one countersignature."""
    page = who.get(f"/agreements/{agreement_id}/sign")
    values = {**SIGNED, "password": password}
    outcomes: list[bool] = []

    def post() -> None:
        try:
            who.submit(page, "", values)
            outcomes.append(True)
        except Refused:
            outcomes.append(False)

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    who.tally.done(f"countersignature double-submitted: {sum(outcomes)} of 2 posts taken")
    if not any(outcomes):
        sign(who, agreement_id, password)  # neither went through (storage down): once more


def full_journey(run: Run, admin: Browser, signatory: Browser, agency: Agency) -> str:
    """Agreement sent, signed, countersigned; then a notice of default given and cured, or
    the agency's notice of termination. Returns the journey's name."""
    agreement_id = start_and_send(admin, agency.id)
    browse(run, agency.ed, [f"/agreements/{agreement_id}"])
    sign(agency.ed, agreement_id, run.password)
    if run.rng.random() < 0.3:
        double_submit(signatory, agreement_id, run.password)
    else:
        sign(signatory, agreement_id, run.password)
    browse(run, signatory, [f"/agreements/{agreement_id}"])
    if run.rng.random() < 0.7:
        give = f"/notices/default/give/{agreement_id}"
        form = signatory.get(give).form("")
        provisions = (form.options.get("provisions") if form else None) or ["V.E.12"]
        page = signatory.step(
            give,
            "",
            {
                **SIGNED,
                "password": run.password,
                "provisions": [provisions[0]],
                "description": "Load test: a separation was reported late.",
                "cure_required": "Report separations within one business day.",
            },
        )
        notice = _id(page, "/notices/default/")
        path = f"/notices/default/{notice}"
        agency.ed.step(path, f"{path}/cure", {"text": "Load test: a checklist is in place."})
        signatory.step(path, f"{path}/accept", {})
        return "agreement signed, default given, cured, accepted"
    give = f"/notices/termination/give/{agreement_id}"
    fields = {**SIGNED, "password": run.password, "reason": "Load test: ending the agreement."}
    agency.ed.step(give, "", fields)
    return "agreement signed, termination notice given"


def short_journey(run: Run, admin: Browser, agency: Agency) -> str:
    agreement_id = start_and_send(admin, agency.id)
    browse(run, agency.ed, [f"/agreements/{agreement_id}"])
    decline(agency.ed, agreement_id)
    return "agreement sent, declined"


def lead_staff(run: Run) -> tuple[Browser, Browser]:
    admin, signatory = run.browser(), run.browser()
    admin.login("admin@ssf.test", run.password)
    signatory.login("signatory@ssf.test", run.password)
    return admin, signatory


def client(run: Run, agencies: list[Agency]) -> None:
    """One client until the run's end: full journeys while it has agencies to spare, then
    short ones on its last agency; a few pages browsed between journeys."""
    try:
        admin, signatory = lead_staff(run)
    except Refused:
        return
    while not run.over():
        kind = "full" if len(agencies) > 1 else "short" if agencies else "browsing"
        try:
            if kind == "full":
                journey = full_journey(run, admin, signatory, agencies.pop())
            elif kind == "short":
                journey = short_journey(run, admin, agencies[0])
            else:
                journey = "browsing"
                time.sleep(0.2)
            browse(run, run.rng.choice([admin, signatory]))
            run.tally.done(journey)
        except Refused as refused:
            run.tally.done(f"{kind} journey abandoned: {re.sub(r'[0-9]+', 'N', str(refused))[:90]}")
            if kind == "short":
                agencies.clear()  # its agreement may be left open: no new one can start
