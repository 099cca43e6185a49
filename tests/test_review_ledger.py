"""tools/review_ledger.py: the ledger of which graded items passed their latest review (docs/content-review.md)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from digicomp.bank import load_bank

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("review_ledger", ROOT / "tools" / "review_ledger.py")
review_ledger = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(review_ledger)


def _new_item_applied(row: dict[str, str]) -> bool:
    """A new-item record's verdict: the new item went into the bank (one left out was never in it)."""
    return row["decision"].startswith("new item applied")


def _pass_record(row: dict[str, str]) -> bool | None:
    """A pass record's verdict: True when it applied a reviewed version; an item it kept keeps failing."""
    return row["decision"].startswith(("rewrite applied", "revision applied", "applied"))


# the eighth pass listed only items failing their latest review (an applied rewrite passes, an item left as it was
# still fails); the fresh sample of 5 December judged what it drew; the count variation applied passing versions
# (a version it did not apply leaves the item's verdict as it was: None); the ninth pass, like the eighth, listed
# only failing items; then the fresh sample after it; the tenth pass (failing items again) and the sample after it;
# the eleventh pass (failing items again) and the sample after it; the twelfth pass; the re-review of the items
# whose latest pass dated from 3-4 December; the thirteenth pass (its failures); the fourteenth (the thirteenth's
# rewrites left out, revised) and the fresh sample after it; the fresh sample after the withdrawal; the fifteenth
# pass (every item failing then); the sixteenth (the fifteenth's rewrites left out, revised); the seventeenth and
# eighteenth (every item failing then, in rounds); the fresh sample after them; the re-review of every passing item
# neither had judged; the nineteenth pass (every item failing after it); the fresh sample after it; and the rated
# tasks written for levels 7-8 (a task not applied was never in the bank: None); the twentieth pass (every item
# failing after them), the fresh sample after it, the twenty-first pass (that sample's failures), the re-review of
# every rated task, the twenty-second pass (tasks it failed), the fourth fresh sample, the twenty-third pass (every
# item failing after it), the fifth fresh sample, the twenty-fourth pass (every item failing after that) and the
# twenty-fifth pass (new items: one not applied was never in the bank: None), the sixth fresh sample and the
# twenty-sixth pass (every multiple-choice item failing after it, and three passing items re-translated: a version
# it did not apply leaves the item's verdict as it was, None); the twenty-seventh pass (new items written for levels 7
# and 8: one not applied was never in the bank, None), the seventh fresh sample and the twenty-eighth pass (new
# level-7 items, the same rule), the twenty-ninth pass (new level-7 and level-8 items, the same rule), the eighth
# fresh sample, the re-review of every rated task that sample had not drawn and the thirtieth pass (new level-7
# items and new multiple-choice items, the same rule)
LATEST_RECORDS = [
    ("eighth-pass-2026-12-05n-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05o-{bank}.csv", lambda row: row["pass"] == "1"),
    ("count-variation-2026-12-05p-{bank}.csv", lambda row: True if _pass_record(row) else None),
    ("ninth-pass-2026-12-05q-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05r-{bank}.csv", lambda row: row["pass"] == "1"),
    ("tenth-pass-2026-12-05s-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05t-{bank}.csv", lambda row: row["pass"] == "1"),
    ("eleventh-pass-2026-12-05u-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05v-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twelfth-pass-2026-12-05w-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05x-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirteenth-pass-2026-12-05y-{bank}.csv", _pass_record),
    ("fourteenth-pass-2026-12-05z-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05za-{bank}.csv", lambda row: row["pass"] == "1"),
    ("expert-review-2026-12-05zb-{bank}.csv", lambda row: row["pass"] == "1"),
    ("fifteenth-pass-2026-12-05zc-{bank}.csv", _pass_record),
    ("sixteenth-pass-2026-12-05zd-{bank}.csv", _pass_record),
    ("seventeenth-pass-2026-12-05ze-{bank}.csv", _pass_record),
    ("eighteenth-pass-2026-12-05zf-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zg-{bank}.csv", lambda row: row["pass"] == "1"),
    ("expert-review-2026-12-05zh-{bank}.csv", lambda row: row["pass"] == "1"),
    ("nineteenth-pass-2026-12-05zi-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zj-{bank}.csv", lambda row: row["pass"] == "1"),
    ("rated-tasks-2026-12-05zk-{bank}.csv", lambda row: True if _pass_record(row) else None),
    ("twentieth-pass-2026-12-05zl-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zm-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-first-pass-2026-12-05zn-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zo-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-second-pass-2026-12-05zp-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zq-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-third-pass-2026-12-05zr-{bank}.csv", _pass_record),
    ("expert-review-2026-12-05zs-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-fourth-pass-2026-12-05zt-{bank}.csv", _pass_record),
    ("twenty-fifth-pass-2026-12-05zu-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-05zv-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-sixth-pass-2026-12-05zw-{bank}.csv", lambda row: True if _pass_record(row) else None),
    ("twenty-seventh-pass-2026-12-06zx-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zy-{bank}.csv", lambda row: row["pass"] == "1"),
    ("twenty-eighth-pass-2026-12-06zz-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("twenty-ninth-pass-2026-12-06zza-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zzb-{bank}.csv", lambda row: row["pass"] == "1"),
    ("expert-review-2026-12-06zzc-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirtieth-pass-2026-12-06zzd-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zze-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirty-first-pass-2026-12-06zzf-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("thirty-second-pass-2026-12-06zzg-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zzh-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirty-third-pass-2026-12-06zzi-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("thirty-fourth-pass-2026-12-06zzj-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zzk-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirty-fifth-pass-2026-12-06zzl-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-06zzm-{bank}.csv", lambda row: row["pass"] == "1"),
    ("expert-review-2026-12-07a-{bank}.csv", lambda row: row["pass"] == "1"),
    ("thirty-sixth-pass-2026-12-07b-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("thirty-seventh-pass-2026-12-07c-{bank}.csv", _pass_record),
    ("thirty-eighth-pass-2026-12-07d-{bank}.csv", lambda row: True if _new_item_applied(row) else None),
    ("expert-review-2026-12-07e-{bank}.csv", lambda row: row["pass"] == "1"),
]


def _records_from(record: str) -> list[str]:
    """The ledger's records from ``record`` on, in the order they were made."""
    order = [name for name, _ in review_ledger.LATER_RECORDS]
    return order[order.index(record) :]


def _written_later(bank_id: str, after: str | None = None) -> set[str]:
    """Items the new-item passes wrote (those after the record ``after`` when given): no earlier record could judge
    them."""
    names = [n for n in review_ledger.NEW_ITEM_PASSES if after is None or n in _records_from(after)[1:]]
    return {r["item"] for name in names for r in review_ledger._rows(f"{name}-{bank_id}.csv")}


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_ledger_covers_every_graded_item_and_follows_the_latest_record(bank_id):
    status = review_ledger.ledger(bank_id)
    bank = load_bank(bank_id)
    graded = {item.id for item in bank.spec.items if item.kind != "self_assessment"}
    assert set(status) == graded
    # the latest records, in the order they were made: an item takes the verdict of the last one naming it
    expected: dict[str, bool] = {}
    for name, verdict in LATEST_RECORDS:
        for row in review_ledger._rows(name.format(bank=bank_id)):
            if (judged := verdict(row)) is not None:
                expected[row["item"]] = judged
    applied = {item for item, ok in expected.items() if ok}
    failing = {item for item, ok in expected.items() if not ok}
    assert applied and failing
    # items withdrawn since (tools/withdraw_failing.py) are judged by the same records
    everyone = review_ledger.graded(bank_id, withdrawn=True)
    status = {item: ok for item, (ok, _) in review_ledger.verdicts(bank_id, items=everyone).items()}
    assert all(status[item] for item in applied)
    assert not any(status[item] for item in failing)


def test_the_command_prints_a_line_per_bank(capsys):
    review_ledger.main(["--failing"])
    out = capsys.readouterr().out.splitlines()
    heads = [line for line in out if not line.startswith("  ")]
    assert [line.split(":")[0] for line in heads] == list(review_ledger.BANKS)
    assert all("graded items" in line and "passed their latest review" in line for line in heads)


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_ledger_before_a_record_is_the_ledger_read_without_it_and_the_later_ones(bank_id, monkeypatch):
    full = review_ledger.LATER_RECORDS
    read: dict[int, dict[str, bool]] = {}

    def ledger_with(k: int) -> dict[str, bool]:  # the ledger read with the first k records of LATER_RECORDS
        if k not in read:
            monkeypatch.setattr(review_ledger, "LATER_RECORDS", full[:k])
            read[k] = review_ledger.ledger(bank_id)
            monkeypatch.setattr(review_ledger, "LATER_RECORDS", full)
        return read[k]

    # the last record that changed a verdict of an item still in the bank (a sample whose failures were all withdrawn
    # or already failing changes none)
    last = next(k for k in range(len(full) - 1, 0, -1) if ledger_with(k + 1) != ledger_with(k))
    for k in (3, len(full) - 1, last):
        then = {item: ok for item, (ok, _) in review_ledger.verdicts(bank_id, before=full[k][0]).items()}
        assert then == ledger_with(k)
    assert then != ledger_with(len(full))  # the last record that changed a verdict is seen as such


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_re_review_named_exactly_the_items_whose_latest_pass_dated_from_3_4_december(bank_id):
    everyone = [item for item in review_ledger.graded(bank_id, withdrawn=True) if item not in _written_later(bank_id)]
    before = review_ledger.verdicts(bank_id, before="expert-review-2026-12-05x", items=everyone)
    older = {item for item, (ok, date) in before.items() if ok and date < "2026-12-05"}
    reviewed = [r["item"] for r in review_ledger._rows(f"expert-review-2026-12-05x-{bank_id}.csv")]
    assert len(reviewed) == len(set(reviewed)) and set(reviewed) == older
    assert {date for _, date in before.values()} <= {"2026-12-03", "2026-12-04", "2026-12-05"}


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_fresh_samples_are_tallied_once_per_sampled_graded_item(bank_id):
    graded = set(review_ledger.graded(bank_id, withdrawn=True))
    rows = [
        r
        for name, kind in review_ledger.LATER_RECORDS
        if kind == "sample"
        for r in review_ledger._rows(f"{name}-{bank_id}.csv")
        if r["item"] in graded
    ]
    tally = review_ledger.fresh_samples_by_prior(bank_id)
    assert sum(n for _, n in tally.values()) == len(rows) > 200
    assert sum(ok for ok, _ in tally.values()) == sum(r["pass"] == "1" for r in rows)
    states = {"passed on 5 December", "passed on 3-4 December", "failing"}
    assert {group.split(",")[0] for group in tally} <= states
    assert all(0 <= ok <= n for ok, n in tally.values())


_WSPEC = importlib.util.spec_from_file_location("withdraw_failing", ROOT / "tools" / "withdraw_failing.py")
withdraw_failing = importlib.util.module_from_spec(_WSPEC)
_WSPEC.loader.exec_module(withdraw_failing)


def _item(id_: str, competence: str = "1.1", level: int = 3, kind: str | None = None) -> dict:
    return {"id": id_, "competence": competence, "level": level, **({"type": kind} if kind else {})}


def test_withdrawing_keeps_eight_multiple_choice_items_and_both_lower_bands():
    mc = [_item(f"m{k}", level=1 if k < 2 else 3) for k in range(10)]
    others = [_item("s1", kind="short_answer"), _item("r1", kind="matching")]
    failing = {"m0": False, "m2": False, "m3": False, "m4": False, "s1": False, "r1": True}
    gone = withdraw_failing.withdrawable(mc + others, failing)
    # two of the four failing multiple-choice items may go (10 -> 8), the first two in bank order that leave a
    # foundation item: m0 (m1 stays at level 1), then m2; the failing short answer goes, the passing matching stays
    assert gone == ["m0", "m2", "s1"]
    only_band = [_item(f"m{k}", level=1 if k == 0 else 3) for k in range(10)]
    assert withdraw_failing.withdrawable(only_band, {"m0": False}) == []  # the only foundation item stays


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_withdrawn_items_failed_their_latest_review_and_left_the_bank(bank_id):
    bank = load_bank(bank_id)
    in_bank = {item.id for item in bank.spec.items}
    for path in sorted((ROOT / "docs" / "content-review").glob(f"withdrawn-*-{bank_id}.yaml")):
        with open(path, encoding="utf-8") as fh:
            items = yaml.safe_load(fh)
        with open(path.with_suffix(".csv"), encoding="utf-8") as fh:
            listed = [line.split(",")[0] for line in fh.read().splitlines()[1:]]
        ids = [it["id"] for it in items]
        assert ids == listed and len(ids) > 20 and not set(ids) & in_bank
        assert not any(ok for ok, _ in review_ledger.verdicts(bank_id, items=ids).values())
    # the guards on what is left: tests/bank/test_bundled_banks.py (eight multiple-choice items per competence, in
    # the two lower bands)


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_no_failing_item_is_left_that_the_guards_do_not_need(bank_id):
    """item_banks/README.md's promise: an item failing its latest review stays only if a guard needs it."""
    with open(ROOT / "item_banks" / f"{bank_id}.yaml", encoding="utf-8") as fh:
        items = yaml.safe_load(fh)["items"]
    assert withdraw_failing.withdrawable(items, review_ledger.ledger(bank_id)) == []


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
@pytest.mark.parametrize(
    "record",
    [
        "fifteenth-pass-2026-12-05zc",
        "seventeenth-pass-2026-12-05ze",
        "eighteenth-pass-2026-12-05zf",
        "nineteenth-pass-2026-12-05zi",
        "twentieth-pass-2026-12-05zl",
        "twenty-third-pass-2026-12-05zr",
        "twenty-fourth-pass-2026-12-05zt",
    ],
)
def test_the_passes_of_every_failing_item_listed_every_item_failing_before_them(bank_id, record):
    later = _written_later(bank_id)
    # the bank when the pass ran: today's items and those withdrawn since (last named by it or a later record)
    order = [name for name, _ in review_ledger.LATER_RECORDS]
    since = [
        r["item"]
        for r in review_ledger._rows(f"withdrawn-2026-12-05-{bank_id}.csv")
        if r["failed_in"] in order and order.index(r["failed_in"]) >= order.index(record)
    ]
    items = review_ledger.graded(bank_id) + since
    verdicts = review_ledger.verdicts(bank_id, before=record, items=items)
    before = {item: v for item, v in verdicts.items() if item not in later}
    listed = [r["item"] for r in review_ledger._rows(f"{record}-{bank_id}.csv")]
    assert len(listed) == len(set(listed)) > 10
    assert set(listed) == {item for item, (ok, _) in before.items() if not ok}


@pytest.mark.parametrize("bank_id", review_ledger.BANKS)
def test_the_twenty_sixth_pass_listed_every_item_failing_after_the_sixth_sample(bank_id):
    """It also listed three public-security items whose English key it re-translated (docs/content-review.md)."""
    record = "twenty-sixth-pass-2026-12-05zw"
    newer = _written_later(bank_id, after=record)
    # the bank when it ran: today's items written before it, and those withdrawn since (their last failing record is
    # this pass or a later one)
    since = set(_records_from(record))
    withdrawn = review_ledger._rows(f"withdrawn-2026-12-05-{bank_id}.csv")
    left_later = {r["item"] for r in withdrawn if r["failed_in"] in since}
    items = [item for item in review_ledger.graded(bank_id) if item not in newer] + sorted(left_later - newer)
    before = review_ledger.verdicts(bank_id, before=record, items=items)
    listed = [r["item"] for r in review_ledger._rows(f"{record}-{bank_id}.csv")]
    failing = {item for item, (ok, _) in before.items() if not ok}
    assert len(listed) == len(set(listed)) and failing and failing <= set(listed)
    assert len(set(listed) - failing) == (3 if bank_id == "public-security" else 0)


def test_fresh_samples_are_tallied_by_the_reviews_passed_in_a_row_before_them(tmp_path, monkeypatch):
    """A version a pass applied starts at one, a review adds one or resets to zero, a sample is tallied by the run
    before it (three or more together) and then counts as a review; an item no record judged before is left out."""

    def write(name: str, header: str, lines: list[str]) -> None:
        (tmp_path / f"{name}-civil-service.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")

    write("p1", "item,decision", ["x,rewrite applied at the level judged", "y,original kept: rewrite failed"])
    write("s1", "item,pass", ["x,1", "y,0", "z,1"])  # x after 1; y, z never judged by these records: left out
    write("r1", "item,pass", ["x,1", "y,1"])
    write("s2", "item,pass", ["x,1", "y,0"])  # x after 3 (pass, sample, review); y after 1 (s1 failed, r1 passed)
    write("r2", "item,pass", ["x,0"])
    write("s3", "item,pass", ["x,1", "z,0"])  # x failing (r2): 0; z after 1 (s1 passed)
    monkeypatch.setattr(review_ledger, "RECORDS", tmp_path)
    kinds = [("p1", "pass"), ("s1", "sample"), ("r1", "review"), ("s2", "sample"), ("r2", "review"), ("s3", "sample")]
    monkeypatch.setattr(review_ledger, "LATER_RECORDS", tuple(kinds))
    assert review_ledger.fresh_samples_by_streak("civil-service") == {0: [1, 1], 1: [1, 3], 3: [1, 1]}


def test_fresh_samples_levels_compare_the_judged_level_with_the_placed_one(tmp_path, monkeypatch):
    """Only samples count; a row without both levels is left out; items placed at 7-8 are also tallied apart."""

    def write(name: str, header: str, lines: list[str]) -> None:
        (tmp_path / f"{name}-civil-service.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")

    header = "item,pass,failed_criteria,level_tagged,level_judged,reason"
    write("s1", header, ["a,1,,7,6,r", "b,1,,3,3,r", "c,0,4,4,,r"])  # c: no judged level, left out
    write("r1", header, ["a,1,,7,7,r"])  # a review, not a sample
    write("s2", header, ["a,1,,8,8,r", "d,1,,2,4,r"])
    monkeypatch.setattr(review_ledger, "RECORDS", tmp_path)
    monkeypatch.setattr(review_ledger, "LATER_RECORDS", (("s1", "sample"), ("r1", "review"), ("s2", "sample")))
    assert review_ledger.fresh_samples_levels("civil-service") == {
        "all": {-1: 1, 0: 2, 2: 1},
        "placed 7-8": {-1: 1, 0: 1},
    }
