"""A case page's history and its picture: the machine drawn with the current state marked
and the steps the case's history took highlighted."""

from __future__ import annotations

from typing import Any

from portal.services import cases
from workflows.diagram import render_svg
from workflows.engine import Machine


def history_and_diagram(machine: Machine, case_id: int, state: str) -> dict[str, Any]:
    """`history` and `diagram` for a case page's template."""
    history = cases.history(machine.name, case_id)
    path = [(t.source, t.target) for t in history]
    return {"history": history, "diagram": render_svg(machine, state, path=path)}
