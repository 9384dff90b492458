"""Warm-started Lanczos solvers for the top of a spectrum (private; numpy only).

Used by :mod:`corpus_stats.correlations.curve` instead of ARPACK: the operators are cheap numba sparse
products, the start vector is the previous lag's top singular vector (C(t) changes slowly with t), so
a few Krylov steps with full reorthogonalisation suffice and ARPACK's per-call overhead is avoided.
Reorthogonalisation runs in a serial numba kernel, never BLAS (whose spinning threads would slow the
numba-parallel products down several-fold on a 2-core machine).
Convergence is declared on the residual of the top Ritz pair, ``||A^T u - s v|| <= tol * s``; the
error of ``s`` itself is then of order ``tol^2 * s * s / gap`` (far below ``tol``).
"""

from __future__ import annotations

import numpy as np

from corpus_stats.correlations._kernels_lanczos import _dot, _norm, _reorth, _tmatmul

MAX_STEPS = 60  # Krylov basis size before an explicit restart from the current top Ritz vector
MAX_RESTARTS = 6


def _start(n, v0, rng):
    """The warm start if usable, else a random vector from ``rng`` (never all-ones: C 1 = 0 exactly)."""
    if v0 is not None and v0.size == n and np.any(v0):
        return np.array(v0, dtype=np.float64)
    return rng.standard_normal(n)


def _orth(x, basis, k):
    """Full reorthogonalisation of x against the first k rows of basis (twice: CGS2)."""
    return _reorth(np.ascontiguousarray(x, dtype=np.float64), basis, k) if k else x


def top_singular(matvec, rmatvec, shape, rng, v0=None, k=1, tol=1e-7, k_tol=1e-2, scale=1.0):
    """Top-k singular triplets of A (given by ``matvec``/``rmatvec``) by Golub-Kahan-Lanczos.

    Returns ``(s, u, v, n_products)`` with s descending (k values), u (m, k), v (n, k). The top
    triplet meets ``tol`` on its residual, the others ``k_tol`` (they only span a subspace).
    ``scale`` is a norm bound used to detect an exactly invariant Krylov space (breakdown); ``rng``
    (a numpy Generator) draws the start vector when ``v0`` is unusable.
    """
    m, n = shape
    steps = min(MAX_STEPS, m, n)
    k = min(k, steps)
    v = _start(n, v0, rng)
    tiny = 1e-14 * max(scale, np.finfo(float).tiny)
    n_prod = 0
    for _ in range(MAX_RESTARTS):
        P = np.zeros((steps + 1, n))  # basis vectors as rows (contiguous)
        Q = np.zeros((steps, m))
        alpha, beta = np.zeros(steps), np.zeros(steps)
        P[0] = v / _norm(v)
        j = 0
        done = False
        for j in range(steps):
            q = matvec(P[j])
            n_prod += 1
            if j:
                q -= beta[j - 1] * Q[j - 1]
            q = _orth(q, Q, j)
            alpha[j] = _norm(q)
            if alpha[j] <= tiny:
                done = True
                break
            Q[j] = q / alpha[j]
            r = rmatvec(Q[j]) - alpha[j] * P[j]
            n_prod += 1
            r = _orth(r, P, j + 1)
            beta[j] = _norm(r)
            if beta[j] <= tiny:
                j += 1
                done = True
                break
            P[j + 1] = r / beta[j]
            if j + 1 >= max(k, 2):
                B = np.diag(alpha[: j + 1]) + np.diag(beta[:j], 1)
                X, s, Yt = np.linalg.svd(B)
                res = beta[j] * np.abs(X[-1, :k])
                if res[0] <= tol * s[0] and np.all(res[1:] <= k_tol * s[0]):
                    j += 1
                    done = True
                    break
        else:
            j = steps
        kk = max(j, 1) if alpha[0] > tiny else 0
        if kk == 0:  # A v = 0 for the start vector, and A^T too: treat as the zero operator
            return np.zeros(k), np.zeros((m, k)), np.zeros((n, k)), n_prod
        B = np.diag(alpha[:kk]) + np.diag(beta[: kk - 1], 1)
        X, s, Yt = np.linalg.svd(B)
        kk_out = min(k, kk)
        u = _tmatmul(Q[:kk], np.ascontiguousarray(X[:, :kk_out]))
        vv = _tmatmul(P[:kk], np.ascontiguousarray(Yt[:kk_out].T))
        if done:
            break
        v = vv[:, 0]
    if kk_out < k:  # Krylov space exhausted: pad with zero triplets
        u = np.hstack([u, np.zeros((m, k - kk_out))])
        vv = np.hstack([vv, np.zeros((n, k - kk_out))])
        s = np.concatenate([s[:kk_out], np.zeros(k - kk_out)])
    return s[:k], u, vv, n_prod


def top_eigenvalue(matvec, n, rng, v0=None, tol=1e-7, scale=1.0, k=1):
    """Largest (algebraic) eigenvalue of a symmetric operator by Lanczos with full reorthogonalisation.

    Returns ``(lam, ritz, n_products)``: ``ritz`` (n, <= k) holds the top Ritz vectors of the final
    Krylov space, descending (a subspace for perturbed operators, as in the jackknife); ``tol`` applies
    to the top Ritz residual relative to ``scale`` (a bound on the operator's norm, since the top
    eigenvalue may be ~0 or negative).
    """
    steps = min(MAX_STEPS, n)
    v = _start(n, v0, rng)
    tiny = 1e-14 * max(scale, np.finfo(float).tiny)
    n_prod = 0
    lam = 0.0
    for _ in range(MAX_RESTARTS):
        V = np.zeros((steps, n))
        alpha, beta = np.zeros(steps), np.zeros(steps)
        V[0] = v / _norm(v)
        kk = 0
        done = False
        for j in range(steps):
            w = matvec(V[j])
            n_prod += 1
            alpha[j] = _dot(V[j], w)
            w = _orth(w, V, j + 1)
            beta[j] = _norm(w)
            kk = j + 1
            T = np.diag(alpha[:kk]) + np.diag(beta[: kk - 1], 1) + np.diag(beta[: kk - 1], -1)
            ev, evec = np.linalg.eigh(T)
            lam = ev[-1]
            if beta[j] <= tiny or beta[j] * abs(evec[-1, -1]) <= tol * scale:
                done = True
                break
            if j + 1 < steps:
                V[j + 1] = w / beta[j]
        if done:
            break
        v = _tmatmul(V[:kk], np.ascontiguousarray(evec[:, -1:]))[:, 0]
    ritz = _tmatmul(V[:kk], np.ascontiguousarray(evec[:, ::-1][:, : min(k, kk)]))
    return float(lam), ritz, n_prod
