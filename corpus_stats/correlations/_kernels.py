"""Numba kernels for lagged token-pair statistics (no I/O, no validation, no exceptions).

Layout used throughout (built by ``corpus_stats.correlations.counts``):

* positions are grouped by their token once per stream (``_group_positions``): ``rowptr`` (V + 1)
  and ``order`` (positions, ascending inside each token's group), plus, for pairs within documents,
  ``room[k]`` = number of tokens from ``order[k]`` to the end of its document, so the pair at lag t
  exists iff ``t < room[k]`` (``order[k] < n - t`` in one continuous stream, where room is empty);
* per lag, ``_pair_counts`` gathers the right tokens of every left-token group and counts them
  per (row, shard) segment into position-indexed slots; ``_compact`` turns the slots into a CSR
  matrix of the whole corpus over the active rows and columns (tokens seen as left / right of a
  pair) plus "shard entries" (entry index, shard, count, stored row by row) so that the counts of
  any union of shards are a re-weighting of the same sparsity pattern.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

N_PARTS = 64  # fixed summation blocks of the parallel reductions (results independent of threads)


@njit(cache=True)
def _group_positions(tokens, doc_offsets, vocab_size, with_room):
    """Counting sort of positions by token; with ``with_room``, also the room to the end of each
    position's document (else an empty array: in one continuous stream the room is ``n - i``)."""
    n = tokens.size
    rowptr = np.zeros(vocab_size + 1, dtype=np.int64)
    for i in range(n):
        rowptr[tokens[i] + 1] += 1
    for a in range(vocab_size):
        rowptr[a + 1] += rowptr[a]
    fill = rowptr[:-1].copy()
    order = np.empty(n, dtype=np.int32)
    room = np.empty(n if with_room else 0, dtype=np.int32)
    for d in range(doc_offsets.size - 1):
        end = doc_offsets[d + 1]
        for i in range(doc_offsets[d], end):
            a = tokens[i]
            k = fill[a]
            order[k] = i
            if with_room:
                room[k] = end - i
            fill[a] = k + 1
    return rowptr, order, room


@njit(cache=True)
def _group_range(tokens, doc_offsets, rowptr, lo, hi, order, room):
    """The positions of tokens ``lo..hi - 1`` in the order of ``_group_positions`` (one sequential
    scan): ``order[k - rowptr[lo]]`` for ``k`` in ``rowptr[lo]..rowptr[hi] - 1``, and their room when
    ``room`` is not empty. ``order`` and ``room`` are at least that long (reused across calls)."""
    base = rowptr[lo]
    fill = rowptr[lo:hi].copy() - base
    with_room = room.size > 0
    for d in range(doc_offsets.size - 1):
        end = doc_offsets[d + 1]
        for i in range(doc_offsets[d], end):
            a = tokens[i]
            if a >= lo and a < hi:
                k = fill[a - lo]
                order[k] = i
                if with_room:
                    room[k] = end - i
                fill[a - lo] = k + 1


@njit(cache=True)
def _pair_rows(
    tokens,
    rowptr,
    slotptr,
    order,
    room,
    shard_starts,
    lag,
    row_lo,
    row_hi,
    slot_of,
    seg_cnt,
    seg_list,
    col_seen,
    row_nnz,
    row_nsh,
    cols_slot,
    cnt_slot,
    she_slot,
    shg_slot,
    shc_slot,
):
    """Serial worker: count right tokens at ``lag`` for left-token rows ``row_lo..row_hi - 1``.

    Row ``a`` writes its distinct right tokens (and counts) to slots ``slotptr[a] + j`` and its
    per-shard segment counts (local entry index, shard, count) to slots ``slotptr[a] + m``; there
    are never more of either than the row's positions, nor than shards x vocabulary.
    ``col_seen[b]`` is set for every right token seen (the same value from every thread, so
    unsynchronised writes are harmless).
    """
    use_room = room.size > 0
    last = tokens.size - lag  # without room (one continuous stream): a pair exists iff i < n - lag
    for a in range(row_lo, row_hi):
        base = slotptr[a]
        end = rowptr[a + 1]
        nfull = 0
        nsh = 0
        g = 0
        k = rowptr[a]
        while k < end:
            # one (row, shard) segment: the row's positions inside shard g
            while order[k] >= shard_starts[g + 1]:
                g += 1
            lim = shard_starts[g + 1]
            nseg = 0
            while k < end and order[k] < lim:
                if (lag < room[k]) if use_room else (order[k] < last):
                    b = tokens[order[k] + lag]
                    seg_list[nseg] = b  # branch-free: kept only if b is new to the segment
                    nseg += seg_cnt[b] == 0
                    seg_cnt[b] += 1
                k += 1
            for j in range(nseg):
                b = seg_list[j]
                c = seg_cnt[b]
                seg_cnt[b] = 0
                e = slot_of[b]
                if e < 0:
                    e = nfull
                    slot_of[b] = e
                    cols_slot[base + e] = b
                    cnt_slot[base + e] = 0
                    col_seen[b] = 1
                    nfull += 1
                cnt_slot[base + e] += c
                she_slot[base + nsh] = e
                shg_slot[base + nsh] = g
                shc_slot[base + nsh] = c
                nsh += 1
        for j in range(nfull):
            slot_of[cols_slot[base + j]] = -1
        row_nnz[a] = nfull
        row_nsh[a] = nsh


