"""A printable, self-contained HTML booklet of a paper form: questions, answer sheet, key and scoring table.

One file per form (images embedded as data URIs, no external CSS or script), in Vietnamese or English, with page
breaks before the answer sheet, the key and the scoring table so markers can print them apart. The scoring table
maps each sum score to θ, SE and level (:mod:`digicomp.assembly.paper`), so a sitting without a connection is
scored on the same scale and levels as the adaptive test.
"""

from __future__ import annotations

import base64
import mimetypes
from html import escape
from pathlib import Path
from typing import Any

from digicomp import __version__

TEXT: dict[str, dict[str, str]] = {
    "form": {"vi": "Đề {form}", "en": "Form {form}"},
    "items": {"vi": "{n} câu hỏi", "en": "{n} questions"},
    "name": {"vi": "Họ và tên", "en": "Name"},
    "id": {"vi": "Số báo danh", "en": "Candidate number"},
    "unit": {"vi": "Đơn vị", "en": "Unit"},
    "instructions": {
        "vi": "Đọc kỹ từng câu hỏi. Ghi câu trả lời vào PHIẾU TRẢ LỜI (không ghi vào đề). Câu một lựa chọn: tô kín "
        "một ô. Câu nhiều lựa chọn: tô kín mọi ô đúng. Câu sắp xếp: ghi các chữ cái theo đúng thứ tự. Câu ghép "
        "cặp: ghi chữ cái ghép với từng mục. Câu trả lời ngắn: viết câu trả lời vào ô. Câu bỏ trống được tính "
        "là sai.",
        "en": "Read each question carefully. Write your answers on the ANSWER SHEET (not on the questions). "
        "Single choice: fill one bubble. Multiple response: fill every correct bubble. Ordering: write the letters "
        "in the right order. Matching: write the letter that goes with each entry. Short answer: write the answer "
        "in the box. A question left blank counts as wrong.",
    },
    "choose_one": {"vi": "Chọn một đáp án.", "en": "Choose one answer."},
    "choose_all": {"vi": "Chọn tất cả các đáp án đúng.", "en": "Choose every correct answer."},
    "order": {"vi": "Sắp xếp theo đúng thứ tự.", "en": "Put these in the right order."},
    "match": {"vi": "Ghép mỗi mục với một lựa chọn.", "en": "Match each entry with one choice."},
    "short": {"vi": "Viết câu trả lời ngắn.", "en": "Write a short answer."},
    "task": {
        "vi": "Viết bài làm vào phần để trống; người chấm chấm theo thang tiêu chí.",
        "en": "Write your response in the space provided; a rater scores it against the rubric.",
    },
    "answer_sheet": {"vi": "Phiếu trả lời", "en": "Answer sheet"},
    "question": {"vi": "Câu", "en": "Question"},
    "answer": {"vi": "Trả lời", "en": "Answer"},
    "key": {"vi": "Đáp án (dành cho người chấm)", "en": "Answer key (for markers only)"},
    "type": {"vi": "Dạng", "en": "Type"},
    "points": {"vi": "Điểm tối đa", "en": "Max points"},
    "scoring": {"vi": "Bảng quy đổi điểm", "en": "Scoring table"},
    "scoring_note": {
        "vi": "Cộng điểm các câu (câu đúng 1 điểm; câu chấm từng phần theo quy tắc của câu) thành tổng điểm, rồi "
        "tra bảng: θ là ước lượng năng lực (EAP theo tổng điểm, đệ quy Lord–Wingersky), SE là sai số chuẩn, "
        "trình độ là trình độ chứa θ theo các điểm cắt của ngân hàng câu hỏi.",
        "en": "Add up the points (1 per correct answer; partial-credit items by their rule) into the sum score, "
        "then read the table: θ is the ability estimate (EAP given the sum score, Lord–Wingersky recursion), SE "
        "its standard error, level the level holding θ by the bank's cut scores.",
    },
    "sum": {"vi": "Tổng điểm", "en": "Sum score"},
    "level": {"vi": "Trình độ", "en": "Level"},
    "reliability": {"vi": "Độ tin cậy của điểm quy đổi: {r}", "en": "Reliability of the scored table: {r}"},
    "provisional": {
        "vi": "Lưu ý: tham số câu hỏi là tạm thời (chuyên gia ước định, chưa hiệu chuẩn bằng dữ liệu thật); kết "
        "quả chỉ mang tính tham khảo.",
        "en": "Note: the item parameters are provisional (set by experts, not yet calibrated on real data); the "
        "result is indicative only.",
    },
    "image": {"vi": "Hình", "en": "Image"},
}

