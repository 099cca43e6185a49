"""The test-taker's page in a real browser (Playwright driving Debian's Chromium at /usr/bin/chromium; no browser
is downloaded): a whole sitting by tapping on a 360 px phone with a reload in the middle, a keyboard-only sitting,
accessibility basics, and screenshots of an item page and the result page kept in test-artifacts/ (issue 14)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest.importorskip("playwright")
from playwright.sync_api import sync_playwright  # noqa: E402

from .server import Served  # noqa: E402

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

READ_ITEM = """() => {
  const f = document.querySelector('form[action="/test/answer"]');
  if (!f) return null;
  return {item: f.querySelector('input[name=item]').value, step: +f.querySelector('input[name=step]').value,
          radios: f.querySelectorAll('input[type=radio]').length,
          boxes: f.querySelectorAll('input[type=checkbox]').length,
          order: [...f.querySelectorAll('select[name^=pos_]')].map(s => s.name),
          match: [...f.querySelectorAll('select[name^=match_]')].map(s => s.name),
          text: f.querySelectorAll('input[type=text]').length};
}"""

A11Y = """() => {
  const problems = [];
  for (const el of document.querySelectorAll('input:not([type=hidden]), select')) {
    if (!el.labels || el.labels.length === 0) problems.push('unlabelled ' + (el.name || el.id));
  }
  for (const fs of document.querySelectorAll('fieldset')) if (!fs.querySelector('legend')) problems.push('no legend');
  if (!document.documentElement.lang) problems.push('no lang');
  if (!document.querySelector('main')) problems.push('no main');
  const lum = c => { const v = c.match(/[0-9.]+/g).slice(0, 3).map(x => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); });
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
  const bg = el => { while (el) { const b = getComputedStyle(el).backgroundColor;
      if (b && !b.startsWith('rgba(0, 0, 0, 0)') && b !== 'transparent') return b; el = el.parentElement; }
    return 'rgb(255, 255, 255)'; };
  for (const el of document.querySelectorAll('legend, label, p, button, a, td, th, h1, h2, h3, li')) {
    if (!el.textContent.trim() || el.closest('.sr') || el.classList.contains('skip')) continue;
    const a = lum(getComputedStyle(el).color), b = lum(bg(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) problems.push('contrast ' + ratio.toFixed(2) + ' ' + el.tagName);
  }
  return problems;
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium")
    folder = tmp_path_factory.mktemp("browser")
    served = Served(f"sqlite:///{folder / 'store.db'}", workers=1, log=folder / "serve.log")
    yield served
    served.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def phone(browser):
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="vi-VN")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return ctx, page, errors


def fill_by_tapping(page, info: dict) -> None:
    if info["radios"]:
        page.locator("label.opt").first.tap()
    elif info["boxes"]:
        page.locator("label.opt").first.tap()
    elif info["order"]:
        for k, name in enumerate(info["order"]):
            page.select_option(f"select[name='{name}']", str(k + 1))
    elif info["match"]:
        for name in info["match"]:
            page.select_option(f"select[name='{name}']", index=1)
    else:
        page.fill("input[type=text]", "Ctrl + Shift + Esc")


