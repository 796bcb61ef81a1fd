"""How the engine puts people and steps into words: lists ("a, b or c"), verbs sharing their
object ("accept or reject the cure") and the "Waiting for …" line a case page shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def join_words(phrases: Iterable[str], word: str = "or") -> str:
    items = list(phrases)
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def join_verbs(verbs: Iterable[str]) -> str:
    """Verbs joined with "or", sharing what follows the first word when they can:
    "accept the cure", "reject the cure" → "accept or reject the cure"."""
    tails: dict[str, list[str]] = {}
    for verb in verbs:
        head, _, tail = verb.partition(" ")
        tails.setdefault(tail, []).append(head)
    return join_words(f"{join_words(heads)} {tail}".rstrip() for tail, heads in tails.items())


def waiting_line(waited: Mapping[str, list[str]]) -> str | None:
    """One line naming who the case waits for, and to do what, from their verbs keyed by who
    (in the order to name them), e.g. "Waiting for the party that gave the notice to accept
    or reject the cure."; None when it waits for nobody."""
    if not waited:
        return None
    parts = [f"{who} to {join_verbs(verbs)}" for who, verbs in waited.items()]
    if len(parts) > 1:
        return f"Waiting for {', for '.join(parts[:-1])}, or for {parts[-1]}."
    return f"Waiting for {parts[0]}."
