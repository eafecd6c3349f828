"""The SVG charts: well-formed XML, geometry that follows the values, accessible text,
no inline styles, and hostile labels that stay text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.web.charts import (
    FALLBACK_COLOUR,
    Bar,
    Series,
    area_chart,
    bar_chart,
    nice_max,
    number,
    stacked_bar_chart,
    status_bar,
)

NS = "{http://www.w3.org/2000/svg}"
HOSTILE = '<script>alert("x")</script> & \' " ]]> <!--'


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.get("role") == "img"
    return root


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}title")]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def no_inline_style(svg: str, root: ET.Element) -> None:
    assert "style=" not in svg
    assert all("style" not in el.attrib for el in root.iter())
    assert not list(root.iter(f"{NS}script"))
    assert not list(root.iter(f"{NS}style"))


def rects(root: ET.Element) -> list[ET.Element]:
    return list(root.iter(f"{NS}rect"))


def test_bar_lengths_are_proportional_to_values() -> None:
    svg = bar_chart([Bar("New", 10, "#2563eb"), Bar("Done", 40, "#16a34a"), Bar("Idle", 0)], "T")
    root = parse(svg)
    no_inline_style(svg, root)
    widths = [float(r.get("width", "nan")) for r in rects(root)]
    assert widths[2] == 0
    assert widths[1] == pytest.approx(4 * widths[0])
    assert [r.get("fill") for r in rects(root)] == ["#2563eb", "#16a34a", FALLBACK_COLOUR]
    # The chart's accessible name comes first, then one title per bar with its value.
    assert titles(root) == ["T", "New: 10", "Done: 40", "Idle: 0"]
    assert {"New", "Done", "Idle", "10", "40", "0"} <= set(texts(root))


def test_bar_values_can_be_formatted() -> None:
    svg = bar_chart([Bar("Ada", 5400)], "Time", value_text=lambda v: f"{v / 3600:.1f} h")
    assert "Ada: 1.5 h" in titles(parse(svg))


def test_long_labels_are_cut_but_kept_whole_in_the_title() -> None:
    label = "A" * 60
    root = parse(bar_chart([Bar(label, 1)], "T"))
    assert f"{label}: 1" in titles(root)
    assert all(len(t) <= 22 for t in texts(root))


def test_empty_charts_say_so() -> None:
    for svg in (
        bar_chart([], "T"),
        bar_chart([Bar("x", 0)], "T"),
        stacked_bar_chart([], [], "T"),
        stacked_bar_chart(["d1"], [Series("a", [0])], "T"),
        area_chart(["d1", "d2"], [Series("a", [0, 0])], "T"),
        area_chart([], [], "T"),
    ):
        root = parse(svg)
        assert "No data" in texts(root)
        assert titles(root) == ["T"]


def test_status_bar_segments_split_the_width() -> None:
    segments = [Bar("Passed", 3, "#22c55e"), Bar("Failed", 1, "#ef4444"), Bar("Skipped", 0)]
    svg = status_bar(segments, "4 results", width=120)
    root = parse(svg)
    no_inline_style(svg, root)
    drawn = rects(root)
    assert [r.get("fill") for r in drawn] == ["#22c55e", "#ef4444"]  # zero draws nothing
    assert [float(r.get("x", "nan")) for r in drawn] == [0, 90]
    assert [float(r.get("width", "nan")) for r in drawn] == [90, 30]
    assert titles(root) == ["4 results", "Passed: 3", "Failed: 1"]


def test_status_bar_without_results_is_an_empty_track() -> None:
    root = parse(status_bar([Bar("Passed", 0)], "No results"))
    (track,) = rects(root)
    assert track.get("class") == "status-bar-empty"
    assert float(track.get("width", "nan")) == 120


def test_stacked_bars_pile_series_in_order() -> None:
    svg = stacked_bar_chart(
        ["Mon", "Tue"],
        [Series("Passed", [2, 0], "#22c55e"), Series("Failed", [2, 5], "#ef4444")],
        "Results",
        height=240,
    )
    root = parse(svg)
    no_inline_style(svg, root)
    bars = [r for r in rects(root) if r.find(f"{NS}title") is not None]
    by_title = {r.find(f"{NS}title").text: r for r in bars}  # type: ignore[union-attr]
    assert set(by_title) == {"Mon, Passed: 2", "Mon, Failed: 2", "Tue, Failed: 5"}
    mon_p, mon_f, tue_f = (
        by_title[k] for k in ("Mon, Passed: 2", "Mon, Failed: 2", "Tue, Failed: 5")
    )

    def height(r: ET.Element) -> float:
        return float(r.get("height", "nan"))

    def y(r: ET.Element) -> float:
        return float(r.get("y", "nan"))

    # Equal values, equal heights; 5 is 2.5 times 2; the second series sits on the first.
    assert height(mon_p) == pytest.approx(height(mon_f))
    assert height(tue_f) == pytest.approx(2.5 * height(mon_p))
    assert y(mon_f) + height(mon_f) == pytest.approx(y(mon_p))
    # Both days' bars stand on the same baseline.
    assert y(mon_p) + height(mon_p) == pytest.approx(y(tue_f) + height(tue_f))
    # The axis tops at a round number at or above the tallest stack (5).
    assert "5" in texts(root)
    assert {"Mon", "Tue", "Passed", "Failed"} <= set(texts(root))


def test_area_chart_stacks_series() -> None:
    svg = area_chart(
        ["d1", "d2", "d3"],
        [Series("Passed", [1, 2, 3], "#22c55e"), Series("Failed", [1, 0, 2], "#ef4444")],
        "Over time",
    )
    root = parse(svg)
    no_inline_style(svg, root)
    polygons = list(root.iter(f"{NS}polygon"))
    assert len(polygons) == 2
    assert [p.get("fill") for p in polygons] == ["#22c55e", "#ef4444"]

    def points(p: ET.Element) -> list[tuple[float, float]]:
        return [tuple(map(float, xy.split(","))) for xy in p.get("points", "").split()]  # type: ignore[misc]

    passed, failed = points(polygons[0]), points(polygons[1])
    # The second area's floor (its points walked backwards) is the first one's top.
    assert failed[3:][::-1] == passed[:3]
    # On d2 the failed area has no height (value 0), on d3 it is 2/3 of passed's.
    assert failed[1][1] == passed[1][1]
    base = passed[3][1]  # passed's floor: the zero line
    assert (passed[2][1] - failed[2][1]) == pytest.approx((base - passed[2][1]) * 2 / 3)
    assert "Passed: 6 in all" in titles(root)
    # One point per non-zero value, each titled with its day and value.
    assert "d3, Failed: 2" in titles(root)
    assert "d2, Failed: 0" not in titles(root)


def test_line_chart_does_not_stack() -> None:
    svg = area_chart(["a", "b"], [Series("x", [4, 4]), Series("y", [4, 4])], "T", stacked=False)
    root = parse(svg)
    lines = list(root.iter(f"{NS}polyline"))
    assert len(lines) == 2
    assert lines[0].get("points") == lines[1].get("points")


def test_a_single_day_is_drawn_in_the_middle() -> None:
    root = parse(area_chart(["only"], [Series("x", [3])], "T", width=200))
    (point,) = list(root.iter(f"{NS}circle"))
    assert float(point.get("cx", "nan")) == pytest.approx(44 + (200 - 44 - 10) / 2)


def test_many_categories_show_a_subset_of_labels() -> None:
    days = [f"day{i}" for i in range(90)]
    root = parse(stacked_bar_chart(days, [Series("x", [1] * 90)], "T"))
    shown = [t for t in texts(root) if t.startswith("day")]
    assert "day0" in shown
    assert 2 <= len(shown) <= 9


def test_series_of_the_wrong_length_are_refused() -> None:
    with pytest.raises(ValueError, match="2 values"):
        stacked_bar_chart(["a"], [Series("x", [1, 2])], "T")


def test_hostile_labels_and_colours_stay_inert() -> None:
    bad_colour = '#fff" onload="alert(1)'
    charts = [
        bar_chart([Bar(HOSTILE, 1, bad_colour)], HOSTILE),
        status_bar([Bar(HOSTILE, 1, "red; background:url(x)")], HOSTILE),
        stacked_bar_chart([HOSTILE], [Series(HOSTILE, [1], bad_colour)], HOSTILE),
        area_chart([HOSTILE, "x"], [Series(HOSTILE, [1, 2], bad_colour)], HOSTILE),
    ]
    for svg in charts:
        root = parse(svg)  # still well-formed XML
        no_inline_style(svg, root)
        assert "<script" not in svg
        assert all(not a.startswith("on") for el in root.iter() for a in el.attrib)
        # The label comes back as the same text, not as markup.
        assert titles(root)[0] == HOSTILE
        assert any(HOSTILE in t for t in titles(root)[1:])
        fills = {el.get("fill") for el in root.iter() if el.get("fill") not in (None, "none")}
        assert fills == {FALLBACK_COLOUR}


@pytest.mark.parametrize(
    ("value", "top"),
    [(0, 1), (0.3, 0.5), (1, 1), (3, 5), (7, 10), (11, 20), (21, 25), (26, 50), (1234, 2000)],
)
def test_nice_max(value: float, top: float) -> None:
    assert nice_max(value) == pytest.approx(top)


def test_number_labels() -> None:
    assert number(3.0) == "3"
    assert number(12345) == "12,345"
    assert number(1.25) == "1.2"


@settings(max_examples=60, deadline=None)
@given(
    labels=st.lists(st.text(min_size=0, max_size=30), min_size=1, max_size=6),
    data=st.data(),
)
def test_any_labels_and_values_give_well_formed_svg(labels: list[str], data: st.DataObject) -> None:
    # XML 1.0 cannot carry most control characters at all: they show as U+FFFD.
    shown = [
        re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]", "\ufffd", s)
        for s in labels
    ]
    values = data.draw(st.lists(st.integers(0, 10**9), min_size=len(labels), max_size=len(labels)))
    series = [Series(label, values) for label in labels[:3]]
    for svg in (
        bar_chart([Bar(lb, v) for lb, v in zip(labels, values, strict=True)], labels[0]),
        status_bar([Bar(lb, v) for lb, v in zip(labels, values, strict=True)], labels[0]),
        stacked_bar_chart(labels, series, labels[0]),
        area_chart(labels, series, labels[0]),
    ):
        root = parse(svg)
        assert titles(root)[0] == shown[0]
        for el in root.iter():
            for attr in ("x", "y", "width", "height"):
                if attr in el.attrib:
                    assert float(el.attrib[attr]) >= 0, svg
