"""Held-out interpolated modified Kneser-Ney cross-entropy: an upper bound on H_n for every n.

For each context length n = 0..n_max we train an interpolated modified Kneser-Ney model (Chen &
Goodman 1998) whose context is truncated to the last n tokens, on documents disjoint from a held-out
split, and measure its cross-entropy on the held-out tokens. A model's cross-entropy on fresh text from
the same source is never below the true conditional entropy (Gibbs' inequality), so these numbers bound
H_n from above; they approach it as the training corpus grows.

All orders come from one depth-capped suffix sort of ``train + heldout``: training occurrences of an
n-gram and the held-out positions that query it are contiguous in that order, so the counts reach the
held-out positions exactly (no hashing, no collisions) in one linear pass per order.

Because H_n never increases with n, ``KneserNeyResult.monotone_bound`` (the running minimum of the
cross-entropies) is a tighter upper bound than the raw per-n values.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from corpus_stats._checks import check_int
from corpus_stats.entropy._kernels_kn import (
    N_CTX,
    _doubling_round,
    _kn_order_scan,
    _kn_order_update,
    _lcp_capped,
    _pack_prefixes,
    _radix_argsort,
)
from corpus_stats.entropy.heldout import heldout_documents
from corpus_stats.progress import Progress
from corpus_stats.stream import TokenStream, segment_bounds

MAX_N = 128  # context lengths beyond this are meaningless for count-based models (and cost time)

__all__ = [
    "KneserNeyResult",
    "kneser_ney_upper_bound",
    "modified_kn_discounts",
]


@dataclass(frozen=True, eq=False)
class KneserNeyResult:
    """Held-out cross-entropy of interpolated modified Kneser-Ney models, one per context length.

    Attributes
    ----------
    n : numpy.ndarray
        Context lengths 0..n_max (int64).
    cross_entropy : numpy.ndarray
        Held-out cross-entropy in nats per token of the model with context n (float64); NaN where no
        held-out position has n tokens of context (short documents with ``within_documents``).
    n_train_tokens, n_heldout_tokens : int
        Tokens the models were trained on, and held-out tokens scored (at n = 0).
    notes : tuple of str
        What the caller should know (position split, removed duplicates, truncation).
    options : dict
        The options used, the discounts per order (``discounts[k]["raw"]`` / ``["continuation"]``:
        D1, D2, D3+) and ``timings`` (seconds: split, sort, orders, total).
    n_positions : numpy.ndarray
        Held-out positions scored for each n (int64; fewer than ``n_heldout_tokens`` when contexts
        of length n do not fit).
    stderr : numpy.ndarray
        Standard error of ``cross_entropy`` from the spread between held-out documents (20 equal
        chunks after a single-document position split); it covers the choice of held-out text,
        not of training text, and is itself rough when few documents are held out.
    """

    n: np.ndarray
    cross_entropy: np.ndarray
    n_train_tokens: int
    n_heldout_tokens: int
    notes: tuple = ()
    options: dict = field(default_factory=dict)
    n_positions: np.ndarray | None = None
    stderr: np.ndarray | None = None

    @property
    def monotone_bound(self) -> np.ndarray:
        """``min(cross_entropy[0..n])``: also an upper bound on H_n, and a tighter one.

        H_n never increases with n, so H_n <= H_m <= cross_entropy[m] for every m <= n. Kneser-Ney
        models with more context than the data supports score worse (e.g. beyond the order of a
        Markov chain, or any n >= 1 on iid text), which this running minimum discards.
        """
        return np.fmin.accumulate(self.cross_entropy)

    def to_dict(self) -> dict:
        """JSON-safe dict (lists; NaN -> None)."""
        return {
            "n": self.n.tolist(),
            "cross_entropy": [None if math.isnan(x) else float(x) for x in self.cross_entropy],
            "n_train_tokens": int(self.n_train_tokens),
            "n_heldout_tokens": int(self.n_heldout_tokens),
            "notes": list(self.notes),
            "options": dict(self.options),
            "n_positions": None if self.n_positions is None else self.n_positions.tolist(),
            "stderr": None if self.stderr is None else [None if math.isnan(x) else float(x) for x in self.stderr],
        }

    @classmethod
    def from_dict(cls, d: dict) -> KneserNeyResult:
        """Inverse of :meth:`to_dict`."""
        ce = np.array([np.nan if x is None else x for x in d["cross_entropy"]], dtype=np.float64)
        pos = d.get("n_positions")
        err = d.get("stderr")
        return cls(
            n=np.asarray(d["n"], dtype=np.int64),
            cross_entropy=ce,
            n_train_tokens=int(d["n_train_tokens"]),
            n_heldout_tokens=int(d["n_heldout_tokens"]),
            notes=tuple(d.get("notes", ())),
            options=dict(d.get("options", {})),
            n_positions=None if pos is None else np.asarray(pos, dtype=np.int64),
            stderr=None if err is None else np.array([np.nan if x is None else x for x in err], dtype=np.float64),
        )


BYTES_PER_TOKEN = 50  # peak working set per training + held-out token (measured 34-46 on 10^7 tokens)


def train_token_cap(stream: TokenStream, memory_limit: int, heldout_tokens: int = 1_000_000) -> int | None:
    """``max_train_tokens`` that keeps the bound's working set under ``memory_limit``; None if all fit.

    Budget: the limit less the memory-mapped stream's pages and what the process itself holds
    (``execution.plan.PROCESS_BYTES``), at ``BYTES_PER_TOKEN`` per training and held-out token.

    Raises
    ------
    corpus_stats.execution.MemoryLimitError
        The limit leaves room for fewer training than held-out tokens (the minimum is named).
    """
    from corpus_stats.execution import PROCESS_BYTES, MemoryLimitError, format_bytes

    pages = PROCESS_BYTES + stream.tokens.dtype.itemsize * stream.n_tokens
    held = min(int(heldout_tokens), stream.n_tokens)
    cap = (int(memory_limit) - pages) // BYTES_PER_TOKEN - held
    if cap >= stream.n_tokens:
        return None
    if cap < held:
        need = pages + 2 * held * BYTES_PER_TOKEN
        raise MemoryLimitError(
            f"memory_limit {format_bytes(memory_limit)} leaves the Kneser-Ney upper bound fewer training than "
            f"held-out tokens ({held:,}); it needs at least {format_bytes(need)} (or fewer heldout_tokens)."
        )
    return int(cap)


def modified_kn_discounts(n1: int, n2: int, n3: int, n4: int) -> np.ndarray:
    """Chen & Goodman's three discounts D1, D2, D3+ from the count-of-counts n1..n4.

    ``Y = n1 / (n1 + 2 n2)``, ``D_r = r - (r + 1) Y n_{r+1} / n_r`` (r = 1, 2, 3). When ``n_r`` or
    ``n1 + 2 n2`` is zero the discount falls back to ``r / 2``; every discount is clipped to
    ``[0.01, r]`` so that probabilities stay positive and the count minus its discount is never negative.

    Examples
    --------
    >>> modified_kn_discounts(100, 40, 20, 10).round(3).tolist()
    [0.556, 1.167, 1.889]
    """
    nr = [float(n1), float(n2), float(n3), float(n4)]
    y = nr[0] / (nr[0] + 2 * nr[1]) if nr[0] + 2 * nr[1] > 0 else 0.0
    out = np.empty(3, dtype=np.float64)
    for r in (1, 2, 3):
        if nr[r - 1] > 0 and nr[0] + 2 * nr[1] > 0:
            d = r - (r + 1) * y * nr[r] / nr[r - 1]
        else:
            d = r / 2
        out[r - 1] = min(max(d, 0.01), float(r))
    return out


def check_arguments(stream, n_max, heldout_fraction, heldout_tokens, max_train_tokens=None) -> None:
    """Raise ValueError/TypeError on bad arguments of the bound and of its size curve (one check for both)."""
    if not isinstance(stream, TokenStream):
        raise TypeError(f"stream must be a TokenStream (see TokenStream.from_array); got {type(stream).__name__}.")
    check_int("n_max", n_max, 0, MAX_N)
    if not isinstance(heldout_fraction, (int, float, np.floating)) or not 0 < heldout_fraction < 1:
        raise ValueError(f"heldout_fraction must lie strictly between 0 and 1; got {heldout_fraction!r}.")
    check_int("heldout_tokens", heldout_tokens, 1)
    if max_train_tokens is not None and (
        isinstance(max_train_tokens, bool)
        or not isinstance(max_train_tokens, (int, np.integer))
        or max_train_tokens < 1
    ):
        raise ValueError(f"max_train_tokens must be a positive integer or None; got {max_train_tokens!r}.")
    need = 2 * (n_max + 2)
    used = stream.n_tokens if max_train_tokens is None else min(stream.n_tokens, max_train_tokens + heldout_tokens)
    if used >= 2**31 - 2:
        raise ValueError(f"the stream must have fewer than 2**31 - 2 tokens; got {stream.n_tokens:,}.")
    if stream.n_tokens < need:
        raise ValueError(
            f"the stream needs at least 2 * (n_max + 2) = {need} tokens for a train/held-out split; "
            f"got {stream.n_tokens}."
        )


def _suffix_order(tokens: np.ndarray, lim: np.ndarray, depth: int) -> np.ndarray:
    """Positions sorted by their first ``depth`` tokens (cut at the segment end).

    Prefix doubling that re-sorts only positions whose prefix is still shared (Larsson & Sadakane):
    ``rank[i]`` = 1 + index in the sorted order of the first position with the same prefix, 0 is the
    end-of-segment sentinel; a round with offset ``step`` sorts each shared group by
    ``rank[i + step]`` (radix sort). Positions that became unique drop out, so late rounds are cheap
    on text.
    """
    n = tokens.size
    bits = max(int(n + 1).bit_length(), 1)
    # first round: as many whole tokens as fit in 64 bits, packed (sequential reads, no ranks)
    tok_bits = int(tokens.max(initial=0) + 1).bit_length()
    d = max(1, min(64 // tok_bits, depth))
    st, sa = _radix_argsort(_pack_prefixes(tokens, lim, d, tok_bits), d * tok_bits)
    first = np.flatnonzero(np.concatenate(([True], st[1:] != st[:-1])))
    size = np.diff(np.append(first, n))
    del st
    rank = np.empty(n, np.int32)
    rank[sa] = np.repeat(first, size) + 1
    active = np.flatnonzero(np.repeat(size > 1, size)).astype(np.int32)  # slots of shared groups
    while d < depth and active.size:
        step = min(d, depth - d)
        active = _doubling_round(sa, active, rank, lim, step, bits)
        d += step
    return sa


def _blocks(he_off: np.ndarray, n_he: int, n_chunks: int = 20) -> tuple[np.ndarray, int]:
    """Block id of every held-out token: its document, or one of 20 equal chunks of a single one.

    Documents are the honest unit: a document-level latent variable (topic, the Santa Fe bits)
    correlates all its positions, so chunks inside a document understate the error.
    """
    lengths = np.diff(he_off)
    if np.count_nonzero(lengths) >= 2:
        return np.repeat(np.arange(lengths.size, dtype=np.int32), lengths), int(lengths.size)
    n_blocks = min(n_chunks, n_he)
    return (np.arange(n_he, dtype=np.int64) * n_blocks // n_he).astype(np.int32), n_blocks


def _ratio_stderr(loss: np.ndarray, count: np.ndarray) -> float:
    """Standard error of sum(loss) / sum(count) from per-block sums (delta method, blocks iid)."""
    keep = count > 0
    loss, count = loss[keep], count[keep]
    b = loss.size
    if b < 2:
        return float("nan")
    mean = loss.sum() / count.sum()
    return float(np.sqrt(b / (b - 1) * np.sum((loss - mean * count) ** 2)) / count.sum())


def kn_scores(tr_tok, tr_off, he_tok, he_off, vocab, n_max, within_documents, keep_logp=False, bar=None):
    """Score held-out tokens under the KN models n = 0..n_max trained on the training tokens.

    Returns a dict: ``cross_entropy`` and ``n_positions`` per n, ``discounts`` per order, ``sort_s``
    (seconds spent sorting) and, if ``keep_logp``, ``logp`` (n_max + 1, n_heldout) log-probabilities
    (NaN where the context does not fit).
    """
    n_tr, n_he = int(tr_tok.size), int(he_tok.size)
    depth = n_max + 1
    t0 = time.perf_counter()
    tokens = np.concatenate([np.asarray(tr_tok, np.uint32), np.asarray(he_tok, np.uint32)])
    seg = np.concatenate(
        [
            np.diff(segment_bounds(tr_off, n_tr, within_documents)),
            np.diff(segment_bounds(he_off, n_he, within_documents)),
        ]
    )
    seg = seg[seg > 0]
    # tokens left to the end of the segment (int32 keeps the sort at ~50 bytes per token)
    lim = (np.repeat(np.cumsum(seg), seg) - np.arange(tokens.size)).astype(np.int32)
    sa = _suffix_order(tokens, lim, depth)
    lcp = _lcp_capped(tokens, sa, lim, depth)
    limsa = np.minimum(lim[sa], depth).astype(np.uint8)
    seg_start = np.concatenate(([True], lim[:-1] == 1))
    # the token before each sorted position (sa - 1 = -1 happens only at a segment start)
    left = np.where(seg_start[sa], vocab, tokens[sa - 1]).astype(np.int32)
    del seg_start, lim
    held = sa >= n_tr
    hpos = (sa[held] - n_tr).astype(np.int64)  # held-out offsets in sorted order
    del sa, tokens
    sort_s = time.perf_counter() - t0
    if bar is not None:
        bar.update(note="suffix sort")

    c_hw = np.empty(n_he, np.int64)
    cont_hw = np.empty(n_he, np.int64)
    ctx = np.zeros((n_he, N_CTX), np.int64)
    pcont = np.full(n_he, 1.0 / vocab)
    block_of, n_blocks = _blocks(he_off, n_he)
    stderr = np.full(depth, np.nan)
    logp = np.full((depth, n_he) if keep_logp else (1, 0), np.nan)
    ce = np.full(depth, np.nan)
    n_pos = np.zeros(depth, np.int64)
    discounts = []
    for k in range(depth):
        coc = np.zeros((2, 5), np.int64)
        _kn_order_scan(k, lcp, limsa, left, held, vocab, c_hw, cont_hw, ctx, coc)
        d_raw = modified_kn_discounts(*coc[0, 1:])
        d_cont = modified_kn_discounts(*coc[1, 1:])
        discounts.append({"raw": d_raw.round(6).tolist(), "continuation": d_cont.round(6).tolist()})
        row = logp[k] if keep_logp else logp[0]
        sums = np.zeros((n_blocks, 2))
        loss, count = _kn_order_update(k, hpos, c_hw, cont_hw, ctx, d_raw, d_cont, pcont, row, block_of, sums)
        stderr[k] = _ratio_stderr(sums[:, 0], sums[:, 1])
        n_pos[k] = count
        if count:
            ce[k] = loss / count
        if bar is not None:
            bar.update(note=f"n={k}")
    out = {
        "cross_entropy": ce,
        "stderr": stderr,
        "n_positions": n_pos,
        "discounts": discounts,
        "sort_s": sort_s,
    }
    if keep_logp:
        out["logp"] = logp
    return out


def kneser_ney_upper_bound(
    stream: TokenStream,
    n_max: int,
    *,
    heldout_fraction: float = 0.1,
    heldout_tokens: int = 1_000_000,
    within_documents: bool = False,
    seed: int = 0,
    progress: bool = False,
    max_train_tokens: int | None = None,
) -> KneserNeyResult:
    """Held-out cross-entropy of interpolated modified Kneser-Ney models with context n = 0..n_max.

    Parameters
    ----------
    stream : TokenStream
        The corpus.
    n_max : int
        Largest context length (0..128).
    heldout_fraction : float, default 0.1
        Fraction of the (non-empty) documents held out, chosen at random with ``seed``.
    heldout_tokens : int, default 1_000_000
        At most this many held-out positions are scored (a random subset of held-out documents,
        then truncated).
    within_documents : bool, default False
        If True, contexts and n-grams never cross a document boundary; otherwise they follow the
        stream (across ``<eos>``) like the paper.
    seed : int, default 0
        Seed of the document split.
    progress : bool, default False
        Show a progress bar on stderr.
    max_train_tokens : int, optional
        Train on a random subset of the training documents with at most this many tokens (the
        last ones before the held-out part of a single document); the bounded-memory replacement at
        scale (memory grows ~50 bytes per training token). A note says so. Default: all of them.

    Returns
    -------
    KneserNeyResult

    Raises
    ------
    ValueError
        n_max outside 0..128, heldout_fraction outside (0, 1), too few tokens, or nothing left to
        score after removing duplicated held-out documents.
    TypeError
        ``stream`` is not a TokenStream.

    Notes
    -----
    Model of context length n, for a held-out token w after context h (the last n tokens):

    ``P_n(w | h) = max(c(hw) - D(c(hw)), 0) / c(h.) + gamma(h) P'_{n-1}(w | h')``, with
    ``gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3+ N3+(h.)) / c(h.)`` and h' = h without its first token.
    The lower orders P' use the same formula on continuation counts N1+(.hw) (distinct tokens seen
    before hw; the start of a training segment counts as one such token) and their own discounts; the
    recursion ends in the uniform distribution 1/V. If c(h.) = 0 the model backs off to P'_{n-1}.
    Discounts per order and per count type come from the count-of-counts
    (`modified_kn_discounts`; Chen & Goodman 1998, "An empirical study of smoothing techniques for
    language modeling", eq. 26). n = 0 is the discounted unigram interpolated with the uniform
    distribution, so no probability is zero.

    Split: :func:`corpus_stats.entropy.heldout.heldout_documents` (whole documents, shuffled with
    ``seed``, held-out copies of training documents removed; a single document is split by position
    and a note says so). The model with context n scores only
    held-out positions with n preceding held-out tokens (in the same document when
    ``within_documents``), so every score uses a full context. Without ``within_documents`` the
    training documents are concatenated in corpus order (so are the scored held-out ones) and
    n-grams run across the joins, as they run across ``<eos>`` in the corpus.

    Counting is exact (no hashing, so no collisions at any V or n_max): the positions of
    ``train + heldout`` are sorted by their first n_max + 1 tokens, cut at segment ends, by prefix
    doubling (starting from as many tokens as pack into 64 bits) with radix sorts that re-sort only
    prefixes still shared (Larsson & Sadakane). Every
    held-out query then sits in the same run as the training occurrences of its n-gram, and one linear
    pass per order delivers counts, continuation counts and context statistics to the held-out
    positions. Time ~ N log(n_max) + n_max N, about half of it sorting; peak memory ~ 50 bytes per
    token (measured figures: docs/performance.md).

    Examples
    --------
    >>> s = TokenStream.from_array(np.tile([0, 1, 2, 3], 50), vocab_size=4)
    >>> r = kneser_ney_upper_bound(s, 2)
    >>> r.cross_entropy.round(2).tolist()  # uniform over 4 tokens, then deterministic
    [1.39, 0.03, 0.02]
    """
    check_arguments(stream, n_max, heldout_fraction, heldout_tokens, max_train_tokens)
    n_max = int(n_max)
    t_start = time.perf_counter()
    (tr_tok, tr_off), (he_tok, he_off), notes = heldout_documents(
        stream, float(heldout_fraction), int(heldout_tokens), seed, max_train_tokens
    )
    n_tr, n_he = int(tr_tok.size), int(he_tok.size)
    vocab = int(stream.vocab_size)
    depth = n_max + 1

    bar = Progress("kneser-ney", total=n_max + 2, enabled=progress)
    t_split = time.perf_counter()
    scores = kn_scores(tr_tok, tr_off, he_tok, he_off, vocab, n_max, within_documents, bar=bar)
    bar.close()
    ce, n_pos, discounts, t_sort = (
        scores["cross_entropy"],
        scores["n_positions"],
        scores["discounts"],
        scores["sort_s"],
    )
    t_end = time.perf_counter()

    if np.any(n_pos == 0):
        notes.append(
            f"no held-out position has {int(np.argmax(n_pos == 0))} or more context tokens; cross_entropy is NaN there."
        )
    options = {
        "n_max": n_max,
        "heldout_fraction": float(heldout_fraction),
        "heldout_tokens": int(heldout_tokens),
        "within_documents": bool(within_documents),
        "seed": seed if isinstance(seed, int) else str(seed),
        "max_train_tokens": None if max_train_tokens is None else int(max_train_tokens),
        "method": "interpolated modified Kneser-Ney (Chen & Goodman 1998), held out",
        "discounts": discounts,
        "timings": {
            "split_s": round(t_split - t_start, 4),
            "sort_s": round(t_sort, 4),
            "orders_s": round(t_end - t_split - t_sort, 4),
            "total_s": round(t_end - t_start, 4),
        },
    }
    return KneserNeyResult(
        n=np.arange(depth, dtype=np.int64),
        cross_entropy=ce,
        n_train_tokens=n_tr,
        n_heldout_tokens=n_he,
        notes=tuple(notes),
        options=options,
        n_positions=n_pos,
        stderr=scores["stderr"],
    )
