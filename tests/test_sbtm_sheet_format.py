"""The session sheet text format (sbtm/sheet_format.py): one test per validation rule
with the exact line, the hand-written sheets under tests/data/sbtm/, and the
writer -> parser round trip as a property."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from charter.sbtm.sheet_format import (
    Entry,
    Sheet,
    SheetError,
    decode_sheet,
    name_warnings,
    parse_sheet,
    parse_start,
    write_sheet,
)

DATA = Path(__file__).parent / "data" / "sbtm"
NAME = "et-mk-261103-a.ses"

GOOD = """\
CHARTER
-----------
Explore discounts.

#AREAS
Checkout | Discounts

START
-----------
11/3/26 9:15am

TESTER
-----------
Mira Kowalski

TASK BREAKDOWN
-----------
#DURATION
normal

#TEST DESIGN AND EXECUTION
70

#BUG INVESTIGATION AND REPORTING
20

#SESSION SETUP
10

#CHARTER VS. OPPORTUNITY
85/15

DATA FILES
-----------
#N/A

TEST NOTES
-----------
A note.

BUGS
-----------
#N/A

ISSUES
-----------
#N/A
"""


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based number of the nth line equal to `needle`."""
    found = [i + 1 for i, line in enumerate(text.split("\n")) if line == needle]
    return found[nth - 1]


def errors_of(text: str, name: str = NAME, **kw: object) -> list[tuple[int, str]]:
    result = parse_sheet(text, name, **kw)  # type: ignore[arg-type]
    assert result.sheet is None
    assert all(e.file == name for e in result.errors)
    return [(e.line, e.problem) for e in result.errors]


def test_good_sheet_parses() -> None:
    result = parse_sheet(GOOD, NAME)
    assert result.errors == [] and result.warnings == []
    sheet = result.sheet
    assert sheet is not None
    assert sheet.charter == "Explore discounts."
    assert sheet.areas == ["Checkout | Discounts"]
    assert sheet.start == datetime(2026, 11, 3, 9, 15, tzinfo=UTC)
    assert sheet.testers == ["Mira Kowalski"]
    assert (sheet.duration_class, sheet.duration_multiplier) == ("normal", 1.0)
    assert (sheet.pct_test, sheet.pct_bug, sheet.pct_setup) == (70, 20, 10)
    assert (sheet.pct_charter, sheet.pct_opportunity) == (85, 15)
    assert sheet.data_files == [] and sheet.bugs == [] and sheet.issues == []
    assert sheet.test_notes == ["A note."]


def test_hand_written_sheet_a() -> None:
    text = decode_sheet((DATA / "et-mk-261103-a.ses").read_bytes())
    sheet = parse_sheet(text, "et-mk-261103-a.ses").sheet
    assert sheet is not None
    assert sheet.areas == ["Checkout | Discounts", "OS | Linux", "Strategy | Function Testing"]
    assert sheet.charter.startswith("Explore the checkout") and sheet.charter.endswith("mistakes.")
    assert sheet.data_files == [
        "codes-expired.csv",
        "https://wiki.example.test/pricing/currencies",
    ]
    assert len(sheet.test_notes) == 3
    assert sheet.bugs == [
        Entry("4711", "Two stacked percentage codes both apply; the second should be refused."),
        Entry(None, "Switching currency empties the basket."),
    ]
    assert len(sheet.issues) == 1 and sheet.issues[0].ref is None


def test_hand_written_sheet_b_24_hour_and_multiplier() -> None:
    text = (DATA / "et-mk-261103-b.ses").read_text()
    sheet = parse_sheet(text, "et-mk-261103-b.ses").sheet
    assert sheet is not None
    assert sheet.start == datetime(2026, 11, 3, 14, 5, tzinfo=UTC)
    assert sheet.testers == ["Mira Kowalski", "pat.lee@example.test"]
    assert (sheet.duration_class, sheet.duration_multiplier) == ("short", 2.0)
    assert (sheet.pct_charter, sheet.pct_opportunity) == (100, 0)


