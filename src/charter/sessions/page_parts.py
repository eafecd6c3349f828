"""What the session pages share: durations, status counters and their pictures, the
charter's markdown, and reading posted forms."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import anyio.to_thread
from litestar import Request
from litestar.datastructures import FormMultiDict
from markdown_it import MarkdownIt
from markupsafe import Markup

from charter.core.errors import Invalid
from charter.sessions.counters import slot_column
from charter.web import charts

SECOND = 1_000_000


MINUTE = 60 * SECOND


# A posted text value longer than this is cut to it: well above every domain limit
# (charter and note: 100,000 characters), so the domain still names the field.
MAX_POSTED = 200_000


# A safe markdown subset: raw HTML is escaped (html=False), links with javascript: and
# similar schemes are refused by markdown-it's validateLink, and images are off (a
# charter should not load remote content into the page).
# Links only to http(s) (a link to anything else stays plain text), each with
# rel="noopener nofollow": notes and charters are user content.
_WEB_LINK = re.compile(r"^https?://", re.IGNORECASE)


def _web_links_only(url: str) -> bool:
    return bool(_WEB_LINK.match(url.strip()))


def _safe_markdown(options: dict[str, Any]) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, **options}).disable("image")
    md.validateLink = _web_links_only  # type: ignore[method-assign]

    def link_open(self: Any, tokens: Any, idx: int, opts: Any, env: Any) -> str:
        tokens[idx].attrSet("rel", "noopener nofollow")
        return str(self.renderToken(tokens, idx, opts, env))

    md.add_render_rule("link_open", link_open)
    return md


_markdown = _safe_markdown({})
# Notes are typed like chat: a line break is a line break.
_note_markdown = _safe_markdown({"breaks": True})


# Rendered charters by the sha256 of their text: a 100,000-character charter takes
# about a second to render, and every view of its page would pay it again. Bounded
# (least recently used dropped first): at most MARKDOWN_CACHE_SIZE renderings.
MARKDOWN_CACHE_SIZE = 256
_rendered: OrderedDict[bytes, str] = OrderedDict()
_rendered_lock = threading.Lock()


def _cache_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


def _cached(key: bytes) -> str | None:
    with _rendered_lock:
        html = _rendered.get(key)
        if html is not None:
            _rendered.move_to_end(key)
        return html


def markdown(text: str | None, note: bool = False) -> Markup:
    """The charter (or with `note`, a note) as HTML: markdown-it escapes every text it
    outputs. Cached by content (`MARKDOWN_CACHE_SIZE` renderings, least recently used
    dropped)."""
    if not text:
        return Markup("")
    key = _cache_key(text) + (b"n" if note else b"c")
    html = _cached(key)
    if html is None:
        html = (_note_markdown if note else _markdown).render(text)
        with _rendered_lock:
            _rendered[key] = html
            while len(_rendered) > MARKDOWN_CACHE_SIZE:
                _rendered.popitem(last=False)
    return Markup(html)


async def warm_markdown(text: str | None) -> None:
    """Render `text` into the cache on a worker thread, so that a long charter's first
    rendering does not stall the event loop (every other request) for its duration."""
    if text and _cached(_cache_key(text) + b"c") is None:
        await anyio.to_thread.run_sync(markdown, text)


async def warm_note_markdown(texts: Sequence[str | None]) -> None:
    """The same for the notes of a timeline page, in one hop to a worker thread."""
    cold = [t for t in texts if t and _cached(_cache_key(t) + b"n") is None]
    if cold:
        await anyio.to_thread.run_sync(lambda: [markdown(t, note=True) for t in cold])


def duration(us: int | None) -> str:
    """Microseconds as h:mm:ss (or m:ss under an hour); an em dash for None."""
    if us is None:
        return "—"
    seconds = max(us, 0) // SECOND
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


_HM = re.compile(r"^(?:(\d+)\s*h)?\s*(?:(\d+)\s*m(?:in)?)?$")


_CLOCK = re.compile(r"^(\d+):([0-5]\d)$")


def parse_estimate(raw: str) -> int | None:
    """An estimate as typed: minutes (`90`, `7.5`), `1:30` or `1h 30m`; None when empty.
    Invalid names the field `estimate`."""
    text = raw.strip().lower()
    if not text:
        return None
    minutes: float | None = None
    if re.fullmatch(r"\d{1,7}(\.\d{1,3})?", text):
        minutes = float(text)
    elif m := _CLOCK.match(text):
        minutes = int(m.group(1)) * 60 + int(m.group(2))
    elif (m := _HM.match(text)) and (m.group(1) or m.group(2)):
        minutes = int(m.group(1) or 0) * 60 + int(m.group(2) or 0)
    if minutes is None or minutes > 10_000_000:
        raise Invalid.field("estimate", "Type minutes (90), hours:minutes (1:30) or 1h 30m.")
    return round(minutes * MINUTE)


def estimate_text(us: int | None) -> str:
    """An estimate as the form shows it: whole minutes when it is whole."""
    if us is None:
        return ""
    minutes = us / MINUTE
    return str(int(minutes)) if minutes.is_integer() else f"{minutes:.2f}".rstrip("0")


def status_counts(
    session: Mapping[str, Any], statuses: Sequence[Mapping[str, Any]]
) -> list[tuple[Mapping[str, Any], int]]:
    """(status, count) for every active status, from the session's stored counters."""
    return [(s, int(session[slot_column(s["id"])])) for s in statuses]


