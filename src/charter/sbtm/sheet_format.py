"""The SBTM session sheet text format: a parser to a typed `Sheet` and a writer back.

Pure (no database): the import service passes a `tester_known` hook when unknown testers
are errors. The format, as the 2000 SBTM article describes it: sections, each a line in
capitals followed by a line of dashes, in any order, each exactly once:

    CHARTER         the charter text, then `#AREAS` and one area per line
    START           `m/d/yy h:mmam` (or pm), or the 24-hour `m/d/yy hh:mm`
    TESTER          one tester per line
    TASK BREAKDOWN  `#DURATION`, `#TEST DESIGN AND EXECUTION`,
                    `#BUG INVESTIGATION AND REPORTING`, `#SESSION SETUP`,
                    `#CHARTER VS. OPPORTUNITY`, each followed by its value
    DATA FILES      one file name or URL per line, or `#N/A`
    TEST NOTES      free text; blank lines separate the notes; or `#N/A`
    BUGS            entries each starting with a `#BUG` line, or `#N/A`
    ISSUES          entries each starting with an `#ISSUE` line, or `#N/A`

Text after `#BUG` / `#ISSUE` on the tag's own line is the entry's id or title (`ref`).
A tag is recognised only at the start of a line, so the writer indents any text line
that starts with `#` (and any text line of dashes) by one space to keep notes from
being read as structure.

Every problem is a `SheetError(file, line, problem)`; the parser collects all of them.
Problems of the whole file (a missing section) carry line 1. A file name that does not
follow `et-<initials>-<yymmdd>-<letter>.ses` is a warning, not an error: archives name
their files in many ways and the name is kept on the session as it is.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from charter.core.inputs import MAX_NAME
from charter.sbtm.metrics import MAX_MULTIPLIER, MAX_TESTERS

SECTIONS = (
    "CHARTER",
    "START",
    "TESTER",
    "TASK BREAKDOWN",
    "DATA FILES",
    "TEST NOTES",
    "BUGS",
    "ISSUES",
)
DURATION_CLASSES = ("short", "normal", "long")
TAG_AREAS = "#AREAS"
TAG_NONE = "#N/A"
TAG_DURATION = "#DURATION"
TAG_TEST = "#TEST DESIGN AND EXECUTION"
TAG_BUG = "#BUG INVESTIGATION AND REPORTING"
TAG_SETUP = "#SESSION SETUP"
TAG_CO = "#CHARTER VS. OPPORTUNITY"
BREAKDOWN_TAGS = (TAG_DURATION, TAG_TEST, TAG_BUG, TAG_SETUP, TAG_CO)
DASHES = "-" * 60
# What a session holds (sessions/, results/ and sbtm/service.py refuse more): checked
# here so that the 422 names the line.
MAX_TEXT = 100_000  # a charter, a note
MAX_AREAS = 200
MAX_AREA_NAME = 500
MAX_DATA_FILES = 1000
MAX_DATA_FILE = 2000

_HEADER = re.compile(r"[A-Z][A-Z0-9 .&/()'-]*")
_DASHED = re.compile(r"-{3,}\s*")
_START = re.compile(
    r"(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{2}|\d{4})\s+"
    r"(?P<h>\d{1,2}):(?P<mi>\d{2})\s*(?P<ap>[aApP][mM])?"
)
_DURATION = re.compile(r"(?P<cls>[A-Za-z]+)\s*(?:\*\s*(?P<mul>\S+))?")
_PCT = re.compile(r"\d{1,3}")
_CO = re.compile(r"(?P<c>\d{1,3})\s*/\s*(?P<o>\d{1,3})")
_NAME = re.compile(r"et-(?P<initials>[a-z]+)-(?P<ymd>\d{6})-(?P<letter>[a-z])\.ses", re.I)


@dataclass(frozen=True)
class SheetError:
    file: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.problem}"


@dataclass
class Entry:
    """A bug or an issue: `ref` is the id or title on the tag's line, if any."""

    ref: str | None
    text: str


@dataclass
class Sheet:
    name: str
    charter: str
    areas: list[str]
    start: datetime  # UTC; the format has no time zone, so sheets are read as UTC
    testers: list[str]
    duration_class: str
    duration_multiplier: float
    pct_test: int
    pct_bug: int
    pct_setup: int
    pct_charter: int
    pct_opportunity: int
    data_files: list[str] = field(default_factory=list)
    test_notes: list[str] = field(default_factory=list)
    bugs: list[Entry] = field(default_factory=list)
    issues: list[Entry] = field(default_factory=list)