@njit(parallel=True, cache=True)
def _pair_counts(
    tokens,
    rowptr,
    slotptr,
    order,
    room,
    shard_starts,
    lag,
    chunk_rows,
    chunk_order,
    scratch,
    col_seen,
    row_nnz,
    row_nsh,
    cols_slot,
    cnt_slot,
    she_slot,
    shg_slot,
    shc_slot,
):
    """Parallel driver: row chunks (balanced by positions), each with its own scratch rows
    ``scratch[c] = (slot_of = -1, seg_cnt = 0, seg_list)``, left as found (kept across lags).
    Chunks run in ``chunk_order``: prange hands each thread a contiguous block of iterations, and
    the cost per position varies along the vocabulary, so interleaved chunks balance the threads."""
    for ci in prange(chunk_order.size):
        c = chunk_order[ci]
        _pair_rows(
            tokens,
            rowptr,
            slotptr,
            order,
            room,
            shard_starts,
            lag,
            chunk_rows[c],
            chunk_rows[c + 1],
            scratch[c, 0],
            scratch[c, 1],
            scratch[c, 2],
            col_seen,
            row_nnz,
            row_nsh,
            cols_slot,
            cnt_slot,
            she_slot,
            shg_slot,
            shc_slot,
        )


@njit(parallel=True, cache=True)
def _compact(
    row_parts,
    slotptr,
    act_rows,
    row_nnz,
    row_nsh,
    indptr,
    shptr,
    col_index,
    n_first,
    cols_slot,
    cnt_slot,
    she_slot,
    shg_slot,
    shc_slot,
    cols,
    counts,
    counts_first,
    entry_row,
    sh_entry,
    sh_g,
    sh_cnt,
    left_g,
    write_entries,
    write_shards,
):
    """Move the slots of every active row to a compact CSR over active rows and columns
    (``col_index`` maps a token to its active-column index); also each row's per-shard left
    marginals and the counts of shards ``g < n_first`` (the first half) per entry. ``row_parts``:
    boundaries of row blocks balanced by shard entries. ``write_entries`` writes the entries, their
    first-half counts and the marginals; ``write_shards`` the shard entries (either may be skipped
    when a range is counted twice, once for each)."""
    for p in prange(row_parts.size - 1):
        for i in range(row_parts[p], row_parts[p + 1]):
            a = act_rows[i]
            base = slotptr[a]
            out = indptr[i]
            if write_entries:
                for j in range(row_nnz[a]):
                    cols[out + j] = col_index[cols_slot[base + j]]
                    counts[out + j] = cnt_slot[base + j]
                    counts_first[out + j] = 0
                    entry_row[out + j] = i
            sout = shptr[i]
            for m in range(row_nsh[a]):
                e = she_slot[base + m]
                g = shg_slot[base + m]
                c = shc_slot[base + m]
                if write_shards:
                    sh_entry[sout + m] = out + e
                    sh_g[sout + m] = g
                    sh_cnt[sout + m] = c
                if write_entries:
                    left_g[i, g] += c
                    if g < n_first:
                        counts_first[out + e] += c


