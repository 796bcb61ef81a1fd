"""Asking for the agency's signature on an agreement (see `agency_signers`): the rule
`agreement_signature` on the agreement's "sent" state."""

from __future__ import annotations

from portal.services.agency_signers import AgencySigners
from workflows.agreement import AGREEMENT

SIGNERS = AgencySigners(
    AGREEMENT,
    noun="agreement",
    title=lambda agreement: (
        f"the HMIS Partner Agency Agreement {agreement.reference} for {agreement.agency.legal_name}"
    ),
    subject=lambda agreement: (
        f"Please sign the HMIS Partner Agency Agreement {agreement.reference}"
    ),
    path=lambda agreement: f"/agreements/{agreement.id}",
)
ask, ask_to_sign, remind, expire = SIGNERS.ask, SIGNERS.ask_to_sign, SIGNERS.remind, SIGNERS.expire
