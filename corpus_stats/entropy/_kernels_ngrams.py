"""Numba kernels for n-gram statistics of every order n = 1..n_levels in one pass (no I/O, no raising).

Method: *group refinement* (a truncated suffix sort). Positions are bucketed by their first token
(counting sort restricted to a range of first tokens, gathered by one sequential scan of the stream:
``_gather_range``); level n + 1 groups are obtained by a stable counting sort of every level-n group by
the token at offset n (O(group size), no log factor).
A group of size 1 (a singleton n-gram) can only have singleton extensions, so it leaves the active set
for good: the work per level is proportional to the number of positions whose n-gram is repeated, which
shrinks quickly with n on text. Groups are kept in place in one int64 position array (with a one-byte
group-start flag), compacted as they refine, so memory is ~9 bytes per gathered position plus the token array and
each parallel range's scratch (its largest level-1 group, 8 bytes per position). A group never leaves
its level-1 group, so ranges of level-1 groups are refined independently: in parallel inside one call,
and in separate calls (partitions, possibly on other machines) whose sums add up to the whole.

For every repeated n-gram (a "tracked" group, count c >= 2) the kernel also counts how many of its
occurrences start in each jackknife shard, which gives in the same pass

* ``full``: statistics of the whole corpus;
* ``jack[g]``: the *change* of every statistic when shard g is left out (count c -> c - c_g);
* ``sub[h]``: statistics of the sub-corpus made of the shards with ``masks[h, g] == 1``.

Statistic fields (last axis), summed over tracked groups with their count c in that variant:
``c ln c``, ``c psi(c)``, ``c``, ``[c >= 1]``, ``[c == 1]``, ``[c == 2]``. Untracked singletons are
recovered by the caller from the number of n-gram positions (``_room_histogram``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

F_CLNC, F_CPSI, F_NPOS, F_NZ, F_ONE, F_TWO = range(6)
N_FIELDS = 6
MAX_ROOM = 255  # room is stored in uint8: n-gram orders are capped at 255

_EULER = 0.5772156649015329


@njit(cache=True)
def _digamma_int(c):
    """psi(c) for an integer c >= 1 (exact sum below 16, asymptotic series above)."""
    if c < 16:
        s = -_EULER
        for k in range(1, c):
            s += 1.0 / k
        return s
    x = float(c)
    x2 = 1.0 / (x * x)
    return np.log(x) - 0.5 / x - x2 * (1.0 / 12.0 - x2 * (1.0 / 120.0 - x2 / 252.0))


@njit(cache=True)
def _accumulate(out, c, sign):
    """Add (sign=+1) or remove (sign=-1) one n-gram of count c to the statistic fields ``out``."""
    if c <= 0:
        return
    out[F_NPOS] += sign * c
    out[F_NZ] += sign
    out[F_CPSI] += sign * c * _digamma_int(c)
    if c == 1:
        out[F_ONE] += sign
    else:
        out[F_CLNC] += sign * c * np.log(c)
        if c == 2:
            out[F_TWO] += sign


@njit(cache=True)
def _room(doc_offsets, n_tokens, within_documents):
    """uint8 array: how many tokens an n-gram starting at p may span (capped at MAX_ROOM)."""
    room = np.empty(n_tokens, np.uint8)
    n_docs = doc_offsets.size - 1
    for d in range(n_docs):
        end = doc_offsets[d + 1] if within_documents else n_tokens
        for p in range(doc_offsets[d], doc_offsets[d + 1]):
            r = end - p
            room[p] = min(r, MAX_ROOM)
    return room


@njit(cache=True)
def _room_histogram(room, token_bounds):
    """hist[g, r]: number of positions in shard g with room r (n-gram positions = sum over r >= n)."""
    hist = np.zeros((token_bounds.size - 1, MAX_ROOM + 1), np.int64)
    for g in range(token_bounds.size - 1):
        for p in range(token_bounds[g], token_bounds[g + 1]):
            hist[g, room[p]] += 1
    return hist


@njit(cache=True)
def _group_stats(c, cnt, touched, n_touched, full_n, jack_n, sub_n, masks):
    """Statistics of one tracked group of count c whose shard counts are ``cnt[touched[:n_touched]]``.

    Updates the full-corpus, jackknife-delta and sub-corpus fields, then clears ``cnt``.
    """
    _accumulate(full_n, c, 1.0)
    for t in range(n_touched):
        g = touched[t]
        _accumulate(jack_n[g], c - cnt[g], 1.0)
        _accumulate(jack_n[g], c, -1.0)
    for h in range(masks.shape[0]):
        ch = 0
        for t in range(n_touched):
            g = touched[t]
            if masks[h, g]:
                ch += cnt[g]
        _accumulate(sub_n[h], ch, 1.0)
    for t in range(n_touched):
        cnt[touched[t]] = 0


@njit(cache=True)
def _shard_of(p, token_bounds):
    """Index g with token_bounds[g] <= p < token_bounds[g + 1] (binary search; the bounds stay in cache)."""
    lo = 0
    hi = token_bounds.size - 1
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if token_bounds[mid] <= p:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def _refine_range(
    tokens, room, use_room, token_bounds, vocab_size, n_levels, masks, pos, flags, lo, hi, full, jack, sub
):
    """Refine the level-1 groups held in ``pos[lo:hi]`` through every level, adding their statistics
    to ``full``, ``jack`` and ``sub``. Groups never leave their level-1 group, so disjoint ranges of
    level-1 groups are independent; each range compacts in place inside ``pos[lo:hi]``."""
    n = tokens.size
    n_shards = token_bounds.size - 1
    max_group = 0
    r = lo
    while r < hi:
        e = r + 1
        while e < hi and flags[e] == 0:
            e += 1
        max_group = max(max_group, e - r)
        r = e
    # per-group counting sort by the next token: O(group size), stable (positions stay increasing)
    tok_count = np.zeros(vocab_size, np.int64)
    tok_start = np.empty(vocab_size, np.int64)
    tok_list = np.empty(max(min(max_group, vocab_size), 1), np.int64)
    scratch = np.empty(max(max_group, 1), np.int64)
    cnt = np.zeros(n_shards, np.int64)
    cnt_ext = np.zeros(n_shards, np.int64)
    touched = np.empty(n_shards, np.int64)
    m = hi
    for level in range(1, n_levels + 1):
        refine = level < n_levels
        r = lo
        w = lo
        while r < m:
            e = r + 1
            while e < m and flags[e] == 0:
                e += 1
            n_touched = 0
            n_tok = 0
            for i in range(r, e):
                p = pos[i]
                s = _shard_of(p, token_bounds)
                if cnt[s] == 0:
                    touched[n_touched] = s
                    n_touched += 1
                cnt[s] += 1
                if refine and (room[p] > level if use_room else p + level < n):
                    cnt_ext[s] += 1
                    t = np.int64(tokens[p + level])
                    if tok_count[t] == 0:
                        tok_list[n_tok] = t
                        n_tok += 1
                    tok_count[t] += 1
            _group_stats(e - r, cnt, touched, n_touched, full[0, level], jack[0, :, level], sub[0, :, level], masks)
            if refine:
                n_ext = 0
                for t in range(n_touched):
                    n_ext += cnt_ext[touched[t]]
                _group_stats(
                    n_ext, cnt_ext, touched, n_touched, full[1, level], jack[1, :, level], sub[1, :, level], masks
                )
            if n_tok:
                kept = 0
                for j in range(n_tok):
                    t = tok_list[j]
                    c = tok_count[t]
                    if c >= 2:
                        tok_start[t] = kept
                        flags[w + kept] = 1
                        for q in range(kept + 1, kept + c):
                            flags[w + q] = 0
                        kept += c
                    else:
                        tok_start[t] = -1
                if kept:
                    for i in range(r, e):
                        p = pos[i]
                        if room[p] > level if use_room else p + level < n:
                            t = np.int64(tokens[p + level])
                            if tok_start[t] >= 0:
                                scratch[tok_start[t]] = p
                                tok_start[t] += 1
                    for q in range(kept):  # w + kept <= e: in-place compaction is safe
                        pos[w + q] = scratch[q]
                    w += kept
                for j in range(n_tok):
                    tok_count[tok_list[j]] = 0
            r = e
        m = w


N_PARTS = 16  # ranges of level-1 groups refined in parallel (sums added in this fixed order)


@njit(cache=True)
def _gather_range(tokens, counts, lo, hi):
    """Positions whose first token lies in ``lo .. hi - 1`` and occurs at least twice, grouped by that
    token (increasing inside a group), and their group-start flags: one sequential scan of the stream.

    ``counts`` are the token counts of the whole stream; tokens seen once are singletons at every
    level and are never tracked. This is the level-1 counting sort restricted to one first-token range.
    """
    starts = np.zeros(hi - lo + 1, np.int64)
    for v in range(lo, hi):
        c = counts[v] if counts[v] >= 2 else 0
        starts[v - lo + 1] = starts[v - lo] + c
    m = starts[hi - lo]
    pos = np.empty(m, np.int64)
    flags = np.zeros(m, np.uint8)
    fill = starts[:-1].copy()
    for v in range(lo, hi):
        if counts[v] >= 2:
            flags[starts[v - lo]] = 1
    for p in range(tokens.size):
        t = np.int64(tokens[p])
        if lo <= t < hi and counts[t] >= 2:
            pos[fill[t - lo]] = p
            fill[t - lo] += 1
    return pos, flags


@njit(parallel=True, cache=True)
def _ngram_stats(tokens, room, use_room, token_bounds, vocab_size, n_levels, masks, counts, lo, hi):
    """Statistics of n-grams of every order 1..n_levels whose first token lies in ``lo .. hi - 1``.

    ``counts`` are the token counts of the whole stream (``np.bincount``). ``room`` (used only when
    ``use_room``, i.e. within documents) limits how far an n-gram starting at p may extend; otherwise
    n-grams may run to the end of the stream. Positions are assigned to shards by ``token_bounds``
    (G + 1 increasing offsets). A group of equal n-grams never leaves its first token, so the
    statistics of disjoint first-token ranges add up to those of the whole vocabulary.

    Returns ``full`` (2, n_levels + 1, F), ``jack`` (2, G, n_levels + 1, F) and ``sub``
    (2, H, n_levels + 1, F). Index 0 of the first axis counts the n-grams, index 1 only their
    occurrences that extend to an (n+1)-gram (the prefixes, so that H(n+1) - H_prefix(n) is a
    conditional entropy of one sample; filled for n < n_levels). Row 0 of the level axis is unused.
    The level-1 groups are split into ``N_PARTS`` ranges balanced by positions and refined in
    parallel; the ranges' sums are added in a fixed order (results independent of the threads).
    """
    n_shards = token_bounds.size - 1
    pos, flags = _gather_range(tokens, counts, lo, hi)
    m = pos.size
    # ranges start at level-1 group starts
    cuts = np.empty(N_PARTS + 1, np.int64)
    cuts[0] = 0
    for k in range(1, N_PARTS):
        j = max(m * k // N_PARTS, cuts[k - 1])
        while j < m and flags[j] == 0:
            j += 1
        cuts[k] = j
    cuts[N_PARTS] = m
    shape = (N_PARTS, 2)
    full_p = np.zeros(shape + (n_levels + 1, N_FIELDS))
    jack_p = np.zeros(shape + (n_shards, n_levels + 1, N_FIELDS))
    sub_p = np.zeros(shape + (masks.shape[0], n_levels + 1, N_FIELDS))
    for k in prange(N_PARTS):
        if cuts[k] < cuts[k + 1]:
            _refine_range(
                tokens, room, use_room, token_bounds, vocab_size, n_levels, masks, pos, flags,
                cuts[k], cuts[k + 1], full_p[k], jack_p[k], sub_p[k],
            )  # fmt: skip
    full = np.zeros((2, n_levels + 1, N_FIELDS))
    jack = np.zeros((2, n_shards, n_levels + 1, N_FIELDS))
    sub = np.zeros((2, masks.shape[0], n_levels + 1, N_FIELDS))
    for k in range(N_PARTS):
        full += full_p[k]
        jack += jack_p[k]
        sub += sub_p[k]
    return full, jack, sub
