"""The lead agency's course pages: the courses, each one's settings and question bank, its
sessions, and scores recorded from tests taken elsewhere. Routes of the `training`
blueprint (added by `add_routes`, so the blueprint stays one, under /training)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.training import ButtonForm, CourseForm, QuestionForm, RecordScoreForm, SessionForm
from portal.services import training, training_admin, training_sessions
from portal.services.errors import ServiceError
from portal.services.training_admin import CourseSettings
from portal.views.common import refuse, request_info

SETTINGS = tuple(CourseSettings.__dataclass_fields__)


def add_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/courses", view_func=courses, methods=["GET"])
    bp.add_url_rule("/courses/new", view_func=new_course, methods=["GET", "POST"])
    bp.add_url_rule("/courses/<int:course_id>", view_func=course, methods=["GET"])
    bp.add_url_rule("/courses/<int:course_id>/edit", view_func=edit_course, methods=["GET", "POST"])
    bp.add_url_rule("/courses/<int:course_id>/questions", view_func=add_question, methods=["POST"])
    bp.add_url_rule(
        "/questions/<int:question_id>/retire", view_func=retire_question, methods=["POST"]
    )
    bp.add_url_rule(
        "/courses/<int:course_id>/sessions/new", view_func=schedule, methods=["GET", "POST"]
    )
    bp.add_url_rule("/courses/<int:course_id>/record", view_func=record_score, methods=["POST"])


def _course_form(**kwargs) -> CourseForm:
    form = CourseForm(**kwargs)
    form.hmis_role.choices = [("", "None (for every role)")] + list(
        training_admin.hmis_roles().items()
    )
    return form


def _settings(form: CourseForm) -> CourseSettings:
    return CourseSettings(**{name: getattr(form, name).data for name in SETTINGS})


@login_required
def courses():
    try:
        rows = training_admin.courses(current_user)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    return render_template(
        "training/courses.html", courses=rows, admin=current_user.role == "ssf_admin"
    )


@login_required
def new_course():
    try:
        training_admin.require_admin(current_user)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    defaults = training_admin.defaults()
    form = _course_form(data={name: getattr(defaults, name) for name in SETTINGS})
    if form.validate_on_submit():
        try:
            row = training_admin.create_course(
                current_user, _settings(form), request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(f"Added {row.title}. Now add its questions.", "success")
            return redirect(url_for("training.course", course_id=row.id))
    return render_template("training/course_form.html", form=form, course=None)


def _course_page(row, *, question_form=None, record_form=None, status=200):
    return (
        render_template(
            "training/course.html",
            course=row,
            roles=training_admin.hmis_roles(),
            sessions=training_sessions.of_course(row.id),
            question_form=question_form or QuestionForm(formdata=None),
            record_form=record_form or RecordScoreForm(formdata=None),
            form=ButtonForm(),
            admin=current_user.role == "ssf_admin",
            modes=training_sessions.MODES,
        ),
        status,
    )


@login_required
def course(course_id: int):
    try:
        row = training_admin.course(current_user, course_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    return _course_page(row)


@login_required
def edit_course(course_id: int):
    try:
        training_admin.require_admin(current_user)
        row = training_admin.course(current_user, course_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    form = _course_form(obj=row)
    if form.validate_on_submit():
        try:
            training_admin.update_course(
                current_user, course_id, _settings(form), request=request_info()
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Course saved.", "success")
            return redirect(url_for("training.course", course_id=course_id))
    return render_template("training/course_form.html", form=form, course=row)


@login_required
def add_question(course_id: int):
    try:
        row = training_admin.course(current_user, course_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    form = QuestionForm()
    if form.validate_on_submit():
        try:
            training_admin.add_question(
                current_user,
                course_id,
                text=form.text.data,
                choices=form.choices(),
                correct=int(form.correct.data) - 1,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Question added.", "success")
            return redirect(url_for("training.course", course_id=course_id) + "#bank")
    # Shown again with what was typed.
    return _course_page(row, question_form=form, status=400)


@login_required
def retire_question(question_id: int):
    if not ButtonForm().validate_on_submit():
        flash("The form expired. Try again.", "danger")
        return redirect(url_for("training.courses"))
    try:
        question = training_admin.retire_question(current_user, question_id, request=request_info())
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.courses"))
    flash("Question retired: new tests no longer draw it.", "info")
    return redirect(url_for("training.course", course_id=question.course_id) + "#bank")


@login_required
def schedule(course_id: int):
    try:
        training_admin.require_admin(current_user)
        row = training_admin.course(current_user, course_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    form = SessionForm()
    if form.validate_on_submit():
        try:
            session = training_sessions.schedule(
                current_user,
                course_id,
                day=form.day.data,
                at=form.at.data,
                minutes=form.minutes.data,
                mode=form.mode.data,
                location=form.location.data,
                capacity=form.capacity.data,
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash("Session scheduled.", "success")
            return redirect(url_for("training.session", session_id=session.id))
    return render_template("training/schedule.html", form=form, course=row)


@login_required
def record_score(course_id: int):
    try:
        row = training_admin.course(current_user, course_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("training.index"))
    form = RecordScoreForm()
    if form.validate_on_submit():
        try:
            person = training_admin.person_by_email(current_user, form.email.data)
            attempt = training.record_score(
                current_user,
                person.id,
                course_id,
                form.score.data,
                form.taken_on.data,
                form.note.data or "",
                request=request_info(),
            )
        except ServiceError as err:
            refuse(err)
        else:
            verdict = "passed" if attempt.passed else "not passed"
            flash(f"Recorded {person.name}'s score: {attempt.score} %, {verdict}.", "success")
            return redirect(url_for("training.course", course_id=course_id) + "#record")
    return _course_page(row, record_form=form, status=400)
