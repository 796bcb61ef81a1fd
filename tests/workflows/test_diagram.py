"""The machine drawing: valid, accessible SVG with the current state marked and named."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from workflows.agreement import AGREEMENT
from workflows.default_notice import AGREEMENT_ENDED, DEFAULT_NOTICE
from workflows.diagram import render_svg
from workflows.diagram_layout import LABEL_FONT, LABEL_LINE, text_width
from workflows.engine import SYSTEM, Event, Machine, State
from workflows.suspension import SUSPENSION
from workflows.termination_notice import TERMINATION_NOTICE

MACHINES = [AGREEMENT, DEFAULT_NOTICE, TERMINATION_NOTICE, SUSPENSION]

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises if the markup is not well-formed


def texts(root: ET.Element) -> list[str]:
    """Each text element's words; a label wrapped over lines (tspans) reads as one."""
    return [
        " ".join(s for s in t.itertext() if s.strip()) for t in root.iterfind(".//svg:text", NS)
    ]


def test_accessible_and_names_the_current_state() -> None:
    root = parse(render_svg(AGREEMENT, "agency_signed"))
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "current state “Awaiting the lead agency's countersignature”" in (title.text or "")
    assert "The current state is “Awaiting the lead agency's countersignature”" in (desc.text or "")
    current = root.findall(".//svg:g[@class='state current']", NS)
    assert [g.get("data-state") for g in current] == ["agency_signed"]
    assert "(current state)" in "".join(current[0].itertext())
    assert texts(root).count("(current state)") == 1


def test_every_state_and_event_is_drawn() -> None:
    root = parse(render_svg(AGREEMENT, None))
    states = [g.get("data-state") for g in root.iterfind(".//svg:g", NS)]
    assert states == [s.name for s in AGREEMENT.states]
    drawn = " ".join(texts(root))
    for e in AGREEMENT.events:
        assert e.label in drawn
    # One line from each source of each event; the three "Void the agreement" lines meet at
    # a junction above "Voided by the lead agency", and one arrow, labelled once, goes on into it.
    drawn_lines = [
        (p.get("data-source"), p.get("data-target")) for p in root.iterfind(".//svg:polyline", NS)
    ]
    edges = [(e.source, e.target) for e in AGREEMENT.graph().edges]
    assert all(drawn_lines.count(edge) == 1 for edge in edges)
    assert ("draft sent agency_signed", "voided") in drawn_lines
    assert texts(root).count("Void the agreement") == 1
    assert "(current state)" not in drawn
    assert "states and steps" in (root.find("svg:title", NS).text or "")


def test_labels_are_escaped() -> None:
    m = Machine(
        "x",
        'Tom & Jerry\'s <b>"deal"</b>',
        [State("a", "<script>alert(1)</script>"), State("b", "B & C", terminal=True)],
        [Event("go", "Go <now>", ["a"], "b", {"ssf_admin"}, {"lead"})],
        initial="a",
        roles={"ssf_admin": "an <admin>"},
        sides={"lead": "the <lead>"},
    )
    svg = render_svg(m, "a")
    assert "<script>" not in svg and "<b>" not in svg and "<now>" not in svg
    root = parse(svg)
    assert "Go <now>" in texts(root)
    assert 'Tom & Jerry\'s <b>"deal"</b>' in (root.find("svg:title", NS).text or "")


def test_ids_can_be_made_unique_per_page() -> None:
    one = parse(render_svg(AGREEMENT, "sent"))
    two = parse(render_svg(AGREEMENT, "sent", id_prefix="second"))
    assert one.find("svg:title", NS).get("id") != two.find("svg:title", NS).get("id")


def test_unknown_current_state_is_an_error() -> None:
    with pytest.raises(ValueError):
        render_svg(AGREEMENT, "lost")


def boxes(root: ET.Element) -> dict[str, tuple[float, float]]:
    """The top-left corner of each state's box, by state."""
    out = {}
    for g in root.iterfind(".//svg:g", NS):
        rect = g.find("svg:rect", NS)
        assert rect is not None
        out[g.get("data-state")] = (float(rect.get("x")), float(rect.get("y")))
    return out


@pytest.mark.parametrize("machine", MACHINES, ids=lambda m: m.name)
def test_every_machine_is_drawn_in_every_state(machine: Machine) -> None:
    for current in [None, *(s.name for s in machine.states)]:
        root = parse(render_svg(machine, current))
        drawn = boxes(root)
        assert list(drawn) == [s.name for s in machine.states]
        # No two states share a place.
        assert len(set(drawn.values())) == len(drawn)
        words = " ".join(texts(root))
        for e in machine.events:
            assert e.label in words, e.name
        finals = [s for s in machine.states if s.terminal and s.name != current]
        assert texts(root).count("(final)") == len(finals)
        marked = root.findall(".//svg:g[@class='state current']", NS)
        assert [g.get("data-state") for g in marked] == ([current] if current else [])


