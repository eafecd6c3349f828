"""Changing a project's issue tracker settings (managers), and linking issues typed
by key or pasted as URLs (created on the fly, like the API's issue records)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.engine import Connection

from charter.auth.permissions import require_project
from charter.auth.service import User
from charter.catalog import service as catalog_service
from charter.core import inputs
from charter.core.clock import utcnow
from charter.core.errors import Invalid
from charter.trackers import queries as q
from charter.trackers.read import WEB, Tracker

MAX_TEMPLATE = 2000
MAX_KEY = 200


def _template(name: str, value: str, needs: Sequence[str]) -> str | None:
    value = value.strip()
    if not value:
        return None
    inputs.reject_nul(value, name)
    if len(value) > MAX_TEMPLATE:
        raise Invalid.field(name, f"At most {MAX_TEMPLATE} characters.")
    if not WEB.match(value):
        raise Invalid.field(name, "Must start with http:// or https://.")
    missing = [n for n in needs if n not in value]
    if missing:
        raise Invalid.field(name, f"Must contain {' and '.join(missing)}.")
    return value


def save_tracker(
    conn: Connection, user: User, project_id: int, new_issue_url: str, issue_url: str
) -> None:
    """Set the project's tracker (managers): both URLs optional, each checked."""
    require_project(conn, user, project_id, "manage")
    errors: dict[str, list[str]] = {}
    values: dict[str, str | None] = {}
    for name, value, needs in (
        ("new_issue_url", new_issue_url, ("{title}",)),
        ("issue_url", issue_url, ("{key}",)),
    ):
        try:
            values[name] = _template(name, value, needs)
        except Invalid as exc:
            errors.update(exc.errors or {})
    if errors:
        raise Invalid("Please correct the marked fields.", errors)
    q.save_tracker(
        conn, project_id, values["new_issue_url"], values["issue_url"], utcnow(), user.id
    )


def issue_ids_for_keys(
    conn: Connection, tracker: Tracker, known: Iterable[dict[str, Any]], entries: Iterable[str]
) -> list[int]:
    """Issue ids for keys or pasted URLs (comma separated entries): a known key is
    reused, a new one becomes a custom issue record."""
    by_key: dict[str, int] = {}
    for issue in known:
        by_key.setdefault(issue["display_id"].casefold(), issue["id"])
    ids: list[int] = []
    for entry in entries:
        for raw in entry.split(","):
            key = tracker.key_of(raw)
            if not key:
                continue
            if len(key) > MAX_KEY:
                raise Invalid.field("issue_keys", f"An issue key has at most {MAX_KEY} characters.")
            found = by_key.get(key.casefold())
            if found is None:
                found = catalog_service.new_issue(conn, 1, key)
                by_key[key.casefold()] = found
            ids.append(found)
    return ids
