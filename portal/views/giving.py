"""The page that gives a notice on an agreement, shared by both kinds of notice.

Each kind's view says what differs (its form, the service call, its template and period
rule, its own page); this does the rest: the agreement (404 for others), the signed
submission, and the page again with why this person may not give the notice, if so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from portal import clock
from portal.models import Agreement
from portal.services import agreements, deadlines, notice_steps
from portal.services.errors import ServiceError
from portal.views.common import refuse


def give_page(
    agreement_id: int,
    *,
    what: str,
    title: str,
    form: Callable[[Agreement], tuple[Any, dict[str, Any]]],
    give: Callable[[Any], Any],
    template: str,
    rule: str,
    shown: str,
):
    """`what` names the notice in refusals ("A notice of default"), `title` in the message
    after giving; `form(agreement)` gives the form and anything else its template needs;
    `give(form)` gives the notice through its service, with the form's one-time key (a form
    sent twice lands on the one notice it gave); `shown` is the endpoint of its page."""
    try:
        agreement = agreements.get(current_user, agreement_id)
    except ServiceError as err:
        refuse(err)
        return redirect(url_for("home.index"))
    the_form, extra = form(agreement)
    if the_form.validate_on_submit():
        try:
            notice = give(the_form)
        except ServiceError as err:
            refuse(err)
        else:
            if notice.already_given:  # the same form sent again: its notice, nothing more
                flash(
                    f"{title} {notice.reference} was already given with this form; "
                    "nothing was signed or sent again.",
                    "info",
                )
            else:
                flash(f"{title} {notice.reference} given and signed.", "success")
            return redirect(url_for(shown, notice_id=notice.id))
    return render_template(
        template,
        agreement=agreement,
        form=the_form,
        refusal=notice_steps.refusal_to_give(current_user, agreement, what),
        # The period if the notice were given now (the service computes it again on giving).
        period=deadlines.compute(clock.now(), deadlines.rule(rule)),
        **extra,
    )
