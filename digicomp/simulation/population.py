"""True abilities of simulated persons: given, or drawn from a named population with a seed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from digicomp.errors import ParameterError

Population = str | dict[str, Any] | Callable[[np.random.Generator, int], ArrayLike]
"""'normal' (N(0, 1)), 'uniform' (U(-3, 3)), a dict such as ``{"dist": "normal", "mean": 0, "sd": 1}`` or
``{"dist": "uniform", "low": -3, "high": 3}``, or a callable ``(rng, n) -> θ``."""


def parse_population(text: str) -> dict[str, Any]:
    """``normal``, ``normal:MEAN,SD``, ``uniform`` or ``uniform:LOW,HIGH`` (the CLI form) as a population dict."""
    name, _, args = text.partition(":")
    try:
        values = [float(v) for v in args.split(",")] if args else []
    except ValueError:
        raise ParameterError(f"population {text!r}: the numbers after ':' must be like 0,1") from None
    keys = {"normal": ("mean", "sd"), "uniform": ("low", "high")}.get(name)
    if keys is None or len(values) not in (0, 2):
        raise ParameterError(f"population {text!r}: expected normal[:MEAN,SD] or uniform[:LOW,HIGH]")
    return {"dist": name, **dict(zip(keys, values))}


def describe(population: Population) -> str:
    """A short label such as ``normal(0, 1)`` for reports."""
    if callable(population):
        return getattr(population, "__name__", "custom")
    spec = parse_population(population) if isinstance(population, str) else dict(population)
    dist = spec.pop("dist", "normal")
    defaults = {"normal": (0.0, 1.0), "uniform": (-3.0, 3.0)}.get(dist, ())
    keys = {"normal": ("mean", "sd"), "uniform": ("low", "high")}.get(dist, ())
    values = [float(spec.get(k, v)) for k, v in zip(keys, defaults)]
    return f"{dist}({', '.join(f'{v:g}' for v in values)})"


def draw_thetas(population: Population, n: int, seed: int) -> NDArray[np.float64]:
    """``n`` true θ from ``population``, reproducible from ``seed`` (numpy's PCG64 seeded with it)."""
    if n < 1:
        raise ParameterError(f"n = {n}: a study needs at least one simulated person")
    rng = np.random.default_rng(seed)
    if callable(population):
        theta = np.asarray(population(rng, n), dtype=float)
    else:
        spec = parse_population(population) if isinstance(population, str) else dict(population)
        dist = spec.pop("dist", "normal")
        if dist == "normal":
            mean, sd = float(spec.pop("mean", 0.0)), float(spec.pop("sd", 1.0))
            if sd <= 0:
                raise ParameterError(f"population: sd = {sd}; expected a positive standard deviation")
            theta = rng.normal(mean, sd, n)
        elif dist == "uniform":
            low, high = float(spec.pop("low", -3.0)), float(spec.pop("high", 3.0))
            if not low < high:
                raise ParameterError(f"population: low = {low}, high = {high}; expected low < high")
            theta = rng.uniform(low, high, n)
        else:
            raise ParameterError(f"population: dist = {dist!r}; expected 'normal' or 'uniform'")
        if spec:
            raise ParameterError(f"population: unknown keys {sorted(spec)} for dist {dist!r}")
    return check_thetas(theta, "population")


def check_thetas(thetas: ArrayLike, where: str = "thetas") -> NDArray[np.float64]:
    """θ as a finite 1-D float array; ParameterError naming the first bad person otherwise."""
    theta = np.asarray(thetas, dtype=float)
    if theta.ndim != 1 or theta.size == 0:
        raise ParameterError(f"{where}: expected a non-empty 1-D array of true θ, got shape {theta.shape}")
    bad = np.flatnonzero(~np.isfinite(theta))
    if bad.size:
        raise ParameterError(f"{where}: person {bad[0]} has θ = {theta[bad[0]]}; expected a finite number")
    return theta
