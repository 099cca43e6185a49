"""Assemble a bundled bank from content-only parts: add provisional parameters, enemies both ways, metadata.

Run as ``python -m digicomp.bank.assemble civil-service item_banks/parts/civil-service-*.yaml`` to write
``item_banks/civil-service.yaml``. Parts hold ``items:`` in the writers' form (no model, params or
calibration); parameters come from rule ``level-v1`` (:mod:`digicomp.bank.provisional`).
"""

from __future__ import annotations

import argparse
import sys
from os import PathLike
from pathlib import Path
from typing import Any

from digicomp.bank import provisional
from digicomp.bank.schema import NEW_FORMATS
from digicomp.errors import BankError, DigicompError
from digicomp.io.yamlfile import dump_yaml, load_yaml

ITEM_KEYS = (
    "id",
    "type",
    "competence",
    "level",
    "model",
    "params",
    "calibration",
    "stem",
    "options",
    "key",
    "keys",
    "key_order",
    "premises",
    "choices",
    "key_map",
    "scoring",
    "answer",
    "categories",
    "explanation",
    "enemies",
    "media",
    "sources",
    "review_by",
    "flags",
)

RULE_TEXT = {
    "vi": (
        "Tham số tạm thời do chuyên gia đặt, chưa ước lượng từ dữ liệu trả lời. Câu trắc nghiệm: mô hình 3PL, "
        "D = 1,0, a = 1,0, b = -2,1 + 0,6 × (bậc - 1) (bậc 1 → -2,1; bậc 8 → +2,1), c = 0,8 / số phương án "
        "(0,2 với 4 phương án), d = 1. Câu tự đánh giá: mô hình GRM, a = 1,0, các ngưỡng cách đều trên "
        "[-1,5; 1,5] (-1,5; 0; 1,5 với 4 mức). Điểm cắt giữa bốn trình độ (cơ bản, trung cấp, nâng cao, chuyên "
        "sâu): trung điểm giữa giá trị b trung bình của các trình độ liền kề, tức -1,2; 0; 1,2. Giá trị làm tròn "
        "3 chữ số thập phân. Cần hiệu chỉnh lại bằng dữ liệu thật trước khi dùng cho quyết định quan trọng."
    ),
    "en": (
        "Provisional expert-set parameters, not estimated from response data. Multiple-choice items: 3PL, "
        "D = 1.0, a = 1.0, b = -2.1 + 0.6 (level - 1) (level 1 -> -2.1, level 8 -> +2.1), c = 0.8 / number of "
        "options (0.2 for 4 options), d = 1. Self-assessment items: GRM, a = 1.0, thresholds evenly spaced on "
        "[-1.5, 1.5] (-1.5, 0, 1.5 for 4 categories). Cut scores between the four bands (foundation, "
        "intermediate, advanced, highly specialised): midpoints between neighbouring bands' mean b, i.e. -1.2, "
        "0, 1.2. Values rounded to 3 decimals. Recalibrate with real data before any high-stakes use."
    ),
}

BANKS: dict[str, dict[str, Any]] = {
    "civil-service": {
        "framework": "vn-civil-service",
        "title": {
            "vi": "Ngân hàng câu hỏi năng lực số cho cán bộ, công chức, viên chức",
            "en": "Digital competence item bank for civil servants and public employees",
        },
    },
    "public-security": {
        "framework": "vn-public-security",
        "title": {
            "vi": "Ngân hàng câu hỏi năng lực số trong Công an nhân dân",
            "en": "Digital competence item bank for the People's Public Security",
        },
    },
}
BANK_VERSION = "0.1"


FORMATS_RULE_TEXT = {
    "vi": (
        "Tham số tạm thời do chuyên gia đặt cho các dạng câu hỏi nhiều đáp án (multiple_response), sắp xếp "
        "(ordering), ghép cặp (matching) và trả lời ngắn (short_answer), chưa ước lượng từ dữ liệu trả lời. Đặt b_bậc"
        " = -2,1 + 0,6 × (bậc - 1) như quy tắc level-v1. Câu chấm đúng/sai (trả lời ngắn; các dạng khác khi chấm theo"
        " all_or_nothing): mô hình 2PL, D = 1,0, a = 1,0, b = b_bậc, không có tham số đoán c. Câu chấm điểm từng phần"
        " (nhiều đáp án theo keys_minus_wrong, sắp xếp theo adjacent_pairs, ghép cặp theo count_correct) có điểm "
        "0..K: mô hình GPCM, a = 1,0, K tham số bước cách đều trên [b_bậc - 0,6; b_bậc + 0,6] (một giá trị b_bậc nếu "
        "K = 1). Giá trị làm tròn 3 chữ số thập phân. Cần hiệu chỉnh lại bằng dữ liệu thật trước khi dùng cho quyết "
        "định quan trọng."
    ),
    "en": (
        "Provisional expert-set parameters for multiple-response, ordering, matching and short-answer items, not "
        "estimated from response data. Let b_level = -2.1 + 0.6 (level - 1), as in rule level-v1. Dichotomously "
        "scored items (short answer; the other formats when scored all_or_nothing): 2PL, D = 1.0, a = 1.0, b = "
        "b_level, no guessing parameter c. Partial-credit items (multiple response scored keys_minus_wrong, ordering "
        "scored adjacent_pairs, matching scored count_correct) with scores 0..K: GPCM, a = 1.0, K step parameters "
        "evenly spaced on [b_level - 0.6, b_level + 0.6] (the single value b_level when K = 1). Values rounded to 3 "
        "decimals. Recalibrate with real data before any high-stakes use."
    ),
}
"""Description of rule formats-v1 (:func:`digicomp.bank.provisional.format_params`), as the bundled banks carry it."""


