"""Numba kernel of the exact window probabilities of a uniform-depth grammar (driver: grammar_mc).

No I/O, validation or raising here. For one window ``w`` of ``N`` tokens the kernel runs an
inside-style recursion bottom-up over the tree levels; for every symbol X of a level it keeps

* ``E[X, a, b]``: P(X's yield is exactly ``w[a:b]``),
* ``P[X, a, b]``: P(X's yield starts with ``w[a:b]``) (yield at least ``b - a`` long),
* ``S[X, b]``:    P(X's yield ends with ``w[0:b]``),
* ``Occ[X, k]``:    expected number of occurrences of ``w[0:k]`` inside X's yield,

each multiplied by ``prod(g[i])`` over the tokens of ``w`` it fixes (``g[i] = 1 / q_1(w[i])``), which
keeps long windows' probabilities in floating-point range without changing any ratio.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _zero_band(E, P, width, N):
    """Zero ``E[:, a, b]`` and ``P[:, a, b]`` for ``a < b <= a + width`` (all that a level writes)."""
    for x in range(E.shape[0]):
        for a in range(N):
            for b in range(a + 1, min(a + width, N) + 1):
                E[x, a, b] = 0.0
                P[x, a, b] = 0.0


@njit(cache=True)
def _level(E, P, S, Occ, cE, cP, cS, cOcc, active, c_active, lhs, rhs, arity, prob, r0, r1, lo, hi, N, work):
    """Parent tables (E, P, S, Occ) of rules ``r0:r1`` from the children's (cE, cP, cS, cOcc).

    Child yields have lengths in ``lo..hi`` (spans above ``N`` never matter). Folding a rule's
    children left to right: ``L[a, o]`` = P(children 1..j yield exactly ``w[a : a + dlo + o]``) (a
    band: the lengths of j children lie in ``dlo..dhi``), ``U[c]`` = P(children 1..j end with
    ``w[0:c]``). ``work`` holds two bands and two U vectors.
    """
    S[:] = 0.0
    Occ[:] = 0.0
    active[:] = False
    band, band_new = work[0], work[1]
    U, U_new = work[2, 0], work[3, 0]
    nz = np.empty(N + 1, dtype=np.int64)
    for r in range(r0, r1):
        m = arity[r]
        any_active = False
        for j in range(m):
            if c_active[rhs[r, j]]:
                any_active = True
        if not any_active:
            continue
        x = lhs[r]
        p = prob[r]
        active[x] = True
        for a in range(N + 1):
            band[a, 0] = 1.0  # no child yet: the empty yield at every a
        dlo, width = 0, 1
        l_alive = True
        n_nz = 0  # nonzero entries of U, listed in nz
        for j in range(m):
            y = rhs[r, j]
            if not c_active[y]:
                l_alive = False
                n_nz = 0
                continue
            # occurrences inside child j, and windows entering child j from the children before it
            for k in range(1, min(hi, N) + 1):  # a window inside the child is at most hi long
                Occ[x, k] += p * cOcc[y, k]
            for i in range(n_nz):
                c = nz[i]
                pu = p * U[c]
                for k in range(c + 1, min(c + hi, N) + 1):  # a child's prefix is at most hi long
                    Occ[x, k] += pu * cP[y, c, k]
            # prefixes whose last token lies in child j: children before j exact, child j a prefix
            if l_alive:
                for a in range(N):
                    for o in range(width):
                        c = a + dlo + o
                        if c >= N:
                            break
                        lac = band[a, o]
                        if lac == 0.0:
                            continue
                        pl = p * lac
                        for b in range(c + 1, min(c + hi, N) + 1):
                            P[x, a, b] += pl * cP[y, c, b]
            # U <- U * E_child + S_child (suffixes of w[0:.] reaching the end of child j)
            for c in range(N + 1):
                U_new[c] = cS[y, c]
            for i in range(n_nz):
                c = nz[i]
                for ell in range(lo, min(hi, N - c) + 1):
                    U_new[c + ell] += U[c] * cE[y, c, c + ell]
            n_nz = 0
            for c in range(1, N + 1):
                U[c] = U_new[c]
                if U_new[c] != 0.0:
                    nz[n_nz] = c
                    n_nz += 1
            # L <- L * E_child
            if l_alive:
                new_width = width + hi - lo
                alive = False
                for a in range(N + 1):
                    for o in range(new_width):
                        band_new[a, o] = 0.0
                for a in range(N):
                    for o in range(width):
                        c = a + dlo + o
                        if c >= N:
                            break
                        lac = band[a, o]
                        if lac == 0.0:
                            continue
                        for ell in range(lo, min(hi, N - c) + 1):
                            e = cE[y, c, c + ell]
                            if e != 0.0:
                                band_new[a, o + ell - lo] += lac * e
                                alive = True
                band, band_new = band_new, band
                dlo += lo
                width = min(new_width, N + 1)
                l_alive = alive and dlo <= N
        for i in range(n_nz):
            S[x, nz[i]] += p * U[nz[i]]
        if l_alive:
            for a in range(N):
                for o in range(width):
                    b = a + dlo + o
                    if b > N:
                        break
                    E[x, a, b] += p * band[a, o]


@njit(cache=True)
def window_log_probs(windows, log_g, lhs, rhs, arity, prob, level_start, len_lo, len_hi, root, v):
    """``out[s, k - 1] = log(q_k(w[:k]) * prod_{i<k} g[i])`` for each window ``w = windows[s]``, k = 1..N.

    ``q_k`` is the stationary probability of the k-block of the stream of independent trees, times
    the mean tree length (the caller divides). Levels are ``level_start[d]:level_start[d + 1]`` of
    the rule arrays, d = 0 rewriting the root; ``len_lo[d], len_hi[d]`` bound the yield lengths of
    depth-d symbols (``d = n_levels``: leaves, 1).
    """
    n_samples, N = windows.shape
    n_levels = level_start.size - 1
    tE2 = np.zeros((2, v, N + 1, N + 1))
    tP2 = np.zeros((2, v, N + 1, N + 1))
    tS2 = np.zeros((2, v, N + 1))
    tO2 = np.zeros((2, v, N + 1))
    tA2 = np.zeros((2, v), dtype=np.bool_)
    work = np.zeros((4, N + 1, N + 1))
    written = np.array([N, N])  # band of E, P written in each buffer (b - a at most this)
    F = np.zeros((N + 1, N + 1))
    tE = np.zeros((N + 1, N + 1))
    tP = np.zeros((N + 1, N + 1))
    tS = np.zeros(N + 1)
    tO = np.zeros(N + 1)
    out = np.empty((n_samples, N))
    for s in range(n_samples):
        w = windows[s]
        g = np.exp(log_g[s])
        cE, cP, cS, cOcc, c_act = tE2[0], tP2[0], tS2[0], tO2[0], tA2[0]
        _zero_band(cE, cP, written[0], N)
        written[0] = 1
        cS[:] = 0.0
        cOcc[:] = 0.0
        c_act[:] = False
        for a in range(N):
            cE[w[a], a, a + 1] = g[a]
            cP[w[a], a, a + 1] = g[a]
            c_act[w[a]] = True
        cS[w[0], 1] = g[0]
        cOcc[w[0], 1] = g[0]
        cur = 0
        for d in range(n_levels - 1, -1, -1):
            cE, cP, cS, cOcc, c_act = tE2[cur], tP2[cur], tS2[cur], tO2[cur], tA2[cur]
            E, P, S, Occ, act = tE2[1 - cur], tP2[1 - cur], tS2[1 - cur], tO2[1 - cur], tA2[1 - cur]
            lo, hi = len_lo[d + 1], min(len_hi[d + 1], N)
            _zero_band(E, P, written[1 - cur], N)  # E, P are nonzero only where b - a <= the longest yield
            written[1 - cur] = min(len_hi[d], N)
            _level(E, P, S, Occ, cE, cP, cS, cOcc, act, c_act, lhs, rhs, arity, prob,
                   level_start[d], level_start[d + 1], lo, hi, N, work)  # fmt: skip
            cur = 1 - cur
        E, P, S, Occ, act = tE2[cur], tP2[cur], tS2[cur], tO2[cur], tA2[cur]
        # the root mixture, then the stream: F[a, k] = P(a fresh run of trees starts with w[a:k])
        tE[:] = 0.0
        tP[:] = 0.0
        tS[:] = 0.0
        tO[:] = 0.0
        for x in range(v):
            rx = root[x]
            if rx == 0.0 or not act[x]:
                continue
            for a in range(N + 1):
                tS[a] += rx * S[x, a]
                tO[a] += rx * Occ[x, a]
                for b in range(a + 1, min(a + written[cur], N) + 1):
                    tE[a, b] += rx * E[x, a, b]
                    tP[a, b] += rx * P[x, a, b]
        F[:] = 0.0
        for k in range(1, N + 1):
            F[k, k] = 1.0
            for a in range(k - 1, -1, -1):
                acc = tP[a, k]
                for c in range(a + 1, k):
                    acc += tE[a, c] * F[c, k]
                F[a, k] = acc
        for k in range(1, N + 1):
            acc = tO[k]
            for j in range(1, k):
                acc += tS[j] * F[j, k]
            out[s, k - 1] = np.log(acc)
    return out
