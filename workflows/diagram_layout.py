"""Where a machine's drawing puts its boxes, arrows and labels (workflows/diagram.py draws them).

A small layered layout: steps that loop back are turned round and each state goes one row below
its longest chain of predecessors, so a process reads downwards and no arrow joins two states of
one row. Arrows leave a box's bottom and enter a box's top at ports of their own, passing rows
between in lanes of their own, so none runs through a box and opposite steps are drawn apart.
One event from several states into one meets at a junction above it, labelled once. Labels go
clear of boxes and of each other, rows moving apart until they fit.
"""

from __future__ import annotations

import math
import random
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import combinations, pairwise

from workflows.engine import Graph

BOX_W = 200  # the width of a state's box
# LANE: an arrow's way through a row; MORE: how far a row gap may grow to keep labels off lines
COL_GAP, LANE, ROW_GAP, MORE = 60, 40, 70, 100
LABEL_FONT, LABEL_LINE, LABEL_WRAP = 12, 14, 26  # an arrow's label
PORT_GAP, LOOP, HUGE = 30, 18, 1e6  # ports apart; a loop's reach; a label on a box or label

Box = tuple[float, float, float, float]  # left, top, right, bottom
Point = tuple[float, float]


def text_width(text: str, size: float = LABEL_FONT) -> float:
    """A generous estimate of drawn width: 0.6 em a character (sans-serif averages 0.55)."""
    return 0.6 * size * len(text)


def label_lines(text: str) -> list[str]:
    return textwrap.wrap(text, LABEL_WRAP) or [text]


def label_box(x: float, y: float, lines: list[str]) -> Box:
    """What a label covers, halo included, from its anchor (middle, first baseline)."""
    w = max(text_width(line) for line in lines) / 2 + 3
    return x - w, y - 13, x + w, y + (len(lines) - 1) * LABEL_LINE + 5


@dataclass(eq=False)
class Arrow:
    """One line in the drawing: the events between two states, or a junction's last stretch."""

    source: str  # for a junction's last stretch, the sources it joins, space-separated
    target: str
    text: str  # its label ("" for an arrow into a junction)
    chain: list  # the states and waypoints it passes, from the upper row to the lower
    flipped: bool = False  # drawn upwards: its source is in the lower row
    side: int = 0  # where its label goes: -1 left of it, 0 on it, 1 right of it
    into: Arrow | None = None  # the junction's last stretch it ends in
    drop: float = 0  # for a junction's last stretch, its length
    points: list[Point] = field(default_factory=list)


def _ranks(graph: Graph) -> dict[str, int]:
    """Each state's row, with the steps that loop back turned round."""
    after = {n.name: [e.target for e in graph.edges if e.source == n.name] for n in graph.nodes}
    back: set[tuple[str, str]] = set()
    on_walk: dict[str, bool] = {}

    def walk(name: str) -> None:
        on_walk[name] = True
        for nxt in after[name]:
            if on_walk.get(nxt):
                back.add((name, nxt))
            elif nxt not in on_walk:
                walk(nxt)
        on_walk[name] = False

    walk(next(n.name for n in graph.nodes if n.initial))  # every state can be reached from it
    steps = [((v, u) if (u, v) in back else (u, v)) for u, vs in after.items() for v in vs]
    rank = dict.fromkeys(after, 0)
    for _ in graph.nodes:  # longest paths: every step now goes at least one row down
        for u, v in steps:
            if u != v:
                rank[v] = max(rank[v], rank[u] + 1)
    return rank


def _gap(a, b) -> float:
    """How far apart two neighbours in a row sit: boxes are states, waypoints arrows' lanes."""
    boxes = isinstance(a, str) + isinstance(b, str)
    return boxes * BOX_W / 2 + (COL_GAP if boxes == 2 else LANE)


def _packed(row: list) -> list[float]:
    at = [0.0]
    for a, b in pairwise(row):
        at.append(at[-1] + _gap(a, b))
    return [p - at[-1] / 2 for p in at]