CSS = """
body{font-family:"Times New Roman",Georgia,serif;max-width:48rem;margin:1.5rem auto;padding:0 1rem;color:#000;
line-height:1.4;font-size:12pt}h1{font-size:16pt;margin:.2rem 0}h2{font-size:14pt;border-bottom:1px solid #000}
.q{margin:.9rem 0;break-inside:avoid}.q ol{margin:.3rem 0 .3rem 1.2rem;padding:0;list-style:none}
.hint{font-style:italic;font-size:10.5pt}.fields td{padding:.35rem .5rem;border-bottom:1px dotted #000;width:18rem}
table{border-collapse:collapse;font-size:11pt}th,td{border:1px solid #555;padding:.15rem .45rem;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}.bubble{display:inline-block;width:1.1em;height:1.1em;
border:1px solid #000;border-radius:50%;text-align:center;font-size:8pt;line-height:1.1em;margin-right:.25rem}
.box{display:inline-block;min-width:14rem;height:1.3em;border:1px solid #000}.page{break-before:page}
.response{height:14rem;border:1px solid #000}
.note{border:1px solid #000;padding:.4rem .6rem;font-size:10.5pt}img{max-width:100%}.muted{color:#555;font-size:9pt}
@media print{body{margin:0}}
"""


def t(key: str, lang: str, **fields: Any) -> str:
    """The booklet text ``key`` in ``lang`` (English when missing), fields filled in."""
    text = TEXT[key].get(lang) or TEXT[key]["en"]
    return text.format(**fields) if fields else text


def _text(value: Any, lang: str) -> str:
    """A {vi, en} text of the bank in ``lang``, escaped."""
    if value is None:
        return ""
    get = getattr(value, "get", None)
    raw = get(lang) if callable(get) else getattr(value, lang, None)
    return escape(str(raw if raw is not None else getattr(value, "en", value)))


def _media(item: Any, base: Path | None, lang: str) -> str:
    """The item's image embedded as a data URI (its alt text alone when the file cannot be read)."""
    media = getattr(item, "media", None)
    if media is None:
        return ""
    alt = _text(media.alt, lang)
    src = Path(media.src)
    path = src if src.is_absolute() or base is None else base / src
    try:
        data = path.read_bytes()
    except OSError:
        return f'<p class="note">[{t("image", lang)}: {alt}]</p>'
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    uri = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return f'<p><img src="{uri}" alt="{alt}"></p>'


def _question(pos: int, item: Any, base: Path | None, lang: str) -> str:
    kind = item.kind
    out = [
        f'<div class="q"><p><b>{t("question", lang)} {pos}.</b> {_text(item.stem, lang)}</p>',
        _media(item, base, lang),
    ]
    if kind in ("multiple_choice", "multiple_response", "ordering"):
        hint = {"multiple_choice": "choose_one", "multiple_response": "choose_all", "ordering": "order"}[kind]
        out.append(f'<p class="hint">{t(hint, lang)}</p><ol>')
        out += [f"<li><b>{escape(o.id)}.</b> {_text(o, lang)}</li>" for o in item.options]
        out.append("</ol>")
    elif kind == "matching":
        out.append(f'<p class="hint">{t("match", lang)}</p><table><tr><td><ol>')
        out += [f"<li><b>{k}.</b> {_text(p, lang)}</li>" for k, p in enumerate(item.premises, start=1)]
        out.append("</ol></td><td><ol>")
        out += [f"<li><b>{escape(c.id)}.</b> {_text(c, lang)}</li>" for c in item.choices]
        out.append("</ol></td></tr></table>")
    elif kind == "short_answer":
        out.append(f'<p class="hint">{t("short", lang)}</p>')
    elif kind == "rated_task":
        out.append(f'<p class="hint">{t("task", lang)}</p><div class="response"></div>')
    out.append("</div>")
    return "\n".join(out)


