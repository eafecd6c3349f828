"""The SBTM fields of the web forms (the session form and the close-and-submit page):
areas, testers, duration class and multiplier, T/B/S and C/O. Parsing a posted form
into the SBTM service's body (sbtm/service.update_session_sbtm validates it again and
checks the sums), and a session's stored values as the form shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.engine import Connection

from charter.core.inputs import parse_id
from charter.core.listing import ListQuery
from charter.sbtm import read as sbtm_read
from charter.sessions import forms as session_forms

DURATION = ("duration_class", "duration_multiplier")


PCTS = ("pct_test", "pct_bug", "pct_setup", "pct_charter", "pct_opportunity")


LABELS = {
    "areas": "Areas",
    "tester_ids": "Testers",
    "duration_class": "Duration",
    "duration_multiplier": "Duration multiplier",
    "pct_test": "Test design and execution %",
    "pct_bug": "Bug investigation and reporting %",
    "pct_setup": "Session setup %",
    "pct_charter": "Charter %",
    "pct_opportunity": "Opportunity %",
}


Values = dict[str, Any]


MAX_AREA_CHOICES = 1000  # the type-ahead offers at most this many of a project's areas


def choices(conn: Connection, project_id: int) -> dict[str, Any]:
    """What the SBTM fields offer: the project's areas (type-ahead) and testers."""
    query = ListQuery(per_page=MAX_AREA_CHOICES, sort="name", descending=False)
    return {
        "area_choices": [a["name"] for a in sbtm_read.list_areas(conn, project_id, query).rows],
        "tester_choices": session_forms.assignee_choices(conn, project_id),
        "labels": LABELS,
    }


def blank() -> Values:
    return {"areas": "", "tester_ids": [], "duration_class": "", "duration_multiplier": ""} | {
        p: "" for p in PCTS
    }


def stored(conn: Connection, session_id: int) -> Values:
    """A session's SBTM data as the form's values (texts, as typed)."""
    data = sbtm_read.session_sbtm(conn, session_id)
    multiplier = data["duration_multiplier"]
    return {
        "areas": "\n".join(data["areas"]),
        "tester_ids": [str(t) for t in data["tester_ids"]],
        "duration_class": data["duration_class"] or "",
        "duration_multiplier": "" if multiplier in (None, 1) else f"{multiplier:g}",
        "proposed_duration_class": data["proposed_duration_class"],
    } | {p: "" if data[p] is None else str(data[p]) for p in PCTS}


def _number(name: str, raw: str, errors: dict[str, list[str]], kind: type) -> Any:
    raw = raw.strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors[name] = ["Must be a number."]
        return None


def parse(
    form: Mapping[str, str], testers: list[str], with_breakdown: bool = True
) -> tuple[dict[str, Any], Values, dict[str, list[str]]]:
    """(the SBTM service's body, the values to show again, the errors the form can
    tell). `testers`: every value posted as tester_ids; none chosen leaves the testers
    (and the assignee) as they are. The percentages only `with_breakdown` (the session
    form has none). The `area_new` box (the type-ahead) adds one area: without
    JavaScript, what is typed there still counts."""
    errors: dict[str, list[str]] = {}
    lines = [line.strip() for line in form.get("areas", "").splitlines()]
    extra = form.get("area_new", "").strip()
    names = list(dict.fromkeys(n for n in [*lines, extra] if n))
    values: Values = {
        "areas": "\n".join(names),
        "tester_ids": testers,
        "duration_class": form.get("duration_class", "").strip(),
        "duration_multiplier": form.get("duration_multiplier", "").strip(),
    } | {p: form.get(p, "").strip() for p in PCTS}
    body: dict[str, Any] = {"areas": names}
    body["duration_class"] = values["duration_class"] or None
    body["duration_multiplier"] = _number(
        "duration_multiplier", values["duration_multiplier"], errors, float
    )
    for p in PCTS if with_breakdown else ():
        body[p] = _number(p, values[p], errors, int)
    ids = [parse_id(t) for t in testers if t.strip()]
    if any(i is None for i in ids):
        errors["tester_ids"] = ["Choose testers from the list."]
    if ids:
        body["tester_ids"] = list(dict.fromkeys(i for i in ids if i is not None))
    return body, values, errors
