"""Training and tests: a person's own page, taking a test, its result, and sessions.

The lead agency's course pages are in `training_admin`, on this same blueprint.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from forms.training import ButtonForm, CancelForm, EnrolForm
from portal.services import training, training_overview, training_sessions
from portal.services.access import is_lead_staff
from portal.services.errors import ServiceError
from portal.views import training_admin
from portal.views.common import refuse, request_info

bp = Blueprint("training", __name__, url_prefix="/training")
training_admin.add_routes(bp)


@bp.get("/")
@login_required
def index():
    return render_template(
        "training/index.html",
        overview=training_overview.overview(current_user),
        form=ButtonForm(),
        modes=training_sessions.MODES,
        staff=is_lead_staff(current_user),
    )


@bp.post("/courses/<int:course_id>/start")
@login_required
def start(course_id: int):
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Try again.", "danger")
        return redirect(url_for("training.index"))
    try:
        attempt = training.start_attempt(current_user, course_id, request=request_info())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    return redirect(url_for("training.attempt", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    try:
        row, answered = training_overview.review(current_user, attempt_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    if training.is_open(row):
        return render_template(
            "training/test.html",
            attempt=row,
            questions=training.questions_of(row),
            form=ButtonForm(),
        )
    status = training_overview.course_status(current_user, row.course_id)
    return render_template(
        "training/result.html", attempt=row, answered=answered, status=status, form=ButtonForm()
    )


@bp.post("/attempts/<int:attempt_id>")
@login_required
def submit(attempt_id: int):
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Your answers were not saved; answer again.", "danger")
        return redirect(url_for("training.attempt", attempt_id=attempt_id))
    # Each question's radio buttons are named "q<question id>".
    answers = {key[1:]: value for key, value in request.form.items() if key.startswith("q")}
    try:
        row = training.submit_attempt(current_user, attempt_id, answers, request=request_info())
    except ServiceError as err:
        refuse(err)
    else:
        flash(
            f"Test passed: {row.score} %." if row.passed else f"Not passed: {row.score} %.",
            "success" if row.passed else "warning",
        )
    return redirect(url_for("training.attempt", attempt_id=attempt_id))


# -- sessions --------------------------------------------------------------------------


def _enrol_form() -> EnrolForm:
    form = EnrolForm()
    people = training_sessions.enrollable_people(current_user)
    form.person.choices = [("", f"Myself ({current_user.name})")] + [
        (str(p.id), f"{p.name} ({p.email})") for p in people if p.id != current_user.id
    ]
    return form


@bp.get("/sessions/<int:session_id>")
@login_required
def session(session_id: int):
    try:
        row = training_sessions.get(current_user, session_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    seats = training_sessions.visible_seats(current_user, row)
    return render_template(
        "training/session.html",
        session=row,
        seats=seats,
        mine=next((s for s in seats if s.user_id == current_user.id), None),
        taken=training_sessions.taken(row),
        is_open=training_sessions.is_open(row),
        modes=training_sessions.MODES,
        enrol_form=_enrol_form(),
        form=ButtonForm(),
        cancel_form=CancelForm(),
        admin=current_user.role == "ssf_admin",
    )


@bp.post("/sessions/<int:session_id>/enrol")
@login_required
def enrol(session_id: int):
    form = _enrol_form()
    if form.validate_on_submit():
        chosen = form.person.data
        try:
            seat = training_sessions.enrol(
                current_user,
                session_id,
                user_id=int(chosen) if chosen else None,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"{seat.user.name} is enrolled.", "success")
    else:
        flash("Choose whom to enrol.", "danger")
    return redirect(url_for("training.session", session_id=session_id))


@bp.post("/seats/<int:seat_id>/withdraw")
@login_required
def withdraw(seat_id: int):
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Try again.", "danger")
        return redirect(url_for("training.index"))
    try:
        row = training_sessions.withdraw(current_user, seat_id, request=request_info())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    flash("The seat was given back.", "info")
    return redirect(url_for("training.session", session_id=row.id))


@bp.post("/sessions/<int:session_id>/attendance")
@login_required
def attendance(session_id: int):
    if ButtonForm().validate_on_submit():
        # Each seat's radio buttons are named "seat-<seat id>": "yes", "no" or "" (not yet).
        marks = {
            int(key[5:]): {"yes": True, "no": False}.get(value)
            for key, value in request.form.items()
            if key.startswith("seat-") and key[5:].isdigit() and len(key) < 20
        }
        try:
            training_sessions.record_attendance(
                current_user, session_id, marks, request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Attendance recorded.", "success")
    return redirect(url_for("training.session", session_id=session_id))


@bp.post("/sessions/<int:session_id>/cancel")
@login_required
def cancel(session_id: int):
    form = CancelForm()
    if not form.validate_on_submit():
        flash("Give a reason.", "danger")
        return redirect(url_for("training.session", session_id=session_id))
    try:
        training_sessions.cancel(
            current_user, session_id, reason=form.reason.data, request=request_info()
        )
    except ServiceError as err:
        refuse(err)
    else:
        flash("Session cancelled; everyone enrolled was e-mailed.", "info")
    return redirect(url_for("training.session", session_id=session_id))
