"""A person's signing key follows their password: sealed under it when issued, sealed again
when they change it, retired (and its certificate revoked) when they reset it."""

from __future__ import annotations

import re

import pytest
import time_machine
from sqlalchemy import select

from portal import clock
from portal.extensions import db
from portal.models import CertificateRevocation, DocumentVersion, SigningIdentity
from portal.services import agreement_signatures, identities, password_changes
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD
from tests.services.helpers import REQ, agency_signed, sent_agreement

NEW_PASSWORD = "violet harbour ladder quietly"


def _identities(user) -> list[SigningIdentity]:
    query = select(SigningIdentity).where(SigningIdentity.user_id == user.id)
    return db.session.scalars(query.order_by(SigningIdentity.id)).all()


def _countersign(cast, agreement, password: str):
    return agreement_signatures.countersign(
        cast.signatory, agreement.id, password=password, intent=True, consent=True, request=REQ
    )


def _reset(mailbox, user, password: str) -> None:
    password_changes.request_reset(user.email, REQ)
    mailbox.deliver()
    body = mailbox.to(user.email)[-1].get_content()
    token = re.search(r"/password/reset/([A-Za-z0-9_-]+)", body).group(1)
    password_changes.reset(token, password, password, REQ)


def _other_agreement(cast):
    """An agreement of the other agency, signed by its director: Sol countersigns it."""
    from portal.services import agreements

    agreement = agreements.create(cast.admin, cast.other_agency.id, REQ)
    agreement = agreements.send(cast.admin, agreement.id, REQ)
    return agreement_signatures.sign_as_agency(
        cast.other_ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )


def test_a_password_reset_retires_the_key_and_the_next_signature_gets_a_new_one(app, cast, mailbox):
    sol = cast.signatory
    _countersign(cast, agency_signed(cast), PASSWORD)  # Sol's first signature: his identity
    [old] = _identities(sol)
    with time_machine.travel(clock.now(), tick=False):
        reset_at = clock.now()
        _reset(mailbox, sol, NEW_PASSWORD)
    db.session.expire_all()
    old = db.session.get(SigningIdentity, old.id)
    assert old.retired_at == reset_at
    assert old.retired_reason == identities.RETIREMENTS["password_reset"][1]
    [revoked] = db.session.scalars(select(CertificateRevocation)).all()
    assert (revoked.identity_id, revoked.reason) == (old.id, "superseded")
    assert revoked.cert_sha256 == old.cert_sha256 and revoked.serial_hex == old.serial_hex
    # His old password signs nothing now; the new one signs with a new key and certificate.
    second = _other_agreement(cast)
    with pytest.raises(ServiceError, match="password you re-entered is not correct"):
        _countersign(cast, second, PASSWORD)
    _countersign(cast, second, NEW_PASSWORD)
    old_again, new = _identities(sol)
    assert old_again.id == old.id and new.retired_at is None
    assert new.cert_sha256 != old.cert_sha256 and new.key_kdf != old.key_kdf
    assert second.lead_signed_by_id == sol.id


def test_a_password_change_keeps_the_certificate_and_the_new_password_signs(app, cast):
    sol = cast.signatory
    _countersign(cast, agency_signed(cast), PASSWORD)
    [before] = _identities(sol)
    cert, blob, kdf = before.cert_pem, before.key_pem, before.key_kdf
    password_changes.change(sol, PASSWORD, NEW_PASSWORD, NEW_PASSWORD, keep_session=None,
                            request=REQ)  # fmt: skip
    db.session.expire_all()
    [after] = _identities(sol)
    assert after.id == before.id and after.retired_at is None
    assert after.cert_pem == cert  # the same certificate…
    assert after.key_pem != blob and after.key_kdf != kdf  # …its key sealed afresh
    assert db.session.scalars(select(CertificateRevocation)).all() == []
    # The new password opens it, the old one no longer does; and it signs.
    with pytest.raises(ServiceError, match="password does not open"):
        identities.unlock(identities.ConfirmedSigner(sol, PASSWORD))
    second = _other_agreement(cast)
    _countersign(cast, second, NEW_PASSWORD)
    assert [i.id for i in _identities(sol)] == [before.id]
    assert second.lead_signed_by_id == sol.id


def test_a_wrong_password_signs_nothing(app, cast):
    agreement = sent_agreement(cast)
    versions = db.session.query(DocumentVersion).count()
    with pytest.raises(ServiceError, match="nothing was signed"):
        agreement_signatures.sign_as_agency(
            cast.ed, agreement.id, password="not my password", intent=True, consent=True,
            request=REQ,
        )  # fmt: skip
    db.session.rollback()
    assert db.session.query(DocumentVersion).count() == versions
    assert _identities(cast.ed) == []
    assert db.session.get(type(agreement), agreement.id).state == "sent"


def test_a_legacy_key_is_replaced_by_a_sealed_one_at_the_next_signature(app, cast):
    """Identities from before keys were sealed (key_kdf "") are retired, not used."""
    agreement = sent_agreement(cast)
    now = clock.now()
    legacy = SigningIdentity(
        user_id=cast.ed.id,
        common_name=cast.ed.name,
        title=cast.ed.title,
        organization=cast.ed.agency.legal_name,
        cert_pem=b"legacy certificate",
        key_pem=b"legacy key under the instance passphrase",
        key_kdf="",
        cert_sha256="0" * 64,
        serial_hex="abc",
        created_at=now,
    )
    db.session.add(legacy)
    db.session.commit()
    agreement_signatures.sign_as_agency(
        cast.ed, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    old, new = _identities(cast.ed)
    assert old.id == legacy.id and old.retired_at is not None
    assert old.retired_reason == identities.RETIREMENTS["unsealed_key"][1]
    assert new.key_kdf.startswith("argon2id$") and new.retired_at is None
    [revoked] = db.session.scalars(select(CertificateRevocation)).all()
    assert (revoked.serial_hex, revoked.reason) == ("abc", "superseded")
