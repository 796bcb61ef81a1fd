"""The agreement journey through the pages, and what each person may see."""

from portal.extensions import db
from portal.models import Agreement
from tests import factories
from tests.conftest import PASSWORD, csrf_token
from tests.services.helpers import sent_agreement


def test_admin_registers_agency_sends_ed_signs_ssf_countersigns(client, app, cast, auth):
    auth.login("admin@ssf.test")
    page = client.get("/agencies/new")
    response = client.post(
        "/agencies/new",
        data={
            "csrf_token": csrf_token(page),
            "legal_name": "Sunrise <b>Village</b>",
            "address": "9 Elm St",
            "ed_name": "Dana Ed",
            "ed_title": "Executive Director",
            "ed_email": "dana@sunrise.test",
            "so_name": "Sid So",
            "so_title": "Security Officer",
            "so_email": "sid@sunrise.test",
        },
    )
    assert response.status_code == 302
    agency_page = client.get(response.headers["Location"])
    html = agency_page.get_data(as_text=True)
    assert "Sunrise &lt;b&gt;Village&lt;/b&gt;" in html and "<b>Village</b>" not in html
    agency_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    start = client.post(
        f"/agreements/start/{agency_id}", data={"csrf_token": csrf_token(agency_page)}
    )
    agreement_url = start.headers["Location"]
    show = client.get(agreement_url)
    send = client.post(
        agreement_url + "/send", data={"csrf_token": csrf_token(show), "lock_version": "1"}
    )
    assert send.status_code == 302
    agreement = db.session.scalar(db.select(Agreement).where(Agreement.agency_id == agency_id))
    assert agreement.state == "sent"
    shown = client.get(agreement_url).get_data(as_text=True)
    assert "Awaiting" in shown or "awaiting" in shown
    assert f"/documents/versions/{agreement.document.current.id}.pdf" in shown
    pdf = client.get(f"/documents/versions/{agreement.document.current.id}.pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_sign_page_flow_for_the_ed(client, app, cast, auth):
    agreement = sent_agreement(cast)
    auth.login("ed@hope.test")
    page = client.get(f"/agreements/{agreement.id}/sign")
    html = page.get_data(as_text=True)
    assert (
        "consent to do business electronically" in html.lower()
        or "do business electronically" in html
    )
    bad = client.post(
        f"/agreements/{agreement.id}/sign",
        data={
            "csrf_token": csrf_token(page),
            "lock_version": str(agreement.lock_version),
            "consent": "y",
            "intent": "y",
            "password": "nope nope nope",
        },
    )
    assert "not correct" in bad.get_data(as_text=True)
    good = client.post(
        f"/agreements/{agreement.id}/sign",
        data={
            "csrf_token": csrf_token(page),
            "lock_version": str(agreement.lock_version),
            "consent": "y",
            "intent": "y",
            "password": PASSWORD,
        },
    )
    assert good.status_code == 302
    db.session.expire_all()
    assert db.session.get(Agreement, agreement.id).state == "agency_signed"
    # Replaying the same form: a clear refusal, not a second signature.
    replay = client.post(
        f"/agreements/{agreement.id}/sign",
        data={
            "csrf_token": csrf_token(page),
            "lock_version": str(agreement.lock_version),
            "consent": "y",
            "intent": "y",
            "password": PASSWORD,
        },
        follow_redirects=True,
    )
    assert replay.status_code == 200
    assert len(db.session.get(Agreement, agreement.id).document.versions) == 2


def test_other_agency_gets_404_for_every_id(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, state="sent", documents=True)
    version_id = agreement.document.current.id
    auth.login("ed@other.test")
    for url in (
        f"/agreements/{agreement.id}",
        f"/agreements/{agreement.id}/sign",
        f"/agencies/{cast.agency.id}",
        f"/documents/versions/{version_id}.pdf",
    ):
        assert client.get(url).status_code == 404, url
    page = client.get("/verify")
    response = client.post(
        f"/agreements/{agreement.id}/decline",
        data={"csrf_token": csrf_token(page), "reason": "mine now", "lock_version": "2"},
    )
    assert response.status_code == 404
    assert db.session.get(Agreement, agreement.id).state == "sent"
    assert client.get(f"/api/v1/agreements/{agreement.id}").status_code == 404


def test_audit_log_is_for_ssf_staff_and_auditors(client, app, cast, auth):
    sent_agreement(cast)
    auth.login("audit@ssf.test")
    page = client.get("/audit/?action=agreement.send")
    html = page.get_data(as_text=True)
    # In words (tests/views/test_audit_pages.py has the rest): the step and its change.
    assert "Send for signature" in html and "State: Draft → Awaiting the executive" in html
    auth.logout()
    auth.login("ed@hope.test")
    assert client.get("/audit/").status_code == 302


def test_verify_page_without_login(client, app, cast):
    agreement = sent_agreement(cast)
    from portal.services import documents

    pdf = documents.read_bytes(agreement.document.current)
    page = client.get("/verify")
    import io

    result = client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "pdf": (io.BytesIO(pdf), "a.pdf")},
        content_type="multipart/form-data",
    )
    html = result.get_data(as_text=True)
    assert "On record: " + agreement.reference in html
    assert "Certification" in html
    garbage = client.post(
        "/verify",
        data={"csrf_token": csrf_token(page), "pdf": (io.BytesIO(b"hello, not a pdf"), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert garbage.status_code == 200 and "On record: no" in garbage.get_data(as_text=True)


def test_upload_too_large_is_refused_plainly(client, app, cast):
    import io

    page = client.get("/verify")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        response = client.post(
            "/verify",
            data={
                "csrf_token": csrf_token(page),
                "pdf": (io.BytesIO(b"%PDF" + b"0" * 5000), "big.pdf"),
            },
            content_type="multipart/form-data",
        )
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 10 * 1024 * 1024
    assert response.status_code == 413 and "larger than the portal accepts" in response.get_data(
        as_text=True
    )


def test_agency_page_offers_the_signed_pdf_and_certificate(client, app, cast, auth):
    agreement = factories.agreement(cast.agency, documents=True)
    auth.login("ed@hope.test")
    html = client.get(f"/agencies/{cast.agency.id}").get_data(as_text=True)
    assert f"/documents/versions/{agreement.document.current.id}.pdf" in html
    assert f"/documents/versions/{agreement.certificate.current.id}.pdf" in html
    assert "Certificate of completion (PDF)" in html
