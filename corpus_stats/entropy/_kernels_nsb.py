"""Numba kernels for per-context conditional-entropy estimates from counts of counts (no I/O, no raising).

Two parts:

* **NSB** (Nemenman, Shafee & Bialek 2002): the posterior mean of the entropy of one next-token
  count vector under a mixture of symmetric Dirichlet priors over K symbols, mixed over the
  concentration a with ``p(a) ∝ dξ/da = K ψ1(K a + 1) - ψ1(a + 1)`` (ξ(a) is the prior mean entropy,
  so the mixture is flat in the entropy). Everything depends on the counts only through their
  counts of counts (zs[j] occurs ms[j] times; K - sum ms bins are empty). The integral over x = ln a
  is a trapezoid rule (spectrally accurate on a smooth integrand that has decayed by e^-TAIL at
  both ends) on the region found on a coarse grid.
* **Contexts** (:func:`_context_sums`): one level n of sorted (context, next token) runs; per
  context the estimate of its next-token counts, weighted by its count, summed for the full corpus,
  every leave-one-shard-out replicate (by difference, touching only the shards the context occurs
  in) and every row of the sub-corpus partitions. Estimates are cached by a 64-bit order-independent
  hash of the count multiset, so each distinct histogram is integrated once.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.typed import Dict

PLUGIN, NSB = 0, 1  # estimator codes
_X_LO, _X_HI, _N_COARSE, _N_FINE = -30.0, 16.0, 93, 161  # x = ln a: coarse step 0.5
TAIL = 40.0  # integrate where the log integrand is within TAIL of its maximum


@njit(cache=True)
def digamma(x):
    """psi(x) for x > 0 (recurrence to x >= 8, then the asymptotic series)."""
    s = 0.0
    while x < 8.0:
        s -= 1.0 / x
        x += 1.0
    x2 = 1.0 / (x * x)
    return s + math.log(x) - 0.5 / x - x2 * (1.0 / 12.0 - x2 * (1.0 / 120.0 - x2 * (1.0 / 252.0 - x2 / 240.0)))


@njit(cache=True)
def trigamma(x):
    """psi'(x) for x > 0 (recurrence to x >= 8, then the asymptotic series)."""
    s = 0.0
    while x < 8.0:
        s += 1.0 / (x * x)
        x += 1.0
    x2 = 1.0 / (x * x)
    return s + 1.0 / x + 0.5 * x2 + x2 / x * (1.0 / 6.0 - x2 * (1.0 / 30.0 - x2 * (1.0 / 42.0 - x2 / 30.0)))


@njit(cache=True)
def _log_weight(a, K, N, zs, ms):
    """ln p(a) + ln p(counts | a) up to a constant: the NSB prior times the Dirichlet-multinomial evidence."""
    prior = K * trigamma(K * a + 1.0) - trigamma(a + 1.0)
    lw = math.log(prior) + math.lgamma(K * a) - math.lgamma(N + K * a)
    lga = math.lgamma(a)
    for j in range(zs.size):
        lw += ms[j] * (math.lgamma(zs[j] + a) - lga)
    return lw


@njit(cache=True)
def posterior_mean_entropy(a, K, N, zs, ms):
    """E[H | counts, a] under a symmetric Dirichlet(a) prior over K bins (Wolpert & Wolf 1995)."""
    A = N + K * a
    s = 0.0
    k1 = 0.0
    for j in range(zs.size):
        s += ms[j] * (zs[j] + a) * digamma(zs[j] + a + 1.0)
        k1 += ms[j]
    s += (K - k1) * a * digamma(a + 1.0)
    return digamma(A + 1.0) - s / A


