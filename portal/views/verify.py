from flask import Blueprint, render_template

from forms.verify import VerifyForm
from portal.documents import verdict
from portal.services import verification

bp = Blueprint("verify", __name__)


@bp.route("/verify", methods=["GET", "POST"])
def index():
    """Open to anyone: check a PDF's signatures and whether it is a document on record."""
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        data = form.pdf.data.read()
        result = verification.verify(data)
    # `verdicts` words each signature's row the same way `flask verify` does.
    return render_template("verify/index.html", form=form, result=result, verdicts=verdict)
