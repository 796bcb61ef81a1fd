"""Re-signing campaigns: the list, starting one (SSF's HMIS admin), and each campaign's
progress. The services decide who may see and do what; these views read forms and render."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.campaigns import CloseCampaignForm, NewCampaignForm
from portal.services import campaign_progress, campaigns, cases, templates
from portal.services.errors import ServiceError
from portal.views import pictures
from portal.views.common import refuse, request_info, version_of
from workflows.campaign import CAMPAIGN

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")


@bp.get("/")
@login_required
def index():
    try:
        rows = campaigns.list_for(current_user)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "campaigns/index.html",
        rows=rows,
        machine=CAMPAIGN,
        may_start=campaigns.may_manage(current_user),
    )


def _template_arg() -> int | None:
    raw = request.values.get("template_id", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 2**31 else None


def _new_page(form: NewCampaignForm, status: int = 200):
    try:
        template = campaigns.target_template(_template_arg())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("campaigns.index"))
    found = campaigns.candidates(template)
    eligible = [c for c in found if not c.skipped]
    if request.method == "GET":
        form.agency_ids.data = [c.agency.id for c in eligible]  # all checked by default
        form.due_on.data = campaigns.default_due_on()
    form.template_id.data = str(template.id)
    return render_template(
        "campaigns/new.html",
        form=form,
        template=template,
        versions=templates.all_versions(templates.PARTNER_AGENCY),
        eligible=eligible,
        skipped=[c for c in found if c.skipped],
        checked=set(form.agency_ids.data or []),
    ), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if not campaigns.may_manage(current_user):
        refuse(ServiceError(campaigns.ADMIN_ONLY))
        return redirect(url_for("campaigns.index"))
    form = NewCampaignForm()
    if request.method == "GET":
        return _new_page(form)
    if not form.validate_on_submit():
        return _new_page(form, 400)
    try:
        campaign = campaigns.start(
            current_user,
            template_id=_template_arg(),
            agency_ids=list(form.agency_ids.data or []),
            due_on=form.due_on.data,
            note=form.note.data or "",
            form_key=form.form_key.data,
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
        return _new_page(form, 400)
    if getattr(campaign, "already_given", False):
        flash(f"Campaign {campaign.reference} was already started by this form.", "info")
    else:
        sent = len(campaign.agreements)
        flash(f"Campaign {campaign.reference} started: {sent} agreements sent.", "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.get("/<int:campaign_id>")
@login_required
def show(campaign_id: int):
    try:
        campaign = campaigns.get(current_user, campaign_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("campaigns.index"))
    options = cases.options(CAMPAIGN, campaign, current_user, {})
    return render_template(
        "campaigns/show.html",
        campaign=campaign,
        machine=CAMPAIGN,
        progress=campaign_progress.progress(current_user, campaign),
        may_close=any(o.event == "close" and o.allowed for o in options),
        close_form=CloseCampaignForm(lock_version=campaign.lock_version),
        **pictures.history_and_diagram(CAMPAIGN, campaign.id, campaign.state),
    )


@bp.post("/<int:campaign_id>/close")
@login_required
def close(campaign_id: int):
    form = CloseCampaignForm()
    if not form.validate_on_submit():
        flash("Give a reason to close the campaign.", "danger")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    try:
        campaign = campaigns.close(
            current_user,
            campaign_id,
            reason=form.reason.data,
            request=request_info(),
            expected_version=version_of(form),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash(f"Campaign {campaign.reference} is closed.", "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.app_template_global("campaign_lineage")
def campaign_lineage(agreement):
    """For an agreement's page: what it replaces, or what superseded it (None for neither)."""
    return campaign_progress.lineage(agreement)
