"""When a person's certificate is revoked or held, and what the CRL and OCSP then say.

Every certificate here is a real one from the session's test CA, issued the way signing
issues it; the CRL and OCSP answers are parsed and their signatures checked.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from sqlalchemy import select

from portal import runtime
from portal.extensions import db
from portal.models import AuditEvent, CertificateRevocation, SigningIdentity
from portal.services import identities, revocation, separations, suspensions, terminations
from portal.services.errors import Forbidden, ServiceError
from tests import factories
from tests.conftest import PASSWORD
from tests.services.helpers import REQ
from tests.support.separations import calendar_for, staff

START = datetime(2027, 3, 2, 18, 0, tzinfo=UTC)
R = x509.ReasonFlags


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def identity_of(person) -> SigningIdentity:
    """The person's current certificate, issued as signing issues it."""
    identity = identities.current_identity(identities.ConfirmedSigner(person, PASSWORD))
    db.session.commit()
    return identity


def cert(identity: SigningIdentity) -> x509.Certificate:
    return x509.load_pem_x509_certificate(identity.cert_pem)


def issuing_ca() -> x509.Certificate:
    return x509.load_pem_x509_certificate(runtime.pki().issuing_pem())


def crl_reasons() -> dict[int, R | None]:
    """serial → reason of every entry of the issuing CA's CRL (signature checked)."""
    crl = x509.load_der_x509_crl(revocation.current_crls()[0])
    assert crl.is_signature_valid(issuing_ca().public_key())
    listed = {}
    for entry in crl:
        try:
            reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
        except x509.ExtensionNotFound:
            reason = None
        listed[entry.serial_number] = reason
    return listed


def ocsp_status(certificate: x509.Certificate) -> tuple[ocsp.OCSPCertStatus, R | None]:
    request = ocsp.OCSPRequestBuilder().add_certificate(certificate, issuing_ca(), hashes.SHA1())
    der = revocation.ocsp_response(request.build().public_bytes(serialization.Encoding.DER))
    answer = ocsp.load_der_ocsp_response(der)
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    return answer.certificate_status, answer.revocation_reason


GOOD = (ocsp.OCSPCertStatus.GOOD, None)


def test_a_separation_revokes_the_certificate(cast, clock):
    calendar_for(2027)
    person = staff(cast.agency, "nia@hope.test")
    identity = identity_of(person)
    assert ocsp_status(cert(identity)) == GOOD
    assert cert(identity).serial_number not in crl_reasons()
    separations.report(
        cast.ed, cast.agency.id, user_id=person.id, last_day=date(2027, 3, 2), request=REQ
    )
    serial = cert(identity).serial_number
    assert crl_reasons()[serial] == R.affiliation_changed
    assert ocsp_status(cert(identity)) == (ocsp.OCSPCertStatus.REVOKED, R.affiliation_changed)


def test_the_end_of_the_agreement_revokes_every_certificate_of_its_people(cast, clock):
    agreement = factories.agreement(cast.agency)
    ours = [identity_of(cast.ed), identity_of(cast.officer)]
    theirs = identity_of(cast.other_ed)
    terminations.terminate_agreement(agreement, at=START, reason="Notice period ran out")
    db.session.commit()
    listed = crl_reasons()
    for identity in ours:
        assert listed[cert(identity).serial_number] == R.cessation_of_operation
        assert db.session.get(SigningIdentity, identity.id).retired_at == START
    assert cert(theirs).serial_number not in listed
    assert ocsp_status(cert(theirs)) == GOOD


def test_a_suspension_holds_the_certificates_and_lifting_it_releases_them(cast, clock):
    ed, officer = identity_of(cast.ed), identity_of(cast.officer)
    other = identity_of(cast.other_ed)
    alone = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.officer.id, reason="Audit", request=REQ
    )
    clock.shift(timedelta(minutes=5))
    whole = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=None, reason="Password sharing", request=REQ
    )
    held = (ocsp.OCSPCertStatus.REVOKED, R.certificate_hold)
    assert ocsp_status(cert(ed)) == held and ocsp_status(cert(officer)) == held
    assert ocsp_status(cert(other)) == GOOD
    listed = crl_reasons()
    assert listed[cert(ed).serial_number] == R.certificate_hold
    assert listed[cert(officer).serial_number] == R.certificate_hold
    # One hold per certificate, however many suspensions cover it.
    holds = db.session.scalars(
        select(CertificateRevocation).where(CertificateRevocation.identity_id == officer.id)
    ).all()
    assert len(holds) == 1 and holds[0].revoked_at == START

    clock.shift(timedelta(days=2))
    suspensions.lift(cast.admin, whole.id, reason="Investigated", request=REQ)
    assert ocsp_status(cert(ed)) == GOOD
    assert ocsp_status(cert(officer)) == held  # still under their own suspension
    assert cert(ed).serial_number not in crl_reasons()

    suspensions.lift(cast.admin, alone.id, reason="Cleared", request=REQ)
    assert ocsp_status(cert(officer)) == GOOD
    assert crl_reasons() == {}
    # The identities were never retired: the same certificates sign again.
    assert identity_of(cast.ed).id == ed.id


