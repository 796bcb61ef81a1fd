from flask import Blueprint, Response, redirect, request, url_for
from flask_login import current_user, login_required

from portal.services import documents
from portal.services.errors import ServiceError
from portal.views.common import refuse

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/versions/<int:version_id>.pdf")
@login_required
def version_pdf(version_id: int):
    try:
        download = documents.download(current_user, version_id)
    except ServiceError as err:
        refuse(err)
        return redirect(request.referrer or url_for("home.index"))
    disposition = "attachment" if request.args.get("download") else "inline"
    response = Response(download.data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'{disposition}; filename="{download.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