def read_parts(paths: list[str | PathLike[str]]) -> list[dict[str, Any]]:
    """The items of every part file, in order; BankError naming the file when a part is not ``items: [...]``."""
    items: list[dict[str, Any]] = []
    for path in paths:
        data, _ = load_yaml(path, BankError)
        if not isinstance(data, dict) or set(data) != {"items"} or not isinstance(data["items"], list):
            raise BankError(f"{path}: a part file holds exactly one key, 'items', a list of items")
        for j, item in enumerate(data["items"]):
            if not isinstance(item, dict) or "id" not in item:
                raise BankError(f"{path}: items[{j}]: expected a mapping with an 'id'")
        items.extend(data["items"])
    return items


def symmetric_enemies(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Items with each enemy relation written on both sides (unknown ids are left for validation to report)."""
    known = {item["id"] for item in items}
    enemies = {item["id"]: list(item.get("enemies") or []) for item in items}
    for item_id, others in enemies.items():
        for other in list(others):
            if other in known and item_id not in enemies[other]:
                enemies[other].append(item_id)
    out = []
    for item in items:
        item = {k: v for k, v in item.items() if k != "enemies"}
        if enemies[item["id"]]:
            item["enemies"] = enemies[item["id"]]
        out.append(item)
    return out


def ordered(item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with keys in the documented order; BankError on keys the format does not know."""
    unknown = sorted(set(item) - set(ITEM_KEYS))
    if unknown:
        raise BankError(f"item {item.get('id')!r}: unknown keys {unknown}; allowed: {', '.join(ITEM_KEYS)}")
    return {k: item[k] for k in ITEM_KEYS if k in item}


def assemble(bank_id: str, parts: list[str | PathLike[str]], framework_version: str) -> dict[str, Any]:
    """The bank ``bank_id`` (a key of BANKS) as plain data, from its content parts, with provisional parameters."""
    meta = BANKS[bank_id]
    items = symmetric_enemies(read_parts(parts))
    return {
        "kind": "item_bank",
        "id": bank_id,
        "version": BANK_VERSION,
        "title": meta["title"],
        "framework": {"id": meta["framework"], "version": framework_version},
        "scale": {
            "D": 1.0,
            "levels": list(provisional.BANDS),
            "cut_scores": provisional.band_cut_scores(),
            "cut_source": {"status": "provisional", "rule": provisional.RULE_ID},
        },
        "rules": {provisional.RULE_ID: RULE_TEXT}
        | (
            {provisional.FORMATS_RULE_ID: FORMATS_RULE_TEXT}
            if any(it.get("type") in NEW_FORMATS for it in items)
            else {}
        ),
        "items": [ordered(provisional.provisional_item(item)) for item in items],
    }


def main(argv: list[str] | None = None) -> int:
    """Assemble, write and validate one bundled bank; print problems and return 1 if it does not validate."""
    parser = argparse.ArgumentParser(prog="python -m digicomp.bank.assemble", description=__doc__)
    parser.add_argument("bank", choices=sorted(BANKS))
    parser.add_argument("parts", nargs="+", help="content part files, in order")
    parser.add_argument("--out", help="output file (default: item_banks/<bank>.yaml)")
    args = parser.parse_args(argv)
    from digicomp.bank.validate import validate_file
    from digicomp.framework import load_framework

    try:
        framework = load_framework(BANKS[args.bank]["framework"])
        data = assemble(args.bank, args.parts, framework.version)
    except DigicompError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out or Path("item_banks") / f"{args.bank}.yaml")
    dump_yaml(data, out)
    problems = validate_file(out, framework)
    for line in problems:
        print(line, file=sys.stderr)
    print(f"{out}: {len(data['items'])} items, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
