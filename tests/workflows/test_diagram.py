"""The machine drawing: valid, accessible SVG with the current state marked and named."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from workflows.agreement import AGREEMENT
from workflows.diagram import render_svg
from workflows.engine import Event, Machine, State

NS = {"svg": "http://www.w3.org/2000/svg"}


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises if the markup is not well-formed


def texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iterfind(".//svg:text", NS)]


def test_accessible_and_names_the_current_state() -> None:
    root = parse(render_svg(AGREEMENT, "agency_signed"))
    assert root.get("role") == "img"
    title = root.find("svg:title", NS)
    desc = root.find("svg:desc", NS)
    assert title is not None and desc is not None
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "current state “Awaiting SSF countersignature”" in (title.text or "")
    assert "The current state is “Awaiting SSF countersignature”" in (desc.text or "")
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
    arrows = root.findall(".//svg:line", NS)
    assert len(arrows) == len(AGREEMENT.graph().edges)  # void leaves from three states
    assert "(current state)" not in drawn
    assert "states and steps" in (root.find("svg:title", NS).text or "")


def test_labels_are_escaped() -> None:
    m = Machine(
        "x",
        'Tom & Jerry\'s <b>"deal"</b>',
        [State("a", "<script>alert(1)</script>"), State("b", "B & C", terminal=True)],
        [Event("go", "Go <now>", ["a"], "b", {"ssf_admin"}, {"lead"})],
        initial="a",
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
