"""Yearly recertification and the security self-assessment: the campaign's list (and CSV),
one person's recertification with its renewals, and the agency's self-assessment.

A person whose recertification lapsed may still sign in, but only to renew: every other page
sends them to their recertification (`_only_renewal`). The training pages stay open to them
for the test, and logging out always works.
"""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.recertification import (
    AnswersForm,
    ApproveRenewalForm,
    ButtonForm,
    CloseForm,
    OpenCampaignForm,
    SignAssessmentForm,
    SignRenewalForm,
)
from portal.api import errors as api_errors
from portal.services import recertification, recertification_campaign, self_assessments
from portal.services import recertification_renewal as renewal
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import page_arg, refuse, request_info
from workflows.recertification import RECERTIFICATION
from workflows.self_assessment import SELF_ASSESSMENT

bp = Blueprint("recertification", __name__)

# What a lapsed person may still reach: their renewal, the test pages, their documents, and
# the sign-in pages (a password to change or a second factor to set up comes first).
_OPEN_WHILE_LAPSED = (
    "recertification.",
    "training.attempt",
    "training.submit",
    "documents.",
    "auth.",
)
_ALWAYS = {"auth.logout", "static", "health.healthz", None}


@bp.before_app_request
def _only_renewal():
    if not current_user.is_authenticated or request.endpoint in _ALWAYS:
        return None
    if (request.endpoint or "").startswith(_OPEN_WHILE_LAPSED):
        return None
    lapsed = recertification.lapsed_of(current_user)
    if lapsed is None:
        return None
    if api_errors.under_api():  # a program cannot follow a redirect to a page
        return api_errors.error_response(
            403, "access_lapsed", "Your HMIS access lapsed. Renew it in the portal first."
        )
    flash("Your HMIS access lapsed. Renew it here to use the portal again.", "warning")
    return redirect(url_for("recertification.show", recertification_id=lapsed.id))


def _filters() -> recertification_campaign.Filters:
    year, agency = request.args.get("year", ""), request.args.get("agency", "")
    return recertification_campaign.Filters(
        year=int(year)
        if year.isdigit() and len(year) == 4
        else recertification_campaign.this_year(),
        agency_id=int(agency) if agency.isdigit() and len(agency) < 12 else None,
        state=request.args.get("state", "")[:40],
    )


@bp.get("/recertification/")
@login_required
def index():
    mine = recertification.current_of(current_user)
    filters = _filters()
    try:
        rows = recertification_campaign.page(current_user, filters, page=page_arg())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("recertification.index"))
    return render_template(
        "recertification/index.html",
        rows=rows,
        filters=filters,
        mine=mine,
        years=recertification_campaign.years(current_user),
        agencies=recertification_campaign.agencies(current_user),
        counts=recertification_campaign.counts(current_user, filters.year),
        machine=RECERTIFICATION,
        open_form=OpenCampaignForm(year=filters.year),
    )


@bp.get("/recertification/export.csv")
@login_required
def export():
    try:
        text = recertification_campaign.csv_text(current_user, _filters())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("recertification.index"))
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=recertification.csv"},
    )


@bp.post("/recertification/open")
@login_required
def open_campaign():
    form = OpenCampaignForm()
    if not form.validate_on_submit():
        flash("Give a year between 2000 and 2100.", "danger")
        return redirect(url_for("recertification.index"))
    try:
        opened = recertification_campaign.open_campaign(
            current_user, form.year.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash(f"{len(opened)} recertification(s) opened for {form.year.data}.", "success")
    return redirect(url_for("recertification.index", year=form.year.data))


@bp.get("/recertification/<int:recertification_id>")
@login_required
def show(recertification_id: int):
    try:
        view = renewal.page(current_user, recertification_id, request=request_info())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "recertification/show.html",
        view=view,
        row=view.row,
        machine=RECERTIFICATION,
        **pictures.history_and_diagram(RECERTIFICATION, recertification_id, view.row.state),
        sign_form=SignRenewalForm(),
        approve_form=ApproveRenewalForm(),
        close_form=CloseForm(),
        button_form=ButtonForm(),
    )


def _back(recertification_id: int):
    return redirect(url_for("recertification.show", recertification_id=recertification_id))


