"""The checks a session sheet passes before a tester submits it: what a lead would
send back at once. Pure: the session row and the facts from queries.sheet_facts in,
the problems out (an empty list: nothing to fix).

"A sentence", for a bug note, is simply: at least SENTENCE_WORDS words, a word being
a run of characters holding a letter or digit. A bug written as one or two words
("crash", "login broken") does not tell the developer what happened."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

SENTENCE_WORDS = 3


_WORD = re.compile(r"\S*[^\W_]\S*")


class Problem(msgspec.Struct):
    """One thing to fix: `field` names the part of the sheet, `message` says what."""

    field: str
    message: str
    result_id: int | None = None  # the note at fault, for a note's problem


def is_sentence(text: str | None) -> bool:
    return len(_WORD.findall(text or "")) >= SENTENCE_WORDS


def _sum_problem(field: str, label: str, values: Sequence[Any]) -> Problem | None:
    if any(v is None for v in values):
        return Problem(field, f"{label} is not filled in.")
    total = sum(values)
    if total != 100:
        return Problem(field, f"{label} adds up to {total}, not 100.")
    return None


def problems(session: Any, facts: Mapping[str, Any]) -> list[Problem]:
    """Every problem of the sheet (`session`: its row), in the order the sheet reads."""
    found: list[Problem | None] = []
    if session["duration_class"] is None:
        found.append(Problem("duration", "No duration: choose short, normal or long."))
    found.append(
        _sum_problem(
            "task_breakdown",
            "Test + bug + setup",
            [session["pct_test"], session["pct_bug"], session["pct_setup"]],
        )
    )
    found.append(
        _sum_problem(
            "opportunity",  # not charter_*: error text redacts what looks like a token
            "Charter + opportunity",
            [session["pct_charter"], session["pct_opportunity"]],
        )
    )
    if not facts["areas"]:
        found.append(Problem("areas", "No area: name what the session covered."))
    if not facts["testers"] and session["assignee_id"] is None:
        found.append(Problem("testers", "No tester."))
    notes = facts["notes"]
    if not any(cat == "note" and (text or "").strip() for _id, cat, text in notes):
        found.append(Problem("test_notes", "No test notes."))
    for result_id, category, text in notes:
        if category == "bug" and not is_sentence(text):
            found.append(
                Problem(
                    "bugs",
                    f"A bug note is shorter than a sentence (at least {SENTENCE_WORDS} words).",
                    result_id,
                )
            )
    return [p for p in found if p is not None]


def as_errors(found: Sequence[Problem]) -> dict[str, list[str]]:
    """The problems as an error body's `errors`, by field."""
    out: dict[str, list[str]] = {}
    for p in found:
        out.setdefault(p.field, []).append(p.message)
    return out


# The checklist a lead reads in a debrief (Bach's session debrief checklist).
OPPORTUNITY_CONSIDER = 25
OPPORTUNITY_REWRITE = 50


def warnings(pct_opportunity: int | None) -> list[str]:
    if pct_opportunity is None:
        return []
    if pct_opportunity > OPPORTUNITY_REWRITE:
        return [
            f"Opportunity is {pct_opportunity}% (above {OPPORTUNITY_REWRITE}%): rewrite the "
            "charter to what was tested, and schedule a new session for the original one."
        ]
    if pct_opportunity > OPPORTUNITY_CONSIDER:
        return [
            f"Opportunity is {pct_opportunity}% (above {OPPORTUNITY_CONSIDER}%): consider "
            "changing the charter."
        ]
    return []
