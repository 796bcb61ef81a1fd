from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.agencies import AgencyForm, DesignateForm
from forms.agreements import ActionForm
from portal.services import agencies, agency_access, agreements
from portal.services.errors import ServiceError
from portal.views.common import cursor_args, refuse, request_info
from portal.views.remedies import suspensions_of

bp = Blueprint("agencies", __name__, url_prefix="/agencies")


@bp.get("/")
@login_required
def index():
    page = agencies.list_agencies(current_user, **cursor_args())
    return render_template(
        "agencies/index.html",
        page=page,
        refusal_to_partner=agencies.refusal_to_partner,
        may_register=agencies.may_register(current_user),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    form = AgencyForm()
    if form.validate_on_submit():
        try:
            agency = agencies.register(
                current_user,
                legal_name=form.legal_name.data,
                address=form.address.data,
                vawa_provider=form.vawa_provider.data,
                executive_director=agencies.Contact(
                    form.ed_name.data, form.ed_title.data, form.ed_email.data
                ),
                security_officer=agencies.Contact(
                    form.so_name.data, form.so_title.data, form.so_email.data
                ),
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Registered {agency.legal_name}.", "success")
            return redirect(url_for("agencies.show", agency_id=agency.id))
    return render_template("agencies/new.html", form=form, vawa_reason=agencies.VAWA_REASON)


@bp.get("/<int:agency_id>")
@login_required
def show(agency_id: int):
    try:
        agency = agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "agencies/show.html",
        agency=agency,
        agreements=agreements.for_agency(current_user, agency_id, **cursor_args()),
        designation=agencies.designated_signer(agency),
        ineligible=agencies.refusal_to_partner(agency.vawa_provider),
        may_start=agreements.refusal_to_start(current_user, agency) is None,
        may_designate=agencies.may_designate(current_user),
        start_form=ActionForm(),
        suspended=suspensions_of(agency),
        access=agency_access.of_agency(current_user, agency),
    )


@bp.route("/<int:agency_id>/designate", methods=["GET", "POST"])
@login_required
def designate(agency_id: int):
    try:
        agency = agencies.get(current_user, agency_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    form = DesignateForm()
    if form.validate_on_submit():
        try:
            agencies.designate_signer(
                current_user,
                agency_id,
                agencies.Contact(form.name.data, form.title.data, form.email.data),
                form.reason.data,
                request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("The representative may now sign for the agency.", "success")
            return redirect(url_for("agencies.show", agency_id=agency_id))
    return render_template("agencies/designate.html", form=form, agency=agency)
