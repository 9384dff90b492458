"""Numba kernels for the held-out Kneser-Ney upper bound (no I/O, validation or raising here).

The public layer (`corpus_stats.entropy.kneser_ney`) sorts every position of ``train + heldout`` by its
first ``n_max + 1`` tokens (a depth-capped suffix array), so that for each order k the training
occurrences of an n-gram and the held-out positions that query it sit in one contiguous run. The
kernels then walk that order once per k:

* `_lcp_capped` - longest common prefix of neighbouring sorted positions, capped at ``depth``;
* `_kn_order_scan` - counts, continuation counts and per-context statistics of order k, written
  straight to the held-out positions that need them (no hashing, hence no collisions);
* `_kn_order_update` - the interpolated modified Kneser-Ney probabilities of order k for every
  held-out target, given order k - 1's continuation probabilities.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Context statistics stored per held-out target (columns of the ``ctx`` table).
CTX_TOTAL, CTX_N1, CTX_N2, CTX_N3 = 0, 1, 2, 3  # raw counts c(h.), N1(h.), N2(h.), N3+(h.)
CTX_CTOTAL, CTX_CN1, CTX_CN2, CTX_CN3 = 4, 5, 6, 7  # the same over continuation counts
N_CTX = 8


@njit(cache=True)
def _radix_argsort(keys, bits):
    """(sorted keys, int32 permutation): stable LSD radix sort on the low ``bits`` bits, 8 bits a pass.

    ``keys`` is used as scratch space (overwritten).
    """
    n = keys.size
    k1 = keys
    k2 = np.empty_like(keys)
    i1 = np.empty(n, np.int32)
    for i in range(n):
        i1[i] = i
    i2 = np.empty(n, np.int32)
    mask = np.uint64(255)
    shift = 0
    while shift < bits:
        sh = np.uint64(shift)
        counts = np.zeros(257, np.int64)
        for i in range(n):
            counts[np.intp((k1[i] >> sh) & mask) + 1] += 1
        if counts.max() < n:  # skip digits that are equal everywhere
            for d in range(1, 257):
                counts[d] += counts[d - 1]
            for i in range(n):
                d = np.intp((k1[i] >> sh) & mask)
                dst = counts[d]
                counts[d] = dst + 1
                k2[dst] = k1[i]
                i2[dst] = i1[i]
            k1, k2 = k2, k1
            i1, i2 = i2, i1
        shift += 8
    return k1, i1


@njit(cache=True)
def _pack_prefixes(tokens, lim, length, bits):
    """uint64 key of every position's first ``length`` tokens, ``bits`` bits each (token + 1; 0 past the end)."""
    n = tokens.size
    out = np.empty(n, np.uint64)
    b = np.uint64(bits)
    for i in range(n):
        key = np.uint64(0)
        m = min(lim[i], length)
        for j in range(length):
            key = key << b
            if j < m:
                key = key | np.uint64(tokens[i + j] + 1)
        out[i] = key
    return out


@njit(cache=True)
def _doubling_round(sa, active, rank, lim, step, bits):
    """One prefix-doubling round over the shared groups (sorted-order slots ``active``).

    Sorts every group by ``rank[i + step]`` (0 past the segment end), writes the new order into
    ``sa[active]`` and the new ranks (1 + first slot of the new group), and returns the slots of the
    groups that are still shared.
    """
    m = active.size
    key = np.empty(m, np.uint64)
    pos = np.empty(m, np.int32)
    b = np.uint64(bits)
    for a in range(m):
        p = sa[active[a]]
        pos[a] = p
        sec = rank[p + step] if lim[p] > step else 0
        key[a] = (np.uint64(rank[p]) << b) | np.uint64(sec)
    skey, order = _radix_argsort(key, 2 * bits)
    for a in range(m):
        sa[active[a]] = pos[order[a]]
    out = np.empty(m, np.int32)
    cnt = 0
    a = 0
    while a < m:
        e = a + 1
        while e < m and skey[e] == skey[a]:
            e += 1
        g = active[a] + 1
        for x in range(a, e):
            rank[pos[order[x]]] = g
        if e - a > 1:
            for x in range(a, e):
                out[cnt] = active[x]
                cnt += 1
        a = e
    return out[:cnt]


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


