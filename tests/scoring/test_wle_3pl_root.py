"""Warm's WLE on 3PL items solves Warm's estimating equation (Warm 1989, eq. 9) for every person with a finite estimate.

The grid that brackets the estimate maximises log L + ½ log I, whose derivative is Warm's function only when
J(θ) = I'(θ) (1PL/2PL); with guessing parameters the root can lie outside that bracket. Found by the lz* check
(tests/analysis/test_person_fit_lzstar.py): one pattern's WLE stopped on a grid point 0.06 logits from the root.
"""

import numpy as np

from digicomp.models import ItemParameters
from digicomp.responses import Responses
from digicomp.scoring.api import score


def test_wle_with_guessing_solves_warms_equation():
    rng = np.random.default_rng(5)
    J = 25
    a, b, c = rng.lognormal(0.1, 0.3, J), rng.normal(0, 1, J), rng.uniform(0.1, 0.25, J)
    params = ItemParameters.dichotomous(a=a, b=b, c=c)
    x = params.simulate(rng.normal(size=400), rng)
    s = score(params, Responses.from_dense(x), "WLE")
    ok = ~np.asarray(s.extreme)
    theta, x = s.theta[ok], x[ok]
    e = np.exp(a * (theta[:, None] - b))
    P = c + (1 - c) * e / (1 + e)
    d1 = (1 - c) * a * e / (1 + e) ** 2
    d2 = (1 - c) * a**2 * e * (1 - e) / (1 + e) ** 3
    pq = P * (1 - P)
    warm = ((x - P) * d1 / pq).sum(1) + (d1 * d2 / pq).sum(1) / (2 * (d1**2 / pq).sum(1))
    assert np.max(np.abs(warm) / (d1**2 / pq).sum(1)) < 1e-6
