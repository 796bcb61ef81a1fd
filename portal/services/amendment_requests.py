"""Asking for the agency's signature on an amendment (see `agency_signers`): the rule
`amendment_signature` on the amendment's "sent" state."""

from __future__ import annotations

from portal.services.agency_signers import AgencySigners
from workflows.amendment import AMENDMENT

SIGNERS = AgencySigners(
    AMENDMENT,
    noun="amendment",
    title=lambda amendment: (
        f"the amendment {amendment.reference} to the HMIS Partner Agency "
        f"Agreement {amendment.agreement.reference} of {amendment.agency.legal_name} (it "
        f"changes: {amendment.sections})"
    ),
    subject=lambda amendment: f"Please sign the amendment {amendment.reference}",
    path=lambda amendment: f"/amendments/{amendment.id}",
)
ask, ask_to_sign, remind, expire = SIGNERS.ask, SIGNERS.ask_to_sign, SIGNERS.remind, SIGNERS.expire
page = SIGNERS.page
