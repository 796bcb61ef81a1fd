"""Program reallocations (VIII.B.7): open one, record and confirm the hand-over of the
forms, sign its receipt."""

from __future__ import annotations

from io import BytesIO

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_login import current_user, login_required

from forms.programs import (
    CancelForm,
    DeliveryForm,
    ReallocateForm,
    ReceiptForm,
    ReceiptSignForm,
)
from portal.services import reallocation_receipt, reallocations
from portal.services.errors import ServiceError
from portal.services.next_steps import for_case
from portal.views import pictures
from portal.views.common import refuse, request_info
from workflows.reallocation import REALLOCATION

bp = Blueprint("reallocations", __name__)


@bp.get("/reallocations/")
@login_required
def index():
    return render_template("reallocations/index.html", rows=reallocations.list_for(current_user))


@bp.post("/programs/<int:program_id>/reallocate")
@login_required
def open_(program_id: int):
    form = ReallocateForm()
    form.acquiring_agency.choices = reallocations.acquiring_choices(current_user, 0)
    form.acquiring_agency.validate_choice = False  # the service checks the agency
    if form.validate_on_submit():
        try:
            row = reallocations.open_(
                current_user,
                program_id,
                acquiring_agency_id=form.acquiring_agency.data,
                reason=form.reason.data or "",
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"The program was reallocated; the hand-over {row.reference} is open.", "success")
            return redirect(url_for("reallocations.show", reallocation_id=row.id))
    else:
        flash("Choose the agency that acquires the program.", "danger")
    return redirect(url_for("programs.show", program_id=program_id))


@bp.get("/reallocations/<int:reallocation_id>")
@login_required
def show(reallocation_id: int):
    try:
        row = reallocations.get(current_user, reallocation_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    ctx = reallocations.context(row, current_user)
    needs_consent = current_user.esign_consent_at is None
    ctx["esign_consent"] = True  # consent is given on the signing form itself
    delivery = DeliveryForm()
    delivery.method.choices = list(reallocations.METHODS.items())
    return render_template(
        "reallocations/show.html",
        row=row,
        machine=REALLOCATION,
        steps=for_case(REALLOCATION, row, current_user, ctx),
        methods=reallocations.METHODS,
        delivery=delivery,
        receipt=ReceiptForm(),
        sign=ReceiptSignForm(),
        cancel=CancelForm(),
        needs_consent=needs_consent,
        **pictures.history_and_diagram(REALLOCATION, row.id, row.state),
    )


def _back(reallocation_id: int):
    return redirect(url_for("reallocations.show", reallocation_id=reallocation_id))


@bp.post("/reallocations/<int:reallocation_id>/delivery")
@login_required
def delivery(reallocation_id: int):
    form = DeliveryForm()
    form.method.choices = list(reallocations.METHODS.items())
    if not form.validate_on_submit():
        flash("Give the number of forms, how and when they were delivered.", "danger")
        return _back(reallocation_id)
    upload = form.attachment.data
    data = upload.read() if upload else b""
    try:
        reallocations.record_delivery(
            current_user,
            reallocation_id,
            reallocations.Delivery(
                count=form.count.data,
                method=form.method.data,
                delivered_on=form.delivered_on.data,
                note=form.note.data or "",
                filename=(upload.filename or "") if upload else "",
                data=data,
            ),
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("The delivery is recorded; the acquiring agency confirms receipt next.", "success")
    return _back(reallocation_id)


@bp.post("/reallocations/<int:reallocation_id>/receipt")
@login_required
def confirm(reallocation_id: int):
    if ReceiptForm().validate_on_submit():
        try:
            reallocation_receipt.confirm_receipt(
                current_user, reallocation_id, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Receipt confirmed; the receipt is ready to sign.", "success")
    return _back(reallocation_id)


@bp.post("/reallocations/<int:reallocation_id>/sign")
@login_required
def sign(reallocation_id: int):
    form = ReceiptSignForm()
    if not form.validate_on_submit():
        flash("Confirm that you intend to sign, and re-enter your password.", "danger")
        return _back(reallocation_id)
    try:
        reallocation_receipt.sign(
            current_user,
            reallocation_id,
            password=form.password.data,
            intent=form.intent.data,
            consent=form.consent.data,
            request=request_info(),
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("You signed the hand-over receipt.", "success")
    return _back(reallocation_id)


@bp.post("/reallocations/<int:reallocation_id>/cancel")
@login_required
def cancel(reallocation_id: int):
    form = CancelForm()
    if form.validate_on_submit():
        try:
            reallocations.cancel(
                current_user, reallocation_id, reason=form.reason.data, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The reallocation was cancelled.", "success")
    else:
        flash("Say why the reallocation is cancelled.", "danger")
    return _back(reallocation_id)


@bp.get("/reallocations/<int:reallocation_id>/receipt.pdf")
@login_required
def receipt_pdf(reallocation_id: int):
    try:
        data, name = reallocation_receipt.receipt(current_user, reallocation_id)
    except ServiceError as err:
        refuse(err)
        return _back(reallocation_id)
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name)


@bp.get("/reallocations/<int:reallocation_id>/attachment.pdf")
@login_required
def attachment(reallocation_id: int):
    try:
        data, name = reallocations.read_attachment(current_user, reallocation_id)
    except ServiceError as err:
        refuse(err)
        return _back(reallocation_id)
    return send_file(
        BytesIO(data), mimetype="application/pdf", download_name=name, as_attachment=True
    )
