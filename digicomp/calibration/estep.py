"""The E-step: posterior weights of every person over the θ grid, reduced to expected counts.

Persons are processed in chunks, each a :class:`~digicomp.responses.ResponseDesign` over the observed responses
only, so memory stays at one (chunk, Q) array and the results (counts, log-likelihood) add up across chunks
(the pure function the design card asks for, ready to run on partitions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from digicomp.parallel import block_rows, thread_map
from digicomp.responses import ResponseDesign, Responses
from digicomp.scoring.posterior import normalise_log_posterior, posterior_moments

Array = NDArray[np.float64]
CHUNK_CELLS = 8_000_000  # persons × quadrature points held at once per block (64 MB in float64)


@dataclass
class EStepResult:
    """Sufficient statistics of one E-step: item counts (J, K, Q), latent counts (Q,), marginal log-likelihood;
    with ``moments_at`` given, each person's posterior mean and SD (N,) as well."""

    counts: Array
    latent: Array
    loglik: float
    eap: Array | None = None
    psd: Array | None = None


def _chunk_statistics(
    design: ResponseDesign,
    weights: Array | None,
    log_p: Array,
    log_prior: Array,
    count_dtype: type,
    moments_at: Array | None,
) -> tuple[Array, Array, float, tuple[Array, Array] | None]:
    """(expected counts, latent counts, log-likelihood, posterior moments) of one block of persons: the pure
    E-step function."""
    post = design.log_likelihood(log_p)
    post += log_prior
    post, log_marginal = normalise_log_posterior(post)
    moments = None if moments_at is None else posterior_moments(post, moments_at)
    if weights is not None:
        post *= weights[:, None]
        loglik = float(weights @ log_marginal)
    else:
        loglik = float(log_marginal.sum())
    return design.expected_counts(post, count_dtype), post.sum(axis=0), loglik, moments


class ChunkedData:
    """Responses split into person chunks, each with its design matrices and frequency weights."""

    def __init__(self, responses: Responses, n_categories: NDArray[np.intp], n_points: int) -> None:
        self.n_persons = responses.n_persons
        self.n_items = responses.n_items
        self.n_categories = np.asarray(n_categories, dtype=np.intp)
        size = block_rows(responses.n_persons, n_points, CHUNK_CELLS)
        bounds = list(range(0, responses.n_persons, size)) + [responses.n_persons]
        single = len(bounds) == 2
        cuts = None if single or responses.has_dense else np.searchsorted(responses.person, bounds)
        self.chunks: list[tuple[ResponseDesign, Array | None]] = []
        for k in range(len(bounds) - 1):
            lo, hi = bounds[k], bounds[k + 1]
            if single:
                part = responses
            elif responses.has_dense:
                part = Responses(None, None, None, hi - lo, responses.n_items, dense=responses.dense()[lo:hi])
            else:
                sl = slice(cuts[k], cuts[k + 1])
                part = Responses(
                    responses.person[sl] - lo, responses.item[sl], responses.value[sl], hi - lo, responses.n_items
                )
            w = None if responses.weights is None else responses.weights[lo:hi]
            self.chunks.append((part.design(self.n_categories), w))

    def e_step(
        self, log_p: Array, log_prior: Array, count_dtype: type = np.float64, moments_at: Array | None = None
    ) -> EStepResult:
        """Counts and log-likelihood for item log-probabilities (Q, J, K) and log prior weights (Q,).

        Blocks run on a thread per core; their statistics are summed in block order. ``count_dtype`` is the
        precision in which sparse blocks accumulate the counts (see :meth:`ResponseDesign.expected_counts`);
        ``moments_at`` (the grid points) also returns every person's posterior mean and SD.
        """
        parts = thread_map(
            lambda chunk: _chunk_statistics(chunk[0], chunk[1], log_p, log_prior, count_dtype, moments_at),
            self.chunks,
        )
        counts, latent, loglik, _ = parts[0]
        for c, lat, ll, _ in parts[1:]:
            counts += c
            latent += lat
            loglik += ll
        out = EStepResult(counts, latent, loglik)
        if moments_at is not None:
            out.eap = np.concatenate([m[0] for *_, m in parts])
            out.psd = np.concatenate([m[1] for *_, m in parts])
        return out

    def posterior(self, log_p: Array, log_prior: Array) -> tuple[Array, Array]:
        """Unweighted posterior weights (N, Q) and log marginal likelihoods (N,) of every person."""
        parts = []
        for design, _ in self.chunks:
            post = design.log_likelihood(log_p)
            post += log_prior
            parts.append(normalise_log_posterior(post))
        return np.vstack([p[0] for p in parts]), np.concatenate([p[1] for p in parts])
