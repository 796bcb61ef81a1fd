from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from forms.agreements import TemplateForm
from portal.services import templates
from portal.services.access import require_role
from portal.services.errors import ServiceError
from portal.views.common import refuse, request_info

bp = Blueprint("templates", __name__, url_prefix="/templates")


@bp.get("/")
@login_required
def index():
    try:
        require_role(current_user, "ssf_admin", "ssf_signatory", "auditor")
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    versions = templates.all_versions()
    # The newest version of each kind is the one new documents use.
    current_ids = {
        kind: next((t.id for t in versions if t.kind == kind), None) for kind in templates.KINDS
    }
    return render_template(
        "templates_admin/index.html",
        versions=versions,
        kinds=templates.KINDS,
        current_ids=set(current_ids.values()),
        may_publish=templates.may_publish(current_user),
    )


@bp.get("/<int:template_id>")
@login_required
def show(template_id: int):
    try:
        require_role(current_user, "ssf_admin", "ssf_signatory", "auditor")
        template = templates.get(template_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    return render_template(
        "templates_admin/show.html", template=template, kind=templates.kind_label(template.kind)
    )


@bp.route("/new", methods=["GET", "POST"], defaults={"kind": templates.PARTNER_AGENCY})
@bp.route("/new/<kind>", methods=["GET", "POST"])
@login_required
def new(kind: str):
    if kind not in templates.KINDS:
        abort(404)
    form = TemplateForm()
    if not form.is_submitted():
        try:
            latest = templates.current(kind)
            form.body.data, form.title.data = latest.body, latest.title
            form.revised_date.data = latest.revised_date
        except ServiceError:
            pass
    if form.validate_on_submit():
        try:
            template = templates.publish(
                current_user,
                version=form.version.data,
                revised_date=form.revised_date.data,
                title=form.title.data,
                body=form.body.data,
                notes=form.notes.data or "",
                request=request_info(),
                kind=kind,
            )
        except ServiceError as err:
            refuse(err)
        else:
            flash(
                f"Published {templates.kind_label(kind)} version {template.version}. "
                "New documents of this kind use it.",
                "success",
            )
            return redirect(url_for("templates.index"))
    return render_template("templates_admin/new.html", form=form, kind=templates.kind_label(kind))