def test_broken_sheet_reports_every_error() -> None:
    text = (DATA / "broken-sheet.ses").read_text()
    errors = errors_of(text, "broken-sheet.ses")
    problems = " / ".join(p for _, p in errors)
    for expected in (
        "missing section 'DATA FILES'",
        "missing section 'TEST NOTES'",
        "missing section 'ISSUES'",
        "the charter is empty",
        "empty part",
        "bad START",
        "TESTER names no tester",
        "bad duration 'medium'",
        "T+B+S adds up to 110",
        "C/O adds up to 110",
        "duplicate section 'START'",
        "unknown section 'NOTES'",
        "text before the first #BUG",
    ):
        assert expected in problems
    assert len(errors) == 13
    assert [line for line, _ in errors] == sorted(line for line, _ in errors)


def test_missing_section() -> None:
    text = GOOD.replace("ISSUES\n-----------\n#N/A\n", "")
    assert errors_of(text) == [(1, "missing section 'ISSUES'")]


def test_duplicate_section() -> None:
    text = GOOD + "\nSTART\n-----------\n11/4/26 9:15am\n"
    n = line_of(text, "START", 2)
    first = line_of(text, "START")
    assert errors_of(text) == [(n, f"duplicate section 'START' (first at line {first})")]


def test_unknown_section() -> None:
    text = GOOD + "\nSUMMARY\n-----------\nAll fine.\n"
    assert errors_of(text) == [(line_of(text, "SUMMARY"), "unknown section 'SUMMARY'")]


def test_text_before_the_first_section() -> None:
    text = "Session of Monday\n\n" + GOOD
    assert errors_of(text) == [(1, "text before the first section")]


def test_tbs_must_add_up_to_100() -> None:
    text = GOOD.replace("#SESSION SETUP\n10", "#SESSION SETUP\n15")
    n = line_of(text, "#TEST DESIGN AND EXECUTION") + 1
    assert errors_of(text) == [(n, "T+B+S adds up to 105, not 100")]


def test_percentage_must_be_a_whole_number() -> None:
    text = GOOD.replace("#SESSION SETUP\n10", "#SESSION SETUP\nten")
    n = line_of(text, "ten")
    assert errors_of(text) == [
        (n, "bad session setup 'ten': expected a whole number from 0 to 100")
    ]


def test_co_must_add_up_to_100() -> None:
    text = GOOD.replace("85/15", "85/20")
    assert errors_of(text) == [(line_of(text, "85/20"), "C/O adds up to 105, not 100")]


def test_co_must_be_two_numbers() -> None:
    text = GOOD.replace("85/15", "85")
    assert errors_of(text) == [
        (line_of(text, "85"), "bad C/O '85': expected two whole numbers like 80/20")
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("medium", "bad duration 'medium': expected short, normal or long, optionally * a number"),
        ("long * 0", "bad duration multiplier '0': expected a number above 0, at most 10"),
        ("long * -1", "bad duration multiplier '-1': expected a number above 0, at most 10"),
        ("long * two", "bad duration multiplier 'two': expected a number above 0, at most 10"),
        ("long * 1.2345", "bad duration multiplier '1.2345': at most three decimals"),
        ("long * nan", "bad duration multiplier 'nan': expected a number above 0, at most 10"),
        ("long * 11", "bad duration multiplier '11': expected a number above 0, at most 10"),
    ],
)
def test_bad_duration_or_multiplier(value: str, problem: str) -> None:
    text = GOOD.replace("#DURATION\nnormal", f"#DURATION\n{value}")
    assert errors_of(text) == [(line_of(text, value), problem)]


@pytest.mark.parametrize("value", ["long*1.5", "LONG * 1.5", "long *1.5"])
def test_duration_spellings(value: str) -> None:
    sheet = parse_sheet(GOOD.replace("#DURATION\nnormal", f"#DURATION\n{value}"), NAME).sheet
    assert sheet is not None
    assert (sheet.duration_class, sheet.duration_multiplier) == ("long", 1.5)


