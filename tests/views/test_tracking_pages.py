"""The tracking page and its CSV: SSF sees every agency, an agency its own rows only,
another agency's id is 404, bad filters get a message (never a 500), and paging works
without JavaScript."""

from __future__ import annotations

import csv
import io

import pytest
import time_machine

from tests import factories
from tests.notices import give_default
from tests.support.tracking import many_agencies

NOW = "2027-03-10 18:00:00+00:00"


@pytest.fixture
def scene(cast):
    with time_machine.travel(NOW, tick=False):
        notice = give_default(cast.signatory, factories.agreement(cast.agency))
        factories.agreement(cast.other_agency, state="sent")
        yield notice


def test_staff_see_every_agency_and_export_csv(client, auth, cast, scene):
    with time_machine.travel(NOW, tick=False):
        auth.login(cast.admin.email)
        html = client.get("/tracking/").get_data(as_text=True)
        assert "Hope &amp; Harbor &lt;Shelter&gt;" in html and "Other Agency" in html
        assert f'href="/notices/default/{scene.id}"' in html
        assert 'class="table-responsive"' in html and 'id="f-agency"' in html
        only = client.get(f"/tracking/?agency={cast.other_agency.id}").get_data(as_text=True)
        assert "Other Agency" in only and f"/notices/default/{scene.id}" not in only
        export = client.get("/tracking/export.csv?kind=default")
        assert export.mimetype == "text/csv" and export.is_streamed
        rows = list(csv.reader(io.StringIO(export.get_data(as_text=True))))
        assert rows[0][0] == "Kind" and len(rows) == 2
        assert rows[1][1] == "Hope & Harbor <Shelter>"
        assert rows[1][-1] == f"http://portal.test/notices/default/{scene.id}"


def test_an_agency_sees_its_own_and_other_ids_are_404(client, auth, cast, scene):
    with time_machine.travel(NOW, tick=False):
        auth.login(cast.ed.email)
        html = client.get("/tracking/").get_data(as_text=True)
        assert "Hope &amp; Harbor &lt;Shelter&gt;" in html and "Other Agency" not in html
        assert 'id="f-agency"' not in html
        assert client.get(f"/tracking/?agency={cast.other_agency.id}").status_code == 404
        assert client.get(f"/tracking/export.csv?agency={cast.other_agency.id}").status_code == 404
        text = client.get("/tracking/export.csv").get_data(as_text=True)
        assert "Other Agency" not in text and "Hope & Harbor" in text


def test_bad_filters_get_a_message(client, auth, cast, scene):
    auth.login(cast.admin.email)
    for query in ("kind=nonsense", "agency=abc", "after=garbage", "agency=99999999999"):
        page = client.get(f"/tracking/?{query}", follow_redirects=True)
        assert page.status_code == 200, query
        assert 'class="alert alert-danger"' in page.get_data(as_text=True), query


def test_next_page_links_walk_every_row(client, auth, cast):
    many_agencies(120, prefix="Paged")
    auth.login(cast.admin.email)
    url, names, pages = "/tracking/?kind=agency", set(), 0
    while url:
        html = client.get(url).get_data(as_text=True)
        names |= {part.split("<")[0] for part in html.split("<td>Paged ")[1:]}
        pages += 1
        marker = 'rel="next" href="'
        url = html.split(marker)[1].split('"')[0].replace("&amp;", "&") if marker in html else ""
    assert len(names) == 120 and pages == 3
