"""Accessibility of the web UI in a real browser (Playwright + Debian's chromium
against a real `charter serve`): axe-core finds no serious or critical violation on
any main page, and the keyboard reaches every control with a visible focus ring.

axe-core is an npm package installed for the tests only (tests/web/a11y/package.json
and its lock, `npm ci` into tests/web/a11y/node_modules, which git ignores), like the
conformance suite installs the Testmo binding. Every axe finding, of any impact, is
written to test-output/a11y/axe-report.json.

Run: `.venv/bin/pytest -q tests/web/test_a11y.py` (needs node/npm and /usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

A11Y = Path(__file__).resolve().parent / "a11y"
AXE_JS = A11Y / "node_modules" / "axe-core" / "axe.min.js"
REPORT = Path(__file__).resolve().parents[2] / "test-output" / "a11y" / "axe-report.json"
BLOCKING = ("serious", "critical")

# What the keyboard must reach: every enabled, rendered control.
FOCUSABLE = (
    'a[href], button, input:not([type="hidden"]), select, textarea, summary, '
    '[tabindex]:not([tabindex="-1"])'
)
# Tags every control a key (radios: one per group, since Tab enters a group once).
MARK_CONTROLS = """(selector) => {
  const keys = [];
  document.querySelectorAll(selector).forEach((el, i) => {
    if (el.disabled || el.closest('fieldset:disabled') || !el.checkVisibility()) return;
    const form = el.form ? el.form.id || el.form.getAttribute('action') : 'page';
    const name = (el.id || el.name || el.textContent || '').trim().slice(0, 40);
    const key = el.type === 'radio'
      ? `radio group ${el.name} in ${form}`
      : `${el.tagName.toLowerCase()} #${i} ${name}`;
    el.dataset.a11yKey = key;
    if (!keys.includes(key)) keys.push(key);
  });
  return keys;
}"""
# The focused element, its focus ring and the colour behind it (first ancestor with a
# background: the ring is drawn outside the element, over its parent).
FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const s = getComputedStyle(el);
  let bg = 'rgb(255, 255, 255)';
  for (let p = el.parentElement; p; p = p.parentElement) {
    const b = getComputedStyle(p).backgroundColor;
    if (b !== 'transparent' && !/^rgba\\(.*, 0\\)$/.test(b)) { bg = b; break; }
  }
  return {key: el.dataset.a11yKey || el.outerHTML.slice(0, 80), outlineStyle: s.outlineStyle,
          outlineWidth: parseFloat(s.outlineWidth), outlineColor: s.outlineColor,
          boxShadow: s.boxShadow, background: bg};
}"""


@pytest.fixture(scope="session")
def axe_js() -> Path:
    """axe.min.js, installed by `npm ci` from tests/web/a11y/package-lock.json when
    missing or of another version. Fails in CI without npm, skips elsewhere."""
    pinned = json.loads((A11Y / "package.json").read_text())["dependencies"]["axe-core"]
    installed = A11Y / "node_modules" / "axe-core" / "package.json"
    if installed.exists() and json.loads(installed.read_text())["version"] == pinned:
        return AXE_JS
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI"):
            pytest.fail("npm is required for the accessibility tests")
        pytest.skip("npm is missing: the accessibility tests need axe-core from npm")
    proc = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=A11Y,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        pytest.fail(f"npm ci failed in {A11Y}:\n{proc.stdout}\n{proc.stderr}")
    assert AXE_JS.exists(), AXE_JS
    return AXE_JS


@pytest.fixture
def axe_page(browser: Any) -> Iterator[Page]:
    """Like the `page` fixture, but with the page's CSP bypassed: the pages allow no
    inline script, and Playwright injects axe as one (`add_script_tag`). For this
    test only: every other browser test runs under the real CSP."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, bypass_csp=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Page, axe_path: Path) -> list[dict[str, Any]]:
    """axe-core's violations on the current page (all its default rules: WCAG 2.x A and
    AA, and best practices), each with its rule id, impact and the failing targets."""
    page.add_script_tag(path=str(axe_path))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const r = await axe.run(document, {resultTypes: ['violations']});
          return r.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact,
                                      summary: n.failureSummary})),
          }));
        }"""
    )
    return found


def blocking_of(report: dict[str, list[dict[str, Any]]]) -> list[str]:
    """The serious and critical violations in a report of {page: violations}."""
    return [
        f"{name}: {v['id']} ({v['impact']}: {v['help']}) at "
        + "; ".join(n["target"] for n in v["nodes"][:8])
        for name, violations in report.items()
        for v in violations
        if v["impact"] in BLOCKING
    ]


def create_run_session(page: Page, base_url: str, name: str) -> int:
    """A session created, started and given one note per status (and a plain one),
    through the pages; returns its id."""
    page.goto(f"{base_url}/projects/1/sessions/new")
    page.get_by_label("Name").fill(name)
    page.get_by_label("Charter").fill("Check **every** page with axe.\n\n- labels\n- contrast")
    page.get_by_label("Estimate").fill("30")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    session_id = int(page.url.rsplit("/", 1)[1])
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    radios = page.locator('#note-form input[name="status_id"]')
    for i in range(radios.count()):
        radios.nth(i).check()
        page.locator("#note-text").fill(f"Note {i} of the accessibility check")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("#timeline li.note")).to_have_count(i + 1)
    return session_id