def test_missing_breakdown_value_and_tag() -> None:
    text = GOOD.replace("#SESSION SETUP\n10\n", "#SESSION SETUP\n").replace(
        "#DURATION\nnormal\n", ""
    )
    tb = line_of(text, "TASK BREAKDOWN")
    setup = line_of(text, "#SESSION SETUP")
    assert errors_of(text) == [
        (tb, "TASK BREAKDOWN has no #DURATION"),
        (setup, "#SESSION SETUP has no value"),
    ]


@pytest.mark.parametrize(
    "value", ["13/3/26 9:15am", "11/31/26 9:15am", "11/3/26 13:15pm", "11/3/26", "tomorrow"]
)
def test_bad_start(value: str) -> None:
    text = GOOD.replace("11/3/26 9:15am", value)
    ((line, problem),) = errors_of(text)
    assert line == line_of(text, value)
    assert problem.startswith(f"bad START {value!r}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("11/3/26 9:15am", datetime(2026, 11, 3, 9, 15, tzinfo=UTC)),
        ("11/3/26 12:00am", datetime(2026, 11, 3, 0, 0, tzinfo=UTC)),
        ("11/3/26 12:30pm", datetime(2026, 11, 3, 12, 30, tzinfo=UTC)),
        ("1/13/00 11:59 PM", datetime(2000, 1, 13, 23, 59, tzinfo=UTC)),
        ("11/3/26 0:05", datetime(2026, 11, 3, 0, 5, tzinfo=UTC)),
        ("11/3/2026 23:05", datetime(2026, 11, 3, 23, 5, tzinfo=UTC)),
    ],
)
def test_start_forms(value: str, expected: datetime) -> None:
    assert parse_start(value) == expected


def test_empty_charter() -> None:
    text = GOOD.replace("Explore discounts.\n", "\n")
    assert errors_of(text) == [(line_of(text, "CHARTER"), "the charter is empty")]


def test_unknown_tester_through_the_hook() -> None:
    text = GOOD.replace("Mira Kowalski", "Mira Kowalski\nNobody Known")
    errors = errors_of(text, tester_known=lambda name: name == "Mira Kowalski")
    assert errors == [(line_of(text, "Nobody Known"), "unknown tester 'Nobody Known'")]


def test_no_tester_and_tester_twice() -> None:
    text = GOOD.replace("Mira Kowalski", "")
    assert errors_of(text) == [(line_of(text, "TESTER"), "TESTER names no tester")]
    text = GOOD.replace("Mira Kowalski", "Mira Kowalski\nmira kowalski")
    first = line_of(text, "Mira Kowalski")
    assert errors_of(text) == [
        (first + 1, f"the tester 'mira kowalski' is listed twice (first at line {first})")
    ]


def test_bug_entries_and_wrong_tags() -> None:
    text = GOOD.replace("BUGS\n-----------\n#N/A", "BUGS\n-----------\n#ISSUE\nwrong place\n#BUG")
    assert errors_of(text) == [
        (line_of(text, "#ISSUE"), "unknown tag '#ISSUE' in BUGS: entries start with #BUG"),
        (line_of(text, "#BUG"), "#BUG has neither an id nor a text"),
    ]


def test_file_name_rule_is_a_warning() -> None:
    assert name_warnings("et-mk-261103-a.ses") == []
    assert name_warnings("ET-MK-261103-B.SES") == []
    assert "does not follow" in name_warnings("monday.txt")[0]
    assert "not a real yymmdd date" in name_warnings("et-mk-261340-a.ses")[0]
    result = parse_sheet(GOOD, "monday.txt")
    assert result.sheet is not None
    assert result.warnings and result.warnings[0].line == 1


def test_error_string_names_file_and_line() -> None:
    assert str(SheetError("a.ses", 7, "bad")) == "a.ses:7: bad"


def test_crlf_and_bom() -> None:
    raw = ("\ufeff" + GOOD).replace("\n", "\r\n").encode("utf-8")
    assert parse_sheet(decode_sheet(raw), NAME).sheet is not None
    assert decode_sheet("Café".encode("cp1252")) == "Café"