@njit(cache=True)
def nsb_entropy(zs, ms, K):
    """NSB posterior mean entropy (nats) of counts with counts of counts (zs, ms) over K >= 2 symbols."""
    N = 0.0
    for j in range(zs.size):
        N += zs[j] * ms[j]
    if N <= 0.0:
        return np.nan
    step = (_X_HI - _X_LO) / (_N_COARSE - 1)
    lw = np.empty(_N_COARSE)
    best = -np.inf
    for i in range(_N_COARSE):
        x = _X_LO + i * step
        lw[i] = _log_weight(math.exp(x), K, N, zs, ms) + x
        best = max(best, lw[i])
    lo = _N_COARSE - 1
    hi = 0
    for i in range(_N_COARSE):
        if lw[i] >= best - TAIL:
            lo = min(lo, i)
            hi = max(hi, i)
    x0 = _X_LO + max(lo - 1, 0) * step
    x1 = _X_LO + min(hi + 1, _N_COARSE - 1) * step
    h = (x1 - x0) / (_N_FINE - 1)
    vals = np.empty(_N_FINE)
    hs = np.empty(_N_FINE)
    top = -np.inf
    for i in range(_N_FINE):
        x = x0 + i * h
        a = math.exp(x)
        vals[i] = _log_weight(a, K, N, zs, ms) + x
        hs[i] = posterior_mean_entropy(a, K, N, zs, ms)
        top = max(top, vals[i])
    num = 0.0
    den = 0.0
    for i in range(_N_FINE):
        w = math.exp(vals[i] - top) * (0.5 if i == 0 or i == _N_FINE - 1 else 1.0)
        num += w * hs[i]
        den += w
    return num / den


@njit(cache=True)
def _estimate(counts, n_counts, K, estimator):
    """The estimator on one count vector ``counts[:n_counts]`` (positive entries)."""
    c = np.sort(counts[:n_counts])
    N = 0.0
    for i in range(n_counts):
        N += c[i]
    if estimator == PLUGIN:
        s = 0.0
        for i in range(n_counts):
            s += c[i] * math.log(c[i])
        return math.log(N) - s / N
    n_distinct = 0
    for i in range(n_counts):
        if i == 0 or c[i] != c[i - 1]:
            n_distinct += 1
    zs = np.empty(n_distinct)
    ms = np.zeros(n_distinct)
    j = -1
    for i in range(n_counts):
        if i == 0 or c[i] != c[i - 1]:
            j += 1
            zs[j] = c[i]
        ms[j] += 1.0
    return nsb_entropy(zs, ms, K)


@njit(cache=True)
def _mix(c):
    """A 64-bit mix of a count (splitmix64 finaliser); counts add their mixes into a multiset hash."""
    z = np.uint64(c) * np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def new_cache():
    """An empty histogram-hash -> estimate cache for :func:`_context_sums` (one per estimator and K)."""
    return Dict.empty(key_type=types.uint64, value_type=types.float64)


@njit(cache=True)
def _lookup(cache, key, t_child, t_shard, t_count, n_t, kind, which, rowmap, K, estimator, buf):
    """Estimate of one variant of a context: cached by ``key`` or computed from the triples.

    ``kind`` 0: the whole context; 1: without shard ``which``; 2: the shards with ``rowmap[g] == which``.
    """
    if key in cache:
        return cache[key]
    n = 0
    i = 0
    while i < n_t:
        j = t_child[i]
        c = 0
        while i < n_t and t_child[i] == j:
            g = t_shard[i]
            if kind == 0 or (kind == 1 and g != which) or (kind == 2 and rowmap[g] == which):
                c += t_count[i]
            i += 1
        if c > 0:
            buf[n] = c
            n += 1
    h = _estimate(buf, n, K, estimator)
    cache[key] = h
    return h


