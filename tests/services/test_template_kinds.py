"""Template versions per kind: the Partner Agency Agreement and the HMIS User Agreement each
have their own versions, samples and current version."""

from __future__ import annotations

import pytest

from portal.services import templates
from portal.services.errors import ServiceError
from tests.support.onboarding import REQ


def _publish(cast, kind: str, version: str):
    return templates.publish(
        cast.admin,
        version=version,
        revised_date="01/01/2027",
        title=templates.KINDS[kind],
        body=templates.current(kind).body,
        request=REQ,
        kind=kind,
    )


def test_each_sample_is_published_once_for_its_kind(app):
    first = templates.publish_sample_if_missing()
    assert sorted(t.kind for t in first) == ["partner_agency", "user_agreement"]
    assert templates.publish_sample_if_missing() == []
    assert templates.current().title == "HMIS Partner Agency Agreement"
    assert templates.current(templates.USER_AGREEMENT).title == "HMIS User Agreement"


def test_versions_are_unique_within_a_kind_only(app, cast):
    with pytest.raises(ServiceError, match="HMIS User Agreement template version 1 already"):
        _publish(cast, templates.USER_AGREEMENT, "1")
    user_v2 = _publish(cast, templates.USER_AGREEMENT, "2")
    partner_v2 = _publish(cast, templates.PARTNER_AGENCY, "2")
    assert templates.current(templates.USER_AGREEMENT).id == user_v2.id
    assert templates.current().id == partner_v2.id
    assert [t.version for t in templates.all_versions(templates.USER_AGREEMENT)] == ["2", "1"]
    assert len(templates.all_versions()) == 4


def test_an_unknown_kind_is_refused_plainly(app, cast):
    with pytest.raises(ServiceError, match="no kind of template called 'lease'"):
        templates.current("lease")
    with pytest.raises(ServiceError, match="no kind of template called 'lease'"):
        templates.publish(
            cast.admin, version="1", revised_date="x", title="x", body="x", kind="lease"
        )
