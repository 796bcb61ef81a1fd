"""The lists page by keyset (portal/services/keyset.py): "Older" and "Newer" links that walk
every row once, in order, and back again."""

from __future__ import annotations

import re

from tests import factories
from tests.views.test_query_counts import _agencies, _agreements


def _links(body: str, label: str) -> list[str]:
    return [href.replace("&amp;", "&") for href in re.findall(rf'href="([^"]+)">{label}</a>', body)]


def _walk(client, url: str, pattern: str) -> tuple[list[list[str]], list[list[str]]]:
    """Every page from `url` by its Older links, then back by the Newer links: the rows
    (matched by `pattern`) of each page, in both directions."""
    forward, page = [], client.get(url).get_data(as_text=True)
    forward.append(re.findall(pattern, page))
    while _links(page, "Older"):
        page = client.get(_links(page, "Older")[0]).get_data(as_text=True)
        forward.append(re.findall(pattern, page))
    backward = [re.findall(pattern, page)]
    while _links(page, "Newer"):
        page = client.get(_links(page, "Newer")[0]).get_data(as_text=True)
        backward.append(re.findall(pattern, page))
    return forward, backward


def test_the_agency_page_pages_its_agreements_newest_first(client, app, cast, auth):
    _agreements(cast.agency, 30)
    auth.login("admin@ssf.test")
    forward, backward = _walk(client, f"/agencies/{cast.agency.id}", r">(PAA-[\d-]+)</a>")
    assert [len(rows) for rows in forward] == [25, 5]
    rows = [row for page in forward for row in page]
    assert rows == sorted(rows, reverse=True) and len(set(rows)) == 30
    assert backward == list(reversed(forward))


def test_the_agreements_list_pages_every_agreement_once(client, app, cast, auth):
    _agreements(cast.agency, 20)
    _agreements(cast.other_agency, 20)
    auth.login("admin@ssf.test")
    forward, backward = _walk(client, "/agreements/", r">(PAA-[\d-]+)</a>")
    assert [len(rows) for rows in forward] == [25, 15]
    assert len({row for page in forward for row in page}) == 40
    assert backward == list(reversed(forward))


def test_the_agencies_list_pages_by_name(client, app, cast, auth):
    _agencies(cast.admin, 30, "z")
    factories.agency("Aardvark Shelter", created_by=cast.admin)
    auth.login("admin@ssf.test")
    forward, backward = _walk(client, "/agencies/", r'/agencies/\d+">([^<]+)</a>')
    names = [name for page in forward for name in page]
    assert [len(rows) for rows in forward] == [25, 8]
    assert names == sorted(names) and names[0] == "Aardvark Shelter"
    assert backward == list(reversed(forward))