def test_a_whole_sitting_on_a_phone_with_a_reload_in_the_middle(server, browser):
    ctx, page, errors = phone(browser)
    page.goto(server.url + "/")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    page.fill("#person", "browser-officer")
    with page.expect_navigation():
        page.get_by_role("button", name="Bắt đầu làm bài").tap()
    seen, reloaded, shot = [], False, False
    for _ in range(60):
        page.wait_for_load_state()
        if page.url.endswith("/result"):
            break
        info = page.evaluate(READ_ITEM)
        assert info is not None, page.content()[:500]
        assert page.evaluate(A11Y) == []
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
        if not shot:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "item-phone.png"), full_page=True)
            shot = True
        if info["step"] == 3 and not reloaded:
            page.reload()
            again = page.evaluate(READ_ITEM)
            assert (again["item"], again["step"]) == (info["item"], info["step"])  # resumes at the same item
            reloaded = True
        seen.append(info["item"])
        fill_by_tapping(page, info)
        with page.expect_navigation():
            page.get_by_role("button", name="Trả lời").tap()
    assert page.url.endswith("/result") and reloaded
    assert page.get_by_role("heading", name="Kết quả").is_visible()
    assert "Mức năng lực chung" in page.inner_text("main")
    assert page.evaluate(A11Y) == []
    page.screenshot(path=str(ARTIFACTS / "result-phone.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("link", name="English").tap()
    assert "Overall level" in page.inner_text("main")
    assert len(seen) == len(set(seen)) >= 12
    assert errors == [], errors  # no script error and no CSP violation
    ctx.close()


def test_a_keyboard_only_sitting(server, browser):
    ctx = browser.new_context(viewport={"width": 1024, "height": 800}, locale="vi-VN")
    page = ctx.new_page()
    page.goto(server.url + "/?lang=vi")
    for _ in range(12):  # to the start button and press Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.tagName") == "BUTTON":
            break
    with page.expect_navigation():
        page.keyboard.press("Enter")
    steps = 0
    for _ in range(60):
        page.wait_for_load_state()
        if page.url.endswith("/result"):
            break
        info = page.evaluate(READ_ITEM)
        chosen_group, pos = False, 0
        for _ in range(80):
            page.keyboard.press("Tab")
            el = page.evaluate(
                "() => {const e = document.activeElement; const s = getComputedStyle(e);"
                " return {tag: e.tagName, type: e.type || '', name: e.name || '', outline: s.outlineStyle,"
                " ring: getComputedStyle(e.closest('label') || e).outlineStyle}}"
            )
            if el["tag"] in ("INPUT", "SELECT", "BUTTON"):
                assert "none" not in (el["outline"],) or el["ring"] != "none", el  # a visible focus ring
            if el["type"] in ("radio", "checkbox") and not chosen_group:
                page.keyboard.press("Space")
                chosen_group = True
            elif el["tag"] == "SELECT" and el["name"].startswith("pos_"):
                pos += 1
                for _ in range(pos):
                    page.keyboard.press("ArrowDown")
            elif el["tag"] == "SELECT":
                page.keyboard.press("ArrowDown")
            elif el["type"] == "text":
                page.keyboard.type("Ctrl + Shift + Esc")
            elif el["tag"] == "BUTTON":
                with page.expect_navigation():
                    page.keyboard.press("Enter")
                break
        after = page.evaluate(READ_ITEM)
        assert after is None or after["step"] == info["step"] + 1, (info, after, page.inner_text("main")[:300])
        steps += 1
    assert page.url.endswith("/result") and steps >= 12
    ctx.close()


def test_an_exhibit_table_on_a_phone(browser):
    """A stem holding a wide exhibit table: a real table, readable, no sideways scrolling of the page, accessible."""
    from digicomp.service.pages import CSS, item_page

    rows = "\n".join(
        f"| TA-{k:04d} | 0865214307 | 12.500.000 đ | 07/11 (T7) 16:45 | Ngân hàng A, tài khoản 1903 5678 9012 |"
        for k in range(8)
    )
    head = "| Mã | Số điện thoại | Số tiền | Chuyển lúc | Tài khoản nhận |\n|---|---|---|---|---|"
    stem = f"Trích sổ tiếp nhận tháng 11:\n\n{head}\n{rows}\n\nĐồng chí xử lý thế nào?"
    reply = {
        "item": {
            "id": "x-1",
            "kind": "multiple_choice",
            "stem": {"vi": stem, "en": stem},
            "options": [{"id": k, "vi": f"Phương án {k}", "en": k} for k in "ABCD"],
        },
        "step": 0,
        "progress": {"min_items": 1, "max_items": 10},
    }
    html = item_page("vi", reply, "0" * 64, None).replace(
        '<link rel="stylesheet" href="/static/app.css">', f"<style>{CSS}</style>"
    )
    ctx, page, errors = phone(browser)
    page.set_content(html)
    assert page.locator(".stem table tbody tr").count() == 8
    assert page.locator(".stem th").first.inner_text() == "Mã"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # the table scrolls in its box
    assert page.evaluate(A11Y) == []
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "exhibit-phone.png"), full_page=True)
    assert errors == [], errors
    ctx.close()
