"""Draws a machine as a small, self-contained, accessible SVG (no external tools).

States are laid out in rows by their distance from the initial state, so a process reads
from top to bottom; each event is an arrow with its label. The current state is marked by
colour and a thicker border and also named in words, in the drawing and in its title, so
the mark does not rely on colour alone.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections import deque
from html import escape

from workflows.engine import Graph, Machine, Node

BOX_W, LINE_H, PAD = 200, 16, 10
COL_GAP, ROW_GAP, MARGIN = 140, 78, 20
WRAP = 24  # characters per line inside a state box


def _rows(graph: Graph) -> list[list[Node]]:
    """Nodes grouped by shortest distance from the initial state, declaration order within."""
    initial = next(n.name for n in graph.nodes if n.initial)
    rank = {initial: 0}
    queue = deque([initial])
    while queue:
        name = queue.popleft()
        for e in graph.edges:
            if e.source == name and e.target not in rank:
                rank[e.target] = rank[name] + 1
                queue.append(e.target)
    rows: list[list[Node]] = [[] for _ in range(max(rank.values()) + 1)]
    for n in graph.nodes:
        rows[rank[n.name]].append(n)
    return rows


def _place(
    rows: list[list[Node]], graph: Graph, width: int, box_h: int
) -> dict[str, tuple[float, float]]:
    """Centres of the boxes, row by row; within a row, each state sits under the mean position
    of its neighbours already placed (the usual barycentre rule), which avoids most crossings.
    """
    centre: dict[str, tuple[float, float]] = {}
    for r, row in enumerate(rows):

        def pull(node: Node) -> float:
            xs = [
                centre[other][0]
                for e in graph.edges
                for other in (e.source, e.target)
                if node.name in (e.source, e.target) and other != node.name and other in centre
            ]
            return sum(xs) / len(xs) if xs else width / 2

        row.sort(key=pull)  # stable: declaration order breaks ties
        row_w = len(row) * BOX_W + (len(row) - 1) * COL_GAP
        left = (width - row_w) / 2
        for c, node in enumerate(row):
            centre[node.name] = (
                left + c * (BOX_W + COL_GAP) + BOX_W / 2,
                MARGIN + r * (box_h + ROW_GAP) + box_h / 2,
            )
    return centre


def _box_lines(node: Node, current: bool) -> list[str]:
    lines = textwrap.wrap(node.label, WRAP) or [node.name]
    if current:
        lines.append("(current state)")
    elif node.terminal:
        lines.append("(final)")
    return lines


def _clip(cx: float, cy: float, hw: float, hh: float, dx: float, dy: float) -> tuple[float, float]:
    """Where the ray from a box's centre towards (dx, dy) leaves the box."""
    scale = min(hw / abs(dx) if dx else math.inf, hh / abs(dy) if dy else math.inf)
    return cx + dx * scale, cy + dy * scale


def render_svg(machine: Machine, current: str | None, *, id_prefix: str | None = None) -> str:
    """The machine as an SVG string; `current` (a state name or None) is marked."""
    if current is not None:
        machine.state(current)  # an unknown state is a bug, not something to draw
    graph = machine.graph()
    rows = _rows(graph)
    prefix = re.sub(r"[^A-Za-z0-9_-]", "-", id_prefix or f"machine-{machine.name}")
    lines = {n.name: _box_lines(n, n.name == current) for n in graph.nodes}
    box_h = PAD * 2 + LINE_H * max(len(v) for v in lines.values())
    widest = max(len(r) for r in rows)
    width = MARGIN * 2 + widest * BOX_W + (widest - 1) * COL_GAP
    height = MARGIN * 2 + len(rows) * box_h + (len(rows) - 1) * ROW_GAP

    centre = _place(rows, graph, width, box_h)
    current_label = machine.state(current).label if current else None
    title = f"{machine.label}: " + (
        f"current state “{current_label}”" if current_label else "states and steps"
    )
    desc = _description(machine, current_label)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" class="workflow-diagram" '
        'style="max-width: 100%; height: auto" '
        f'aria-labelledby="{prefix}-title {prefix}-desc" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="{prefix}-title">{escape(title)}</title>',
        f'<desc id="{prefix}-desc">{escape(desc)}</desc>',
        "<defs>",
        f'<marker id="{prefix}-arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" '
        'markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#444"/></marker>',
        "</defs>",
    ]
    out += _edges(graph, centre, box_h, prefix)
    for node in graph.nodes:
        out += _node(node, centre[node.name], box_h, lines[node.name], node.name == current)
    out.append("</svg>")
    return "\n".join(out)


def _description(machine: Machine, current_label: str | None) -> str:
    steps = "; ".join(
        f"{e.label}: from {', '.join(machine.state(s).label for s in e.sources)} "
        f"to {machine.state(e.target).label}"
        for e in machine.events
    )
    where = f"The current state is “{current_label}”. " if current_label else ""
    return f"{where}Starts as {machine.state(machine.initial).label}. Steps — {steps}."


def _edges(
    graph: Graph, centre: dict[str, tuple[float, float]], box_h: int, prefix: str
) -> list[str]:
    # Events sharing a source and target become one arrow with both labels.
    grouped: dict[tuple[str, str], list[str]] = {}
    for e in graph.edges:
        grouped.setdefault((e.source, e.target), []).append(e.label)
    out = []
    for (source, target), labels in grouped.items():
        (sx, sy), (tx, ty) = centre[source], centre[target]
        text = escape(" / ".join(labels))
        if source == target:  # a loop on the box's right side, labelled beside it
            x, top, bottom = sx + BOX_W / 2, sy - box_h / 4, sy + box_h / 4
            out.append(
                f'<path d="M{x:.1f},{top:.1f} C{x + 40:.1f},{top - 10:.1f} {x + 40:.1f},'
                f'{bottom + 10:.1f} {x:.1f},{bottom:.1f}" fill="none" stroke="#444" '
                f'stroke-width="1.5" marker-end="url(#{prefix}-arrow)"/>'
            )
            out.append(
                f'<text x="{x + 34:.1f}" y="{sy + 4:.1f}" fill="#1b1b1b" stroke="#fff" '
                f'stroke-width="4" paint-order="stroke" font-size="12">{text}</text>'
            )
            continue
        x1, y1 = _clip(sx, sy, BOX_W / 2, box_h / 2, tx - sx, ty - sy)
        x2, y2 = _clip(tx, ty, BOX_W / 2, box_h / 2, sx - tx, sy - ty)
        out.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#444" '
            f'stroke-width="1.5" marker-end="url(#{prefix}-arrow)"/>'
        )
        # Label at the middle of the arrow, haloed in white so crossing lines stay readable.
        mx, my = (x1 + x2) / 2, (y1 + y2) / 2
        if abs(y2 - y1) < 1:  # a level arrow: the label goes above it, clear of the head
            my -= 10
        out.append(
            f'<text x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" fill="#1b1b1b" '
            f'stroke="#fff" stroke-width="4" paint-order="stroke" font-size="12">'
            f"{text}</text>"
        )
    return out


def _node(
    node: Node, at: tuple[float, float], box_h: int, lines: list[str], current: bool
) -> list[str]:
    cx, cy = at
    x, y = cx - BOX_W / 2, cy - box_h / 2
    fill, stroke, width = ("#fff4c2", "#8a5a00", 3) if current else ("#f4f6f8", "#555", 1.5)
    out = [f'<g class="state{" current" if current else ""}" data-state="{escape(node.name)}">']
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
