"""Webhook endpoints and their deliveries, for the lead agency's HMIS admins. The service
checks who may; these views only read the form and show the outcome."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.agreements import ActionForm
from portal.services import webhooks
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


def _expired() -> None:
    flash("The form had expired; try again.", "danger")


@bp.get("/")
@login_required
def index():
    try:
        endpoints = webhooks.endpoints(current_user)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "webhooks/index.html",
        endpoints=endpoints,
        events=webhooks.EVENTS,
        form=ActionForm(),
        chosen=[],
        secret=None,
        created=None,
    )


@bp.post("/")
@login_required
def create():
    form = ActionForm()
    url = request.form.get("url", "")
    description = request.form.get("description", "")
    chosen = request.form.getlist("events")
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("webhooks.index"))
    try:
        endpoint, secret = webhooks.create(
            current_user,
            url=url,
            description=description,
            events=chosen,
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
        if not webhooks.may_manage(current_user):
            return redirect(url_for("home.index"))
        return render_template(
            "webhooks/index.html",
            endpoints=webhooks.endpoints(current_user),
            events=webhooks.EVENTS,
            form=form,
            chosen=chosen,
            url=url,
            description=description,
            secret=None,
            created=None,
        ), 400
    # The secret is shown on this answer only; it is never readable again.
    return render_template(
        "webhooks/index.html",
        endpoints=webhooks.endpoints(current_user),
        events=webhooks.EVENTS,
        form=ActionForm(formdata=None),
        chosen=[],
        secret=secret,
        created=endpoint,
    )


@bp.post("/<int:endpoint_id>/active")
@login_required
def set_active(endpoint_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("webhooks.index"))
    active = request.form.get("active") == "1"
    try:
        endpoint = webhooks.set_active(current_user, endpoint_id, active, request=request_info())
    except ServiceError as err:
        refuse(err)
    else:
        state = "active again" if active else "deactivated: it gets no new events"
        flash(f"{endpoint.url} is {state}.", "success")
    return redirect(url_for("webhooks.index"))


@bp.post("/<int:endpoint_id>/delete")
@login_required
def delete(endpoint_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        _expired()
        return redirect(url_for("webhooks.index"))
    try:
        webhooks.delete_endpoint(current_user, endpoint_id, request=request_info())
    except ServiceError as err:
        refuse(err)
    else:
        flash("The endpoint and its deliveries were deleted.", "success")
    return redirect(url_for("webhooks.index"))


@bp.get("/deliveries")
@login_required
def deliveries():
    failed_only = request.args.get("show") != "recent"
    try:
        rows = webhooks.deliveries(current_user, failed_only=failed_only)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "webhooks/deliveries.html", rows=rows, failed_only=failed_only, form=ActionForm()
    )


@bp.post("/deliveries/<int:delivery_id>/send-again")
@login_required
def send_again(delivery_id: int):
    form = ActionForm()
    if not form.validate_on_submit():
        _expired()
    else:
        try:
            row = webhooks.send_again(current_user, delivery_id, request=request_info())
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Delivery {row.id} ({row.event}) will be sent again within seconds.", "success")
    return redirect(url_for("webhooks.deliveries"))
