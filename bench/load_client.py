"""People using the portal over HTTP: a browser per person (cookies, forms read from the page,
CSRF token and all), and the tallies of what the server answered."""

from __future__ import annotations

import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from urllib.parse import urlencode, urlsplit

TIMEOUT_SECONDS = 60
MAX_TRIES = 60  # of one step; with the pauses between, about three minutes at most
# Numbers in paths become {id}, so errors group by page, not by case.
_IDS = re.compile(r"/\d+")
_TOKENS = re.compile(r"/invitation/[^/?]+")


def page_of(url: str) -> str:
    return _TOKENS.sub("/invitation/{token}", _IDS.sub("/{id}", urlsplit(url).path))


class Tally:
    """Requests served and errors by kind, shared by every client thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.served = 0
        self.errors: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()
        self.journeys: Counter[str] = Counter()

    def answered(self) -> None:
        with self.lock:
            self.served += 1

    def error(self, kind: str, page: str) -> None:
        with self.lock:
            self.errors[f"{kind} on {page}"] += 1

    def refused(self, message: str, page: str) -> None:
        with self.lock:
            self.refusals[f"{message[:90]} ({page})"] += 1

    def done(self, journey: str) -> None:
        with self.lock:
            self.journeys[journey] += 1


@dataclass
class Page:
    url: str
    status: int
    body: str

    def forms(self) -> list[Form]:
        parser = _FormParser()
        parser.feed(self.body)
        return parser.forms

    def form(self, action_ends: str) -> Form | None:
        # "" means the page's own form (no action): it posts back to the page.
        for form in self.forms():
            if form.action.endswith(action_ends) if action_ends else not form.action:
                return form
        return None

    def alerts(self, kind: str) -> list[str]:
        found = re.findall(rf'class="alert alert-{kind}"[^>]*>(.*?)</div>', self.body, re.S)
        return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip() for m in found]

    def links(self, pattern: str) -> list[str]:
        return re.findall(rf'href="({pattern})"', self.body)


@dataclass
class Form:
    action: str
    fields: dict[str, str]
    options: dict[str, list[str]]


class _FormParser(HTMLParser):
    """Forms with their hidden/prefilled inputs and each select's option values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), {}, {}))
        elif not self.forms:
            return
        elif tag == "input" and a.get("name") and a.get("type") in ("hidden", None, "text"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and a.get("name"):
            self.forms[-1].options.setdefault(a["name"], []).append(a.get("value", "y"))
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self.forms[-1].options.setdefault(self._select, []).append(a.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


class Refused(Exception):
    """The page answered with an error or a refusal instead of doing the step."""


class Browser:
    """One person's browser: their cookies; every request is counted in the tally."""

    def __init__(self, base_url: str, tally: Tally, stop_at: float) -> None:
        self.base_url = base_url
        self.tally = tally
        self.stop_at = stop_at
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def request(self, path: str, data: dict[str, str | list[str]] | None = None) -> Page:
        url = path if path.startswith("http") else self.base_url + path
        body = urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=TIMEOUT_SECONDS) as response:
                page = Page(response.geturl(), response.status, response.read().decode())
        except urllib.error.HTTPError as exc:
            self.tally.answered()
            self.tally.error(f"HTTP {exc.code}", page_of(url))
            raise Refused(f"HTTP {exc.code} on {url}") from exc
        except Exception as exc:  # connection refused or reset, timeout: no answer at all
            self.tally.error(type(exc).__name__, page_of(url))
            raise Refused(f"{type(exc).__name__} on {url}") from exc
        self.tally.answered()
        return page

    def get(self, path: str) -> Page:
        return self.request(path)

    def submit(self, page: Page, action_ends: str, values: dict[str, str | list[str]]) -> Page:
        """Fills the form of `page` whose action ends so, and posts it; a refusal flashed on
        the answer is tallied and raised."""
        form = page.form(action_ends)
        if form is None:
            raise Refused(f"no form {action_ends} on {page_of(page.url)}")
        answer = self.request(form.action or page.url, {**form.fields, **values})
        refusals = answer.alerts("danger")
        if refusals or answer.status >= 400:
            for message in refusals:
                self.tally.refused(message, page_of(form.action or page.url))
            raise Refused("; ".join(refusals) or f"HTTP {answer.status}")
        return answer

    def login(self, email: str, password: str) -> None:
        page = self.get("/login")
        answer = self.submit(page, "", {"email": email, "password": password})
        if urlsplit(answer.url).path == "/login":
            problems = re.findall(r"invalid-feedback[^>]*>\s*([^<]*)", answer.body)
            raise Refused(f"login as {email} failed: {problems or answer.body[-300:]}")

    def step(self, path: str, action_ends: str, values: dict[str, str | list[str]]) -> Page:
        """Reads the page and submits its form, again on a refusal (storage down, a stale
        version) every few seconds, as a person would, until it goes or the run ends."""
        for attempt in range(MAX_TRIES):
            try:
                return self.submit(self.get(path), action_ends, values)
            except Refused:
                if attempt == MAX_TRIES - 1 or time.monotonic() + 3 > self.stop_at:
                    raise
                time.sleep(min(3, 1 + attempt))
        raise AssertionError("unreachable")
