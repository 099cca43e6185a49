"""The programme's HTML report speaks one language: every heading, column label, level, area, competence and unit
name in the report's language (names from the framework and the units file), codes only where no name exists."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from digicomp.bank import load_bank
from digicomp.bundled import bundled_path
from digicomp.cli import main
from digicomp.programme.scale import bank_labels
from digicomp.reporting.programme import WORDS
from tests.programme.test_progress import bank, filled  # noqa: F401 - fixtures

VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.IGNORECASE)


class _Text(HTMLParser):
    """Visible text pieces (outside <svg>, <style>, <title>) and the text of every table cell."""

    def __init__(self) -> None:
        super().__init__()
        self.pieces: list[str] = []
        self.cells: list[str] = []
        self._skip = 0
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag in ("svg", "style", "title"):
            self._skip += 1
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("svg", "style", "title"):
            self._skip -= 1
        if tag in ("td", "th") and self._cell is not None:
            self.cells.append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._skip:
            return
        self.pieces.append(data)
        if self._cell is not None:
            self._cell.append(data)


def render(filled, lang: str) -> _Text:  # noqa: F811 - the fixture imported above
    url, folder = filled
    (folder / "targets.yaml").write_text(
        "targets:\n  - {level: advanced, share: 0.5, date: 2026-12-31}\n"
        "  - {level: intermediate, share: 0.9, date: 2026-12-31, unit: B}\n",
        encoding="utf-8",
    )
    html = folder / f"r-{lang}.html"
    args = ["progress", "--store", url, "--units", str(folder / "units.csv"), "--targets", str(folder / "targets.yaml")]
    args += ["--out", str(folder / f"out-{lang}"), "--html", str(html), "--as-of", "2026-06-30", "--lang", lang]
    assert main(args) == 0
    parser = _Text()
    parser.feed(html.read_text(encoding="utf-8"))
    return parser


def words(lang: str) -> set[str]:
    """Every label of the renderer in ``lang`` that differs from the other language's."""
    other = "en" if lang == "vi" else "vi"
    out = set()
    for entry in WORDS.values():
        mine, theirs = entry[lang], entry[other]
        if isinstance(mine, dict):
            out |= {v for k, v in mine.items() if v != theirs[k]}
        elif mine != theirs:
            out.add(re.sub(r"\{[a-z_]+\}", "", mine).strip())
    return out


@pytest.fixture(scope="module")
def labels():
    return bank_labels(load_bank(bundled_path("item_banks", "civil-service")))


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_report_has_no_label_or_name_of_the_other_language_and_no_raw_level_id(filled, labels, lang):  # noqa: F811
    other = "en" if lang == "vi" else "vi"
    page = render(filled, lang)
    text = " ".join(" ".join(page.pieces).split())
    # the tables are all there: drill-down, areas, targets, needs, retests
    for key in ("units", "areas", "targets", "needs", "retests"):
        assert WORDS[key][lang] in text
    for cell in page.cells:
        assert cell not in words(other), f"{lang} report: cell {cell!r} is the other language's label"
        for level in labels["levels"]:
            assert not re.search(rf"\b{level}\b", cell), f"{lang} report: raw level id in cell {cell!r}"
    for kind in ("levels", "areas"):
        for code, names in labels[kind].items():
            if names[other] != names[lang]:
                assert names[other] not in text, f"{lang} report shows the {other} name of {kind[:-1]} {code}"
    # the names that should be there, in this language
    assert f"≥ {labels['levels']['advanced'][lang]}" in page.cells
    assert labels["areas"]["0"][lang] in page.cells
    competence = load_bank(bundled_path("item_banks", "civil-service")).competences[0]
    assert f"{competence} {labels['competences'][competence][lang]}" in page.cells
    units = {"vi": ("Tỉnh", "Sở A", "Sở B", "(chưa gắn đơn vị)"), "en": ("Province", "Dept A", "Dept B", "(no unit)")}
    for name in units[lang]:
        assert name in page.cells
    for name in units[other]:
        assert name not in text
    if lang == "en":
        assert not [c for c in page.cells if VIETNAMESE.search(c)]