@bp.post("/recertification/<int:recertification_id>/<any(sign, approve):action>")
@login_required
def signature(recertification_id: int, action: str):
    form = SignRenewalForm() if action == "sign" else ApproveRenewalForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "danger")
        return _back(recertification_id)
    act = renewal.sign if action == "sign" else renewal.approve
    try:
        act(current_user, recertification_id, password=form.password.data,
            intent=form.intent.data, consent=form.consent.data, request=request_info())  # fmt: skip
    except ServiceError as err:
        refuse(err)
    else:
        flash("Signed. Thank you." if action == "sign" else "Approved. Thank you.", "success")
    return _back(recertification_id)


@bp.post("/recertification/<int:recertification_id>/test")
@login_required
def test(recertification_id: int):
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Try again.", "danger")
        return _back(recertification_id)
    try:
        attempt = renewal.start_test(current_user, recertification_id, request=request_info())
    except ServiceError as err:
        refuse(err)
        return _back(recertification_id)
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


@bp.post("/recertification/<int:recertification_id>/close")
@login_required
def close(recertification_id: int):
    form = CloseForm()
    if not form.validate_on_submit():
        flash("Give a reason to close the recertification.", "danger")
        return _back(recertification_id)
    try:
        recertification.close(current_user, recertification_id, reason=form.reason.data,
                              request=request_info())  # fmt: skip
    except ServiceError as err:
        refuse(err)
    else:
        flash("The recertification is closed.", "success")
    return _back(recertification_id)


# -- the security self-assessment ---------------------------------------------------------


@bp.get("/self-assessment/")
@login_required
def assessments():
    year = self_assessments.this_year()
    try:
        rows = self_assessments.status(current_user, year)
        own = None
        if not current_user.is_lead:
            own = self_assessments.of_agency(current_user, current_user.agency_id, year)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "recertification/assessments.html",
        rows=rows,
        year=year,
        own=own,
        sections=self_assessments.sections(),
        may_answer=_is_officer(),
        answers_form=AnswersForm(),
        machine=SELF_ASSESSMENT,
    )


def _is_officer() -> bool:
    from portal.services import security_officers

    return security_officers.is_officer(current_user)


@bp.post("/self-assessment/")
@login_required
def save_answers():
    if not AnswersForm().validate_on_submit():
        flash("The form expired. Your answers were not saved; answer again.", "danger")
        return redirect(url_for("recertification.assessments"))
    raw = {key: value for key, value in request.form.items() if key != "csrf_token"}
    try:
        row = self_assessments.save(current_user, current_user.agency_id or 0, raw,
                                    request=request_info())  # fmt: skip
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("recertification.assessments"))
    missing = self_assessments.problems(row.answers)
    flash("Answers saved." + (" Sign below when ready." if not missing else ""), "success")
    return redirect(url_for("recertification.assessment", assessment_id=row.id))


@bp.get("/self-assessment/<int:assessment_id>")
@login_required
def assessment(assessment_id: int):
    try:
        row = self_assessments.get(current_user, assessment_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "recertification/assessment.html",
        row=row,
        sections=self_assessments.sections(),
        missing=self_assessments.problems(row.answers or {}),
        may_sign=row.state == "draft" and _is_officer() and current_user.agency_id == row.agency_id,
        needs_consent=current_user.esign_consent_at is None,
        form=SignAssessmentForm(),
        state_label=SELF_ASSESSMENT.state(row.state).label,
        **pictures.history_and_diagram(SELF_ASSESSMENT, assessment_id, row.state),
        machine=SELF_ASSESSMENT,
    )


@bp.post("/self-assessment/<int:assessment_id>/sign")
@login_required
def sign_assessment(assessment_id: int):
    form = SignAssessmentForm()
    back = redirect(url_for("recertification.assessment", assessment_id=assessment_id))
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(" ".join(errors), "danger")
        return back
    sig = self_assessments.Signature(form.password.data, form.intent.data, form.consent.data)
    try:
        self_assessments.sign(current_user, assessment_id, sig, request=request_info())
    except ServiceError as err:
        refuse(err)
    else:
        flash("The self-assessment is signed. Thank you.", "success")
    return back
