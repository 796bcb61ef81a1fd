"""SQLAlchemy models, by area. Importing this package registers every table."""

from portal.models.agencies import Agency, SignerDesignation
from portal.models.agreements import OPEN_STATES, PENDING_STATES, Agreement, AgreementTemplate
from portal.models.amendments import Amendment
from portal.models.audit import AuditEvent
from portal.models.calendar import CalendarFeed
from portal.models.campaigns import Campaign
from portal.models.cases import Transition
from portal.models.deadlines import Deadline, Holiday
from portal.models.documents import Document, DocumentVersion
from portal.models.integrations import (
    ApiToken,
    IdempotentRequest,
    WebhookDelivery,
    WebhookEndpoint,
)
from portal.models.jobs import JobRun
from portal.models.onboarding import (
    AccessRequest,
    AwaitingReminder,
    Onboarding,
    ParticipationFee,
    SecurityOfficerDesignation,
)
from portal.models.outbox import OutboxMessage
from portal.models.people import CertificateRevocation, Invitation, SigningIdentity, User
from portal.models.programs import Program, Reallocation, SiteVisit, SiteVisitFinding
from portal.models.remedies import CureSubmission, DefaultNotice, Suspension, TerminationNotice
from portal.models.security import (
    HmisReconciliation,
    Recertification,
    RecoveryCode,
    SecurityAssessment,
    Separation,
    UserSession,
)
from portal.models.signature_requests import SignatureRequest
from portal.models.training import Course, Question, SessionSeat, TestAttempt, TrainingSession

__all__ = [
    "Amendment",
    "Campaign",
    "PENDING_STATES",
    "SignatureRequest",
    "ApiToken",
    "IdempotentRequest",
    "WebhookDelivery",
    "WebhookEndpoint",
    "CalendarFeed",
    "Program",
    "Reallocation",
    "SiteVisit",
    "SiteVisitFinding",
    "HmisReconciliation",
    "Recertification",
    "RecoveryCode",
    "SecurityAssessment",
    "Separation",
    "UserSession",
    "AccessRequest",
    "AwaitingReminder",
    "Course",
    "Onboarding",
    "ParticipationFee",
    "Question",
    "SecurityOfficerDesignation",
    "SessionSeat",
    "TestAttempt",
    "TrainingSession",
    "OPEN_STATES",
    "Agency",
    "Agreement",
    "AgreementTemplate",
    "AuditEvent",
    "CureSubmission",
    "Deadline",
    "DefaultNotice",
    "Holiday",
    "Suspension",
    "TerminationNotice",
    "Document",
    "DocumentVersion",
    "Invitation",
    "JobRun",
    "OutboxMessage",
    "SignerDesignation",
    "SigningIdentity",
    "CertificateRevocation",
    "Transition",
    "User",
]