def _sheet_cell(item: Any) -> str:
    kind = item.kind
    if kind in ("multiple_choice", "multiple_response"):
        return " ".join(f'<span class="bubble">{escape(o.id)}</span>' for o in item.options)
    if kind == "ordering":
        return " → ".join("<span class='bubble'></span>" for _ in item.options)
    if kind == "matching":
        return " ".join(f"{k}:<span class='bubble'></span>" for k in range(1, len(item.premises) + 1))
    if kind == "rated_task":  # the rater's points per criterion, out of its maximum
        return " ".join(f"{escape(c.id)}:<span class='bubble'></span>/{c.points}" for c in item.rubric)
    return '<span class="box"></span>'


def booklet_html(
    bank: Any,
    items: list[int],
    form_id: str,
    key: list[dict[str, Any]],
    table: Any,
    lang: str = "vi",
    level_names: dict[str, str] | None = None,
) -> str:
    """The whole booklet of one form (``items``: bank positions in form order) as one HTML document."""
    base = bank.source.parent if getattr(bank, "source", None) is not None else None
    title = _text(getattr(bank.spec, "title", None), lang) or escape(bank.id)
    records = [bank.items[int(j)] for j in items]
    provisional = any(getattr(r.calibration, "status", "") == "provisional" for r in records)
    body = [
        f"<h1>{title}</h1>",
        f"<p><b>{t('form', lang, form=escape(form_id))}</b> · {t('items', lang, n=len(items))}</p>",
        '<table class="fields">'
        + "".join(f"<tr><th>{t(k, lang)}</th><td></td></tr>" for k in ("name", "id", "unit"))
        + "</table>",
        f'<p class="note">{t("instructions", lang)}</p>',
    ]
    body += [_question(pos, r, base, lang) for pos, r in enumerate(records, start=1)]
    body.append(f'<h2 class="page">{t("answer_sheet", lang)} · {t("form", lang, form=escape(form_id))}</h2>')
    body.append(
        '<table class="fields">'
        + "".join(f"<tr><th>{t(k, lang)}</th><td></td></tr>" for k in ("name", "id", "unit"))
        + "</table><p></p>"
    )
    body.append(f"<table><tr><th>{t('question', lang)}</th><th>{t('answer', lang)}</th></tr>")
    body += [f'<tr><td class="n">{pos}</td><td>{_sheet_cell(r)}</td></tr>' for pos, r in enumerate(records, start=1)]
    body.append("</table>")
    body.append(f'<h2 class="page">{t("key", lang)} · {t("form", lang, form=escape(form_id))}</h2>')
    body.append(
        f"<table><tr><th>{t('question', lang)}</th><th>ID</th><th>{t('type', lang)}</th>"
        f"<th>{t('answer', lang)}</th><th>{t('points', lang)}</th></tr>"
    )
    cats = bank.params.n_categories
    for row, j in zip(key, items):
        body.append(
            f'<tr><td class="n">{row["position"]}</td><td>{escape(row["item"])}</td><td>{escape(row["type"])}</td>'
            f'<td>{escape(row["key"])}</td><td class="n">{int(cats[int(j)]) - 1}</td></tr>'
        )
    body.append("</table>")
    body.append(f'<h2 class="page">{t("scoring", lang)} · {t("form", lang, form=escape(form_id))}</h2>')
    body.append(f"<p>{t('scoring_note', lang)}</p>")
    names = level_names or {}
    body.append(f"<table><tr><th>{t('sum', lang)}</th><th>θ</th><th>SE</th><th>{t('level', lang)}</th></tr>")
    for row in table.rows():
        level = row.get("level")
        shown = escape(names.get(level, level)) if level is not None else ""
        body.append(
            f'<tr><td class="n">{row["score"]}</td><td class="n">{row["theta"]:.2f}</td>'
            f'<td class="n">{row["se"]:.2f}</td><td>{shown}</td></tr>'
        )
    body.append("</table>")
    body.append(f"<p>{t('reliability', lang, r=f'{table.reliability:.3f}')}</p>")
    if provisional:
        body.append(f'<p class="note">{t("provisional", lang)}</p>')
    body.append(f'<p class="muted">digicomp {__version__} · {escape(bank.id)} {escape(str(bank.version))}</p>')
    return "\n".join(
        [
            "<!DOCTYPE html>",
            f'<html lang="{lang}">',
            '<head><meta charset="utf-8">',
            f"<title>{title} · {t('form', lang, form=escape(form_id))}</title>",
            f"<style>{CSS}</style></head>",
            "<body>",
            *body,
            "</body></html>",
            "",
        ]
    )