@njit(cache=True)
def _kn_scan_range(k, lcp, limsa, left, held, stamp, j0, j1, q0, c_hw, cont_hw, ctx, coc):
    """:func:`_kn_order_scan` over sorted positions ``j0 .. j1 - 1``, whose first held-out position
    is number ``q0``; ``j0`` must start a context run (or be 0) and ``j1`` end one (or be n)."""
    length = k + 1
    acc = np.zeros(N_CTX, np.int64)
    gid = 0
    c = 0
    cont = 0
    q = q0  # held-out positions seen so far
    last = q0  # q just after the last held-out member of the open runs
    gstart = q0
    cstart = q0
    started = False
    run = 1 << 30
    for j in range(j0, j1 + 1):
        if j < j1:
            if j > j0 and lcp[j] < run:
                run = lcp[j]
            if limsa[j] < length:
                if held[j]:
                    c_hw[q] = -1
                    q += 1
                continue
        else:
            run = -1  # flush the open runs
        if started and run < length:
            # close the n-gram run: count-of-counts, context accumulators, held-out members
            if c > 0:
                if c <= 4:
                    coc[0, c] += 1
                acc[CTX_TOTAL] += c
                acc[CTX_N1 + min(c, 3) - 1] += 1
                if cont <= 4:
                    coc[1, cont] += 1
                acc[CTX_CTOTAL] += cont
                acc[CTX_CN1 + min(cont, 3) - 1] += 1
            for r in range(gstart, last):
                c_hw[r] = c
                cont_hw[r] = cont
            gid += 1
            c = 0
            cont = 0
            gstart = q
            if run < k:  # close the context run too
                for r in range(cstart, last):
                    for f in range(N_CTX):
                        ctx[r, f] = acc[f]
                for f in range(N_CTX):
                    acc[f] = 0
                cstart = q
        if j == j1:
            break
        if not started:
            gstart = q
            cstart = q
        started = True
        run = 1 << 30
        if held[j]:
            q += 1
            last = q
        else:
            c += 1
            lt = left[j]
            if stamp[lt] != gid:
                stamp[lt] = gid
                cont += 1


SCAN_PARTS = 16  # ranges of the parallel order scan (integer results: independent of the split)