def counts_summary(counts: Sequence[tuple[Mapping[str, Any], int]], total: int = 0) -> str:
    """e.g. "2 Passed, 1 Failed" (statuses with results only), plus the notes without
    a status when `total` (every result) says there are some: "2 Passed, 3 notes"."""
    parts = [f"{n} {s['name']}" for s, n in counts if n]
    plain = total - sum(n for _s, n in counts)
    if plain > 0:
        parts.append(f"{plain:,} note{'' if plain == 1 else 's'} without status")
    return ", ".join(parts)


def status_bar(
    counts: Sequence[tuple[Mapping[str, Any], int]], width: float = 120, total: int = 0
) -> Markup:
    """The small bar of a list row: one segment per status (charts.status_bar escapes
    every label and lets only hex colours into `fill`)."""
    bars = [charts.Bar(s["name"], n, s["color"]) for s, n in counts if n]
    title = counts_summary(counts, total) or "No results yet"
    return Markup(charts.status_bar(bars, f"Results: {title}", width=width))


def breakdown(counts: Sequence[tuple[Mapping[str, Any], int]]) -> Markup:
    """The session page's status breakdown: one horizontal bar per status."""
    bars = [charts.Bar(s["name"], n, s["color"]) for s, n in counts]
    return Markup(charts.bar_chart(bars, "Results by status", width=340, label_width=110))


def swatch(color: str | None) -> str:
    """A colour that may go into an SVG `fill` attribute (hex only)."""
    return charts.colour_of(color)


async def posted(request: Request[Any, Any, Any]) -> FormMultiDict:
    form: FormMultiDict = await request.form()
    return form


def text_of(form: FormMultiDict, name: str) -> str:
    """The last posted text value of `name` ('' when absent), at most MAX_POSTED."""
    values = [v for v in form.getall(name, []) if isinstance(v, str)]
    return values[-1][:MAX_POSTED] if values else ""


def texts_of(form: FormMultiDict, name: str) -> list[str]:
    """Every posted text value of `name` (multi-selects, checkbox groups)."""
    return [v[:MAX_POSTED] for v in form.getall(name, []) if isinstance(v, str)]


def is_htmx(request: Request[Any, Any, Any]) -> bool:
    return request.headers.get("hx-request") == "true"


def raise_if(errors: dict[str, list[str]]) -> None:
    if errors:
        raise Invalid("Please correct the marked fields.", errors)
