"""Site visits (IV.B.8): schedule, record findings, close; a notice of default from a
finding."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.programs import FindingForm, FindingNoticeForm, VisitForm, VisitStepForm
from portal.services import agencies, default_notices, site_visits
from portal.services.errors import ServiceError
from portal.services.next_steps import for_case
from portal.services.timefmt import lead_tz
from portal.views import pictures
from portal.views.common import refuse, request_info
from workflows.site_visit import SITE_VISIT

bp = Blueprint("site_visits", __name__)


def _aware(value: datetime | None) -> datetime | None:
    """A time entered on the page is the lead agency's local time."""
    return value.replace(tzinfo=lead_tz()) if value is not None else None


@bp.route("/agencies/<int:agency_id>/site-visits/new", methods=["GET", "POST"])
@login_required
def new(agency_id: int):
    try:
        agency = agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = VisitForm()
    if form.validate_on_submit():
        try:
            row = site_visits.schedule(
                current_user,
                agency_id,
                visit_at=_aware(form.visit_at.data),
                visitors=form.visitors.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"The site visit {row.reference} is scheduled.", "success")
            return redirect(url_for("site_visits.show", visit_id=row.id))
    elif request.method == "POST":
        flash("Give the date and time of the visit, and who visits.", "danger")
    return render_template("site_visits/new.html", form=form, agency=agency)


@bp.get("/site-visits/<int:visit_id>")
@login_required
def show(visit_id: int):
    try:
        row = site_visits.get(current_user, visit_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "site_visits/show.html",
        row=row,
        machine=SITE_VISIT,
        steps=for_case(SITE_VISIT, row, current_user, {}),
        finding_form=FindingForm(),
        step_form=VisitStepForm(),
        kinds=site_visits.KINDS,
        may_give=current_user.role == "ssf_signatory"
        and site_visits.notice_agreement(row) is not None,
        **pictures.history_and_diagram(SITE_VISIT, row.id, row.state),
    )


def _back(visit_id: int):
    return redirect(url_for("site_visits.show", visit_id=visit_id))


@bp.post("/site-visits/<int:visit_id>/findings")
@login_required
def add_finding(visit_id: int):
    form = FindingForm()
    if form.validate_on_submit():
        try:
            site_visits.add_finding(
                current_user,
                visit_id,
                kind=form.kind.data,
                text=form.text.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The finding is recorded.", "success")
    else:
        flash("Say what was found.", "danger")
    return _back(visit_id)


@bp.post("/site-visits/<int:visit_id>/<any(record_visit, close, cancel):event>")
@login_required
def step(visit_id: int, event: str):
    form = VisitStepForm()
    if form.validate_on_submit():
        try:
            site_visits.step(
                current_user, visit_id, event, reason=form.reason.data or "", request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Done: {SITE_VISIT.event(event).label.lower()}.", "success")
    return _back(visit_id)


@bp.route("/site-visits/<int:visit_id>/findings/<int:finding_id>/notice", methods=["GET", "POST"])
@login_required
def notice(visit_id: int, finding_id: int):
    """A notice of default from a finding: the notices' own service, the finding's words."""
    try:
        finding = site_visits.finding_of(current_user, visit_id, finding_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    agreement = site_visits.notice_agreement(finding.visit)
    form = FindingNoticeForm()
    provisions = default_notices.provisions_of(agreement) if agreement else []
    form.provisions.choices = provisions
    if request.method == "GET":
        form.description.data = f"Found at the site visit {finding.visit.reference}: {finding.text}"
        form.provisions.data = [c for c, _ in provisions if c == "IV.B.8"]
    if form.validate_on_submit():
        try:
            given = site_visits.give_notice(
                current_user,
                visit_id,
                finding_id,
                provisions=form.provisions.data,
                description=form.description.data,
                cure_required=form.cure_required.data,
                password=form.password.data,
                intent=form.intent.data,
                consent=form.consent.data,
                request=request_info(),
                form_key=form.form_key.data,
            )
        except ServiceError as err:
            refuse(err)
        else:
            if given.already_given:  # the same form sent again: its notice, nothing more
                flash(
                    f"The notice of default {given.reference} was already given with this "
                    "form; nothing was signed or sent again.",
                    "info",
                )
            else:
                flash(f"The notice of default {given.reference} was given.", "success")
            return redirect(url_for("default_notices.show", notice_id=given.id))
    elif request.method == "POST":
        flash("Choose the provisions, describe the default and what would cure it.", "danger")
    return render_template(
        "site_visits/notice.html",
        form=form,
        finding=finding,
        agreement=agreement,
        needs_consent=current_user.esign_consent_at is None,
    )