def _score(rows: list[list], near: dict) -> tuple[int, float]:
    """The crossings between rows; then how far the links lean with each row packed."""
    pos = {item: i for row in rows for i, item in enumerate(row)}
    x = {item: at for row in rows for item, at in zip(row, _packed(row), strict=True)}
    crossings, lean = 0, 0.0
    for upper, lower in pairwise(rows):
        links = [(a, b) for b in lower for a in near[b] if a in upper]
        lean += sum(abs(x[a] - x[b]) for a, b in links)
        pairs = combinations([(pos[a], pos[b]) for a, b in links], 2)
        crossings += sum((a - c) * (b - d) < 0 for (a, b), (c, d) in pairs)
    return crossings, lean


def _order(rows: list[list], near: dict, level: dict) -> list[list]:
    """Rows sorted by the mean place of each item's neighbours in the row swept from, starting
    from the declared order and from shuffles of it by a fixed seed; the order with the fewest
    crossings (then the least lean) wins."""
    shuffle, best, least = random.Random(0).shuffle, rows, _score(rows, near)
    for start in range(24):
        rows = [list(row) for row in rows]
        for row in rows if start else ():
            shuffle(row)
        for sweep in range(6):
            down = sweep % 2 == 0
            for r in range(1, len(rows)) if down else range(len(rows) - 2, -1, -1):
                pos = {item: i for row in rows for i, item in enumerate(row)}

                def mean(item, pos=pos, ref=r - 1 if down else r + 1) -> float:
                    xs = [pos[o] for o in near[item] if level[o] == ref]
                    return sum(xs) / len(xs) if xs else pos[item]

                rows[r].sort(key=mean)
            if (score := _score(rows, near)) < least:
                best, least = [list(row) for row in rows], score
    return best


def _spread(want: list[float], packed: list[float]) -> list[float]:
    """The places nearest (least squares) to `want` that keep a row's order and spacing: pool
    adjacent violators on the places less their packed offsets."""
    blocks: list[list[float]] = []  # [sum, count] of runs pushed together
    for w, o in zip(want, packed, strict=True):
        blocks.append([w - o, 1])
        while len(blocks) > 1 and blocks[-2][0] * blocks[-1][1] > blocks[-1][0] * blocks[-2][1]:
            total, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += count
    means = [total / count for total, count in blocks for _ in range(int(count))]
    return [m + o for m, o in zip(means, packed, strict=True)]


def _xs(rows: list[list], near: dict) -> dict:
    """Across: each box or waypoint as near the mean of its neighbours as its row allows."""
    x = {item: at for row in rows for item, at in zip(row, _packed(row), strict=True)}
    for sweep in range(12):
        for row in rows if sweep % 2 == 0 else rows[::-1]:
            want = []
            for item in row:  # a box heeds the boxes it joins, if any
                pull = [o for o in near[item] if isinstance(o, str) and isinstance(item, str)]
                pull = pull or near[item] or [item]
                want.append(sum(x[o] for o in pull) / len(pull))
            x.update(zip(row, _spread(want, _packed(row)), strict=True))
    lanes: dict = {}  # each arrow's waypoints, put in one line where their rows leave room
    for row in rows:
        for i, w in enumerate(row):
            if not isinstance(w, str):
                lanes.setdefault(w[0], []).append((row, i))

    def room(row: list, i: int, at: float) -> bool:
        return (i == 0 or at - x[row[i - 1]] >= _gap(row[i - 1], row[i])) and (
            i == len(row) - 1 or x[row[i + 1]] - at >= _gap(row[i], row[i + 1])
        )

    for lane in lanes.values():
        for at in [x[r[i]] for r, i in lane if all(room(*w, x[r[i]]) for w in lane)][:1]:
            x.update((r[i], at) for r, i in lane)
    return x


