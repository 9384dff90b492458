"""Numba kernels for the held-out Kneser-Ney upper bound (no I/O, validation or raising here).

The public layer (`corpus_stats.kneser_ney`) sorts every position of ``train + heldout`` by its
first ``n_max + 1`` tokens (a depth-capped suffix array), so that for each order k the training
occurrences of an n-gram and the held-out positions that query it sit in one contiguous run. The
kernels then walk that order once per k:

* `_lcp_capped` - longest common prefix of neighbouring sorted positions, capped at ``depth``;
* `_kn_order_scan` - counts, continuation counts and per-context statistics of order k, written
  straight to the held-out positions that need them (no hashing, hence no collisions);
* `_kn_order_update` - the interpolated modified Kneser-Ney probabilities of order k for every
  held-out target, given order k - 1's continuation probabilities;
* `_document_hashes` - a 64-bit FNV-1a hash per document (duplicate detection).
"""

from __future__ import annotations

import numpy as np
from numba import njit

# Context statistics stored per held-out target (columns of the ``ctx`` table).
CTX_TOTAL, CTX_N1, CTX_N2, CTX_N3 = 0, 1, 2, 3  # raw counts c(h.), N1(h.), N2(h.), N3+(h.)
CTX_CTOTAL, CTX_CN1, CTX_CN2, CTX_CN3 = 4, 5, 6, 7  # the same over continuation counts
N_CTX = 8


@njit(cache=True)
def _lcp_capped(tokens, sa, lim, depth):
    """lcp[j] = common prefix length of positions sa[j-1] and sa[j] (within their segments), <= depth."""
    n = sa.size
    out = np.zeros(n, np.uint8)
    for j in range(1, n):
        a = sa[j - 1]
        b = sa[j]
        m = min(lim[a], lim[b], depth)
        ell = 0
        while ell < m and tokens[a + ell] == tokens[b + ell]:
            ell += 1
        out[j] = ell
    return out


@njit(cache=True, inline="always")
def _finish_gram(c, cont, hbuf, lo, hi, c_hw, cont_hw, acc, coc):
    """Close one n-gram run: count-of-counts, context accumulators, held-out members' counts."""
    if c > 0:
        if c <= 4:
            coc[0, c] += 1
        acc[CTX_TOTAL] += c
        acc[CTX_N1 + min(c, 3) - 1] += 1
        if cont <= 4:
            coc[1, cont] += 1
        acc[CTX_CTOTAL] += cont
        acc[CTX_CN1 + min(cont, 3) - 1] += 1
    for q in range(lo, hi):
        t = hbuf[q]
        c_hw[t] = c
        cont_hw[t] = cont


@njit(cache=True, inline="always")
def _finish_context(hbuf, hi, ctx, acc):
    """Close one context run: write its statistics to the held-out members, reset accumulators."""
    for q in range(hi):
        t = hbuf[q]
        for f in range(N_CTX):
            ctx[t, f] = acc[f]
    for f in range(N_CTX):
        acc[f] = 0


@njit(cache=True)
def _kn_order_scan(k, lcp, limsa, left, hidx, vocab_size, c_hw, cont_hw, ctx, coc, hbuf):
    """Statistics of order k (context length k, n-gram length k + 1) in one pass over the sorted positions.

    ``limsa[j]``: tokens available from sorted position j to the end of its segment (capped);
    ``left[j]``: the token before it (``vocab_size`` = segment start); ``hidx[j]``: offset of a
    held-out position in the held-out segment, -1 for training positions. Held-out target
    ``t = hidx[j] + k`` receives ``c_hw[t]``, ``cont_hw[t]`` and ``ctx[t, :]``; ``coc[0, r]`` and
    ``coc[1, r]`` get the numbers of training n-grams with raw / continuation count r (r <= 4).
    """
    length = k + 1
    stamp = np.full(vocab_size + 1, -1, np.int64)
    acc = np.zeros(N_CTX, np.int64)
    gid = 0
    c = 0
    cont = 0
    hcount = 0
    gstart = 0
    first = True
    run = 1 << 30
    for j in range(lcp.size):
        if j > 0 and lcp[j] < run:
            run = lcp[j]
        if limsa[j] < length:
            continue
        if not first and run < length:
            _finish_gram(c, cont, hbuf, gstart, hcount, c_hw, cont_hw, acc, coc)
            gid += 1
            c = 0
            cont = 0
            gstart = hcount
            if run < k:
                _finish_context(hbuf, hcount, ctx, acc)
                hcount = 0
                gstart = 0
        first = False
        run = 1 << 30
        h = hidx[j]
        if h < 0:
            c += 1
            lt = left[j]
            if stamp[lt] != gid:
                stamp[lt] = gid
                cont += 1
        else:
            hbuf[hcount] = h + k
            hcount += 1
    if not first:
        _finish_gram(c, cont, hbuf, gstart, hcount, c_hw, cont_hw, acc, coc)
        _finish_context(hbuf, hcount, ctx, acc)


@njit(cache=True)
def _interpolate(c, total, n1, n2, n3, d, lower):
    """Interpolated modified KN: max(c - D(c), 0) / total + gamma(h) * lower (lower alone if unseen h)."""
    if total <= 0:
        return lower
    dc = 0.0
    if c > 0:
        dc = d[min(c, 3) - 1]
    gamma = (d[0] * n1 + d[1] * n2 + d[2] * n3) / total
    return max(c - dc, 0.0) / total + gamma * lower


@njit(cache=True)
def _kn_order_update(c_hw, cont_hw, ctx, d_raw, d_cont, pcont, logp):
    """Order-k probabilities for every held-out target that has k context tokens.

    Writes ``logp[t]`` (log-probability under the model whose highest order is k, raw counts; NaN
    for targets without k context tokens), returns its negative sum and the number of targets, and
    replaces ``pcont[t]`` (order k - 1 continuation probability) by the
    order-k continuation probability, which the next order interpolates with.
    """
    loss = 0.0
    count = 0
    for t in range(c_hw.size):
        c = c_hw[t]
        if c < 0:
            logp[t] = np.nan
            continue
        lower = pcont[t]
        top = _interpolate(c, ctx[t, CTX_TOTAL], ctx[t, CTX_N1], ctx[t, CTX_N2], ctx[t, CTX_N3], d_raw, lower)
        lp = np.log(top)
        logp[t] = lp
        loss -= lp
        count += 1
        pcont[t] = _interpolate(
            cont_hw[t], ctx[t, CTX_CTOTAL], ctx[t, CTX_CN1], ctx[t, CTX_CN2], ctx[t, CTX_CN3], d_cont, lower
        )
    return loss, count


@njit(cache=True)
def _document_hashes(tokens, offsets):
    """64-bit FNV-1a hash of every document's tokens (length mixed in)."""
    n_docs = offsets.size - 1
    out = np.empty(n_docs, np.uint64)
    prime = np.uint64(1099511628211)
    for d in range(n_docs):
        h = np.uint64(14695981039346656037) ^ np.uint64(offsets[d + 1] - offsets[d])
        for i in range(offsets[d], offsets[d + 1]):
            h = (h ^ np.uint64(tokens[i])) * prime
        out[d] = h
    return out
