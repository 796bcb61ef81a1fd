"""Draws a machine as a small, self-contained, accessible SVG (no external tools).

Where each box, arrow and label goes is workflows/diagram_layout.py's; this module draws
them. The current state is marked by colour and a thicker border and named in words, in the
drawing and its title.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from html import escape

from workflows.diagram_layout import (
    BOX_W,
    LABEL_FONT,
    LABEL_LINE,
    Arrow,
    Point,
    label_box,
    label_lines,
    layout,
)
from workflows.engine import Machine, Node

LINE_H, PAD, WRAP = 16, 10, 24  # a state's text: its lines, the room around them, their length
MARGIN = 20  # round the drawing


def _box_lines(node: Node, current: bool) -> list[str]:
    lines = textwrap.wrap(node.label, WRAP) or [node.name]
    if current:
        lines.append("(current state)")
    elif node.terminal:
        lines.append("(final)")
    return lines


def render_svg(
    machine: Machine,
    current: str | None,
    *,
    id_prefix: str | None = None,
    path: Iterable[tuple[str, str]] = (),
) -> str:
    """The machine as an SVG string; `current` (a state name or None) is marked, and the
    steps of `path` (the (source, target) pairs a case's history took) are highlighted."""
    if current is not None:
        machine.state(current)  # an unknown state is a bug, not something to draw
    graph = machine.graph()
    taken = set(path)
    visited = {state for pair in taken for state in pair if state}
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", id_prefix or f"machine-{machine.name}")
    lines = {n.name: _box_lines(n, n.name == current) for n in graph.nodes}
    box_h = PAD * 2 + LINE_H * max(len(v) for v in lines.values())
    boxes, arrows, anchors = layout(graph, box_h)
    extent = [*boxes.values(), *((x, y, x, y) for a in arrows for x, y in a.points)]
    extent += [label_box(x, y, label_lines(arrows[i].text)) for i, (x, y) in anchors.items()]
    dx, dy = MARGIN - min(b[0] for b in extent), MARGIN - min(b[1] for b in extent)
    width = round(max(b[2] for b in extent) + dx + MARGIN)
    height = round(max(b[3] for b in extent) + dy + MARGIN)

    current_label = machine.state(current).label if current else None
    title = f"{machine.label}: " + (
        f"current state “{current_label}”" if current_label else "states and steps"
    )
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="workflow-diagram" '
        'style="max-width: 100%; height: auto" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(_description(machine, current_label, taken))}</desc>',
        "<defs>",
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#444"/></marker>',
        "</defs>",
    ]
    if taken:
        out.insert(-1, _taken_marker(prefix))
    for a in arrows:
        points = " ".join(f"{x + dx:.1f},{y + dy:.1f}" for x, y in a.points)
        on_path = _on_path(a, taken)
        marker = f"{prefix}-taken" if on_path else f"{prefix}-arrow"
        head = "" if a.into else f' marker-end="url(#{marker})"'
        look = (
            'stroke="#0b5ed7" stroke-width="3.5"' if on_path else 'stroke="#444" stroke-width="1.5"'
        )
        out.append(
            f'<polyline class="step{" taken" if on_path else ""}" '
            f'data-source="{escape(a.source)}" data-target="{escape(a.target)}" '
            f'points="{points}" fill="none" {look} stroke-linejoin="round"{head}/>'
        )
    for node in graph.nodes:
        left, top, *_ = boxes[node.name]
        at = (left + dx, top + dy)
        out += _node(node, at, box_h, lines[node.name], node.name == current, node.name in visited)
    for i, (x, y) in anchors.items():  # last, so their white halo hides the lines they cross
        spans = "".join(
            f'<tspan x="{x + dx:.1f}" dy="{j and LABEL_LINE}">{escape(line)}</tspan>'
            for j, line in enumerate(label_lines(arrows[i].text))
        )
        out.append(
            f'<text class="step-label" x="{x + dx:.1f}" y="{y + dy:.1f}" text-anchor="middle" '
            f'fill="#1b1b1b" stroke="#fff" stroke-width="4" paint-order="stroke" '
            f'font-size="{LABEL_FONT}">{spans}</text>'
        )
    out.append("</svg>")
    return "\n".join(out)


def _on_path(arrow: Arrow, taken: set[tuple[str, str]]) -> bool:
    """Whether the case took this arrow: its own ends, or, for a junction's last stretch,
    one of the arrows it joins."""
    sources = arrow.source.split(" ") if " " in arrow.source else [arrow.source]
    return any((source, arrow.target) in taken for source in sources)


def _taken_marker(prefix: str) -> str:
    return (
        f'<marker id="{prefix}-taken" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
        'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#0b5ed7"/></marker>'
    )


def _description(machine: Machine, current_label: str | None, taken: object = ()) -> str:
    steps = "; ".join(
        f"{e.label}: from {', '.join(machine.state(s).label for s in e.sources)} "
        f"to {machine.state(e.target).label}"
        for e in machine.events
    )
    where = f"The current state is “{current_label}”. " if current_label else ""
    if taken:
        where += "Steps taken so far are drawn in thick blue lines. "
    return f"{where}Starts as {machine.state(machine.initial).label}. Steps — {steps}."


def _node(
    node: Node, at: Point, box_h: int, lines: list[str], current: bool, visited: bool = False
) -> list[str]:
    x, y = at
    cx, cy = x + BOX_W / 2, y + box_h / 2
    fill, stroke, width = ("#fff4c2", "#8a5a00", 3) if current else ("#f4f6f8", "#555", 1.5)
    if visited and not current:
        fill, stroke = "#e7f1ff", "#0b5ed7"
    classes = "state" + (" current" if current else "") + (" visited" if visited else "")
    out = [f'<g class="{classes}" data-state="{escape(node.name)}">']
    out.append(
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{box_h}" rx="8" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>'
    )
    if node.terminal:  # a double border marks a final state
        out.append(
            f'<rect x="{x + 4:.1f}" y="{y + 4:.1f}" width="{BOX_W - 8}" height="{box_h - 8}" '
            f'rx="5" fill="none" stroke="{stroke}" stroke-width="1"/>'
        )
    top = cy - (len(lines) - 1) * LINE_H / 2 + 4
    for i, line in enumerate(lines):
        note = line.startswith("(")  # the "(current state)" / "(final)" line
        style = ' font-style="italic"' if note else (' font-weight="bold"' if current else "")
        out.append(
            f'<text x="{cx:.1f}" y="{top + i * LINE_H:.1f}" text-anchor="middle" '
            f'fill="#1b1b1b"{style}>{escape(line)}</text>'
        )
    out.append("</g>")
    return out
