"""A signer's link (`/sign/<secret>`) and the lead agency's follow-up buttons of a document
waiting for a signature: send a reminder now, send a new link."""

from flask import Blueprint, flash, redirect, render_template
from flask_login import current_user, login_required

from forms.onboarding import ButtonForm
from portal.services import refusals, signature_followup
from portal.services.errors import Forbidden, NotFound, ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("signature_requests", __name__)

# The secret stays out of the refusal log: the path is recorded without it.
_LOGGED_PATH = "/sign/…"


@bp.get("/sign/<token>")
@login_required
def follow(token: str):
    try:
        target = signature_followup.follow(current_user, token)
    except signature_followup.Unusable as err:
        return render_template("signature_requests/unusable.html", message=err.message), err.status
    except Forbidden as err:
        refusals.record(current_user, _LOGGED_PATH, err.message, request_info())
        return render_template("signature_requests/unusable.html", message=err.message), 403
    except NotFound:
        message = "This link leads to a document you cannot see."
        return render_template("signature_requests/unusable.html", message=message), 404
    return redirect(target)


@bp.post("/signature-requests/<case_type>/<int:case_id>/<any(remind, resend):action>")
@login_required
def follow_up(case_type: str, case_id: int, action: str):
    if not ButtonForm().validate_on_submit():
        flash("The form expired; reload the page and try again.", "danger")
    else:
        act = signature_followup.remind_now if action == "remind" else signature_followup.resend
        try:
            act(current_user, case_type, case_id, request_info())
        except ServiceError as err:
            refuse(err)
        else:
            done = (
                "Reminder sent: each signer still asked has their current link again."
                if action == "remind"
                else "A new link is on its way; the older one no longer works."
            )
            flash(done, "success")
    try:
        back = signature_followup.case_page(case_type, case_id)
    except NotFound:
        back = "/"
    return redirect(back)
