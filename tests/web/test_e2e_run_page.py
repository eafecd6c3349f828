"""The run page's evidence and keyboard features in a real browser: the `?` shortcut
list, a screenshot pasted into the note box and a file dropped on it (uploaded with
progress, then owned by the note), the image viewer by keyboard, and a note edited
with its history shown; axe-core checks each new state."""

from __future__ import annotations

import base64
import io
import re
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from web.test_a11y import BLOCKING, axe_js, axe_page, axe_violations

pytestmark = pytest.mark.browser
__all__ = ["axe_js", "axe_page"]  # fixtures shared with test_a11y

# Builds a DataTransfer holding files from (name, type, base64) and fires `kind` on the
# element: what a paste of a screenshot or a drop of files does.
FIRE = """([selector, kind, files]) => {
  const dt = new DataTransfer();
  for (const [name, type, b64] of files) {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    dt.items.add(new File([bytes], name, {type}));
  }
  const el = document.querySelector(selector);
  if (kind === 'paste') {
    const init = {clipboardData: dt, bubbles: true, cancelable: true};
    el.dispatchEvent(new ClipboardEvent('paste', init));
  } else {
    for (const type of ['dragover', 'drop']) {
      el.dispatchEvent(new DragEvent(type, {dataTransfer: dt, bubbles: true, cancelable: true}));
    }
  }
}"""


def png_b64(color: str) -> str:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


def no_serious(page: Page, axe: Path, state: str) -> None:
    found = [v for v in axe_violations(page, axe) if v["impact"] in BLOCKING]
    assert found == [], (state, found)


def test_paste_drop_view_edit_and_shortcuts(
    axe_page: Page, axe_js: Path, live_server: str, sign_in: Any
) -> None:
    page, base = axe_page, live_server
    sign_in(page, base, "tester")
    page.goto(f"{base}/projects/1/sessions/new")
    page.get_by_label("Name").fill("Evidence by paste and drop")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))

    # `?` outside a text box lists the shortcuts in a modal dialog; Esc closes it.
    page.locator("h1").click()
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Edit the newest note")
    no_serious(page, axe_js, "shortcut list open")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    # Typed into the note box, `?` is just a character.
    box = page.locator("#note-text")
    box.focus()
    page.keyboard.type("Why?")
    expect(dialog).to_be_hidden()
    expect(box).to_have_value("Why?")

    # A pasted screenshot and a dropped log file upload at once and join the note.
    page.evaluate(FIRE, ["#note-text", "paste", [["image.png", "image/png", png_b64("red")]]])
    page.evaluate(
        FIRE,
        ["#note-text", "drop", [["run.log", "text/plain", base64.b64encode(b"log\n").decode()]]],
    )
    pending = page.locator("#pending-files li")
    expect(pending).to_have_count(2)
    expect(pending.filter(has_text="attached")).to_have_count(2)
    expect(pending.first).to_contain_text("screenshot-")
    expect(box).to_have_value("Why?")  # the text is untouched
    no_serious(page, axe_js, "files attached to the note being written")
    box.fill("The **cart** total is wrong")
    page.keyboard.press("Control+Enter")
    note = page.locator("#timeline li.note").first
    expect(note.locator("strong")).to_have_text("cart")
    expect(note.locator(".note-files img")).to_have_count(1)
    expect(note.get_by_role("link", name="run.log")).to_be_visible()
    expect(pending).to_have_count(0)
    expect(page.locator("#gallery .thumbs img")).to_have_count(1)

    # A second image, then the viewer: opened from the gallery, arrows step, Esc closes.
    page.evaluate(FIRE, ["#note-text", "paste", [["image.png", "image/png", png_b64("blue")]]])
    expect(pending.filter(has_text="attached")).to_have_count(1)
    expect(page.locator("#gallery .thumbs img")).to_have_count(2)
    page.locator("#gallery .thumbs a").first.click()
    viewer = page.locator("#viewer")
    expect(viewer).to_be_visible()
    expect(page.locator("#viewer-position")).to_have_text("1 of 2")
    page.keyboard.press("ArrowRight")
    expect(page.locator("#viewer-position")).to_have_text("2 of 2")
    expect(page.locator("#viewer-image")).to_have_attribute("src", re.compile(r"/preview$"))
    no_serious(page, axe_js, "image viewer open")
    page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # Alt+E edits the newest note; after saving, its earlier text is in its history.
    page.locator("h1").click()
    page.keyboard.press("Alt+e")
    editing = page.locator("#timeline li.note-editing textarea[name=note]")
    expect(editing).to_be_focused()
    editing.fill("The cart total is wrong after removing an item")
    page.keyboard.press("Control+Enter")
    note = page.locator("#timeline li.note").first
    summary = note.locator(".note-history summary")
    expect(summary).to_contain_text("Edited")
    summary.click()
    expect(note.locator(".history-text")).to_have_text("The **cart** total is wrong")
    no_serious(page, axe_js, "a note's edit history open")


def test_the_end_of_the_time_box_alerts_and_the_chime_is_remembered(
    page: Page, live_server: str, sign_in: Any
) -> None:
    base = live_server
    sign_in(page, base, "tester")
    page.goto(f"{base}/projects/1/sessions/new")
    page.get_by_label("Name").fill("A short time box")
    page.get_by_label("Estimate").fill("1")
    page.get_by_role("button", name="Create session").click()
    page.wait_for_url(re.compile(r"/sessions/\d+$"))
    chime = page.get_by_label("Chime when the time box ends")
    expect(chime).not_to_be_checked()  # off by default
    chime.check()
    page.reload()
    expect(page.get_by_label("Chime when the time box ends")).to_be_checked()
    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    alert = page.locator("#timebox-alert")
    expect(alert).to_be_hidden()
    # The start is announced to the page, which then swaps in a fresh timer: wait for
    # that, or it would undo the jump below.
    expect(page.locator("[data-live]")).to_have_attribute("data-live-refreshes", "1")
    # Jump the running timer to just before the estimate: the crossing raises the alert.
    page.evaluate(
        """() => {
          const el = document.querySelector('[data-timer]');
          const estimate = parseInt(el.getAttribute('data-estimate-us'), 10);
          el.setAttribute('data-elapsed-us', String(estimate - 1500000));
          el.charterSince = Date.now();
          el.charterUnder = undefined;
        }"""
    )
    expect(alert).to_be_visible()
    expect(alert).to_have_attribute("role", "alert")
