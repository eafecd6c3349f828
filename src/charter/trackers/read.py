"""A project's issue tracker as pages use it: the "File a bug" link of a note, links
to linked issues, and the key of a pasted issue URL. Only http(s) URLs are made."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

from sqlalchemy.engine import Connection

from charter.core.errors import Invalid
from charter.trackers import queries as q

MAX_TITLE = 120  # the first line of a note, cut to this for an issue title
MAX_URL = 7000  # browsers and trackers refuse longer URLs: the body is cut to fit
WEB = re.compile(r"^https?://[^\s/?#]+", re.IGNORECASE)


@dataclass(frozen=True)
class Tracker:
    new_issue_url: str | None = None
    issue_url: str | None = None

    def new_issue_link(self, title: str, body: str) -> str | None:
        """The tracker's new-issue page with {title} and {body} filled in (encoded)."""
        template = self.new_issue_url
        if not template or not WEB.match(template):
            return None
        title = title[:MAX_TITLE]

        def fill(text: str) -> str:
            return template.replace("{title}", quote(title, safe="")).replace(
                "{body}", quote(text, safe="")
            )

        link = fill(body)
        if len(link) <= MAX_URL:
            return link
        # Too long for a URL: the longest start of the body that fits (binary search).
        lo, hi = 0, len(body)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(fill(body[:mid] + "\n…")) <= MAX_URL:
                lo = mid
            else:
                hi = mid - 1
        return fill(body[:lo] + "\n…")

    def issue_link(self, key: str) -> str | None:
        """The issue's page at the tracker, when a pattern is set."""
        if not self.issue_url or not WEB.match(self.issue_url) or "{key}" not in self.issue_url:
            return None
        return self.issue_url.replace("{key}", quote(key, safe=""))

    def key_of(self, text: str) -> str:
        """An issue key typed or pasted: a URL matching the pattern gives its key; any
        other URL is refused (422), never recorded as a key."""
        text = text.strip()
        if self.issue_url and "{key}" in self.issue_url and WEB.match(text):
            before, after = self.issue_url.split("{key}", 1)
            found = re.fullmatch(
                re.escape(before) + r"(?P<key>[^/?#]+)" + re.escape(after) + r"/?(?:[?#].*)?",
                text,
                re.IGNORECASE,
            )
            if found:
                return found.group("key")
        if WEB.match(text):
            expected = self.issue_url if self.issue_url else "no issue URL pattern (set one)"
            raise Invalid.field(
                "issue_keys", f"{text[:200]} is not an issue URL of this project ({expected})."
            )
        return text


def tracker_of(conn: Connection, project_id: int) -> Tracker:
    row = q.tracker_row(conn, project_id)
    if row is None:
        return Tracker()
    return Tracker(row["new_issue_url"], row["issue_url"])


def first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip().lstrip("#").strip()
    return ""