def test_no_serious_axe_violations_on_the_main_pages(
    axe_page: Page, axe_js: Path, live_server: str, sign_in: Any
) -> None:
    page, base = axe_page, live_server
    report: dict[str, list[dict[str, Any]]] = {}

    def check(name: str, url: str | None = None, expect_status: int = 200) -> None:
        if url is not None:
            response = page.goto(f"{base}{url}")
            assert response is not None and response.status == expect_status, (name, url)
        report[name] = axe_violations(page, axe_js)

    check("sign-in", "/login")
    page.get_by_label("Email").fill("nobody@example.com")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong email or password.")
    check("sign-in, wrong password")

    sign_in(page, base, "tester")
    check("projects", "/")
    check(
        "sessions list (filtered, sorted, paged)",
        "/projects/1/sessions?is_closed=0&order=asc&sort=sessions:created_at&per_page=15",
    )
    check("sessions list (invalid filter)", "/projects/1/sessions?created_after=soon", 422)
    check("new session", "/projects/1/sessions/new")
    page.get_by_role("button", name="Create session").click()  # no name: errors
    expect(page.locator("#form-errors")).to_be_visible()
    check("new session (errors)")

    session_id = create_run_session(page, base, "Accessibility check")
    check("session run (started, with notes)")
    page.locator("#timeline li.note").first.get_by_role("link", name=re.compile("^Edit")).click()
    expect(page.locator("#timeline form.note-form")).to_be_visible()
    check("session run (a note edited in place)")
    check("session edit", f"/sessions/{session_id}/edit")
    check("close and submit (the sheet's fields)", f"/sessions/{session_id}/close-sheet")
    page.goto(f"{base}/sessions/{session_id}")
    page.get_by_role("button", name="Close session").click()
    expect(page.get_by_role("button", name="Reopen session")).to_be_visible()
    check("closed session")
    check("closed session's edit form", f"/sessions/{session_id}/edit")
    check("session sheet (printable)", f"/sessions/{session_id}/sheet")
    page.goto(f"{base}/sessions/{session_id}/close-sheet")
    page.get_by_role("button", name="Submit", exact=True).click()
    expect(page.locator("#sheet-problems")).to_be_visible()
    check("close and submit (the sheet's problems)")
    page.get_by_role("button", name="Submit anyway").click()
    check("debrief (as a tester)", f"/sessions/{session_id}/debrief")
    check("charter backlog", "/projects/1/backlog")
    check("waiting for debrief", "/projects/1/debriefs")

    check("dashboard", "/projects/1/dashboard")
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    check("dashboard (number tables open)")
    check("account", "/account")
    page.get_by_label("New token name").fill("a11y check")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token-secret")).to_be_visible()
    check("account (token just created)")
    check("404 page", "/projects/1/no-such-page", 404)
    # The harness finds what it should: an input without a label is critical.
    page.evaluate("() => document.querySelector('main').append(document.createElement('input'))")
    assert "label" in {v["id"] for v in axe_violations(page, axe_js) if v["impact"] == "critical"}

    page.context.clear_cookies()
    sign_in(page, base, "manager")
    check("members (as a manager)", "/projects/1/members")
    check("debrief (as a manager)", f"/sessions/{session_id}/debrief")
    page.context.clear_cookies()
    sign_in(page, base, "viewer")
    check("session run (as a viewer)", f"/sessions/{session_id}")

    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(json.dumps(report, indent=2))
    blocking = blocking_of(report)
    others = [
        f"{name}: {v['id']} ({v['impact']})"
        for name, violations in report.items()
        for v in violations
        if v["impact"] not in BLOCKING
    ]
    print(f"axe: {len(report)} pages checked; moderate/minor findings: {others or 'none'}")
    assert blocking == [], "serious/critical axe violations:\n" + "\n".join(blocking)


# The setup pages (web/crud.py), as a site admin: each list, its add form with errors,
# and an item's edit page (the first row's), with a stale edit's conflict shown.
SETUP_LISTS = (
    "/admin/projects",
    "/admin/users",
    "/admin/templates",
    "/admin/templates/1/fields",
    "/admin/states",
    "/admin/statuses",
    "/admin/tags",
    "/projects/1/configs",
    "/projects/1/milestones",
)