@lru_cache(maxsize=64)
def layout(graph: Graph, box_h: int) -> tuple[dict[str, Box], list[Arrow], dict[int, Point]]:
    """The boxes, the arrows (events sharing a source and a target share one) and the anchors
    of their labels, by the arrow's index."""
    rank = _ranks(graph)
    by_ends: dict[tuple[str, str], Arrow] = {}
    for e in graph.edges:
        if a := by_ends.get((e.source, e.target)):
            a.text += " / " + e.label
            continue
        upper, lower = sorted((e.source, e.target), key=rank.__getitem__)
        ways = [(len(by_ends), r) for r in range(rank[upper] + 1, rank[lower])]
        chain = [upper, *ways, lower] if upper != lower else [upper]
        by_ends[e.source, e.target] = Arrow(e.source, e.target, e.label, chain, upper != e.source)
    arrows = list(by_ends.values())
    level = dict(rank) | {d: d[1] for a in arrows for d in a.chain[1:-1]}
    rows = [[item for item in level if level[item] == r] for r in range(max(rank.values()) + 1)]
    near: dict = {item: [] for item in level}
    for p, q in (link for a in arrows for link in pairwise(a.chain)):
        near[p].append(q)
        near[q].append(p)
    x = _xs(rows := _order(rows, near, level), near)
    floor = [ROW_GAP] * (len(rows) - 1)
    joins: dict[tuple[str, str], list[Arrow]] = {}
    for a in arrows:
        if a.source != a.target and not a.flipped:
            joins.setdefault((a.target, a.text), []).append(a)
    for (target, text), members in joins.items():
        if len(members) > 1:  # one event from several states: a junction, labelled once
            left, top, right, bottom = label_box(0, 0, label_lines(text))
            stem = Arrow(" ".join(m.source for m in members), target, text, [target])
            stem.drop = bottom - top + 26
            for m in members:
                m.into, m.text = stem, ""
            arrows.append(stem)
            floor[rank[target] - 1] = max(floor[rank[target] - 1], stem.drop + 50)

    def draw(gaps: list[float]):
        tops = [sum(box_h + g for g in gaps[:r]) for r in range(len(rows))]
        boxes = {
            n: (x[n] - BOX_W / 2, tops[r], x[n] + BOX_W / 2, tops[r] + box_h)
            for n, r in rank.items()
        }
        _route(arrows, boxes, x, tops, box_h, by_ends)
        return tops, boxes, *_labels(arrows, list(boxes.values()))

    # A label on a box or label grows the gaps its arrow spans; one lying on another arrow
    # grows its own gap a little, in case that clears it. The gaps that leave the fewest such
    # labels are kept.
    gaps, best = list(floor), None
    for _ in range(60):
        tops, boxes, anchors, rough, stuck = draw(gaps)
        if best is None or (len(stuck), len(rough)) < best[0]:
            best = (len(stuck), len(rough)), list(gaps)
        grow = {r for y in rough for r, top in enumerate(tops[1:]) if top - gaps[r] < y < top}
        grow = {r for r in grow if gaps[r] < floor[r] + MORE}
        for lo, hi in ((level[arrows[i].chain[0]], level[arrows[i].chain[-1]]) for i in stuck):
            grow |= set(range(lo, hi) if lo < hi else range(max(lo - 1, 0), min(lo + 1, len(gaps))))
        if not grow:
            break
        for r in grow:
            gaps[r] += 10
    _, boxes, anchors, _, _ = draw(best[1])
    return boxes, arrows, anchors


def _route(arrows, boxes, x, tops, box_h, by_ends) -> None:
    """Each arrow's points: out of the bottom of its upper box, down through the ways kept for
    it in the rows between, into the top of its lower box (or its junction above it), each end
    at a port of its own ordered by where the arrow heads, so no two cross there."""
    ports: dict[tuple[str, int], dict[int, list[float]]] = {}  # (state, 1 bottom / -1 top)
    for i, a in enumerate(arrows):
        if a.source != a.target and not a.drop:
            ports.setdefault((a.chain[0], 1), {})[i] = [x[a.chain[1]]]
            end = arrows.index(a.into) if a.into else i
            ports.setdefault((a.chain[-1], -1), {}).setdefault(end, []).append(x[a.chain[-2]])
    at: dict[tuple[int, int], float] = {}
    for (name, side), keyed in ports.items():
        order = sorted(keyed, key=lambda k: (sum(keyed[k]) / len(keyed[k]), k))
        step = min(PORT_GAP, (BOX_W - 40) / max(len(order) - 1, 1))
        for j, k in enumerate(order):
            at[k, side] = x[name] + (j - (len(order) - 1) / 2) * step
    for i, a in enumerate(arrows):
        if a.drop:  # a junction's last stretch: drawn with the arrows into it
            continue
        if a.source == a.target:  # a step back into its own state: out right, in at the top
            _, top, right, bottom = boxes[a.source]
            up, out = top - LOOP, right + LOOP
            a.points = [(right, (top + bottom) / 2), (out, (top + bottom) / 2), (out, up)]
            a.points += [(right - 12, up), (right - 12, top)]
            continue
        points = [(at[i, 1], boxes[a.chain[0]][3])]
        for d in a.chain[1:-1]:
            points += [(x[d], tops[d[1]]), (x[d], tops[d[1]] + box_h)]
        end, top = arrows.index(a.into) if a.into else i, boxes[a.chain[-1]][1]
        points.append((at[end, -1], top - (a.into.drop if a.into else 0)))
        if a.into:
            a.into.points = [points[-1], (at[end, -1], top)]
        others = [_grow(b, 8) for n, b in boxes.items() if n not in (a.source, a.target)]
        if not any(_crosses(b, points[0], points[-1]) for b in others):
            points = [points[0], points[-1]]  # straight, if that runs into no box
        a.points = points[::-1] if a.flipped else points
        partner = by_ends.get((a.target, a.source))
        if partner is not None and partner is not a:  # two opposite arrows: labels outside
            a.side = -1 if at[i, 1] < at[arrows.index(partner), 1] else 1


