"""Registering a partner agency: who may not be one (III.A), and what is refused cleanly."""

import pytest
from sqlalchemy import func, select

from portal.extensions import db
from portal.models import Agency, Invitation, OutboxMessage, User
from portal.services import agencies
from portal.services.errors import ServiceError
from tests.services.helpers import REQ


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Agency, User, Invitation, OutboxMessage)
    }


def _register(cast, **overrides):
    args = {
        "legal_name": "Safe Haven DV Services",
        "address": "1 Quiet Lane",
        "vawa_provider": False,
        "executive_director": agencies.Contact("Ann Ed", "Executive Director", "ann@haven.test"),
        "security_officer": agencies.Contact("Bo So", "Security Officer", "bo@haven.test"),
        "request": REQ,
    }
    return agencies.register(cast.admin, **(args | overrides))


def test_the_eligibility_rule_names_section_iii_a():
    assert agencies.refusal_to_partner(False) is None
    reason = agencies.refusal_to_partner(True)
    assert reason == agencies.VAWA_REASON
    assert "Violence Against Women Act" in reason and "III.A" in reason


def test_a_vawa_covered_provider_is_refused_and_nothing_is_kept(app, cast, mailbox):
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        _register(cast, vawa_provider=True)
    assert refused.value.message == agencies.VAWA_REASON
    assert _counts() == before
    assert db.session.scalar(select(Agency).where(Agency.legal_name.like("Safe Haven%"))) is None
    assert db.session.scalar(select(User).where(User.email.like("%@haven.test"))) is None
    assert mailbox.to("bo@haven.test") == [] and mailbox.to("ann@haven.test") == []


def test_a_legal_name_longer_than_its_column_is_refused_by_name_and_limit(app, cast):
    before = _counts()
    with pytest.raises(ServiceError) as refused:
        _register(cast, legal_name="x" * 5000)
    assert refused.value.message == "Legal name is at most 200 characters; you entered 5,000."
    assert _counts() == before


def test_a_persons_name_and_title_are_limited_by_their_columns(app, cast):
    name_len, title_len = User.__table__.c.name.type.length, User.__table__.c.title.type.length
    long_name = agencies.Contact("A" * (name_len + 1), "ED", "ann@haven.test")
    with pytest.raises(ServiceError) as refused:
        _register(cast, executive_director=long_name)
    assert refused.value.message == (
        f"Executive director's name is at most {name_len} characters; you entered {name_len + 1}."
    )
    long_title = agencies.Contact("Bo", "T" * (title_len + 1), "bo@haven.test")
    with pytest.raises(ServiceError, match=f"^Security officer's title is at most {title_len} "):
        _register(cast, security_officer=long_title)


def test_a_legal_name_of_exactly_the_limit_is_kept_whole(app, cast):
    name = "N" * Agency.__table__.c.legal_name.type.length
    assert _register(cast, legal_name=name).legal_name == name