@njit(cache=True)
def _context_sums(
    ctx_start, child_start, shard, rowmaps, n_rows, n_shards, K, estimator, cache, out_full, out_jack, out_rows
):
    """Add count-weighted estimates of every context of one level to the variant sums.

    The positions of the level are sorted by (context, next token); ``ctx_start`` (n_ctx + 1) and
    ``child_start`` (n_child + 1) are the run starts into that order, every context run a union of
    child runs; ``shard[i]`` is the shard of the i-th sorted position. ``rowmaps[q, g]`` is the row
    (of ``n_rows`` in all) that shard g belongs to in partition q, or -1. Adds to ``out_full[0]``,
    ``out_jack[g]`` (the change when shard g is left out) and ``out_rows[r]``.
    """
    n_ctx = ctx_start.size - 1
    max_len = 1
    for c in range(n_ctx):
        max_len = max(max_len, ctx_start[c + 1] - ctx_start[c])
    t_child = np.empty(max_len, np.int64)
    t_shard = np.empty(max_len, np.int64)
    t_count = np.empty(max_len, np.int64)
    buf = np.empty(max_len, np.int64)
    cnt = np.zeros(n_shards, np.int64)
    touched = np.empty(n_shards, np.int64)
    ctx_touched = np.zeros(n_shards, np.uint8)
    ctx_list = np.empty(n_shards, np.int64)
    jack_key = np.zeros(n_shards, np.uint64)
    jack_n = np.zeros(n_shards, np.int64)
    row_key = np.zeros(n_rows, np.uint64)
    row_n = np.zeros(n_rows, np.int64)
    row_c = np.zeros(n_rows, np.int64)
    row_list = np.empty(n_rows, np.int64)
    row_seen = np.zeros(n_rows, np.uint8)
    seen_list = np.empty(n_rows, np.int64)
    empty = np.zeros(1, np.int64)
    ch = 0
    for c in range(n_ctx):
        # triples (child, shard, count) of this context, and its full-corpus hash
        n_t = 0
        n_ctx_sh = 0
        key = np.uint64(0)
        N = ctx_start[c + 1] - ctx_start[c]
        while ch < child_start.size - 1 and child_start[ch] < ctx_start[c + 1]:
            n_touch = 0
            for i in range(child_start[ch], child_start[ch + 1]):
                g = shard[i]
                if cnt[g] == 0:
                    touched[n_touch] = g
                    n_touch += 1
                cnt[g] += 1
            cj = child_start[ch + 1] - child_start[ch]
            key += _mix(cj)
            for t in range(n_touch):
                g = touched[t]
                t_child[n_t] = ch
                t_shard[n_t] = g
                t_count[n_t] = cnt[g]
                n_t += 1
                if not ctx_touched[g]:
                    ctx_touched[g] = 1
                    ctx_list[n_ctx_sh] = g
                    n_ctx_sh += 1
                cnt[g] = 0
            ch += 1
        h_full = _lookup(cache, key, t_child, t_shard, t_count, n_t, 0, 0, empty, K, estimator, buf)
        out_full[0] += N * h_full
        # leave-one-shard-out: recompute the hash from the triples (children without shard g change)
        for s in range(n_ctx_sh):
            g = ctx_list[s]
            jack_key[g] = np.uint64(0)
            jack_n[g] = 0
        i = 0
        while i < n_t:
            j = t_child[i]
            e = i
            cj = 0
            while e < n_t and t_child[e] == j:
                cj += t_count[e]
                e += 1
            mj = _mix(cj)
            for s in range(n_ctx_sh):  # every shard of the context sees child j unchanged ...
                jack_key[ctx_list[s]] += mj
            for k in range(i, e):  # ... except the shards child j occurs in
                g = t_shard[k]
                jack_key[g] -= mj
                if cj - t_count[k] > 0:
                    jack_key[g] += _mix(cj - t_count[k])
                jack_n[g] += t_count[k]
            i = e
        for s in range(n_ctx_sh):
            g = ctx_list[s]
            ctx_touched[g] = 0
            n_left = N - jack_n[g]
            h = 0.0
            if n_left > 0:
                h = _lookup(cache, jack_key[g], t_child, t_shard, t_count, n_t, 1, g, empty, K, estimator, buf)
            out_jack[g] += n_left * h - N * h_full
        # sub-corpus rows, one partition at a time
        for q in range(rowmaps.shape[0]):
            rowmap = rowmaps[q]
            n_seen = 0
            i = 0
            while i < n_t:
                j = t_child[i]
                n_here = 0
                while i < n_t and t_child[i] == j:
                    r = rowmap[t_shard[i]]
                    if r >= 0:
                        if row_c[r] == 0:
                            row_list[n_here] = r
                            n_here += 1
                        row_c[r] += t_count[i]
                    i += 1
                for k in range(n_here):
                    r = row_list[k]
                    if not row_seen[r]:
                        row_seen[r] = 1
                        seen_list[n_seen] = r
                        n_seen += 1
                        row_key[r] = np.uint64(0)
                        row_n[r] = 0
                    row_key[r] += _mix(row_c[r])
                    row_n[r] += row_c[r]
                    row_c[r] = 0
            for k in range(n_seen):
                r = seen_list[k]
                row_seen[r] = 0
                h = _lookup(cache, row_key[r], t_child, t_shard, t_count, n_t, 2, r, rowmap, K, estimator, buf)
                out_rows[r] += row_n[r] * h