@dataclass
class ParseResult:
    sheet: Sheet | None  # None when there are errors
    errors: list[SheetError]
    warnings: list[SheetError]


class SheetInvalid(Exception):
    """One or more sheets of a batch are invalid; `errors` lists every problem found."""

    def __init__(self, errors: Sequence[SheetError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = list(errors)


# --- reading ---------------------------------------------------------------------------


def decode_sheet(raw: bytes) -> str:
    """Sheet files come from Windows tools as often as not: UTF-8 (with or without a BOM)
    first, then Windows-1252, then Latin-1 (which decodes any byte)."""
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def name_warnings(name: str) -> list[str]:
    """Why a file name does not follow `et-<initials>-<yymmdd>-<letter>.ses` (empty if it
    does)."""
    match = _NAME.fullmatch(name)
    if match is None:
        return [f"the file name {name!r} does not follow et-<initials>-<yymmdd>-<letter>.ses"]
    ymd = match["ymd"]
    try:
        date(2000 + int(ymd[:2]), int(ymd[2:4]), int(ymd[4:]))
    except ValueError:
        return [f"the date {ymd!r} in the file name is not a real yymmdd date"]
    return []


@dataclass
class _Section:
    name: str
    line: int  # the header's line number
    body: list[tuple[int, str]]  # (line number, text without the line end)


class _Parser:
    def __init__(self, name: str, tester_known: Callable[[str], bool] | None) -> None:
        self.name = name
        self.tester_known = tester_known
        self.errors: list[SheetError] = []

    def error(self, line: int, problem: str) -> None:
        self.errors.append(SheetError(self.name, line, problem))

    def split(self, text: str) -> dict[str, _Section]:
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        sections: dict[str, _Section] = {}
        current: _Section | None = None
        seen_header = False
        i = 0
        while i < len(lines):
            line = lines[i].rstrip()
            next_line = lines[i + 1] if i + 1 < len(lines) else ""
            if line and _HEADER.fullmatch(line) and _DASHED.fullmatch(next_line):
                current = None
                seen_header = True
                if line not in SECTIONS:
                    self.error(i + 1, f"unknown section {line!r}")
                elif line in sections:
                    self.error(
                        i + 1,
                        f"duplicate section {line!r} (first at line {sections[line].line})",
                    )
                else:
                    current = sections[line] = _Section(line, i + 1, [])
                i += 2
                continue
            if current is not None:
                current.body.append((i + 1, line))
            elif line.strip() and not seen_header:
                # once: the lines that follow belong to the same stray text
                self.error(i + 1, "text before the first section")
                seen_header = True
            i += 1
        for name in SECTIONS:
            if name not in sections:
                self.error(1, f"missing section {name!r}")
        return sections

    # each section ------------------------------------------------------------------

    def charter(self, s: _Section) -> tuple[str, list[str]]:
        text: list[str] = []
        areas: list[str] = []
        in_areas = False
        for n, line in s.body:
            if line.strip() == TAG_AREAS and line.startswith("#"):
                if in_areas:
                    self.error(n, "#AREAS appears twice")
                in_areas = True
            elif in_areas:
                if line.strip() and line != TAG_NONE:
                    area = line.strip()
                    if any(not part.strip() for part in area.split("|")):
                        self.error(n, f"the area {area!r} has an empty part")
                    elif len(area) > MAX_AREA_NAME:
                        self.error(n, f"the area is longer than {MAX_AREA_NAME} characters")
                    elif len(areas) == MAX_AREAS:
                        self.error(n, f"more than {MAX_AREAS} areas")
                    else:
                        areas.append(area)
            else:
                text.append(line)
        charter = _trim_block(text)
        if not charter.strip():
            self.error(s.line, "the charter is empty")
        elif len(charter) > MAX_TEXT:
            self.error(s.line, f"the charter is longer than {MAX_TEXT} characters")
        return charter, areas

    def start(self, s: _Section) -> datetime | None:
        values = [(n, line.strip()) for n, line in s.body if line.strip()]
        if not values:
            self.error(s.line, "START has no date and time")
            return None
        for n, _ in values[1:]:
            self.error(n, "START takes one line")
        n, value = values[0]
        parsed = parse_start(value)
        if parsed is None:
            self.error(
                n,
                f"bad START {value!r}: expected m/d/yy h:mmam (or pm), or 24-hour m/d/yy hh:mm",
            )
        return parsed

    def testers(self, s: _Section) -> list[str]:
        testers: list[str] = []
        seen: dict[str, int] = {}
        for n, line in s.body:
            name = line.strip()
            if not name:
                continue
            key = name.casefold()
            if key in seen:
                self.error(n, f"the tester {name!r} is listed twice (first at line {seen[key]})")
                continue
            seen[key] = n
            if len(name) > MAX_NAME:
                self.error(n, f"the tester's name is longer than {MAX_NAME} characters")
                continue
            if len(testers) == MAX_TESTERS:
                self.error(n, f"more than {MAX_TESTERS} testers")
                continue
            if self.tester_known is not None and not self.tester_known(name):
                self.error(n, f"unknown tester {name!r}")
            testers.append(name)
        if not testers:
            self.error(s.line, "TESTER names no tester")
        return testers

    def breakdown(self, s: _Section) -> dict[str, tuple[int, str]]:
        values: dict[str, tuple[int, str]] = {}
        tag: tuple[int, str] | None = None  # the tag waiting for its value
        for n, line in s.body:
            text = line.strip()
            if not text:
                continue
            if line.startswith("#"):
                if tag is not None:
                    self.error(tag[0], f"{tag[1]} has no value")
                tag = None
                if text not in BREAKDOWN_TAGS:
                    self.error(n, f"unknown tag {text!r} in TASK BREAKDOWN")
                elif text in values:
                    self.error(n, f"{text} appears twice")
                else:
                    tag = (n, text)
                    values[text] = (n, "")
            elif tag is not None:
                values[tag[1]] = (n, text)
                tag = None
            else:
                self.error(n, f"unexpected text {text!r} in TASK BREAKDOWN")
        if tag is not None:
            self.error(tag[0], f"{tag[1]} has no value")
        for name in BREAKDOWN_TAGS:
            if name not in values:
                self.error(s.line, f"TASK BREAKDOWN has no {name}")
        return {k: v for k, v in values.items() if v[1]}

    def duration(self, value: tuple[int, str] | None) -> tuple[str, float] | None:
        if value is None:
            return None
        n, text = value
        parsed = parse_duration(text)
        if isinstance(parsed, str):
            self.error(n, parsed)
            return None
        return parsed

    def percent(self, value: tuple[int, str] | None, what: str) -> int | None:
        if value is None:
            return None
        n, text = value
        if not _PCT.fullmatch(text) or int(text) > 100:
            self.error(n, f"bad {what} {text!r}: expected a whole number from 0 to 100")
            return None
        return int(text)

    def charter_vs_opportunity(self, value: tuple[int, str] | None) -> tuple[int, int] | None:
        if value is None:
            return None
        n, text = value
        match = _CO.fullmatch(text)
        if match is None or int(match["c"]) > 100 or int(match["o"]) > 100:
            self.error(n, f"bad C/O {text!r}: expected two whole numbers like 80/20")
            return None
        c, o = int(match["c"]), int(match["o"])
        if c + o != 100:
            self.error(n, f"C/O adds up to {c + o}, not 100")
            return None
        return c, o

    def data_files(self, s: _Section) -> list[str]:
        lines = [(n, line) for n, line in s.body if line.strip()]
        if any(line == TAG_NONE for _, line in lines):
            for n, line in lines:
                if line != TAG_NONE:
                    self.error(n, "DATA FILES says #N/A but lists files")
            return []
        for n, line in lines:
            if len(line.strip()) > MAX_DATA_FILE:
                self.error(n, f"the data file is longer than {MAX_DATA_FILE} characters")
        if len(lines) > MAX_DATA_FILES:
            self.error(lines[MAX_DATA_FILES][0], f"more than {MAX_DATA_FILES} data files")
        return [line.strip() for _, line in lines]

    def test_notes(self, s: _Section) -> list[str]:
        if [line for _, line in s.body if line.strip()] == [TAG_NONE]:
            return []
        notes: list[str] = []
        block: list[str] = []
        first = 0
        for n, line in [*s.body, (0, "")]:
            if line.strip():
                first = first or n
                block.append(line)
            elif block:
                notes.append("\n".join(block))
                if len(notes[-1]) > MAX_TEXT:
                    self.error(first, f"the note is longer than {MAX_TEXT} characters")
                block, first = [], 0
        return notes

    def entries(self, s: _Section, tag: str) -> list[Entry]:
        lines = [(n, line) for n, line in s.body if line.strip()]
        if [line for _, line in lines] == [TAG_NONE]:
            return []
        entries: list[tuple[int, str | None, list[str]]] = []
        skipping = False  # text under a wrong tag was reported with the tag
        for n, line in s.body:
            head = line.split(None, 1)
            if line.startswith("#") and head:
                skipping = head[0] != tag
                if head[0] == tag:
                    ref = head[1].strip() if len(head) > 1 else None
                    entries.append((n, ref or None, []))
                elif head[0] == TAG_NONE:
                    self.error(n, f"{s.name} says #N/A but has entries")
                else:
                    self.error(n, f"unknown tag {head[0]!r} in {s.name}: entries start with {tag}")
            elif skipping:
                continue
            elif entries:
                entries[-1][2].append(line)
            elif line.strip():
                self.error(n, f"text before the first {tag} in {s.name}")
                skipping = True
        out: list[Entry] = []
        for n, ref, body in entries:
            text = _trim_block(body)
            if ref is None and not text.strip():
                self.error(n, f"{tag} has neither an id nor a text")
            elif len(text) + len(ref or "") >= MAX_TEXT:
                self.error(n, f"the {tag} entry is longer than {MAX_TEXT} characters")
            out.append(Entry(ref, text))
        return out


def _trim_block(lines: list[str]) -> str:
    """The lines without leading and trailing blank lines, joined."""
    start, end = 0, len(lines)
    while start < end and not lines[start].strip():
        start += 1
    while end > start and not lines[end - 1].strip():
        end -= 1
    return "\n".join(lines[start:end])


def parse_start(value: str) -> datetime | None:
    """`m/d/yy h:mmam|pm` (12-hour) or `m/d/yy hh:mm` (24-hour); yyyy is accepted too.
    Two-digit years are 20yy. None when it is not a real date and time."""
    match = _START.fullmatch(value.strip())
    if match is None:
        return None
    year = int(match["y"])
    if year < 100:
        year += 2000
    hour, minute = int(match["h"]), int(match["mi"])
    ampm = match["ap"]
    if ampm is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        return datetime(year, int(match["m"]), int(match["d"]), hour, minute, tzinfo=UTC)
    except ValueError:
        return None


def parse_duration(text: str) -> tuple[str, float] | str:
    """`short`, `normal` or `long`, optionally `* <multiplier>`: (class, multiplier), or
    the problem as a string."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or match["cls"].lower() not in DURATION_CLASSES:
        return f"bad duration {text!r}: expected short, normal or long, optionally * a number"
    mul = match["mul"]
    multiplier = 1.0
    if mul is not None:
        try:
            multiplier = float(mul)
        except ValueError:
            multiplier = math.nan
        if not (math.isfinite(multiplier) and 0 < multiplier <= MAX_MULTIPLIER):
            return (
                f"bad duration multiplier {mul!r}: expected a number above 0, "
                f"at most {MAX_MULTIPLIER}"
            )
        if abs(multiplier * 1000 - round(multiplier * 1000)) > 1e-6:
            return f"bad duration multiplier {mul!r}: at most three decimals"
    return match["cls"].lower(), multiplier


def parse_sheet(
    text: str, name: str, tester_known: Callable[[str], bool] | None = None
) -> ParseResult:
    """Parse one sheet; `name` is its file name (for errors and `sheet_name`).
    `tester_known`, when given, makes every tester it answers False for an error."""
    p = _Parser(name, tester_known)
    warnings = [SheetError(name, 1, w) for w in name_warnings(name)]
    if "\x00" in text:  # a binary file, and no database stores NUL in text
        line = text.count("\n", 0, text.index("\x00")) + 1
        return ParseResult(None, [SheetError(name, line, "NUL byte: not a text file")], warnings)
    sections = p.split(text)
    empty = _Section("", 1, [])
    charter, areas = p.charter(sections["CHARTER"]) if "CHARTER" in sections else ("", [])
    start = p.start(sections["START"]) if "START" in sections else None
    testers = p.testers(sections["TESTER"]) if "TESTER" in sections else []
    tb = p.breakdown(sections["TASK BREAKDOWN"]) if "TASK BREAKDOWN" in sections else {}
    duration = p.duration(tb.get(TAG_DURATION))
    pct_t = p.percent(tb.get(TAG_TEST), "test design and execution")
    pct_b = p.percent(tb.get(TAG_BUG), "bug investigation and reporting")
    pct_s = p.percent(tb.get(TAG_SETUP), "session setup")
    pcts = (pct_t, pct_b, pct_s)
    if None not in pcts and sum(x or 0 for x in pcts) != 100:
        p.error(tb[TAG_TEST][0], f"T+B+S adds up to {sum(x or 0 for x in pcts)}, not 100")
    co = p.charter_vs_opportunity(tb.get(TAG_CO))
    data_files = p.data_files(sections.get("DATA FILES", empty))
    notes = p.test_notes(sections.get("TEST NOTES", empty))
    bugs = p.entries(sections.get("BUGS", empty), "#BUG")
    issues = p.entries(sections.get("ISSUES", empty), "#ISSUE")
    if p.errors:
        p.errors.sort(key=lambda e: e.line)
        return ParseResult(None, p.errors, warnings)
    assert start is not None and duration is not None and co is not None
    assert pct_t is not None and pct_b is not None and pct_s is not None
    sheet = Sheet(
        name=name,
        charter=charter,
        areas=areas,
        start=start,
        testers=testers,
        duration_class=duration[0],
        duration_multiplier=duration[1],
        pct_test=pct_t,
        pct_bug=pct_b,
        pct_setup=pct_s,
        pct_charter=co[0],
        pct_opportunity=co[1],
        data_files=data_files,
        test_notes=notes,
        bugs=bugs,
        issues=issues,
    )
    return ParseResult(sheet, [], warnings)


# --- writing ---------------------------------------------------------------------------


def format_start(value: datetime) -> str:
    """`m/d/yy h:mmam` in UTC, the way the original tools write it."""
    value = value.astimezone(UTC) if value.tzinfo else value
    hour = value.hour % 12 or 12
    ampm = "am" if value.hour < 12 else "pm"
    return f"{value.month}/{value.day}/{value.year % 100:02d} {hour}:{value.minute:02d}{ampm}"


def format_duration(cls: str, multiplier: float) -> str:
    if multiplier == 1:
        return cls
    number = str(int(multiplier)) if multiplier.is_integer() else repr(multiplier)
    return f"{cls} * {number}"


def _safe_lines(text: str, keep_blank: bool) -> list[str]:
    """Text lines that cannot be read back as structure: a line starting with `#` or made
    of dashes gets one leading space; notes drop their blank lines (a blank line ends a
    note)."""
    out: list[str] = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = line.rstrip()
        if not line.strip():
            if keep_blank:
                out.append("")
            continue
        if line.startswith("#") or _DASHED.fullmatch(line):
            line = " " + line
        out.append(line)
    return out


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _escape(line: str) -> str:
    return " " + line if line.startswith("#") else line


def write_sheet(sheet: Sheet) -> str:
    """The sheet as text, sections in the canonical order, `\\n` line ends."""
    out: list[str] = []

    def section(name: str, body: list[str]) -> None:
        out.extend([name, DASHES, *body, ""])

    section(
        "CHARTER",
        [
            *_safe_lines(sheet.charter.strip("\n"), True),
            "",
            TAG_AREAS,
            *[_escape(_oneline(a)) for a in sheet.areas],
        ],
    )
    section("START", [format_start(sheet.start)])
    section("TESTER", [_oneline(t) for t in sheet.testers])
    section(
        "TASK BREAKDOWN",
        [
            TAG_DURATION,
            format_duration(sheet.duration_class, sheet.duration_multiplier),
            "",
            TAG_TEST,
            str(sheet.pct_test),
            "",
            TAG_BUG,
            str(sheet.pct_bug),
            "",
            TAG_SETUP,
            str(sheet.pct_setup),
            "",
            TAG_CO,
            f"{sheet.pct_charter}/{sheet.pct_opportunity}",
        ],
    )
    files = [_escape(_oneline(f)) for f in sheet.data_files if f.strip()]
    section("DATA FILES", files or [TAG_NONE])
    notes: list[str] = []
    for note in sheet.test_notes:
        lines = _safe_lines(note, False)
        if lines:
            notes.extend([*lines, ""])
    section("TEST NOTES", notes[:-1] if notes else [TAG_NONE])
    for name, tag, entries in (("BUGS", "#BUG", sheet.bugs), ("ISSUES", "#ISSUE", sheet.issues)):
        body: list[str] = []
        for entry in entries:
            ref = _oneline(entry.ref or "")
            body.extend(
                [f"{tag} {ref}" if ref else tag, *_safe_lines(entry.text.strip("\n"), True), ""]
            )
        section(name, body[:-1] if body else [TAG_NONE])
    return "\n".join(out)