def _grow(b: Box, by: float) -> Box:
    return b[0] - by, b[1] - by, b[2] + by, b[3] + by


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _crosses(box: Box, p: Point, q: Point) -> bool:
    """Whether the segment pq passes through the inside of the box (Liang–Barsky)."""
    (x1, y1), (x2, y2) = p, q
    enter, leave = 0.0, 1.0
    steps = (x1 - x2, x2 - x1, y1 - y2, y2 - y1)
    for d, room in zip(steps, (x1 - box[0], box[2] - x1, y1 - box[1], box[3] - y1), strict=True):
        if d == 0 and room < 0:
            return False
        if d:
            enter, leave = (max(enter, room / d), leave) if d < 0 else (enter, min(leave, room / d))
    return enter < leave


def _labels(arrows: list[Arrow], boxes: list[Box]):
    """Each label's anchor (by arrow): on its arrow, or beside it for two opposite arrows,
    clear of every box and label if it can be, on as few other arrows as can be, and near the
    middle; the heights of those that lie on another arrow; those on a box or label."""
    legs = [(i, p, q) for i, a in enumerate(arrows) for p, q in pairwise(a.points)]
    heads = [_grow((*a.points[-1], *a.points[-1]), 7) for a in arrows if a.text]
    taken = [_grow(b, 3) for b in boxes]
    anchors: dict[int, Point] = {}
    rough: list[float] = []
    stuck: list[int] = []
    length = [sum(math.dist(p, q) for p, q in pairwise(a.points)) for a in arrows]
    for i in sorted(range(len(arrows)), key=length.__getitem__):  # short ones have less room
        a = arrows[i]
        if not a.text:
            continue
        lines = label_lines(a.text)
        left, top, right, bottom = label_box(0, 0, lines)
        best: tuple[float, Point, Box, int] | None = None
        mine = list(pairwise(a.points))
        for s, (p, q) in enumerate(mine):
            dx, dy = q[0] - p[0], q[1] - p[1]
            for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8, 0.1, 0.9):
                px, py = p[0] + t * dx, p[1] + t * dy - (top + bottom) / 2
                for side in (a.side, 0) if a.side and dy else (0,):
                    # Beside the arrow, far enough out that the slanting line misses the label.
                    ax = px + (
                        side and side * ((right - left) / 2 + 4 + (bottom - top) / 2 * abs(dx / dy))
                    )
                    box = label_box(ax, py, lines)
                    bad = sum(_overlaps(box, b) for b in taken)
                    if bad and best and best[0] < HUGE:
                        continue
                    crossed = sum(_overlaps(box, h) for h in heads) + sum(
                        _crosses(box, u, v)
                        for j, u, v in legs
                        if j != i and arrows[j].into is not a
                    )
                    cost = HUGE * bad + 10 * (abs(t - 0.5) + abs(s - (len(mine) - 1) / 2))
                    cost += 20 * (side != a.side) + 40 * crossed
                    if best is None or cost < best[0]:
                        best = (cost, (ax, py), box, crossed)
        anchors[i] = best[1]
        taken.append(best[2])
        stuck += [i] if best[0] >= HUGE else []
        rough += [best[1][1]] if best[3] else []
    return anchors, rough, stuck
