"""Every person's home: what awaits them across all processes, and where to go next."""

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from portal.services import agreements, awaiting, onboarding
from portal.services.access import is_lead_staff
from workflows.agreement import AGREEMENT

bp = Blueprint("home", __name__)

# The lead agency's staff also follow the agreements that wait on others (an agency to
# sign, the signatory to countersign), beside what waits on them.
_FOLLOWED = ("agency_signed", "sent")


@bp.get("/")
@login_required
def index():
    followed = []
    if is_lead_staff(current_user):
        followed = [
            (AGREEMENT.state(state), agreements.list_for(current_user, state=state, per_page=10))
            for state in _FOLLOWED
        ]
    return render_template(
        "home.html",
        items=awaiting.shown(awaiting.for_person(current_user)),
        followed=followed,
        agency=None if is_lead_staff(current_user) else current_user.agency,
        mine=onboarding.open_of(current_user),
    )