@pytest.mark.parametrize("machine", [DEFAULT_NOTICE, TERMINATION_NOTICE], ids=lambda m: m.name)
def test_the_notices_draw_their_close_when_the_agreement_ends(machine: Machine) -> None:
    root = parse(render_svg(machine, None))
    [ended] = root.findall(f".//svg:g[@data-state='{AGREEMENT_ENDED}']", NS)
    lines = ["".join(t.itertext()) for t in ended.iterfind("svg:text", NS)]
    assert " ".join(lines[:-1]) == "Closed — the agreement ended"
    assert lines[-1] == "(final)"
    assert len(ended.findall("svg:rect", NS)) == 2  # the double border of a final state
    label = "Close the notice: the agreement ended"
    assert label in " ".join(texts(root))
    # One arrow from each open state into it, each described in words.
    sources = machine.event(AGREEMENT_ENDED).sources
    into = [e for e in machine.graph().edges if e.target == AGREEMENT_ENDED]
    assert sorted(e.source for e in into) == sorted(sources)
    desc = root.find("svg:desc", NS).text or ""
    opened = ", ".join(machine.state(s).label for s in sources)
    assert f"{label}: from {opened} to Closed — the agreement ended" in desc


def test_the_current_state_may_be_the_close_when_the_agreement_ends() -> None:
    root = parse(render_svg(DEFAULT_NOTICE, AGREEMENT_ENDED))
    assert "current state “Closed — the agreement ended”" in (root.find("svg:title", NS).text or "")
    [current] = root.findall(".//svg:g[@class='state current']", NS)
    assert current.get("data-state") == AGREEMENT_ENDED


def test_a_portal_only_machine_step_is_drawn_like_any_other() -> None:
    m = Machine(
        "x",
        "X",
        [State("a", "A"), State("b", "B", terminal=True)],
        [Event("tick", "Tick", ["a"], "b", {SYSTEM}, {SYSTEM})],
        initial="a",
        roles={},
        sides={},
    )
    assert "Tick" in texts(parse(render_svg(m, "a")))


Point = tuple[float, float]
Box = tuple[float, float, float, float]  # left, top, right, bottom
Segment = tuple[Point, Point]


def _crosses(segment: Segment, box: Box) -> bool:
    """Whether the segment passes through the inside of the box (Liang–Barsky clipping)."""
    (x1, y1), (x2, y2) = segment
    left, top, right, bottom = box
    dx, dy = x2 - x1, y2 - y1
    enter, leave = 0.0, 1.0
    for p, q in ((-dx, x1 - left), (dx, right - x1), (-dy, y1 - top), (dy, bottom - y1)):
        if p == 0:
            if q < 0:
                return False
        elif p < 0:
            enter = max(enter, q / p)
        else:
            leave = min(leave, q / p)
    return enter < leave


def _overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def drawing(root: ET.Element):
    """What the drawing holds, read back from the SVG: each state's box; each line (the
    states it joins and its segments); each arrow label's words and the box they cover,
    from the anchor, the lines and the module's own estimate of text width."""
    states = {}
    for g in root.iterfind(".//svg:g", NS):
        rect = g.find("svg:rect", NS)
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        states[g.get("data-state")] = (x, y, x + w, y + h)
    lines = []
    for p in root.iterfind(".//svg:polyline", NS):
        points = [tuple(map(float, xy.split(","))) for xy in p.get("points").split()]
        joins = {*p.get("data-source").split(), p.get("data-target")}
        lines.append((joins, list(pairwise(points))))
    labels = []
    for t in root.iterfind(".//svg:text[@class='step-label']", NS):
        words = [s for s in t.itertext() if s.strip()]
        x, y = float(t.get("x")), float(t.get("y"))
        half = max(text_width(w, LABEL_FONT) for w in words) / 2
        box = (x - half, y - LABEL_FONT, x + half, y + (len(words) - 1) * LABEL_LINE + 4)
        labels.append((" ".join(words), box))
    return states, lines, labels


def _tangle() -> Machine:
    """A made-up machine with what the real ones lack: a step into its own state, steps back
    over several rows, and events from several states at once."""
    names = "abcdef"
    return Machine(
        "tangle",
        "Tangle",
        [State(n, f"State {n.upper()}", terminal=n in "ef") for n in names],
        [
            Event(name, label, sources, target, {"ssf_admin"}, {"lead"})
            for name, label, sources, target in [
                ("go", "Go on to B", ["a"], "b"),
                ("back", "Go back to A", ["b"], "a"),
                ("on", "Carry on", ["b"], "c"),
                ("again", "Try again", ["c"], "c"),
                ("jump", "Jump ahead to D", ["a"], "d"),
                ("quit", "Give up altogether", ["a", "b", "c"], "e"),
                ("over", "Finish from D", ["d"], "f"),
                ("reset", "Start all over again", ["c", "d"], "a"),
                ("done", "Done", ["c"], "f"),
            ]
        ],
        initial="a",
        roles={"ssf_admin": "an admin"},
        sides={"lead": "the lead"},
    )


