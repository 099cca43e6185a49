"""Stems as HTML: exhibit tables rendered as tables, paragraphs and line breaks kept, every text escaped; the item page
puts an exhibit's stem beside a legend naming the question. Every bundled stem with a table renders one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from digicomp.service.pages import item_page
from digicomp.service.stem import has_table, stem_html

ROOT = Path(__file__).resolve().parents[2]


EXHIBIT = """Số liệu tháng 11:

| Đơn vị | Hồ sơ | Quá hạn |

|---|---|---|

| Tân An | 120 | 3 |
| Bắc Sơn | <b>96</b> | 0 |

Đồng chí chọn
đơn vị nào?"""


def test_a_table_with_a_header_blank_lines_between_rows_and_paragraphs():
    html = stem_html(EXHIBIT)
    assert html.startswith("<p>Số liệu tháng 11:</p><table><thead><tr>")
    assert '<th scope="col">Đơn vị</th><th scope="col">Hồ sơ</th><th scope="col">Quá hạn</th>' in html
    assert "<tr><td>Tân An</td><td>120</td><td>3</td></tr>" in html
    assert "<td>&lt;b&gt;96&lt;/b&gt;</td>" in html and "<b>" not in html  # cell text is escaped
    assert html.endswith("<p>Đồng chí chọn<br>đơn vị nào?</p>")
    assert html.count("<table>") == 1 and html.count("<tr>") == 3  # the separator row is not a row


def test_rows_without_a_separator_are_all_body_rows():
    html = stem_html("| R1 | a |\n| R2 | b |")
    assert "<thead>" not in html and html.count("<tr>") == 2 and "<td>R2</td><td>b</td>" in html


def test_a_single_pipe_line_is_text_and_plain_stems_have_no_table():
    assert not has_table("Chọn A | B?") and not has_table("Một dòng.\n\nHai dòng.")
    assert stem_html("| only one row |") == "<p>| only one row |</p>"
    assert stem_html("Một dòng.\n\nHai dòng.") == "<p>Một dòng.</p><p>Hai dòng.</p>"


@given(st.text(alphabet=st.sampled_from(list("ab|<>&\n -")), max_size=80))
def test_no_markup_from_the_text_survives(text):
    """Whatever the stem holds, the only tags in the output are the renderer's own."""
    tags = set(re.findall(r"</?([a-z]+)", stem_html(text)))
    assert tags <= {"p", "br", "table", "thead", "tbody", "tr", "th", "td"}


def _reply(stem: str) -> dict:
    item = {
        "id": "x-1",
        "kind": "multiple_choice",
        "stem": {"vi": stem, "en": stem},
        "options": [{"id": "A", "vi": "Tân An", "en": "Tân An"}, {"id": "B", "vi": "Bắc Sơn", "en": "Bắc Sơn"}],
    }
    return {"item": item, "step": 2, "progress": {"min_items": 1, "max_items": 10}}


def test_the_item_page_shows_an_exhibit_as_a_table_and_keeps_the_legend():
    page = item_page("vi", _reply(EXHIBIT), "0" * 64, None)
    assert (
        '<fieldset aria-describedby="stem"><legend>Câu 3</legend><div class="stem" id="stem" tabindex="0"><p>' in page
    )
    assert "<td>Tân An</td>" in page
    with_error = item_page("vi", _reply(EXHIBIT), "0" * 64, None, error="Chưa chọn")
    assert 'aria-describedby="stem err"' in with_error and 'id="err"' in with_error
    plain = item_page("vi", _reply("Dòng một.\nDòng hai?"), "0" * 64, None)
    assert '<legend><span class="sr">Câu 3: </span>Dòng một.<br>Dòng hai?</legend>' in plain
    assert "<table>" not in plain


@pytest.mark.parametrize("bank", ["civil-service", "public-security"])
def test_every_bundled_exhibit_renders_as_a_table(bank):
    with open(ROOT / "item_banks" / f"{bank}.yaml", encoding="utf-8") as fh:
        items = yaml.safe_load(fh)["items"]
    tabled = [
        (it["id"], lang, it["stem"][lang]) for it in items for lang in ("vi", "en") if has_table(it["stem"][lang])
    ]
    assert len(tabled) > 50
    for item_id, lang, stem in tabled:
        html = stem_html(stem)
        rows = [line for line in stem.splitlines() if line.lstrip().startswith("|")]
        body_rows = [r for r in rows if not re.fullmatch(r"[\s|:-]+", r)]
        assert "<table>" in html and html.count("<tr>") == len(body_rows), (item_id, lang)