@njit(parallel=True, cache=True)
def _kn_order_scan(k, lcp, limsa, left, held, vocab_size, c_hw, cont_hw, ctx, coc):
    """Statistics of order k (context length k, n-gram length k + 1) in one pass over the sorted positions.

    ``limsa[j]``: tokens from sorted position j to the end of its segment (capped); ``left[j]``: the
    token before it (``vocab_size`` at a segment start); ``held[j]``: whether it is a held-out
    position. Held-out positions are numbered q = 0, 1, ... in sorted order, so all writes below are
    sequential: ``c_hw[q]`` and ``cont_hw[q]`` (count and continuation count of the n-gram starting
    there; -1 if it does not fit in its segment) and ``ctx[q, :]`` (statistics of its context).
    ``coc[0, r]`` / ``coc[1, r]``: training n-grams with raw / continuation count r (r <= 4).
    For k >= 1 the positions are cut where a context run starts (``lcp[j] < k``) into
    ``SCAN_PARTS`` ranges scanned in parallel; every output is an integer, so the result is
    exactly the serial one. Order 0 has a single (empty) context and is scanned serially.
    """
    n = lcp.size
    n_parts = SCAN_PARTS if k >= 1 else 1
    cuts = np.empty(n_parts + 1, np.int64)
    cuts[0] = 0
    for p in range(1, n_parts):
        j = max(n * p // n_parts, cuts[p - 1])
        while j < n and j > 0 and lcp[j] >= k:
            j += 1
        cuts[p] = j
    cuts[n_parts] = n
    q0 = np.zeros(n_parts + 1, np.int64)
    for p in prange(n_parts):
        h = 0
        for j in range(cuts[p], cuts[p + 1]):
            h += held[j]
        q0[p + 1] = h
    for p in range(n_parts):
        q0[p + 1] += q0[p]
    part_coc = np.zeros((n_parts, 2, 5), np.int64)
    for p in prange(n_parts):
        if cuts[p] < cuts[p + 1]:
            stamp = np.full(vocab_size + 1, -1, np.int32)
            _kn_scan_range(
                k, lcp, limsa, left, held, stamp, cuts[p], cuts[p + 1], q0[p], c_hw, cont_hw, ctx, part_coc[p]
            )
    for p in range(n_parts):
        coc += part_coc[p]


@njit(cache=True, inline="always")
def _interpolate(c, total, n1, n2, n3, d, lower):
    """Interpolated modified KN: max(c - D(c), 0) / total + gamma(h) * lower (lower alone if unseen h)."""
    if total <= 0:
        return lower
    dc = 0.0
    if c > 0:
        dc = d[min(c, 3) - 1]
    gamma = (d[0] * n1 + d[1] * n2 + d[2] * n3) / total
    return max(c - dc, 0.0) / total + gamma * lower


N_PARTS = 64  # fixed summation blocks of _kn_order_update (results independent of the thread count)


@njit(parallel=True, cache=True)
def _kn_order_update(k, hpos, c_hw, cont_hw, ctx, d_raw, d_cont, pcont, logp, block_of, block_sums):
    """Order-k probabilities for the held-out positions q (sorted order) whose n-gram fits.

    The target is held-out token ``t = hpos[q] + k``. Returns the summed negative log-probability
    under the model whose highest order is k (raw counts) and the number of targets; replaces
    ``pcont[t]`` (order k - 1 continuation probability) by the order-k one, which the next order
    interpolates with. If ``logp`` is non-empty, ``logp[t]`` receives the log-probability.
    ``block_sums[b, 0]`` / ``[b, 1]`` accumulate loss / count per block ``b = block_of[t]``.
    Positions q are independent (distinct targets t), so they run in parallel in ``N_PARTS``
    fixed blocks whose sums are added in order.
    """
    keep = logp.size > 0
    n_q = c_hw.size
    part_sums = np.zeros((N_PARTS, block_sums.shape[0], 2))
    part_loss = np.zeros(N_PARTS)
    part_count = np.zeros(N_PARTS, np.int64)
    for p in prange(N_PARTS):
        sums = part_sums[p]
        loss = 0.0
        count = 0
        for q in range(n_q * p // N_PARTS, n_q * (p + 1) // N_PARTS):
            c = c_hw[q]
            if c < 0:
                continue
            t = hpos[q] + k
            lower = pcont[t]
            top = _interpolate(c, ctx[q, CTX_TOTAL], ctx[q, CTX_N1], ctx[q, CTX_N2], ctx[q, CTX_N3], d_raw, lower)
            lp = np.log(top)
            loss -= lp
            count += 1
            b = block_of[t]
            sums[b, 0] -= lp
            sums[b, 1] += 1.0
            if keep:
                logp[t] = lp
            pcont[t] = _interpolate(
                cont_hw[q],
                ctx[q, CTX_CTOTAL],
                ctx[q, CTX_CN1],
                ctx[q, CTX_CN2],
                ctx[q, CTX_CN3],
                d_cont,
                lower,
            )
        part_loss[p] = loss
        part_count[p] = count
    loss = 0.0
    count = 0
    for p in range(N_PARTS):
        loss += part_loss[p]
        count += part_count[p]
        block_sums += part_sums[p]
    return loss, count
