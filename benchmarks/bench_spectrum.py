"""Cost of the top-k spectrum of C(t) against one ||C(t)||_op, per lag, on a real corpus.

Per lag: the pair counts (shared by both), ||C||_op as ``correlation_curve`` gets it (warm-started Lanczos,
one triplet) and the top-k singular values as ``spectrum`` gets them (svds/PROPACK), each timed (wall and
CPU seconds) and with the number of products v -> Cv, C^T u; ratio = (count + top-k) / (count + op).
Default corpus: WikiText-2 test (raw) from ../shared with the paper's
BPE-8192 tokenizer.

    python benchmarks/bench_spectrum.py                 # k = 64, lags 1, 4, 16, 64
    python benchmarks/bench_spectrum.py --k 32 --lags 1,8
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np

from corpus_stats import tokenize
from corpus_stats.correlations.counts import PairCounter, row_chunks
from corpus_stats.correlations.curve import _fro_sq
from corpus_stats.correlations.operators import MATVECS, Cov, top_svd
from corpus_stats.correlations.spectrum import _top_k

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def _timed(f, *args, **kwargs):
    """``f(*args)`` and its (wall, CPU) seconds (CPU of all threads: the cost on a shared machine)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f(*args, **kwargs)
    return out, np.array([time.perf_counter() - t0, time.process_time() - c0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(SHARED / "corpora" / "wikitext-2-raw" / "test.txt"))
    ap.add_argument("--tokenizer", default=str(SHARED / "tokenizers" / "tinystories-bpe8192" / "tokenizer.json"))
    ap.add_argument("--k", type=int, default=64)
    ap.add_argument("--lags", default="1,4,16,64")
    args = ap.parse_args()
    stream = tokenize(args.corpus, args.tokenizer)
    print(f"{stream!r}; k = {args.k}")
    counter = PairCounter(stream, False, np.array([0, stream.n_tokens]))
    head = ("lag", 5), ("count s", 8), ("op s", 7), ("op prod", 8), ("top-k s", 8), ("top-k prod", 10)
    print(" ".join(f"{h:>{w}}" for h, w in head) + f" {'ratio':>6} {'CPU ratio':>9}")
    lc = counter.count(1)  # compile both paths outside the timings
    _top_k(lc, 2)
    top_svd(Cov(lc.indptr, lc.cols, lc.counts, lc.n_pairs, lc.left / lc.n_pairs, lc.right / lc.n_pairs,
                row_chunks(lc.indptr)), 1, scale=1.0, tol=1e-5)  # fmt: skip
    for t in map(int, args.lags.split(",")):
        lc, t_count = _timed(counter.count, t)
        p = lc.n_pairs
        a, b = lc.left / p, lc.right / p
        m0 = MATVECS[0]
        cov = Cov(lc.indptr, lc.cols, lc.counts, p, a, b, row_chunks(lc.indptr))
        _, t_op = _timed(top_svd, cov, 1, scale=math.sqrt(_fro_sq(lc)), tol=1e-5)
        n_op, m0 = MATVECS[0] - m0, MATVECS[0]
        _, t_k = _timed(_top_k, lc, args.k)
        n_k = MATVECS[0] - m0
        ratio = (t_count + t_k) / (t_count + t_op)
        print(
            f"{t:>5} {t_count[0]:>8.3f} {t_op[0]:>7.3f} {n_op:>8} {t_k[0]:>8.3f} {n_k:>10} {ratio[0]:>6.2f} "
            f"{ratio[1]:>9.2f}"
        )


if __name__ == "__main__":
    main()
