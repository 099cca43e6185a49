"""Hypothesis settings of the fuzz harnesses: a short run by default, a long one with DIGICOMP_FUZZ=release.

Harnesses take their settings with ``@settings(settings.get_profile("digicomp-fuzz"))``; see README.md.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

LEVELS = {
    "ci": 200,  # the default test run: a few seconds per harness
    "release": 20_000,  # before a release, next to the atheris runs
}
level = os.environ.get("DIGICOMP_FUZZ", "ci")
if level not in LEVELS:
    raise ValueError(f"DIGICOMP_FUZZ={level!r}: expected one of {', '.join(LEVELS)}")
settings.register_profile(
    "digicomp-fuzz",
    max_examples=LEVELS[level],
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
