"""SQLAlchemy models, by area. Importing this package registers every table."""

from portal.models.agencies import Agency, SignerDesignation
from portal.models.agreements import OPEN_STATES, Agreement, AgreementTemplate
from portal.models.audit import AuditEvent
from portal.models.cases import Transition
from portal.models.documents import Document, DocumentVersion
from portal.models.outbox import OutboxMessage
from portal.models.people import Invitation, SigningIdentity, User

__all__ = [
    "OPEN_STATES",
    "Agency",
    "Agreement",
    "AgreementTemplate",
    "AuditEvent",
    "Document",
    "DocumentVersion",
    "Invitation",
    "OutboxMessage",
    "SignerDesignation",
    "SigningIdentity",
    "Transition",
    "User",
]
