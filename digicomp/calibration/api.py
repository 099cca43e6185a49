"""``calibrate``: marginal maximum likelihood (Bock–Aitkin EM) from any response source to a result."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.data import as_fixed, as_responses, prepare
from digicomp.calibration.em import EMEngine, Latent
from digicomp.calibration.estep import ChunkedData
from digicomp.calibration.families import expit
from digicomp.calibration.mstep import Block
from digicomp.calibration.priors import Priors, as_priors
from digicomp.calibration.result import CalibrationResult
from digicomp.calibration.start import build_blocks
from digicomp.errors import CalibrationError
from digicomp.models import ItemParameters
from digicomp.models.names import model_names
from digicomp.models.parameters import DICHOTOMOUS_MODELS
from digicomp.scoring.quadrature import make_grid


def calibrate(
    responses: Any,
    model: str | Sequence[str] | Mapping[str, str] = "2PL",
    *,
    fixed: Any = None,
    n_categories: int | Mapping[str, int] | None = None,
    priors: Priors | str | None = None,
    D: float = 1.0,
    weights: Any = None,
    quadpts: int | None = None,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    latent: str = "auto",
    tol: float = 1e-4,
    max_iter: int = 500,
    accelerate: bool = True,
    se: bool = True,
    se_method: str = "auto",
    fit: bool = True,
    progress: Callable[[int, float, float], None] | None = None,
    se_progress: Callable[[str, int, int], None] | None = None,
    structure: Any = None,
    areas: Mapping[str, str] | None = None,
) -> CalibrationResult | Any:
    """Estimate item parameters by marginal maximum likelihood (Bock & Aitkin 1981) with mirt's defaults.

    ``responses``: Responses or an array (NaN/-1 = missing); :func:`digicomp.calibrate` also reads CSV files
    (long ``person,item,response`` or wide) and DataFrames. ``model``: a name
    (:data:`digicomp.models.names.ACCEPTED`: digicomp's or R mirt's itemtype, e.g. graded, gpcm, Rasch = PCM on
    polytomous items) or one per item (list or id → model). ``fixed``: ItemParameters or an ItemBank
    (:func:`digicomp.calibrate`: also a bank path or id) whose items are held at their values (the latent mean and
    SD are then estimated, putting new items on the bank's scale). ``latent``: "auto" (estimate the SD when every
    item is Rasch/PCM; mean and SD when items are fixed), "fixed" (N(0, 1)), "sd" or "mean_sd".
    ``se_method``: "numerical" (observed information by central differences, 2 E-steps per parameter),
    "xpd" (cross-product of the persons' scores, one pass) or "auto" (numerical when its estimated cost,
    2·P E-steps, is within ``result.NUMERICAL_SE_BUDGET``; else XPD). ``progress(cycle, logLik, change)`` is called
    after each EM cycle, ``se_progress(method, done, total)`` while the SEs are computed.
    ``weights``: frequency weights per person (pattern data). Grid: ``quadpts`` points on ``theta_range`` (default
    61; multidimensional: mirt's 61, 31, 15 per dimension for 1, 2, 3 integrated dimensions).
    ``structure`` ('areas', 'bifactor', a Q-matrix mapping or a Structure; ``areas``: item -> area) fits a
    multidimensional model instead: :func:`digicomp.calibration.multidim.calibrate_multidim`.
    """
    if structure is not None:
        from digicomp.calibration.multidim import calibrate_multidim, unsupported_options

        unsupported_options(priors=priors, D=D, latent=latent)
        return calibrate_multidim(
            responses,
            model,
            structure=structure,
            areas=areas,
            fixed=fixed,
            n_categories=n_categories,
            weights=weights,
            quadpts=quadpts,
            theta_range=theta_range,
            tol=tol,
            max_iter=max_iter,
            accelerate=accelerate,
            se=(se_method if se_method != "auto" else "auto") if se else False,
            progress=progress,
            se_progress=se_progress,
        )
    priors_ = as_priors(priors)
    if not (np.isfinite(D) and D > 0):
        raise CalibrationError(f"D = {D!r} must be a positive number (1.0 or 1.702)")
    if se_method not in ("auto", "numerical", "xpd"):
        raise CalibrationError(f"se_method = {se_method!r}: expected 'auto', 'numerical' or 'xpd'")
    fixed_params = as_fixed(fixed)
    if fixed_params is not None and fixed_params.D != D:
        D = fixed_params.D
    prep = prepare(as_responses(responses, weights), model_names(model), fixed_params, n_categories)
    points = make_grid(61 if quadpts is None else quadpts, theta_range)
    resp = prep.responses
    J = resp.n_items
    Kmax = int(prep.n_categories.max())
    free_rows = np.setdiff1d(np.arange(J), prep.fixed_rows)
    blocks = build_blocks(prep.models, free_rows, prep.n_categories, prep.counts, D)
    base = np.full((points.size, J, Kmax), -np.inf)
    if prep.fixed_params is not None:
        lp = prep.fixed_params.log_prob(points)
        base[:, prep.fixed_rows, : lp.shape[2]] = lp
    lat = _latent(latent, prep.models, free_rows, prep.fixed_rows.size > 0)
    data = ChunkedData(resp, prep.n_categories, points.size)
    engine = EMEngine(data, blocks, base, points, lat, priors_)
    outcome = engine.run(tol=tol, max_iter=max_iter, accelerate=accelerate, progress=progress)
    params = assemble(prep.item_ids, prep.models, prep.n_categories, blocks, prep.fixed_rows, prep.fixed_params, D)
    return CalibrationResult.build(
        engine=engine,
        outcome=outcome,
        prep=prep,
        params=params,
        priors=priors_,
        points=points,
        tol=tol,
        compute_se=se,
        compute_fit=fit,
        se_method=se_method,
        se_progress=se_progress,
    )


def _latent(mode: str, models: list[str], free_rows: NDArray[np.intp], has_fixed: bool) -> Latent:
    if mode == "auto":
        if has_fixed:
            mode = "mean_sd"
        elif all(models[j] in ("Rasch", "PCM") for j in free_rows):
            mode = "sd"
        else:
            mode = "fixed"
    if mode not in ("fixed", "sd", "mean_sd"):
        raise CalibrationError(f"latent = {mode!r}: expected 'auto', 'fixed', 'sd' or 'mean_sd'")
    return Latent(estimate_mean=mode == "mean_sd", estimate_sd=mode in ("sd", "mean_sd"))


def assemble(
    ids: list[str],
    models: list[str],
    K: NDArray[np.intp],
    blocks: list[Block],
    fixed_rows: NDArray[np.intp],
    fixed: ItemParameters | None,
    D: float,
) -> ItemParameters:
    """ItemParameters of every fitted item (estimated and fixed) from the blocks' internal parameters."""
    J = len(ids)
    width = max(int(K.max()) - 1, 1)
    slope, lower, upper = np.ones(J), np.zeros(J), np.ones(J)
    icpt = np.full((J, width), np.nan)
    for b in blocks:
        slope[b.index] = b.eta[:, 0]
        if b.family == "dichotomous":
            icpt[b.index, 0] = b.eta[:, 1]
            lower[b.index] = expit(b.eta[:, 2])
            upper[b.index] = expit(b.eta[:, 3])
        else:
            d = b.eta[:, 1:]
            icpt[b.index, : d.shape[1]] = np.where(np.isneginf(d), np.nan, d)
    if fixed is not None:
        slope[fixed_rows] = fixed.slope
        lower[fixed_rows], upper[fixed_rows] = fixed.lower, fixed.upper
        icpt[fixed_rows] = np.nan
        icpt[fixed_rows, : fixed.intercepts.shape[1]] = fixed.intercepts[:, :width]
    for j, m in enumerate(models):
        if m in DICHOTOMOUS_MODELS:
            icpt[j, 1:] = np.nan
    return ItemParameters(models, slope, icpt, lower, upper, D=D, ids=ids)
