"""A writer process for the reliability tests: ``python -m tests.store.writer URL PREFIX SESSIONS BATCH``.

Writes SESSIONS sessions in batches of BATCH and prints the ids of each batch once ``write_many`` returned
(that is, once committed), so a test that kills it knows which sessions must be in the store.
"""

from __future__ import annotations

import sys

from digicomp.store import open_store
from tests.store.conftest import make_record, small_bank


def main(url: str, prefix: str, n: int, batch: int) -> None:
    bank = small_bank()
    with open_store(url) as store:
        store.register_bank(bank)
        for start in range(0, n, batch):
            records = [
                make_record(bank, f"{prefix}-{i}", n_items=8, seed=i) for i in range(start, min(n, start + batch))
            ]
            store.write_many(records)
            print(" ".join(r.session_id for r in records), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
