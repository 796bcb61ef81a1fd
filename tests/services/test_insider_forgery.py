"""An insider holds everything on the server but Maria's password, and cannot sign as her.

What they hold: the database rows, the PKI directory with PKI_PASSPHRASE (so the issuing CA
key), and SECRET_KEY. Her key is sealed under her password (portal/pki/keys.py), so (a) no
secret on the server opens it, and (b) a certificate they mint for her with the CA key is not
one the portal issued her: verification does not report their PDF as her signature on record.
"""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from portal import clock, runtime
from portal.documents import issuance
from portal.extensions import db
from portal.models import CertificateRevocation, SigningIdentity
from portal.pki import IssuedIdentity, Pki, PkiError, keys
from portal.services import agreement_signatures, documents, identities, signing, verification
from portal.services.errors import ServiceError
from tests.conftest import PASSWORD, csrf_token
from tests.services.helpers import REQ, sent_agreement


def _maria(cast):
    cast.ed.name = "Maria Delgado"
    db.session.commit()
    return cast.ed


def _her_identity(user) -> SigningIdentity:
    return db.session.scalars(
        select(SigningIdentity).where(SigningIdentity.user_id == user.id)
    ).one()


def _der_sha256(cert_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(cert_pem)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def _forge_her_signature(app, maria, agreement) -> bytes:
    """What the insider does: mint a new certificate in her name with the issuing CA key, and
    sign the agreement as sent for her signature, exactly where she would."""
    from portal.documents.signing import SignatureStamp

    sent = documents.read_bytes(agreement.document.current)
    pki = Pki.load(Path(app.config["PKI_DIR"]), app.config["PKI_PASSPHRASE"].encode())
    minted = pki.issue_identity(
        common_name=maria.name,
        title=maria.title,
        organization=maria.agency.legal_name,
        email=maria.email,
        now=clock.now(),
        password="the insider's own password",
    )
    return runtime.signer().approve(
        sent,
        signer=pki.signer_for(minted, "the insider's own password"),
        field_name=agreement_signatures.AGENCY_FIELD,
        stamp=SignatureStamp(maria.name, maria.title, maria.agency.legal_name, "March 15, 2027"),
        reason="Signed for the agency",
    )


def _verify_page(client, data: bytes) -> str:
    page = client.get("/verify")
    response = client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "pdf": (io.BytesIO(data), "a.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def _flask_verify(app, tmp_path: Path, data: bytes):
    path = tmp_path / "checked.pdf"
    path.write_bytes(data)
    return app.test_cli_runner().invoke(args=["verify", str(path)])


UNISSUED = (
    "This certificate chains to the portal's CA but the portal has no record of issuing it "
    "— it may be forged."
)


def _insider_guesses(app) -> list[str]:
    """Every secret the server holds, as a password guess."""
    return [app.config["PKI_PASSPHRASE"], app.config["SECRET_KEY"], "", " "]


def test_no_secret_on_the_server_opens_her_key(app, cast):
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    agreement_signatures.sign_as_agency(
        maria, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    identity = _her_identity(maria)
    assert identity.key_kdf.startswith("argon2id$v=19$")
    # The insider loads the PKI as the server does, from its directory and passphrase.
    pki = Pki.load(Path(app.config["PKI_DIR"]), app.config["PKI_PASSPHRASE"].encode())
    stored = IssuedIdentity(identity.cert_pem, identity.key_pem, identity.key_kdf)
    cert_der = x509.load_pem_x509_certificate(identity.cert_pem).public_bytes(
        serialization.Encoding.DER
    )
    for guess in _insider_guesses(app):
        with pytest.raises(PkiError):
            pki.signer_for(stored, guess)
        with pytest.raises(PkiError):
            keys.unseal(keys.SealedKey(identity.key_pem, identity.key_kdf), guess, cert_der)
        with pytest.raises((TypeError, ValueError)):
            serialization.load_pem_private_key(identity.key_pem, password=guess.encode() or None)
    # Calling it a legacy key (key_kdf "") does not make the instance passphrase open it.
    with pytest.raises(PkiError):
        pki.signer_for(IssuedIdentity(identity.cert_pem, identity.key_pem), "")
    # Nor does going through the portal's own signing code without her password.
    pdf = documents.read_bytes(agreement.document.current)
    for guess in _insider_guesses(app):
        with pytest.raises(ServiceError, match="Nothing was signed"):
            signing.approve(
                pdf,
                identities.ConfirmedSigner(maria, guess),
                agreement_signatures.LEAD_FIELD,
                clock.now(),
                reason="Forged",
            )
    db.session.rollback()
    assert _her_identity(maria).id == identity.id  # nothing retired, nothing issued
    # Her password does open it: the test above is not failing for another reason.
    assert pki.signer_for(stored, PASSWORD).signing_cert.sha256.hex() == _der_sha256(
        identity.cert_pem
    )


def test_a_certificate_minted_for_her_is_not_her_signature_on_record(app, cast):
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    forged = _forge_her_signature(app, maria, agreement)
    result = verification.verify(forged)
    # The portal never stored this file, and the certificate chains to its root like a real
    # one; but the portal never issued it, which is as serious as an unknown CA.
    assert result.match is None
    assert result.judgement.verdict.value == "unissued_certificate"
    assert not result.judgement.verdict.valid and result.judgement.verdict.exit_code == 1
    assert f"Signature 2 (Maria Delgado): {UNISSUED}" in result.judgement.findings
    # …and the certificate of her signature is none the portal issued to anyone.
    [hers] = [s for s in result.report.signatures if s.field_name == "agency_signature"]
    assert hers.signer_name == "Maria Delgado"
    issued = {_der_sha256(i.cert_pem) for i in db.session.scalars(select(SigningIdentity))}
    assert hers.cert_sha256 not in issued
    # Her real signature, through the portal, is on record with a certificate it issued.
    agreement_signatures.sign_as_agency(
        maria, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    real = verification.verify(documents.read_bytes(agreement.document.current))
    assert real.match is not None
    [signed] = [s for s in real.report.signatures if s.field_name == "agency_signature"]
    assert signed.cert_sha256 == _der_sha256(_her_identity(maria).cert_pem)
    assert hers.cert_sha256 != signed.cert_sha256
    assert real.judgement.verdict.value == "valid_on_record"


def test_the_forgery_is_named_on_the_page_and_by_flask_verify(app, cast, client, tmp_path):
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    forged = _forge_her_signature(app, maria, agreement)
    html = _verify_page(client, forged)
    assert "alert-danger verdict-unissued_certificate" in html
    assert (
        "Verdict: Not valid: a signer's certificate was never issued by the portal "
        "(it may be forged)"
    ) in html
    assert UNISSUED in html
    assert "Valid signatures, but this file is not on record" not in html
    # The portal's own seal, which certified the agreement, is one it issued.
    assert "Certificate issued by the portal to its document seal" in html

    result = _flask_verify(app, tmp_path, forged)
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "Verdict: Not valid: a signer's certificate was never issued by the portal "
        "(it may be forged)"
    )
    assert f"  Portal record: {UNISSUED}" in lines
    assert f"  Status: {UNISSUED}" in lines


def test_her_genuine_signature_shows_to_whom_the_portal_issued_it(app, cast, client, tmp_path):
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    agreement_signatures.sign_as_agency(
        maria, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    identity = _her_identity(maria)
    issued_to = (
        f"Certificate issued by the portal to Maria Delgado ({identity.organization}) "
        f"on {identity.created_at.date().isoformat()}"
    )
    signed = documents.read_bytes(agreement.document.current)
    html = _verify_page(client, signed)
    assert "Verdict: Valid and on record" in html
    assert issued_to in html and UNISSUED not in html
    result = _flask_verify(app, tmp_path, signed)
    assert result.exit_code == 0, result.output
    assert f"  Portal record: {issued_to}" in result.output.splitlines()
    body = client.post(
        "/api/v1/verify",
        data={"pdf": (io.BytesIO(signed), "a.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    assert body["verdict"]["code"] == "valid_on_record"
    [hers] = [s for s in body["signatures"] if s["field"] == "agency_signature"]
    assert hers["issued_by_portal"] is True and hers["portal_record"] == issued_to
    assert hers["revocation"] is None


def test_the_forgery_is_unissued_in_the_api_and_its_description(app, cast, client):
    forged = _forge_her_signature(app, _maria(cast), sent_agreement(cast))
    body = client.post(
        "/api/v1/verify",
        data={"pdf": (io.BytesIO(forged), "a.pdf")},
        content_type="multipart/form-data",
    ).get_json()
    assert body["verdict"]["code"] == "unissued_certificate"
    [hers] = [s for s in body["signatures"] if s["field"] == "agency_signature"]
    assert hers["issued_by_portal"] is False and hers["portal_record"] == UNISSUED
    described = client.get("/api/v1/openapi.json").get_json()
    words = described["paths"]["/api/v1/verify"]["post"]["responses"]["200"]["description"]
    assert "unissued_certificate" in words


def test_a_revocation_after_signing_leaves_the_signature_valid(app, cast, tmp_path):
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    agreement_signatures.sign_as_agency(
        maria, agreement.id, password=PASSWORD, intent=True, consent=True, request=REQ
    )
    identity = _her_identity(maria)
    signed = documents.read_bytes(agreement.document.current)
    # Weeks later her agency's agreement ends and her certificate is revoked.
    later = clock.now() + timedelta(days=30)
    with time_machine.travel(later, tick=False):
        identities.retire(identity, "agreement_ended", at=clock.now())
        db.session.commit()
        result = verification.verify(signed)
        cli = _flask_verify(app, tmp_path, signed)
    assert result.judgement.verdict.value == "valid_on_record", result.judgement.findings
    [hers] = [s for s in result.report.signatures if s.field_name == "agency_signature"]
    words = issuance.revocation_words(hers, result.issued)
    assert words == (
        f"Revoked on {later.date().isoformat()} (cessation of operation): The agency's "
        "agreement ended — after this was signed, so the signature stays valid."
    )
    assert cli.exit_code == 0, cli.output
    assert f"  Revocation: {words}" in cli.output.splitlines()


def test_no_revocation_row_names_a_key_the_insider_could_not_open(app, cast):
    """Failed attempts leave her identity alone: no revocation an insider could provoke."""
    maria = _maria(cast)
    agreement = sent_agreement(cast)
    with pytest.raises(ServiceError, match="password you re-entered is not correct"):
        agreement_signatures.sign_as_agency(
            maria,
            agreement.id,
            password=app.config["PKI_PASSPHRASE"],
            intent=True,
            consent=True,
            request=REQ,
        )
    assert db.session.scalars(select(CertificateRevocation)).all() == []