def test_a_held_certificate_revoked_for_good_stays_revoked_after_lifting(cast, clock):
    identity = identity_of(cast.ed)
    held = suspensions.suspend(
        cast.admin, cast.agency.id, user_id=cast.ed.id, reason="Audit", request=REQ
    )
    revocation.declare_compromised(cast.ed, cast.admin, "Laptop stolen", request=REQ)
    suspensions.lift(cast.admin, held.id, reason="Cleared", request=REQ)
    assert ocsp_status(cert(identity)) == (ocsp.OCSPCertStatus.REVOKED, R.key_compromise)
    assert crl_reasons() == {cert(identity).serial_number: R.key_compromise}


def test_only_the_lead_agencys_admins_declare_a_key_compromised(cast, clock):
    identity = identity_of(cast.ed)
    for someone in (cast.other_ed, cast.ed, cast.signatory, cast.auditor):
        with pytest.raises(Forbidden):
            revocation.declare_compromised(cast.ed, someone, "Because", request=REQ)
    with pytest.raises(Forbidden):
        revocation.declare_compromised_for(cast.other_ed, cast.agency.id, cast.ed.id, "x")
    assert ocsp_status(cert(identity)) == GOOD
    with pytest.raises(ServiceError, match="Reason is required"):
        revocation.declare_compromised(cast.ed, cast.admin, "  ", request=REQ)

    revoked = revocation.declare_compromised(identity, cast.admin, "Key copied", request=REQ)
    assert [r.id for r in revoked] == [identity.id]
    assert ocsp_status(cert(identity)) == (ocsp.OCSPCertStatus.REVOKED, R.key_compromise)
    row = db.session.scalars(select(CertificateRevocation)).one()
    assert (row.reason, row.why, row.by_id) == ("key_compromise", "Key copied", cast.admin.id)
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "certificate.compromise")
    ).one()
    assert event.actor_id == cast.admin.id and "Key copied" in event.summary
    with pytest.raises(ServiceError, match="no current signing certificate"):
        revocation.declare_compromised(cast.ed, cast.admin, "Again", request=REQ)


def test_ocsp_knows_the_seal_and_tsa_and_not_serials_never_issued(cast, clock):
    pki = runtime.pki()
    assert pki.service_serials
    for serial in pki.service_serials:
        assert revocation.certificate_state(serial).issued
    assert not revocation.certificate_state(0xDEADBEEF).issued


def test_the_crls_are_kept_until_the_table_changes_or_half_their_life_is_gone(cast, clock, app):
    app.config["CRL_VALIDITY_HOURS"] = 10
    try:
        first = revocation.current_crls()
        assert len(first) == 2  # the issuing CA's and the root's
        root = x509.load_der_x509_crl(first[1])
        assert root.issuer == issuing_ca().issuer
        clock.shift(timedelta(hours=4))
        assert revocation.current_crls() == first
        clock.shift(timedelta(hours=1, seconds=1))  # past half of 10 hours
        renewed = revocation.current_crls()
        assert renewed[0] != first[0] and renewed[1] == first[1]
        crl = x509.load_der_x509_crl(renewed[0])
        assert crl.last_update_utc == START + timedelta(hours=5, seconds=1)
        assert crl.next_update_utc == crl.last_update_utc + timedelta(hours=10)
        assert revocation.current_crls() == renewed
        identity = identity_of(cast.ed)
        revocation.declare_compromised(identity, cast.admin, "Lost", request=REQ)
        assert cert(identity).serial_number in crl_reasons()
    finally:
        app.config["CRL_VALIDITY_HOURS"] = 168


def test_the_root_crl_is_signed_again_from_the_command_line(app, pki_dir, tmp_path):
    import shutil

    copy = tmp_path / "pki"
    shutil.copytree(pki_dir, copy)
    (copy / "root-ca.crl").unlink()
    key = copy / "root-ca.key.pem"
    offline = tmp_path / "offline-root.key.pem"
    key.rename(offline)  # as after `pki init --offline-root`
    before = app.config["PKI_DIR"]
    app.config["PKI_DIR"] = str(copy)
    try:
        runner = app.test_cli_runner()
        missing = runner.invoke(args=["pki", "root-crl"])
        assert missing.exit_code != 0 and not (copy / "root-ca.crl").exists()
        with time_machine.travel(START, tick=False):
            done = runner.invoke(args=["pki", "root-crl", "--root-key", str(offline)])
        assert done.exit_code == 0, done.output
        assert "Signed a new root CRL" in done.output
        wrong = runner.invoke(args=["pki", "root-crl", "--root-key", str(copy / "seal.key.pem")])
        assert wrong.exit_code == 1 and "is not the root CA's key" in wrong.output
    finally:
        app.config["PKI_DIR"] = before
    crl = x509.load_der_x509_crl((copy / "root-ca.crl").read_bytes())
    root = x509.load_pem_x509_certificate((copy / "root-ca.pem").read_bytes())
    assert crl.is_signature_valid(root.public_key()) and crl.last_update_utc == START