def test_no_serious_axe_violations_on_the_setup_pages(
    axe_page: Page, axe_js: Path, live_server: str, sign_in: Any
) -> None:
    page, base = axe_page, live_server
    sign_in(page, base, "admin")
    report: dict[str, list[dict[str, Any]]] = {}

    def check(name: str, url: str | None = None) -> None:
        if url is not None:
            response = page.goto(f"{base}{url}")
            assert response is not None and response.status == 200, (name, url)
        report[name] = axe_violations(page, axe_js)

    check("administration", "/admin")
    check("project settings", "/projects/1/settings")
    page.get_by_role("link", name="Configurations").click()
    page.get_by_role("button", name="Add configuration").click()  # no name: errors
    expect(page.locator("#form-errors")).to_be_visible()
    check("configurations (add errors)")
    for url in SETUP_LISTS:
        check(url, url)
        edit = page.locator("td.links a").first
        if edit.count():
            edit.click()
            check(f"{url}: an item")
    page.goto(f"{base}/admin/templates/1/fields")
    page.get_by_role("link", name=re.compile("^Values")).first.click()
    check("a dropdown field's values")
    # A stale edit: the same state saved from two tabs.
    page.goto(f"{base}/admin/states")
    page.locator("td.links a").first.click()
    other = page.context.new_page()
    other.goto(page.url)
    other.get_by_label("Name").fill("Changed in another tab")
    other.get_by_role("button", name="Save").click()
    expect(other.get_by_text("Workflow state saved.")).to_be_visible()
    other.close()
    page.get_by_label("Name").fill("Renamed meanwhile")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#form-conflict")).to_be_visible()
    check("a stale edit")

    blocking = blocking_of(report)
    assert len(report) > 20
    assert blocking == [], "serious/critical axe violations:\n" + "\n".join(blocking)


# --- keyboard -------------------------------------------------------------------------


def _rgb(color: str) -> tuple[float, float, float]:
    parts = re.findall(r"[\d.]+", color)
    assert len(parts) >= 3, color
    return float(parts[0]), float(parts[1]), float(parts[2])


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours (alpha ignored)."""

    def lum(color: str) -> float:
        c = [x / 255 for x in _rgb(color)]
        c = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def focus_problem(f: dict[str, Any]) -> str | None:
    """Why this focused element shows no visible focus indicator, or None. A ring is
    an outline (at least 2px, 3:1 against what is behind it: WCAG 1.4.11) or a
    box-shadow."""
    if f["outlineStyle"] != "none" and f["outlineWidth"] > 0:
        if f["outlineWidth"] < 2:
            return f"outline only {f['outlineWidth']}px"
        ratio = contrast(f["outlineColor"], f["background"])
        if ratio < 3:
            return f"outline {f['outlineColor']} on {f['background']}: contrast {ratio:.2f} < 3"
        return None
    if f["boxShadow"] != "none":
        return None
    return "no outline and no box-shadow"


def walk_with_tab(page: Page) -> tuple[list[str], list[str]]:
    """Tab through the page from its top; returns the controls the page has that Tab
    never reached, and the focus problems seen on the way."""
    page.evaluate("() => document.querySelectorAll('details').forEach(d => { d.open = true; })")
    expected: list[str] = page.evaluate(MARK_CONTROLS, FOCUSABLE)
    assert expected, "no controls on the page"
    # From the top, whatever autofocus took: focus a mark put before everything (not
    # a Tab stop itself), so the next Tab goes to the page's first control.
    page.evaluate(
        """() => { const mark = document.createElement('span'); mark.tabIndex = -1;
                   document.body.prepend(mark); mark.focus(); }"""
    )
    reached: list[str] = []
    problems: list[str] = []
    for _ in range(len(expected) + 30):  # radios: one stop per group
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused is None:
            if reached:
                break  # past the last control
            continue
        if reached and focused["key"] == reached[0]:
            break  # wrapped around
        reached.append(focused["key"])
        problem = focus_problem(focused)
        if problem:
            problems.append(f"{focused['key']}: {problem}")
    assert reached and reached[0].endswith("Skip to content"), f"first Tab stop: {reached[:1]}"
    return [k for k in expected if k not in reached], problems


def test_keyboard_reaches_every_control_with_visible_focus(
    page: Page, live_server: str, sign_in: Any
) -> None:
    """The run page (started, with notes), the filtered sessions list and the edit
    form: Tab from the top reaches every control (a radio group once), each with a
    visible focus ring. Adding a note by keyboard is test_e2e_session.py's job."""
    base = live_server
    sign_in(page, base, "tester")
    session_id = create_run_session(page, base, "Keyboard check")
    pages = {
        "run page": f"/sessions/{session_id}",
        "sessions list": "/projects/1/sessions?is_closed=0&per_page=15",
        "edit form": f"/sessions/{session_id}/edit",
        "close and submit": f"/sessions/{session_id}/close-sheet",
    }
    failures: list[str] = []
    for name, url in pages.items():
        page.goto(f"{base}{url}")
        unreached, problems = walk_with_tab(page)
        failures += [f"{name}: not reachable by Tab: {k}" for k in unreached]
        failures += [f"{name}: {p}" for p in problems]
    # The status radio group: arrow keys move the choice (the run page's note box).
    page.goto(f"{base}/sessions/{session_id}")
    first = page.locator('#note-form input[name="status_id"]').first
    first.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator('#note-form input[name="status_id"]').nth(1)).to_be_checked()
    expect(page.locator('#note-form input[name="status_id"]').nth(1)).to_be_focused()
    assert failures == [], "\n".join(failures)
