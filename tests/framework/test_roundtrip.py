"""Lossless YAML round trips (bundled and hypothesis-generated frameworks) and the flat CSV export."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digicomp.framework import list_frameworks, load_framework

SCALE_3 = Path(__file__).parent / "fixtures" / "valid" / "scale-3.yaml"


@pytest.mark.parametrize("ident", [i.id for i in list_frameworks()])
def test_bundled_framework_round_trips_losslessly(ident, tmp_path):
    fw = load_framework(ident)
    out = tmp_path / f"{ident}.yaml"
    fw.to_yaml(out)
    again = load_framework(out)  # a path now; its scale id still resolves to the bundled scale
    assert again == fw
    assert again.to_dict() == fw.to_dict()
    out2 = tmp_path / "second.yaml"
    again.to_yaml(out2)
    assert out2.read_text(encoding="utf-8") == out.read_text(encoding="utf-8")


def test_csv_export_has_one_row_per_competence(tmp_path):
    fw = load_framework("vn-civil-service")
    out = tmp_path / "competences.csv"
    fw.to_csv(out)
    with open(out, encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["code"] for r in rows] == fw.codes
    row = rows[fw.codes.index("7.4")]
    assert row["area_code"] == "7" and row["name_vi"] == "Sử dụng trợ lý AI an toàn trong công vụ"
    assert row["status"] == "inferred" and row["source"] == "cv-557-2025;digicomp-project"


# -- hypothesis: any valid framework survives the round trip ------------------------------------------------

_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(str.strip)
_bilingual = st.builds(lambda vi, en: {"vi": vi, "en": en}, _text, _text)
_status = st.sampled_from(["third_party", "inferred", "placeholder"])
_labels = ["A1", "A2", "B1"]


@st.composite
def frameworks(draw) -> dict:
    """A valid framework document on the 3-level test scale: 1-4 areas of 1-4 competences, optional extras."""
    n_areas = draw(st.integers(1, 4))
    areas = []
    for i in range(n_areas):
        comps = []
        n_comp = draw(st.integers(1, 4))
        for j in range(n_comp):
            comp = {
                "code": f"{i}.{j + 1}",
                "name": draw(_bilingual),
                "description": draw(_bilingual),
                "status": draw(_status),
                "source": ["s"],
            }
            if draw(st.booleans()):
                level = draw(st.sampled_from(_labels))
                indicator = {"code": f"{i}.{j + 1}.{level}a", "level": level, "text": draw(_bilingual)}
                comp["indicators"] = [indicator]
            if j and draw(st.booleans()):
                comp["related"] = [f"{i}.{j}"]
            if draw(st.booleans()):
                comp["note"] = draw(_bilingual)
            comps.append(comp)
        areas.append(
            {
                "code": str(i),
                "name": draw(_bilingual),
                "description": draw(_bilingual),
                "status": draw(_status),
                "source": ["s"],
                "competences": comps,
            }
        )
    levels = [
        {
            "level": k + 1,
            "label": lab,
            "name": draw(_bilingual),
            "descriptor": draw(_bilingual),
            "status": draw(_status),
            "source": ["s"],
        }
        for k, lab in enumerate(_labels)
    ]
    return {
        "kind": "framework",
        "id": "generated",
        "version": draw(_text),
        "title": draw(_bilingual),
        "description": draw(_bilingual),
        "status": draw(_status),
        "source": ["s"],
        "sources": {"s": {"title": draw(_bilingual)}},
        "level_scale": str(SCALE_3.resolve()),
        "levels": levels,
        "areas": areas,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frameworks())
def test_generated_framework_round_trips_losslessly(doc):
    from digicomp.io.yamlfile import dump_yaml

    with tempfile.TemporaryDirectory() as tmp:
        first = Path(tmp) / "first.yaml"
        dump_yaml(doc, first)
        fw = load_framework(first)
        assert fw.to_dict() == doc
        second = Path(tmp) / "second.yaml"
        fw.to_yaml(second)
        assert load_framework(second) == fw
