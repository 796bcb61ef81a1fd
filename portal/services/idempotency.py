"""API writes taken with an Idempotency-Key: a retry gets the first answer, never a second act.

The key is claimed (a row with status 0, "in progress") and committed before the write acts,
so the unique (user_id, key) constraint decides between two concurrent requests: one acts,
the other is told the key is in progress (or, once the first has finished, gets its answer).
The services commit their own unit of work, so the answer is written just after the act; if
the process died between the two, the key stays "in progress" and is never acted on again.
A refusal changes nothing, so it is not remembered: the claim is dropped and a retry is
judged afresh.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.extensions import db
from portal.models import User
from portal.models.integrations import IdempotentRequest
from portal.services.errors import Conflict, ServiceError

KEY_LEN = 200
IN_PROGRESS = 0  # the status of a claimed key whose write has not answered yet


@dataclass(frozen=True)
class Answer:
    status: int
    body: str


class KeyReused(ServiceError):
    """The key was used for another request: its first answer would be misleading here."""

    status = 422


class InProgress(Conflict):
    pass


def fingerprint(method: str, path: str, body: Any) -> str:
    """What "the same request" means: the method, the path and the JSON body's content
    (the order of its keys and its spacing do not matter)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(f"{method}\n{path}\n{canonical}".encode()).hexdigest()


def _row(user: User, key: str) -> IdempotentRequest | None:
    query = select(IdempotentRequest).where(
        IdempotentRequest.user_id == user.id, IdempotentRequest.key == key
    )
    return db.session.scalar(query.execution_options(populate_existing=True))


def _judge(row: IdempotentRequest, request_sha256: str) -> Answer:
    if row.request_sha256 != request_sha256:
        raise KeyReused(
            "This Idempotency-Key was already used for another request (a different path or "
            "body). Use a new key for a new request."
        )
    if row.status == IN_PROGRESS:
        raise InProgress(
            "A request with this Idempotency-Key is still in progress. Retry in a moment."
        )
    return Answer(row.status, row.body)


def claim(user: User, key: str, *, method: str, path: str, request_sha256: str) -> Answer | None:
    """None: this request holds the key and must act, then `remember` or `release`.
    Otherwise the stored answer to give again; KeyReused or InProgress if neither fits."""
    row = _row(user, key)
    if row is not None:
        return _judge(row, request_sha256)
    db.session.add(
        IdempotentRequest(
            user_id=user.id,
            key=key,
            method=method,
            path=path[:300],
            request_sha256=request_sha256,
            status=IN_PROGRESS,
            body="",
            created_at=clock.now(),
        )
    )
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another request claimed the key between our read and write
        row = _row(user, key)
        if row is None:  # and released it again: tell the caller to retry, never act twice
            raise InProgress(
                "A request with this Idempotency-Key was being handled. Retry in a moment."
            ) from None
        return _judge(row, request_sha256)
    return None


def remember(user: User, key: str, answer: Answer) -> None:
    db.session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.user_id == user.id, IdempotentRequest.key == key)
        .values(status=answer.status, body=answer.body)
    )
    db.session.commit()


def release(user: User, key: str) -> None:
    """Drops a claim whose write was refused or failed (nothing was changed)."""
    db.session.rollback()
    db.session.execute(
        delete(IdempotentRequest).where(
            IdempotentRequest.user_id == user.id,
            IdempotentRequest.key == key,
            IdempotentRequest.status == IN_PROGRESS,
        )
    )
    db.session.commit()
