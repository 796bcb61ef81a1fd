"""`/pki`: the portal CA's certificates, CRLs and OCSP responder, and declaring a compromise.

The certificates the portal issues point here (portal/pki/certificates.py `Urls`), so these
addresses are stable. Open to anyone without a session: PDF readers and validators fetch
them. OCSP answers follow RFC 6960 (POST, and GET with the request in base64, appendix A);
anything unreadable gets an OCSP malformedRequest answer, never an error page.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from flask import Blueprint, Response, flash, redirect, request, url_for
from flask_login import current_user, login_required

from portal import clock, runtime
from portal.extensions import csrf
from portal.pki import PkiError
from portal.pki import revocation as pki_revocation
from portal.services import revocation
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("pki", __name__, url_prefix="/pki")

CRL_TYPE = "application/pkix-crl"
CERT_TYPE = "application/pkix-cert"
PEM_TYPE = "application/x-pem-file"
OCSP_RESPONSE_TYPE = "application/ocsp-response"
# An OCSP request for one certificate, even signed and with a nonce, is a few KB at most.
MAX_OCSP_REQUEST_BYTES = 8192
# Revocations take effect at once and a new CRL is built as soon as one is recorded, so
# caches keep an answer an hour at most (and never past its nextUpdate).
MAX_CACHE_SECONDS = 3600


def _unavailable() -> Response:
    return Response("The certificate authority is not available.\n", 503, mimetype="text/plain")


def _cached(response: Response, this_update: datetime, next_update: datetime) -> Response:
    now = clock.now()
    left = int((next_update - now).total_seconds())
    max_age = max(0, min(MAX_CACHE_SECONDS, left))
    response.headers["Cache-Control"] = f"public, max-age={max_age}, no-transform"
    response.last_modified = this_update
    response.expires = next_update
    return response


def _crl(index: int) -> Response:
    try:
        crls = revocation.current_crls()
    except PkiError:
        return _unavailable()
    if index >= len(crls):
        return Response("This CA's root publishes its own CRL.\n", 404, mimetype="text/plain")
    der = crls[index]
    crl = x509.load_der_x509_crl(der)
    next_update = crl.next_update_utc or crl.last_update_utc
    return _cached(Response(der, 200, content_type=CRL_TYPE), crl.last_update_utc, next_update)


@bp.get("/issuing-ca.crl")
def issuing_crl() -> Response:
    return _crl(0)


@bp.get("/root-ca.crl")
def root_crl() -> Response:
    return _crl(1)


def _certificate(pem: bytes, der: bool) -> Response:
    if der:
        body, kind = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER), CERT_TYPE
    else:
        body, kind = pem, PEM_TYPE
    response = Response(body, 200, content_type=kind)
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


@bp.get("/root-ca.pem")
@bp.get("/root-ca.cer", endpoint="root_ca_der")
def root_ca() -> Response:
    try:
        pem = runtime.pki().root_pem()
    except PkiError:
        return _unavailable()
    return _certificate(pem, request.path.endswith(".cer"))


@bp.get("/issuing-ca.pem")
@bp.get("/issuing-ca.cer", endpoint="issuing_ca_der")
def issuing_ca() -> Response:
    try:
        pem = runtime.pki().issuing_pem()
    except PkiError:
        return _unavailable()
    return _certificate(pem, request.path.endswith(".cer"))


def _ocsp(request_der: bytes | None, cacheable: bool) -> Response:
    if request_der is None:
        der = pki_revocation.malformed()
    else:
        try:
            der = revocation.ocsp_response(request_der)
        except PkiError:
            der = pki_revocation.try_later()
    response = Response(der, 200, content_type=OCSP_RESPONSE_TYPE)
    answer = ocsp.load_der_ocsp_response(der)
    if cacheable and answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL:
        return _cached(response, answer.this_update_utc, answer.next_update_utc)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/ocsp")
@csrf.exempt  # OCSP clients have no session or token, and asking changes nothing
def ocsp_post() -> Response:
    if (request.content_length or 0) > MAX_OCSP_REQUEST_BYTES:
        return _ocsp(None, cacheable=False)
    body = request.stream.read(MAX_OCSP_REQUEST_BYTES + 1)
    return _ocsp(body if len(body) <= MAX_OCSP_REQUEST_BYTES else None, cacheable=False)


@bp.get("/ocsp/<path:encoded>")
def ocsp_get(encoded: str) -> Response:
    """RFC 6960 appendix A.1: the DER request, base64, URL-encoded, after the path."""
    text = unquote(encoded).strip()
    try:
        body = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        body = None
    return _ocsp(body, cacheable=True)


@bp.post("/agencies/<int:agency_id>/compromise")
@login_required
def compromise(agency_id: int):
    """The lead agency declares a person's signing key compromised (the agency page's form,
    templates/pki/_compromise.html; its CSRF token is checked like every form's)."""
    try:
        person = revocation.declare_compromised_for(
            current_user,
            agency_id,
            request.form.get("person", type=int),
            request.form.get("reason", ""),
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash(f"{person.name}'s signing certificate is revoked (key compromise).", "success")
    return redirect(url_for("agencies.show", agency_id=agency_id))
