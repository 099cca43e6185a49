"""Compare two CAT designs by simulation before a real administration.

The same simulated persons (N(0, 1), fixed seed) sit the W4 reference design (maximum information, SE < 0.30
or 40 items) and the balanced civil-service design (MPWI, content balancing over areas, randomesque exposure,
classification stopping), plus the best fixed form of the same mean length. The table shows precision, test
length, level classification and item exposure side by side; the per-bin table shows where on θ each design
is precise.

    python examples/compare_designs.py [N_PERSONS] [--csv FOLDER]
"""

from __future__ import annotations

import sys
from pathlib import Path

from digicomp import simulate

HERE = Path(__file__).parent
DESIGNS = [HERE / "designs" / "mfi-eap-se30.yaml", HERE / "designs" / "civil-service-balanced.yaml"]


def main(argv: list[str]) -> int:
    n = int(argv[0]) if argv and not argv[0].startswith("--") else 2000
    result = simulate(DESIGNS, n=n, seed=2026)
    print(result.summary())
    for design in result:
        print(f"\n{design.design.id}: RMSE and mean SE by true θ")
        for row in design.conditional():
            if row["n"]:
                print(
                    f"  θ in [{row['low']:+.1f}, {row['high']:+.1f}): n = {row['n']:4d}  RMSE {row['rmse']:.3f}  "
                    f"SE {row['mean_se']:.3f}  length {row['mean_length']:.1f}"
                )
    if "--csv" in argv:
        folder = argv[argv.index("--csv") + 1]
        print("\nwrote", ", ".join(str(p) for p in result.to_csv(folder)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
