"""The test-taker's pages, rendered on the server: start, one item per page, the result. Vietnamese first.

Plain HTML forms that work without JavaScript (the one small script only stops a double submit), no external
resources, one stylesheet; every step is a few KB. Accessibility (WCAG 2.1 AA basics): one ``<main>`` with a skip
link, each question a ``<fieldset>`` whose ``<legend>`` is the stem (or, for a stem holding an exhibit table, names the
question while the stem, tables rendered, describes the group), every control labelled, a visible focus ring,
text contrast above 7:1, errors announced (``role="alert"``), progress as text and as ``<progress>``.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import quote

from digicomp.reporting.programme import PROGRAMME_CSS
from digicomp.service.stem import has_table, stem_html

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Đánh giá năng lực số",
        "skip": "Bỏ qua, đến nội dung chính",
        "switch": "English",
        "intro": "Bài đánh giá thích ứng: mỗi câu hỏi được chọn theo các câu trả lời trước. Bài dừng khi đã đủ "
        "chính xác; kết quả gồm mức năng lực chung, theo từng lĩnh vực và các năng lực nên bồi dưỡng.",
        "person": "Mã cán bộ (không bắt buộc)",
        "unit": "Đơn vị",
        "unit_none": "— Không chọn —",
        "design": "Bài đánh giá",
        "start": "Bắt đầu làm bài",
        "question": "Câu {n}",
        "progress": "Đã trả lời {n} câu; bài có từ {lo} đến {hi} câu.",
        "answer": "Trả lời",
        "choose_one": "Chọn một đáp án.",
        "choose_many": "Chọn tất cả các đáp án đúng.",
        "order": "Đánh số thứ tự cho từng bước (1 là bước đầu tiên).",
        "position": "Thứ tự",
        "match": "Chọn nội dung phù hợp cho từng mục.",
        "type_answer": "Câu trả lời của anh/chị",
        "likert": "Chọn mức phù hợp nhất với anh/chị.",
        "need_answer": "Anh/chị chưa trả lời câu này.",
        "need_order": "Mỗi bước cần một số thứ tự khác nhau từ 1 đến {n}.",
        "need_match": "Hãy chọn nội dung cho mọi mục.",
        "stale": "Câu trả lời trước đã được ghi nhận; đây là câu tiếp theo.",
        "result": "Kết quả",
        "level": "Mức năng lực chung",
        "probability": "độ tin cậy {p}",
        "areas": "Theo lĩnh vực",
        "area": "Lĩnh vực",
        "area_level": "Mức",
        "imprecise": "(ít câu hỏi, chỉ mang tính tham khảo)",
        "work_on": "Năng lực nên bồi dưỡng",
        "saved": "Bài làm đã được lưu. Anh/chị có thể đóng trang này.",
        "again": "Làm bài mới",
        "abandoned": "Bài làm này đã kết thúc giữa chừng.",
        "choose": "— Chọn —",
        "error": "Có lỗi",
        "slow_down": "Anh/chị gửi quá nhiều yêu cầu trong một phút. Hãy chờ {s} giây rồi tải lại trang; "
        "bài làm vẫn được giữ nguyên.",
        "stale_form": "Trang này đã cũ hoặc thiếu mã bảo mật. Hãy tải lại trang rồi trả lời lại.",
        "bad_form": "Biểu mẫu gửi lên không hợp lệ. Hãy tải lại trang rồi trả lời lại.",
        "failed": "Không xử lý được yêu cầu này (mã lỗi: {code}). Hãy tải lại trang.",
        "dashboard": "Tiến độ chương trình",
        "dashboard_empty": "Chưa có bài đánh giá nào hoàn thành; bảng theo dõi sẽ có số liệu khi có kết quả đầu tiên.",
        "need_login": "Trang này cần đăng nhập (tài khoản quản trị hoặc quản lý đơn vị, hoặc khóa API).",
        "forbidden_unit": "Tài khoản này không được xem đơn vị đã chọn.",
        "unknown_unit": "Không có đơn vị này trong cấu hình của dịch vụ.",
        "no_units": "Dịch vụ chưa khai báo đơn vị nào; bảng theo dõi tổng hợp theo đơn vị.",
        "programme_error": "Chưa tổng hợp được kết quả đã lưu (mã lỗi: {code}); hãy báo quản trị hệ thống.",
    },
    "en": {
        "title": "Digital competence assessment",
        "skip": "Skip to main content",
        "switch": "Tiếng Việt",
        "intro": "An adaptive test: each question is chosen from your earlier answers. It stops once the result is "
        "precise enough; you get your level overall, per area and the competences to work on.",
        "person": "Staff number (optional)",
        "unit": "Unit",
        "unit_none": "— None —",
        "design": "Test",
        "start": "Start the test",
        "question": "Question {n}",
        "progress": "{n} answered; the test has {lo} to {hi} questions.",
        "answer": "Answer",
        "choose_one": "Choose one answer.",
        "choose_many": "Choose every correct answer.",
        "order": "Number the steps in order (1 is the first step).",
        "position": "Position",
        "match": "Choose the matching entry for each item.",
        "type_answer": "Your answer",
        "likert": "Choose what fits you best.",
        "need_answer": "You have not answered this question.",
        "need_order": "Each step needs a different number from 1 to {n}.",
        "need_match": "Choose an entry for every item.",
        "stale": "Your previous answer was recorded; here is the next question.",
        "result": "Result",
        "level": "Overall level",
        "probability": "certainty {p}",
        "areas": "By area",
        "area": "Area",
        "area_level": "Level",
        "imprecise": "(few questions: indicative only)",
        "work_on": "Competences to work on",
        "saved": "Your test is saved. You may close this page.",
        "again": "Take a new test",
        "abandoned": "This test was ended before it was finished.",
        "choose": "— Choose —",
        "error": "Error",
        "slow_down": "Too many requests in one minute. Wait {s} seconds, then reload the page; your test is kept "
        "as it is.",
        "stale_form": "This page is out of date or lacks its security token. Reload the page and answer again.",
        "bad_form": "The form sent is not valid. Reload the page and answer again.",
        "failed": "This request could not be handled (error code: {code}). Reload the page.",
        "dashboard": "Programme progress",
        "dashboard_empty": "No assessment has been finished yet; the dashboard fills in with the first results.",
        "need_login": "This page needs a login (an administrator's or unit manager's account, or an API key).",
        "forbidden_unit": "This account may not see the unit asked for.",
        "unknown_unit": "The service's configuration has no such unit.",
        "no_units": "The service names no units; the dashboard reports by unit.",
        "programme_error": "The stored results could not be summarised (error code: {code}); tell the administrator.",
    },
}

CSS = (
    """*{box-sizing:border-box}
