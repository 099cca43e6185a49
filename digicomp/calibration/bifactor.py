"""The dimension-reduction E-step of bifactor and two-tier models (Gibbons & Hedeker 1992; Cai, Yang & Hansen 2011).

With G primary dimensions θ_g (correlated) and S specific dimensions θ_s (orthogonal, each loading only on its
own items I_s), the marginal likelihood of a person factors as

    L = Σ_p w_p · L_0(p) · Π_s Σ_t w_t L_s(p, t),   L_s(p, t) = Π_{j ∈ I_s} P_j(x_j | θ_g = p, θ_s = t),

so each specific dimension is integrated on a (G + 1)-dimensional grid, never the (G + S)-dimensional one: an
8-area bifactor model costs eight 2-D integrals, not one 9-D integral. The posterior of item j ∈ I_s over its
grid is post(p) · L_s(p, t) w_t / Σ_t' L_s(p, t') w_t', which gives the expected counts of the M-step. Every
group's log-likelihood comes from :class:`~digicomp.responses.ResponseDesign` (the one kernel), over the
responses to that group's items only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from digicomp.calibration.estep import EStepResult
from digicomp.parallel import block_rows, thread_map
from digicomp.responses import ResponseDesign, Responses
from digicomp.scoring.posterior import normalise_log_posterior

Array = NDArray[np.float64]
CHUNK_CELLS = 16_000_000


def subset_items(resp: Responses, items: NDArray[np.intp], rows: slice | None = None) -> Responses:
    """The responses to ``items`` (renumbered 0..len-1) of the persons in ``rows``."""
    lo = 0 if rows is None else rows.start
    hi = resp.n_persons if rows is None else rows.stop
    if resp.has_dense:
        return Responses(None, None, None, hi - lo, items.size, dense=resp.dense()[lo:hi][:, items])
    remap = np.full(resp.n_items, -1, dtype=np.intp)
    remap[items] = np.arange(items.size)
    keep = (remap[resp.item] >= 0) & (resp.person >= lo) & (resp.person < hi)
    return Responses(resp.person[keep] - lo, remap[resp.item[keep]], resp.value[keep], hi - lo, items.size)


class ReducedData:
    """Responses split into person chunks and item groups (general-only items, then one group per specific)."""

    def __init__(
        self,
        responses: Responses,
        n_categories: NDArray[np.intp],
        specific_group: NDArray[np.intp],
        n_primary_points: int,
        n_specific_points: int,
        primary_points: Array,
        specific_points: Array,
        primary_dims: NDArray[np.intp],
        specific_dims: NDArray[np.intp],
    ) -> None:
        self.n_persons = responses.n_persons
        self.n_items = responses.n_items
        self.n_categories = np.asarray(n_categories, dtype=np.intp)
        self.Qp, self.qs = n_primary_points, n_specific_points
        self.primary_points, self.specific_points = primary_points, specific_points
        self.primary_dims, self.specific_dims = primary_dims, specific_dims
        self.weights = responses.weights
        self.groups = [np.flatnonzero(specific_group == s) for s in range(-1, int(specific_group.max()) + 1)]
        S = len(self.groups)
        size = block_rows(self.n_persons, self.Qp * self.qs * S, CHUNK_CELLS, min_rows=256)
        bounds = list(range(0, self.n_persons, size)) + [self.n_persons]
        self.chunks: list[tuple[slice, list[ResponseDesign | None], Array | None]] = []
        for k in range(len(bounds) - 1):
            rows = slice(bounds[k], bounds[k + 1])
            designs = [
                subset_items(responses, g, rows).design(self.n_categories[g]) if g.size else None for g in self.groups
            ]
            w = None if self.weights is None else self.weights[rows]
            self.chunks.append((rows, designs, w))

    def posteriors(
        self, chunk: tuple, log_p: Array, log_prior: tuple[Array, Array]
    ) -> tuple[Array, list[tuple[Array, Array] | None], Array]:
        """(primary posterior (n, Qp), per group (u, m) with p(θ_s = t | θ_g = p, x) = u / m[..., None], u (n, Qp, qs),
        m (n, Qp), or None; log marginals (n,)) of one chunk of persons, unweighted."""
        rows, designs, _ = chunk
        lw_p, lw_s = log_prior
        Qp, qs = self.Qp, self.qs
        n = rows.stop - rows.start
        total = np.broadcast_to(lw_p, (n, Qp)).copy()
        cond: list[Array | None] = []
        masses: list[Array | None] = []
        lp4 = log_p.reshape(Qp, qs, *log_p.shape[1:])
        for s, (g, design) in enumerate(zip(self.groups, designs)):
            if design is None or s == 0:
                if design is not None:  # general-only items do not depend on the specific coordinate
                    total += design.log_likelihood(lp4[:, 0][:, g])
                cond.append(None)
                masses.append(None)
                continue
            ll = design.log_likelihood(log_p[:, g]).reshape(n, Qp, qs)
            ll += lw_s
            # log P ≤ 0 and log w ≤ 0, so exp cannot overflow; rows where it underflows (a sum below 1e-280) are
            # redone shifted by their maximum (rare: hundreds of items in one group, or extreme parameters)
            np.exp(ll, out=ll)
            mass = ll.sum(axis=2)
            log_mass = np.log(np.maximum(mass, 1e-300))
            low = np.flatnonzero((mass < 1e-280).any(axis=1))
            if low.size:
                again = design.log_likelihood(log_p[:, g]).reshape(n, Qp, qs)[low] + lw_s
                peak = again.max(axis=2, keepdims=True)
                peak = np.where(np.isfinite(peak), peak, 0.0)
                again = np.exp(again - peak)
                ll[low] = again
                mass[low] = again.sum(axis=2)
                with np.errstate(divide="ignore"):
                    log_mass[low] = np.log(mass[low]) + peak[..., 0]
                mass[low] = np.where(mass[low] > 0, mass[low], 1.0)
            total += log_mass
            cond.append(ll)  # unnormalised: divided by ``masses[s]`` where used (one pass fewer)
            masses.append(mass)
        post, log_marginal = normalise_log_posterior(total)
        return post, [c if c is None else (c, m) for c, m in zip(cond, masses)], log_marginal

    def _chunk(
        self, chunk: tuple, log_p: Array, log_prior: tuple[Array, Array], count_dtype: type, moments: bool
    ) -> tuple[list[Array | None], Array, float, tuple[Array, Array] | None]:
        rows, designs, w = chunk
        Qp, qs = self.Qp, self.qs
        n = rows.stop - rows.start
        post, cond, log_marginal = self.posteriors(chunk, log_p, log_prior)
        mom = self._moments(post, cond) if moments else None
        if w is not None:
            post = post * w[:, None]
            loglik = float(w @ log_marginal)
        else:
            loglik = float(log_marginal.sum())
        counts: list[Array | None] = []
        for s, (design, c) in enumerate(zip(designs, cond)):
            if design is None:
                counts.append(None)
            elif s == 0:
                counts.append(design.expected_counts(post, count_dtype))
            else:
                u, m = c
                u *= (post / m)[:, :, None]  # the joint posterior of (θ_g, θ_s), in place
                counts.append(design.expected_counts(u.reshape(n, Qp * qs), count_dtype))
        return counts, post.sum(axis=0), loglik, mom

    def _moments(self, post: Array, cond: list[Array | None]) -> tuple[Array, Array]:
        """Posterior means and SDs of every dimension, (n, K) each."""
        n = post.shape[0]
        K = len(self.primary_dims) + len(self.specific_dims)
        mean, sd = np.zeros((n, K)), np.ones((n, K))
        pm = post @ self.primary_points
        second = post @ self.primary_points**2
        mean[:, self.primary_dims] = pm
        sd[:, self.primary_dims] = np.sqrt(np.maximum(second - pm**2, 0.0))
        t = self.specific_points
        for s, c in enumerate(cond[1:]):
            k = self.specific_dims[s]
            if c is None:
                mean[:, k], sd[:, k] = 0.0, 1.0
                continue
            u, m = c
            pm_ = post / m
            m1 = np.einsum("np,npt,t->n", pm_, u, t)
            m2 = np.einsum("np,npt,t->n", pm_, u, t**2)
            mean[:, k], sd[:, k] = m1, np.sqrt(np.maximum(m2 - m1**2, 0.0))
        return mean, sd

    def e_step(
        self,
        log_p: Array,
        log_prior: tuple[Array, Array],
        count_dtype: type = np.float64,
        moments_at: Array | None = None,
    ) -> EStepResult:
        """Counts (J, C, Qp·qs) on each item's reduced grid, primary latent counts (Qp,) and the log-likelihood.

        ``log_p`` (Qp·qs, J, C): item log-probabilities on the reduced grid (primary index major). With
        ``moments_at`` (any value) every person's posterior mean and SD per dimension are returned too.
        """
        moments = moments_at is not None
        parts = thread_map(lambda ch: self._chunk(ch, log_p, log_prior, count_dtype, moments), self.chunks)
        C = int(self.n_categories.max())
        counts = np.zeros((self.n_items, C, self.Qp * self.qs))
        latent = np.zeros(self.Qp)
        loglik = 0.0
        spread = np.exp(log_prior[1])  # general-only items: counts spread over the specific axis by its prior
        for cts, lat, ll, _ in parts:
            latent += lat
            loglik += ll
            for s, (g, c) in enumerate(zip(self.groups, cts)):
                if c is None:
                    continue
                if s == 0:
                    c = (c[..., :, None] * spread).reshape(c.shape[0], c.shape[1], -1)
                counts[g, : c.shape[1]] += c
        out = EStepResult(counts, latent, loglik)
        if moments:
            out.eap = np.concatenate([p[3][0] for p in parts])
            out.psd = np.concatenate([p[3][1] for p in parts])
        return out