ALL = [*MACHINES, _tangle()]
DRAWINGS = [
    pytest.param(machine, current, id=f"{machine.name}-{current}")
    for machine in ALL
    for current in [None, *(s.name for s in machine.states)]
]


@pytest.mark.parametrize(("machine", "current"), DRAWINGS)
def test_no_arrow_runs_through_a_state_it_does_not_join(machine: Machine, current) -> None:
    states, lines, _ = drawing(parse(render_svg(machine, current)))
    crossings = [
        (sorted(joins), segment, state)
        for joins, segments in lines
        for segment in segments
        for state, (left, top, right, bottom) in states.items()
        if state not in joins
        and _crosses(segment, (left + 2, top + 2, right - 2, bottom - 2))  # touching is fine
    ]
    assert crossings == []


@pytest.mark.parametrize(("machine", "current"), DRAWINGS)
def test_no_label_overlaps_another_or_a_state(machine: Machine, current) -> None:
    states, _, labels = drawing(parse(render_svg(machine, current)))
    on_labels = [(a, b) for (a, box), (b, other) in _pairs(labels) if _overlap(box, other)]
    assert on_labels == []
    on_states = [
        (words, state)
        for words, box in labels
        for state, rect in states.items()
        if _overlap(box, rect)
    ]
    assert on_states == []


def _pairs(items: list) -> list:
    return [(a, b) for i, a in enumerate(items) for b in items[i + 1 :]]


@pytest.mark.parametrize("machine", ALL, ids=lambda m: m.name)
def test_every_step_is_labelled_once_unless_shared_at_a_junction(machine: Machine) -> None:
    _, _, labels = drawing(parse(render_svg(machine, None)))
    words = [w for w, _ in labels]
    for e in machine.events:
        assert e.label in words
    if machine in MACHINES:  # each of their events from several states ends at a junction
        for e in machine.events:
            assert words.count(e.label) == 1, e.label
    else:
        assert words.count("Give up altogether") == 1
        assert words.count("Start all over again") == 2  # back up the page: no junction


def _distance(s: Segment, t: Segment) -> float:
    """The least distance between two segments (0 if they cross)."""

    def turn(a: Point, b: Point, c: Point) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])

    if turn(*s, t[0]) * turn(*s, t[1]) < 0 and turn(*t, s[0]) * turn(*t, s[1]) < 0:
        return 0.0

    def to(p: Point, seg: Segment) -> float:
        (x1, y1), (x2, y2) = seg
        dx, dy = x2 - x1, y2 - y1
        k = max(0.0, min(1.0, ((p[0] - x1) * dx + (p[1] - y1) * dy) / (dx * dx + dy * dy)))
        return math.hypot(p[0] - x1 - k * dx, p[1] - y1 - k * dy)

    return min(*(to(p, t) for p in s), *(to(p, s) for p in t))


@pytest.mark.parametrize(("machine", "current"), DRAWINGS)
def test_opposite_steps_are_drawn_apart_with_their_own_labels(machine: Machine, current) -> None:
    root = parse(render_svg(machine, current))
    _, lines, labels = drawing(root)
    ends = {
        (p.get("data-source"), p.get("data-target")): i
        for i, p in enumerate(root.iterfind(".//svg:polyline", NS))
    }
    pairs = [(ab, (ab[1], ab[0])) for ab in ends if ab[0] < ab[1] and (ab[1], ab[0]) in ends]
    if machine is DEFAULT_NOTICE:
        assert (("cure_period", "cure_submitted"), ("cure_submitted", "cure_period")) in pairs
    for one, other in pairs:
        a, b = lines[ends[one]][1], lines[ends[other]][1]
        assert min(_distance(s, t) for s in a for t in b) >= 10
    if machine is DEFAULT_NOTICE:  # each label clear of the other arrow, the two apart
        boxes = dict(labels)
        submit, reject = boxes["Submit a cure"], boxes["Reject the cure"]
        assert not _overlap(submit, reject)
        assert not any(_crosses(s, submit) for s in lines[ends["cure_submitted", "cure_period"]][1])
        assert not any(_crosses(s, reject) for s in lines[ends["cure_period", "cure_submitted"]][1])


@pytest.mark.parametrize("machine", ALL, ids=lambda m: m.name)
def test_the_process_reads_downwards_into_its_final_states(machine: Machine) -> None:
    states, lines, _ = drawing(parse(render_svg(machine, None)))
    top = min(box[1] for box in states.values())
    assert states[machine.initial][1] == top
    finals = {s.name for s in machine.states if s.terminal}
    for joins, segments in lines:
        (_, y1), (_, y2) = segments[-1]
        if joins & finals:  # only final states' arrows end here, and they come from above
            assert y2 > y1


def test_the_drawing_does_not_change_between_runs() -> None:
    code = (
        "from workflows.default_notice import DEFAULT_NOTICE as M; "
        "from workflows.diagram import render_svg; print(render_svg(M, 'lapsed'))"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {render_svg(DEFAULT_NOTICE, "lapsed") + "\n"}
