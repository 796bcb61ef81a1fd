"""Two-factor sign-in in the services: the secret encrypted at rest, recovery codes kept
as hashes and used once, who must use it, and what rotating SECRET_KEY does."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models.security import RecoveryCode
from portal.services import auth, two_factor, two_factor_policy
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ


def _enrolled(user) -> tuple[str, list[str]]:
    enrolment = two_factor.begin(user)
    codes = two_factor.confirm(user, pyotp.TOTP(enrolment.secret).at(clock.now()), REQ)
    return enrolment.secret, codes


def test_the_secret_is_encrypted_at_rest(app, cast):
    secret, _ = _enrolled(cast.ed)
    db.session.refresh(cast.ed)
    assert secret not in cast.ed.totp_secret
    assert len(cast.ed.totp_secret) <= 255
    assert two_factor.is_enabled(cast.ed)


def test_the_enrolment_uri_names_the_portal_and_the_person(app, cast):
    enrolment = two_factor.begin(cast.ed)
    assert enrolment.uri.startswith("otpauth://totp/")
    assert "ed%40hope.test" in enrolment.uri and f"secret={enrolment.secret}" in enrolment.uri


def test_recovery_codes_are_kept_as_hashes_and_work_once(app, cast):
    _, codes = _enrolled(cast.ed)
    rows = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == cast.ed.id))
    hashes = [row.code_hash for row in rows]
    assert len(hashes) == 10 and all(h.startswith("$argon2") for h in hashes)
    assert not any(code.replace("-", "") in h for code in codes for h in hashes)
    assert auth.verify_second_factor(cast.ed.id, codes[3], REQ).id == cast.ed.id
    with pytest.raises(ServiceError, match="not correct"):
        auth.verify_second_factor(cast.ed.id, codes[3], REQ)
    assert two_factor.unused_recovery_codes(cast.ed) == 9


def test_the_password_step_alone_does_not_sign_in(app, cast):
    _enrolled(cast.ed)
    attempt = auth.authenticate("ed@hope.test", PASSWORD, REQ)
    assert attempt.needs_code
    db.session.refresh(cast.ed)
    assert cast.ed.last_login_at is None


def test_rotating_secret_key_turns_enrolments_off(app, cast, monkeypatch):
    _enrolled(cast.ed)
    monkeypatch.setitem(app.config, "SECRET_KEY", "a-new-secret-key")
    assert not two_factor.is_enabled(cast.ed)
    assert not auth.authenticate("ed@hope.test", PASSWORD, REQ).needs_code


def test_disabling_needs_the_password_and_removes_the_codes(app, cast):
    _enrolled(cast.ed)
    with pytest.raises(ServiceError, match="password is not correct"):
        two_factor.disable(cast.ed, "wrong", REQ)
    two_factor.disable(cast.ed, PASSWORD, REQ)
    assert not two_factor.is_enabled(cast.ed)
    assert two_factor.unused_recovery_codes(cast.ed) == 0


@pytest.mark.parametrize(
    "policy, required",
    [
        ("none", set()),
        ("staff_and_signers", {"admin", "signatory", "auditor", "ed", "officer", "signer"}),
        ("everyone", {"admin", "signatory", "auditor", "ed", "officer", "signer", "user"}),
        ("nonsense", {"admin", "signatory", "auditor", "ed", "officer", "signer", "user"}),
    ],
)
def test_who_must_use_two_factor_sign_in(app, cast, monkeypatch, policy, required):
    from portal.models import SignerDesignation
    from tests import factories

    signer = factories.person(
        cast.agency, email="rep@hope.test", name="Rae Rep", title="COO", role="agency_user"
    )
    user = factories.person(
        cast.agency, email="cm@hope.test", name="Cam Manager", title="CM", role="agency_user"
    )
    db.session.add(
        SignerDesignation(
            agency_id=cast.agency.id,
            user_id=signer.id,
            designated_by_id=cast.admin.id,
            designated_at=clock.now(),
            reason="ED on leave",
        )
    )
    db.session.commit()
    monkeypatch.setitem(app.config, "TWO_FACTOR_REQUIRED", policy)
    people = {
        "admin": cast.admin,
        "signatory": cast.signatory,
        "auditor": cast.auditor,
        "ed": cast.ed,
        "officer": cast.officer,
        "signer": signer,
        "user": user,
    }
    assert {name for name, p in people.items() if two_factor_policy.required_for(p)} == required


def test_production_requires_it_of_staff_and_signers_by_default(monkeypatch):
    from portal.config import Config

    monkeypatch.delenv("TWO_FACTOR_REQUIRED", raising=False)
    assert Config(SECRET_KEY="x").TWO_FACTOR_REQUIRED == "none"
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_ALLOW_SQLITE", "1")
    prod = Config(SECRET_KEY="x", PKI_PASSPHRASE="y")
    assert prod.TWO_FACTOR_REQUIRED == "staff_and_signers"


def test_a_code_signs_in_once(app, cast):
    secret, _ = _enrolled(cast.ed)
    code = pyotp.TOTP(secret).at(clock.now())
    assert auth.verify_second_factor(cast.ed.id, code, REQ).id == cast.ed.id
    with pytest.raises(ServiceError, match="not correct"):
        auth.verify_second_factor(cast.ed.id, code, REQ)


def test_a_code_from_the_next_or_last_step_is_accepted(app, cast):
    import time_machine

    secret, _ = _enrolled(cast.ed)
    with time_machine.travel(clock.now(), tick=False) as traveller:
        code = pyotp.TOTP(secret).at(clock.now())
        traveller.shift(30)
        assert auth.verify_second_factor(cast.ed.id, code, REQ).id == cast.ed.id
        stale = pyotp.TOTP(secret).at(clock.now().timestamp() - 90)
        with pytest.raises(ServiceError, match="not correct"):
            auth.verify_second_factor(cast.ed.id, stale, REQ)
