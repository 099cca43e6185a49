"""An item's stem as HTML: paragraphs, line breaks and the Markdown pipe tables that exhibits use, every text escaped.

Stems are plain text in the banks; an exhibit (a log, a register, a price list) is written as a pipe table. Shown as
one run of text a table is unreadable, so the pages render it as a ``<table>``. Only this subset is understood: a run
of lines starting with ``|`` is one table (blank lines between its rows are tolerated, as some stems have them); a
``|---|`` row after the first row makes that row the header; every other block is a paragraph, its line breaks kept.
"""

from __future__ import annotations

import re
from html import escape

_SEPARATOR = re.compile(r"^:?-{3,}:?$")


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _cells(line: str) -> list[str]:
    """The cells of one pipe-table row (outer pipes optional)."""
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") else body
    return [cell.strip() for cell in body.split("|")]


def _is_separator(cells: list[str]) -> bool:
    return bool(cells) and all(_SEPARATOR.match(cell.replace(" ", "")) for cell in cells)


def _table(rows: list[list[str]]) -> str:
    head: list[str] = []
    if len(rows) > 1 and _is_separator(rows[1]):
        head, rows = rows[0], rows[2:]
    rows = [row for row in rows if not _is_separator(row)]
    html = ["<table>"]
    if head:
        html.append("<thead><tr>" + "".join(f'<th scope="col">{escape(c)}</th>' for c in head) + "</tr></thead>")
    html.append("<tbody>")
    html.extend("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    html.append("</tbody></table>")
    return "".join(html)


def has_table(text: str) -> bool:
    """Whether ``text`` holds a pipe table (two or more consecutive rows, blank lines between them allowed)."""
    rows = [line for line in text.splitlines() if line.strip()]
    return any(_is_row(a) and _is_row(b) for a, b in zip(rows, rows[1:]))


def stem_html(text: str) -> str:
    """``text`` as escaped HTML: ``<p>`` paragraphs (single line breaks as ``<br>``) and ``<table>`` exhibits."""
    lines = text.splitlines()
    blocks: list[str] = []
    paragraph: list[str] = []
    i = 0

    def flush() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(escape(line) for line in paragraph) + "</p>")
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        if _is_row(line):
            flush()
            rows = []
            while i < len(lines):
                if _is_row(lines[i]):
                    rows.append(_cells(lines[i]))
                    i += 1
                    continue
                ahead = i
                while ahead < len(lines) and not lines[ahead].strip():
                    ahead += 1
                if ahead > i and ahead < len(lines) and _is_row(lines[ahead]):
                    i = ahead  # blank lines between two rows of one table
                    continue
                break
            blocks.append(_table(rows) if len(rows) > 1 else "<p>" + escape(lines[i - 1].strip()) + "</p>")
            continue
        if line.strip():
            paragraph.append(line.strip())
        else:
            flush()
        i += 1
    flush()
    return "".join(blocks)
