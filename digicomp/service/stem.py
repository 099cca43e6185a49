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


def _blocks(text: str) -> list[tuple[str, list[str]]]:
    """``text`` as runs of ("table", rows) and ("p", lines); a blank line ends a paragraph but not a table."""
    blocks: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if not line.strip():
            if blocks and blocks[-1][0] == "p":
                blocks.append(("", []))  # the next line starts a new paragraph
            continue
        kind = "table" if _is_row(line) else "p"
        if blocks and blocks[-1][0] == kind:
            blocks[-1][1].append(line.strip())
        else:
            blocks.append((kind, [line.strip()]))
    return [(kind, lines) for kind, lines in blocks if kind]


def has_table(text: str) -> bool:
    """Whether ``text`` holds a pipe table (two or more rows, blank lines between them allowed)."""
    return any(kind == "table" and len(lines) > 1 for kind, lines in _blocks(text))


def stem_html(text: str) -> str:
    """``text`` as escaped HTML: ``<p>`` paragraphs (single line breaks as ``<br>``) and ``<table>`` exhibits; a lone
    pipe row is a paragraph."""
    return "".join(
        _table([_cells(line) for line in lines])
        if kind == "table" and len(lines) > 1
        else "<p>" + "<br>".join(escape(line) for line in lines) + "</p>"
        for kind, lines in _blocks(text)
    )
