from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from portal.services import agreements
from portal.services.access import is_lead_staff
from workflows.agreement import AGREEMENT

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    if not is_lead_staff(current_user):
        return redirect(url_for("agencies.show", agency_id=current_user.agency_id))
    waiting, sent = "agency_signed", "sent"
    return render_template(
        "home.html",
        waiting=agreements.list_for(current_user, state=waiting, per_page=10),
        waiting_state=AGREEMENT.state(waiting),
        sent=agreements.list_for(current_user, state=sent, per_page=10),
        sent_state=AGREEMENT.state(sent),
    )