body{margin:0;overflow-wrap:anywhere;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",
sans-serif;color:#111;background:#fff}
.skip{position:absolute;left:-999px;top:0}.skip:focus{left:.5rem;background:#fff;padding:.5rem;z-index:9}
header{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.5rem 1rem;
background:#0b3d91;color:#fff}
header a{color:#fff}header h1{font-size:1.05rem;margin:0}
main{max-width:42rem;margin:0 auto;padding:1rem}
fieldset{border:1px solid #555;border-radius:.4rem;margin:0 0 1rem;padding:.75rem;min-width:0}
legend{font-weight:600;padding:0 .25rem}
.stem{overflow-x:auto;margin:0 0 .75rem}.stem p{margin:.25rem 0 .5rem}
.stem table{font-size:.95rem;margin:.25rem 0 .75rem}
.stem th,.stem td{overflow-wrap:normal;vertical-align:top}
@media (max-width:40rem){.stem table{width:40rem}}
.hint{color:#333;margin:.25rem 0 .75rem}
label.opt{display:flex;gap:.6rem;align-items:flex-start;padding:.6rem;margin:.35rem 0;border:1px solid #777;
border-radius:.4rem;min-height:2.75rem;cursor:pointer}
label.opt input{margin-top:.3rem;width:1.25rem;height:1.25rem;flex:none}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0;padding:.5rem;border:1px solid #777;
border-radius:.4rem}
.row span{flex:1 1 12rem}
select,input[type=text]{font:inherit;padding:.45rem;border:1px solid #333;border-radius:.3rem;width:100%;
max-width:100%;min-width:0}
.row label{flex:1 1 100%;min-width:0}
button{font:inherit;font-weight:600;color:#fff;background:#0b3d91;border:0;border-radius:.4rem;
padding:.75rem 1.5rem;min-height:2.75rem;cursor:pointer}
a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,label.opt:focus-within{
outline:3px solid #c60;outline-offset:2px}
progress{width:100%;height:.75rem}
.err{border-left:4px solid #b00020;background:#fdecee;padding:.5rem .75rem;margin:0 0 1rem}
.note{border-left:4px solid #0b3d91;background:#eef3fb;padding:.5rem .75rem;margin:0 0 1rem}
figure{margin:0 0 1rem}figure img{max-width:100%;height:auto;border:1px solid #999}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid #999}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
main.wide{max-width:80rem}main.wide table{font-size:.9rem}main.wide th,main.wide td{padding:.3rem .5rem}
"""
    + PROGRAMME_CSS
)

JS = """document.addEventListener('submit',function(e){var b=e.target.querySelector('button[type=submit]');
if(b){if(b.dataset.sent){e.preventDefault();return}b.dataset.sent='1';b.setAttribute('aria-disabled','true')}});
"""


def t(lang: str, key: str, **fields: Any) -> str:
    """The page text ``key`` in ``lang`` (escaped), with ``fields`` filled in."""
    text = TEXT.get(lang, TEXT["vi"])[key]
    return escape(text.format(**fields) if fields else text)


def _raw(value: Any, lang: str) -> str:
    """A {vi, en} text in ``lang`` (falling back to Vietnamese), not escaped."""
    if isinstance(value, dict):
        return str(value.get(lang) or value.get("vi") or value.get("en") or "")
    return "" if value is None else str(value)


def _tr(value: Any, lang: str) -> str:
    """A {vi, en} text in ``lang`` (falling back to Vietnamese), escaped."""
    return escape(_raw(value, lang))


def page(lang: str, title: str, body: str, switch_to: str, wide: bool = False) -> str:
    """The page frame: language, title, skip link, header with the language switch, ``<main>`` (``wide`` for the
    dashboard's tables)."""
    other = "en" if lang == "vi" else "vi"
    sep = "&amp;" if "?" in switch_to else "?"
    main = '<main id="main" class="wide">' if wide else '<main id="main">'
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f'<title>{escape(title)}</title><link rel="stylesheet" href="/static/app.css">'
        '<script src="/static/app.js" defer></script></head><body>'
        f'<a class="skip" href="#main">{t(lang, "skip")}</a>'
        f'<header><h1>{t(lang, "title")}</h1><a href="{escape(switch_to)}{sep}lang={other}" lang="{other}">'
        f"{t(lang, 'switch')}</a></header>{main}{body}</main></body></html>"
    )


def start_page(
    lang: str, csrf: str, designs: list[tuple[str, str]], units: list[tuple[str, str]], error: str = ""
) -> str:
    """The start form: person id, unit (when the service has units), test (when it offers several)."""
    parts = [f"<h2>{t(lang, 'title')}</h2><p>{t(lang, 'intro')}</p>"]
    if error:
        parts.append(f'<div class="err" role="alert">{escape(error)}</div>')
    parts.append(f'<form method="post" action="/start"><input type="hidden" name="csrf" value="{escape(csrf)}">')
    parts.append(f'<input type="hidden" name="lang" value="{lang}">')
    parts.append(
        f'<p><label for="person">{t(lang, "person")}</label><br>'
        '<input type="text" id="person" name="person" maxlength="128" autocomplete="off"></p>'
    )
    if units:
        opts = "".join(f'<option value="{escape(u)}">{escape(name)}</option>' for u, name in units)
        parts.append(
            f'<p><label for="unit">{t(lang, "unit")}</label><br><select id="unit" name="unit">'
            f'<option value="">{t(lang, "unit_none")}</option>{opts}</select></p>'
        )
    if len(designs) > 1:
        opts = "".join(f'<option value="{escape(d)}">{escape(name)}</option>' for d, name in designs)
        parts.append(
            f'<p><label for="design">{t(lang, "design")}</label><br>'
            f'<select id="design" name="design">{opts}</select></p>'
        )
    parts.append(f'<button type="submit">{t(lang, "start")}</button></form>')
    return page(lang, TEXT[lang]["title"], "".join(parts), "/")


def item_page(
    lang: str, reply: dict[str, Any], csrf: str, media_url: str | None, error: str = "", note: str = ""
) -> str:
    """One item as a form posting ``step``, ``item`` and the answer fields to ``/test/answer``."""
    item = reply["item"]
    prog = reply["progress"]
    n = reply["step"] + 1
    hi = prog.get("max_items") or n
    parts = [
        f'<p id="prog">{t(lang, "progress", n=reply["step"], lo=prog.get("min_items") or 1, hi=hi)}</p>'
        f'<progress max="{hi}" value="{reply["step"]}" aria-labelledby="prog"></progress>'
    ]
    if note:
        parts.append(f'<div class="note" role="status">{escape(note)}</div>')
    if error:
        parts.append(f'<div class="err" role="alert" id="err">{escape(error)}</div>')
    parts.append(
        f'<form method="post" action="/test/answer"><input type="hidden" name="csrf" value="{escape(csrf)}">'
        f'<input type="hidden" name="step" value="{reply["step"]}">'
        f'<input type="hidden" name="item" value="{escape(item["id"])}">'
    )
    stem = _raw(item.get("stem"), lang)
    if has_table(stem):  # an exhibit: the legend names the question, the stem (tables and all) describes the group
        described = ' aria-describedby="stem err"' if error else ' aria-describedby="stem"'
        parts.append(f"<fieldset{described}><legend>{t(lang, 'question', n=n)}</legend>")
        parts.append(f'<div class="stem" id="stem" tabindex="0">{stem_html(stem)}</div>')  # scrolls on a phone
    else:
        described = ' aria-describedby="err"' if error else ""
        parts.append(f'<fieldset{described}><legend><span class="sr">{t(lang, "question", n=n)}: </span>')
        parts.append(f"{escape(stem).replace(chr(10), '<br>')}</legend>")
    media = item.get("media")
    if media and media_url:
        parts.append(f'<figure><img src="{escape(media_url)}" alt="{_tr(media.get("alt"), lang)}"></figure>')
    parts.append(_controls(lang, item))
    parts.append(f'</fieldset><button type="submit">{t(lang, "answer")}</button></form>')
    return page(lang, f"{TEXT[lang]['question'].format(n=n)} – {TEXT[lang]['title']}", "".join(parts), "/test")


def _controls(lang: str, item: dict[str, Any]) -> str:
    kind = item["kind"]
    if kind in ("multiple_choice", "multiple_response"):
        typ, hint = ("radio", "choose_one") if kind == "multiple_choice" else ("checkbox", "choose_many")
        opts = "".join(
            f'<label class="opt"><input type="{typ}" name="answer" value="{escape(o["id"])}">'
            f"<span>{_tr(o, lang)}</span></label>"
            for o in item.get("options") or []
        )
        return f'<p class="hint">{t(lang, hint)}</p>{opts}'
    if kind == "ordering":
        options = item.get("options") or []
        numbers = "".join(f'<option value="{k}">{k}</option>' for k in range(1, len(options) + 1))
        rows = "".join(
            f'<div class="row"><span id="o-{escape(o["id"])}">{_tr(o, lang)}</span>'
            f'<label><span class="sr">{_tr(o, lang)}: </span>{t(lang, "position")} '
            f'<select name="pos_{escape(o["id"])}"><option value="">{t(lang, "choose")}</option>{numbers}</select>'
            "</label></div>"
            for o in options
        )
        return f'<p class="hint">{t(lang, "order")}</p>{rows}'
    if kind == "matching":
        choices = "".join(
            f'<option value="{escape(c["id"])}">{_tr(c, lang)}</option>' for c in item.get("choices") or []
        )
        rows = "".join(
            f'<div class="row"><label for="m-{escape(p["id"])}"><span>{_tr(p, lang)}</span></label>'
            f'<select id="m-{escape(p["id"])}" name="match_{escape(p["id"])}">'
            f'<option value="">{t(lang, "choose")}</option>{choices}</select></div>'
            for p in item.get("premises") or []
        )
        return f'<p class="hint">{t(lang, "match")}</p>{rows}'
    if kind == "short_answer":
        mode = ' inputmode="decimal"' if item.get("answer_kind") == "number" else ""
        return (
            f'<p><label for="answer">{t(lang, "type_answer")}</label><br>'
            f'<input type="text" id="answer" name="answer" maxlength="200" autocomplete="off"{mode}></p>'
        )
    cats = item.get("categories") or [{"vi": str(k), "en": str(k)} for k in range(2)]
    opts = "".join(
        f'<label class="opt"><input type="radio" name="answer" value="{k}"><span>{_tr(c, lang)}</span></label>'
        for k, c in enumerate(cats)
    )
    return f'<p class="hint">{t(lang, "likert")}</p>{opts}'


def answer_from_form(item: dict[str, Any], form: dict[str, list[str]], lang: str) -> tuple[Any, str]:
    """The raw answer the form gives for ``item`` and '' — or (None, the message saying what is missing)."""
    kind = item["kind"]
    values = [v for v in form.get("answer", []) if v != ""]
    if kind == "multiple_response":
        return (values, "") if values else (None, TEXT[lang]["need_answer"])
    if kind == "ordering":
        options = [o["id"] for o in item.get("options") or []]
        picked = [(form.get(f"pos_{o}", [""])[0], o) for o in options]
        if sorted(p for p, _ in picked) != sorted(str(k) for k in range(1, len(options) + 1)):
            return None, TEXT[lang]["need_order"].format(n=len(options))
        return [o for _, o in sorted(picked, key=lambda p: int(p[0]))], ""
    if kind == "matching":
        answer = {p["id"]: form.get(f"match_{p['id']}", [""])[0] for p in item.get("premises") or []}
        return (answer, "") if all(answer.values()) else (None, TEXT[lang]["need_match"])
    if not values:
        return None, TEXT[lang]["need_answer"]
    if kind in ("self_assessment", "parameters"):
        try:
            return int(values[0]), ""
        except ValueError:
            return None, TEXT[lang]["need_answer"]
    return values[0], ""


def result_page(lang: str, result: dict[str, Any]) -> str:
    """The result: the level overall (with what it means), per area, and the competences to work on."""
    parts = [f"<h2>{t(lang, 'result')}</h2>"]
    level = result.get("level")
    if level:
        prob = level.get("probability")
        sure = f" ({t(lang, 'probability', p=f'{prob:.0%}')})" if isinstance(prob, (int, float)) else ""
        parts.append(
            f"<h3>{t(lang, 'level')}: <strong>{escape(str(level.get('name') or level.get('id')))}</strong>{sure}</h3>"
            f"<p>{escape(str(level.get('description') or ''))}</p>"
        )
    areas = result.get("areas") or []
    if areas:
        rows = "".join(
            f"<tr><td>{escape(str(a.get('name') or a['area']))}</td>"
            f"<td>{escape(str(a.get('level_name') or a.get('level') or ''))}"
            f"{' ' + t(lang, 'imprecise') if a.get('imprecise') else ''}</td></tr>"
            for a in areas
        )
        parts.append(
            f'<h3>{t(lang, "areas")}</h3><table><thead><tr><th scope="col">{t(lang, "area")}</th>'
            f'<th scope="col">{t(lang, "area_level")}</th></tr></thead><tbody>{rows}</tbody></table>'
        )
    work = result.get("to_work_on") or []
    if work:
        items = "".join(
            f"<li><strong>{escape(str(w.get('name') or w['competence']))}</strong>"
            f"{': ' + escape(str(w['description'])) if w.get('description') else ''}</li>"
            for w in work
        )
        parts.append(f"<h3>{t(lang, 'work_on')}</h3><ul>{items}</ul>")
    parts.append(f'<p class="note">{t(lang, "saved")}</p><p><a href="/">{t(lang, "again")}</a></p>')
    return page(lang, f"{TEXT[lang]['result']} – {TEXT[lang]['title']}", "".join(parts), "/result")


def message_page(lang: str, message: str, status_title: str | None = None, back: bool = True) -> str:
    """A page with one message and (unless ``back`` is false) a link to start a new test."""
    link = f'<p><a href="/">{t(lang, "again")}</a></p>' if back else ""
    body = f'<div class="note" role="status">{escape(message)}</div>{link}'
    return page(lang, status_title or TEXT[lang]["title"], body, "/")


PAGE_ERRORS = {
    "rate_limited": "slow_down",
    "csrf": "stale_form",
    "bad_form": "bad_form",
    "unauthorized": "need_login",
    "bad_credentials": "need_login",
    "forbidden_unit": "forbidden_unit",
    "unknown_unit": "unknown_unit",
    "no_units": "no_units",
    "programme_error": "programme_error",
}
DASHBOARD_ERRORS = frozenset({"unauthorized", "bad_credentials", "forbidden_unit", "unknown_unit", "no_units"})


def error_page(lang: str, code: str, retry_after: int | None = None) -> str:
    """The page a test taker sees when a page request is refused (``code`` as in the API's error body)."""
    text = TEXT[lang][PAGE_ERRORS.get(code, "failed")].format(s=retry_after, code=code)
    back = code != "rate_limited" and code not in DASHBOARD_ERRORS and code != "programme_error"
    return message_page(lang, text, f"{TEXT[lang]['error']} – {TEXT[lang]['title']}", back=back)


def dashboard_page(lang: str, body: str, switch_to: str) -> str:
    """The dashboard frame around the programme report's body (:func:`digicomp.reporting.programme
    .programme_sections`, which uses classes only: this page's style sheet holds them)."""
    return page(lang, f"{TEXT[lang]['dashboard']} – {TEXT[lang]['title']}", body, switch_to, wide=True)


def dashboard_empty(lang: str) -> str:
    """The dashboard's body before any session is finished."""
    return f'<h2>{t(lang, "dashboard")}</h2><div class="note" role="status">{t(lang, "dashboard_empty")}</div>'


def media_path(design: str, item_id: str) -> str:
    """URL of an item's image."""
    return f"/media/{quote(design, safe='')}/{quote(item_id, safe='')}"
