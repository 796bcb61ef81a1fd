"""One-time form keys: a form that gives something (a signed notice) acts once, however
often it is sent.

The form gets a random key when it is rendered and sends it back as a hidden field. The
service records the key on what it made, under a unique constraint. A second submission of
the same form — a double click, a reload, the back button, two tabs — finds what the first
made and returns it: nothing is signed, stored or mailed again. When both submissions run
at once, the database lets only one insert the key; the other's transaction rolls back
whole (files it already stored are orphans the storage sweep removes), and it then returns
what the winner made.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, cast

from portal.services.errors import ServiceError

P = ParamSpec("P")
T = TypeVar("T")

MISSING = (
    "This form is from a page opened before an update, so it cannot be sent. "
    "Reload the page and fill it in again; nothing was given or signed."
)
USED = (
    "This form was already used for something else. "
    "Reload the page and fill it in again; nothing was given or signed."
)
# What new_key makes, with room to spare; anything else did not come from our form.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_key() -> str:
    """A key for one rendering of a form: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(24)


def clean(key: str | None) -> str:
    """The key as sent, or the request to reload when it is missing or malformed."""
    key = (key or "").strip()
    if not _SHAPE.fullmatch(key):
        raise ServiceError(MISSING)
    return key


def once(
    key: str | None,
    find: Callable[[str], T | None],
    act: Callable[[str | None], T],
) -> T:
    """Runs `act(key)` unless `find(key)` finds what an earlier submission of the same form
    made, and then returns that, marked `already_given`. `act` runs its own unit of work and
    records the key under a unique constraint. `key=None` is a caller without a form (the
    demo, a script): it acts every time. `find` raises when the key is someone else's."""
    if key is None:
        return act(None)
    key = clean(key)
    earlier = find(key)
    if earlier is not None:
        return _again(earlier)
    try:
        return act(key)
    except ServiceError:
        # The same form, sent at the same time, got there first: its insert of the key won
        # (ours failed on the constraint, or, once it had committed, on a rule such as "one
        # running notice"). Ours rolled back whole; the first one's is the answer.
        earlier = find(key)
        if earlier is None:
            raise
        return _again(earlier)


def one_per_key(
    find: Callable[[Any, int, str], T | None],
) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """Makes a service `act(user, record_id, ..., form_key=None)` run `once` per form key;
    `find(user, record_id, key)` is what an earlier submission with that key made, if any."""

    def wrap(act: Callable[P, T]) -> Callable[P, T]:
        @functools.wraps(act)
        def run(user: Any, record_id: int, /, *args: Any, **kwargs: Any) -> T:
            return once(
                kwargs.pop("form_key", None),
                lambda key: find(user, record_id, key),
                lambda key: act(user, record_id, *args, form_key=key, **kwargs),  # type: ignore[arg-type]
            )

        return cast(Callable[P, T], run)

    return wrap


def _again(made: T) -> T:
    made.already_given = True  # type: ignore[attr-defined]  # the models' flag, not stored
    return made