@njit(parallel=True, cache=True)
def _right_marginals(tokens, col_index, doc_offsets, shard_starts, lag, n_cols):
    """Right pair-sample marginal counts of every shard, shape (G, columns), read off the stream:
    the pairs of shard g are (i, i + lag) with i in the shard and both in one counting document."""
    n_shards = shard_starts.size - 1
    right = np.zeros((n_shards, n_cols), dtype=np.float64)
    for g in prange(n_shards):
        lo, hi = shard_starts[g], shard_starts[g + 1]
        d = np.searchsorted(doc_offsets, lo, side="right") - 1
        while d < doc_offsets.size - 1 and doc_offsets[d] < hi:
            for i in range(max(lo, doc_offsets[d]), min(hi, doc_offsets[d + 1] - lag)):
                right[g, col_index[tokens[i + lag]]] += 1.0
            d += 1
    return right


@njit(parallel=True, cache=True)
def _fro_sq_rows(entry_row, cols, counts, inv_p, a, b):
    """Squared Frobenius norms of C_g = W / P_g - a_g b_g^T for G normalisations of the same counts W.

    ``inv_p`` (G,), ``a`` and ``b`` (V, G) are replicate g's normalisation and marginals. Uses
    ``sum_e (x_e - y_e)^2 - y_e^2`` over stored entries plus ``|a|^2 |b|^2`` for the zeros; the
    leave-one-shard-out replicates add :func:`_fro_sq_corrections` for their left-out counts.
    Summed in ``N_PARTS`` fixed blocks, so the result does not depend on the thread count.
    """
    n_rep = inv_p.size
    n_e = counts.size
    part = np.zeros((N_PARTS, n_rep), dtype=np.float64)
    for p in prange(N_PARTS):
        acc = part[p]
        for e in range(n_e * p // N_PARTS, n_e * (p + 1) // N_PARTS):
            r = entry_row[e]
            c = cols[e]
            w = counts[e]
            for g in range(n_rep):
                x = w * inv_p[g]
                acc[g] += x * (x - 2.0 * a[r, g] * b[c, g])
    out = np.zeros(n_rep, dtype=np.float64)
    for p in range(N_PARTS):
        out += part[p]
    aa = np.zeros(n_rep, dtype=np.float64)
    bb = np.zeros(n_rep, dtype=np.float64)
    for r in range(a.shape[0]):
        for g in range(n_rep):
            aa[g] += a[r, g] * a[r, g]
    for c in range(b.shape[0]):
        for g in range(n_rep):
            bb[g] += b[c, g] * b[c, g]
    return out + aa * bb


@njit(parallel=True, cache=True)
def _fro_sq_corrections(entry_row, cols, counts, sh_entry, sh_g, sh_cnt, inv_p, a, b):
    """What :func:`_fro_sq_rows` of replicate g changes when the counts of shard g are left out:
    summed over the given shard entries (any block of them; the blocks add up)."""
    n_rep = inv_p.size
    n_m = sh_entry.size
    part = np.zeros((N_PARTS, n_rep), dtype=np.float64)
    for p in prange(N_PARTS):
        acc = part[p]
        for m in range(n_m * p // N_PARTS, n_m * (p + 1) // N_PARTS):
            g = sh_g[m]
            e = sh_entry[m]
            y = a[entry_row[e], g] * b[cols[e], g]
            x_old = counts[e] * inv_p[g]
            x_new = (counts[e] - sh_cnt[m]) * inv_p[g]
            acc[g] += x_new * (x_new - 2.0 * y) - x_old * (x_old - 2.0 * y)
    out = np.zeros(n_rep, dtype=np.float64)
    for p in range(N_PARTS):
        out += part[p]
    return out


@njit(cache=True)
def _fro_inner(entry_row, cols, counts_a, counts_b, inv_pa, inv_pb, a_a, b_a, a_b, b_b):
    """Frobenius inner product <C_A, C_B> of two count matrices on the same sparsity pattern."""
    s = 0.0
    for e in range(counts_a.size):
        r = entry_row[e]
        c = cols[e]
        xa = counts_a[e] * inv_pa
        xb = counts_b[e] * inv_pb
        s += xa * xb - xa * a_b[r] * b_b[c] - xb * a_a[r] * b_a[c]
    return s + np.dot(a_a, a_b) * np.dot(b_a, b_b)


@njit(parallel=True, cache=True)
def _jackknife_row_grams(row_lo, row_parts, cols, shptr, sh_entry, sh_g, sh_cnt, v, jv, inv_p, a_rep, bv, gv):
    """Add to ``gv`` (G, k, k; upper triangle) the Gram terms ``M_g^T M_g`` of ``M_g = C_g V`` from
    rows ``row_lo + r`` of a block of shard entries stored row by row (``shptr`` from 0).

    Replicate g has counts J - J_g, normalisation ``inv_p[g]`` and marginals ``a_rep[:, g]``;
    ``jv = J V``, ``bv = b_rep^T V`` (G x k). A row's ``J_g V`` is a small local block, so the terms
    of the rows of any partition of the rows add up. ``row_parts`` (N_PARTS + 1 local row
    boundaries) fixes the summation blocks.
    """
    k = v.shape[1]
    n_rep = inv_p.size
    gv_part = np.zeros((N_PARTS, n_rep, k, k), dtype=np.float64)
    for p in prange(N_PARTS):
        local = np.empty((n_rep, k), dtype=np.float64)
        row = np.empty(k, dtype=np.float64)
        acc = gv_part[p]
        for r in range(row_parts[p], row_parts[p + 1]):
            local[:] = 0.0
            for m in range(shptr[r], shptr[r + 1]):
                c = cols[sh_entry[m]]
                g = sh_g[m]
                w = sh_cnt[m]
                for i in range(k):
                    local[g, i] += w * v[c, i]
            rr = row_lo + r
            for g in range(n_rep):
                for i in range(k):
                    row[i] = (jv[rr, i] - local[g, i]) * inv_p[g] - a_rep[rr, g] * bv[g, i]
                for i in range(k):
                    for j in range(i, k):
                        acc[g, i, j] += row[i] * row[j]
    for p in range(N_PARTS):
        gv += gv_part[p]


@njit(parallel=True, cache=True)
def _shard_products_t(row_lo, cols, shptr, sh_entry, sh_g, sh_cnt, u, jgu):
    """Add ``J_g^T U`` of a block of shard entries (rows ``row_lo + r``) to ``jgu`` (G, columns, k).
    Threads take disjoint sets of shards, so their scatters never meet."""
    k = u.shape[1]
    n_rep = jgu.shape[0]
    n_rows = shptr.size - 1
    n_blocks = min(n_rep, 4)
    for blk in prange(n_blocks):
        g_lo, g_hi = n_rep * blk // n_blocks, n_rep * (blk + 1) // n_blocks
        for r in range(n_rows):
            for m in range(shptr[r], shptr[r + 1]):
                g = sh_g[m]
                if g < g_lo or g >= g_hi:
                    continue
                c = cols[sh_entry[m]]
                w = sh_cnt[m]
                for i in range(k):
                    jgu[g, c, i] += w * u[row_lo + r, i]


@njit(parallel=True, cache=True)
def _jackknife_col_grams(jgu, ju, inv_p, b_rep, au):
    """Gram matrices of ``C_g^T U`` (G, k, k; upper triangle) from ``jgu = J_g^T U`` of every shard,
    ``ju = J^T U`` and ``au = a_rep^T U`` (G x k)."""
    n_rep, nc, k = jgu.shape
    gu = np.zeros((n_rep, k, k), dtype=np.float64)
    for g in prange(n_rep):
        row = np.empty(k, dtype=np.float64)
        for c in range(nc):
            for i in range(k):
                row[i] = (ju[c, i] - jgu[g, c, i]) * inv_p[g] - b_rep[c, g] * au[g, i]
            for i in range(k):
                for j in range(i, k):
                    gu[g, i, j] += row[i] * row[j]
    return gu


@njit(cache=True)
def _shard_cross_terms(entry_row, cols, sh_entry, sh_g, sh_cnt, ritz, identity, other, g_lo, g_hi):
    """Per shard g in g_lo..g_hi-1: the sum over its stored entries (row r, column c, count w) of
    w * ritz[c]^T other[r], a (k, k') matrix ((J_g R)^T other); ``identity`` when R is the identity,
    so that only row c of the result changes."""
    k2 = other.shape[1]
    k1 = k2 if identity else ritz.shape[1]
    out = np.zeros((g_hi - g_lo, k1, k2))
    for e in range(sh_entry.size):
        g = sh_g[e]
        if g < g_lo or g >= g_hi:
            continue
        j = sh_entry[e]
        r, c, w = entry_row[j], cols[j], sh_cnt[e]
        if identity:
            for m in range(k2):
                out[g - g_lo, c, m] += w * other[r, m]
        else:
            for i in range(k1):
                x = w * ritz[c, i]
                for m in range(k2):
                    out[g - g_lo, i, m] += x * other[r, m]
    return out
