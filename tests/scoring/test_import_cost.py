"""Dense response data never import scipy.sparse (~0.1 s, a third of a `digicomp score` start on a dense file)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def modules_after(code: str) -> set[str]:
    """Modules in sys.modules after running ``code`` in a fresh interpreter."""
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out.strip().splitlines()[-1]))


@pytest.mark.parametrize(("observed", "sparse"), [(1.0, False), (0.1, True)])
def test_scoring_imports_scipy_sparse_only_for_sparse_data(observed, sparse):
    code = textwrap.dedent(
        f"""
        import numpy as np
        from digicomp.models import ItemParameters
        from digicomp.responses import Responses
        from digicomp.scoring import score
        rng = np.random.default_rng(1)
        data = rng.integers(0, 2, (200, 40))
        data[rng.random(data.shape) > {observed}] = -1
        params = ItemParameters.dichotomous(a=np.ones(40), b=np.linspace(-2, 2, 40))
        result = score(params, Responses.from_dense(data))
        assert np.isfinite(result.theta).all()
        """
    )
    assert ("scipy.sparse" in modules_after(code)) is sparse