def test_writer_keeps_note_text_from_becoming_structure() -> None:
    sheet = parse_sheet(GOOD, NAME).sheet
    assert sheet is not None
    sheet.test_notes = ["#BUG not a bug\nBUGS\n-----\n#N/A"]
    sheet.bugs = [Entry("1", "#ISSUE not an issue\n#AREAS")]
    sheet.charter = "#AREAS in the text\nsecond line"
    back = parse_sheet(write_sheet(sheet), NAME).sheet
    assert back is not None
    assert back.areas == sheet.areas
    assert len(back.bugs) == 1 and back.issues == []
    assert back.test_notes == [" #BUG not a bug\nBUGS\n -----\n #N/A"]
    assert back.charter == " #AREAS in the text\nsecond line"


# --- the round trip -----------------------------------------------------------------

_word = st.text(
    alphabet=st.characters(
        codec="utf-8", categories=("L", "N", "P", "S"), exclude_characters="#|-"
    ),
    min_size=1,
    max_size=12,
)
_line = st.lists(_word, min_size=1, max_size=5).map(" ".join)
_block = st.lists(_line, min_size=1, max_size=4).map("\n".join)
_area = st.lists(_line, min_size=1, max_size=3).map(" | ".join)


@st.composite
def sheets(draw: st.DrawFn) -> Sheet:
    t = draw(st.integers(0, 100))
    b = draw(st.integers(0, 100 - t))
    c = draw(st.integers(0, 100))
    start = draw(st.datetimes(datetime(2000, 1, 1), datetime(2099, 12, 31)))
    return Sheet(
        name=NAME,
        charter=draw(_block),
        areas=draw(st.lists(_area, max_size=4)),
        start=start.replace(second=0, microsecond=0, tzinfo=UTC),
        testers=draw(st.lists(_line, min_size=1, max_size=3, unique_by=str.casefold)),
        duration_class=draw(st.sampled_from(["short", "normal", "long"])),
        duration_multiplier=draw(st.integers(1, 10_000).map(lambda m: m / 1000) | st.just(1.0)),
        pct_test=t,
        pct_bug=b,
        pct_setup=100 - t - b,
        pct_charter=c,
        pct_opportunity=100 - c,
        data_files=draw(st.lists(_line, max_size=3)),
        test_notes=draw(st.lists(_block, max_size=4)),
        bugs=draw(st.lists(st.builds(Entry, st.none() | _line, _block), max_size=3)),
        issues=draw(st.lists(st.builds(Entry, st.none() | _line, _block), max_size=3)),
    )


@settings(max_examples=200, deadline=None)
@given(sheets())
def test_write_then_parse_gives_the_same_sheet(sheet: Sheet) -> None:
    result = parse_sheet(write_sheet(sheet), sheet.name)
    assert result.errors == []
    assert result.sheet == sheet


def test_nul_byte_is_an_error() -> None:
    text = GOOD.replace("A note.", "A\x00note.")
    assert errors_of(text) == [(line_of(text, "A\x00note."), "NUL byte: not a text file")]


def test_limits_of_a_session_name_their_line() -> None:
    testers = "\n".join(f"Tester {i}" for i in range(17))
    text = GOOD.replace("Mira Kowalski", testers)
    assert errors_of(text) == [(line_of(text, "Tester 16"), "more than 16 testers")]
    area = "A" * 501
    text = GOOD.replace("Checkout | Discounts", area)
    assert errors_of(text) == [(line_of(text, area), "the area is longer than 500 characters")]
    note = "x" * 100_001
    text = GOOD.replace("A note.", note)
    assert errors_of(text) == [(line_of(text, note), "the note is longer than 100000 characters")]
    data_file = "f" * 2001
    text = GOOD.replace("DATA FILES\n-----------\n#N/A", f"DATA FILES\n-----------\n{data_file}")
    assert errors_of(text) == [
        (line_of(text, data_file), "the data file is longer than 2000 characters")
    ]
