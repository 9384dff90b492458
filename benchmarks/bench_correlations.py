"""Benchmark of corpus_stats.correlations.curve against the straightforward methods, in one process.

Streams: the 28 Gutenberg books of ../shared/corpora tokenized with the paper's BPE-8192 (V = 8192) and
with GPT-2 (V = 50,257), repeated to ``--tokens`` (or a synthetic copy process with ``--synthetic``).
Baselines per lag:

* ``unique+svds`` ("op+fro only"): ``np.unique`` of pair keys, ``scipy.sparse`` matrix, ``svds`` on a
  LinearOperator, giving only ||C||_op and ||C||_F of the whole corpus;
* ``straightforward full curve`` ("equal work", at ``--equal-lags``): every output of
  ``correlation_curve`` computed per lag with the same unique+sparse+svds building block: corpus op/fro;
  the shuffled stream ``stream.shuffled(generator(seed, "floor_shuffle"))`` (floor op/fro and its
  split-half eigenvalue, the noise edge); the halves A | B (``<C_A, C_B>_F`` and the top eigenvalue
  of (C_A^T C_B + C_B^T C_A)/2 by ``eigsh``); the 20 leave-one-shard-out replicates over
  ``stream.shards(20).bounds``, each recounted from scratch (a fresh ``np.unique`` + ``svds``). Its
  values are checked against ours;
* ``dense``: ``np.bincount`` into a dense V x V matrix and a full ``np.linalg.svd`` (V = 8192, one lag,
  only with ``--dense``: it takes minutes).

Ours is timed as the bare statistic (op, fro; the same work as ``unique+svds``) and as the full curve
(plus shuffled floor, jackknife over 20 shards and split-half debiasing; the same work as the
straightforward full curve).

    python benchmarks/bench_correlations.py                  # 1e7 tokens, 6 lags, both vocabularies
    python benchmarks/bench_correlations.py --equal-lags ""  # skip the (slow) equal-work baseline
    python benchmarks/bench_correlations.py --dense          # add the dense full-SVD baseline
    python benchmarks/bench_correlations.py --large          # 1e8 tokens x 30 lags, ours only
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, eigsh, svds

from corpus_stats._random import generator
from corpus_stats.correlations import curve as C
from corpus_stats.correlations.counts import PairCounter
from corpus_stats.stream import TokenStream

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TOKENIZERS = {8192: "tinystories-bpe8192", 50257: "gpt2"}


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def gutenberg_stream(vocab_size: int, n_tokens: int) -> TokenStream | None:
    """The Gutenberg books tokenized (one document per book), repeated to ``n_tokens``."""
    from tokenizers import Tokenizer

    tok_file = SHARED / "tokenizers" / TOKENIZERS[vocab_size] / "tokenizer.json"
    books = sorted((SHARED / "corpora" / "gutenberg").glob("*.txt"))
    if not tok_file.exists() or not books:
        print(f"skip V={vocab_size}: needs {tok_file} and ../shared/corpora/gutenberg (absent)")
        return None
    tok = Tokenizer.from_file(str(tok_file))
    docs = [np.array(e.ids, dtype=np.int64) for e in tok.encode_batch([b.read_text("utf-8") for b in books])]
    base = sum(d.size for d in docs)
    docs = docs * int(np.ceil(n_tokens / base))
    s = TokenStream.from_documents(docs, vocab_size=tok.get_vocab_size())
    keep = int(np.searchsorted(s.doc_offsets, n_tokens)) + 1
    s = s.select_documents(slice(0, min(keep, s.n_documents)))
    print(f"V={vocab_size}: {base:,} Gutenberg tokens ({len(books)} books) repeated: {s.n_tokens:,} tokens")
    return s


def synthetic_stream(vocab_size: int, n_tokens: int) -> TokenStream:
    from corpus_stats.synthetic import copy_process

    return copy_process(n_tokens, vocab_size=vocab_size, n_documents=1000, seed=0).stream


def baseline_unique_svds(tokens: np.ndarray, v: int, lag: int) -> tuple[float, float]:
    x, y = tokens[:-lag].astype(np.int64), tokens[lag:].astype(np.int64)
    keys, counts = np.unique(x * v + y, return_counts=True)
    j = sp.csr_matrix((counts.astype(np.float64), (keys // v, keys % v)), shape=(v, v))
    p = counts.sum()
    a, b = np.asarray(j.sum(1)).ravel() / p, np.asarray(j.sum(0)).ravel() / p
    jt = j.T.tocsr()
    op = LinearOperator(
        (v, v),
        matvec=lambda z: j @ z.ravel() / p - a * (b @ z.ravel()),
        rmatvec=lambda z: jt @ z.ravel() / p - b * (a @ z.ravel()),
        dtype=np.float64,
    )
    s = svds(op, k=1, return_singular_vectors=False)[0]
    d = j.data / p - a[keys // v] * b[keys % v]
    fro = np.sqrt(np.sum(d**2) + (a @ a) * (b @ b) - np.sum((a[keys // v] * b[keys % v]) ** 2))
    return float(s), float(fro)


def baseline_dense(tokens: np.ndarray, v: int, lag: int) -> float:
    x, y = tokens[:-lag].astype(np.int64), tokens[lag:].astype(np.int64)
    j = np.bincount(x * v + y, minlength=v * v).reshape(v, v) / (tokens.size - lag)
    c = j - np.outer(j.sum(1), j.sum(0))
    return float(np.linalg.svd(c, compute_uv=False)[0])


# -- equal-work straightforward baseline: every output of the full curve, per lag ----------------


class _SparseCov:
    """C = J/P - a b^T from pair keys: ``np.unique`` + ``scipy.sparse`` (the straightforward way)."""

    def __init__(self, keys: np.ndarray, v: int):
        uk, counts = np.unique(keys, return_counts=True)
        self.rows, self.cols, self.v = uk // v, uk % v, v
        self.p = float(counts.sum())
        self.j = sp.csr_matrix((counts.astype(np.float64), (self.rows, self.cols)), shape=(v, v))
        self.jt = self.j.T.tocsr()
        self.a = np.asarray(self.j.sum(1)).ravel() / self.p
        self.b = np.asarray(self.j.sum(0)).ravel() / self.p

    def mv(self, z):
        z = np.ravel(z)
        return self.j @ z / self.p - self.a * (self.b @ z)

    def rmv(self, z):
        z = np.ravel(z)
        return self.jt @ z / self.p - self.b * (self.a @ z)

    def op(self) -> float:
        lin = LinearOperator((self.v, self.v), matvec=self.mv, rmatvec=self.rmv, dtype=np.float64)
        return float(svds(lin, k=1, return_singular_vectors=False)[0])

    def fro(self) -> float:
        ab = self.a[self.rows] * self.b[self.cols]
        d = self.j.data / self.p - ab  # csr from sorted unique keys: data in key order
        return float(np.sqrt(max(np.sum(d**2) + (self.a @ self.a) * (self.b @ self.b) - np.sum(ab**2), 0.0)))


def _split_half(ca: _SparseCov, cb: _SparseCov) -> tuple[float, float]:
    """(top eigenvalue of (C_A^T C_B + C_B^T C_A)/2, <C_A, C_B>_F)."""
    v = ca.v

    def sym(z):
        return 0.5 * (ca.rmv(cb.mv(z)) + cb.rmv(ca.mv(z)))

    lam = eigsh(LinearOperator((v, v), matvec=sym, dtype=np.float64), k=1, which="LA", return_eigenvectors=False)
    inner = (
        ca.j.multiply(cb.j).sum() / (ca.p * cb.p)
        - (cb.a @ (ca.j @ cb.b)) / ca.p
        - (ca.a @ (cb.j @ ca.b)) / cb.p
        + (ca.a @ cb.a) * (ca.b @ cb.b)
    )
    return float(lam[0]), float(inner)


def _keys(tokens: np.ndarray, v: int, lag: int) -> np.ndarray:
    """Pair keys x_i * V + x_{i+lag}, indexed by the left position i (stream mode)."""
    return tokens[:-lag].astype(np.int64) * v + tokens[lag:].astype(np.int64)


def baseline_full_curve(stream: TokenStream, lags, n_shards: int = 20, seed: int = 0) -> dict:
    """Every output of ``correlation_curve(stream, lags, floor_lags=None)`` (stream mode), straightforwardly.

    Same pair sample and shards as ours (a pair belongs to the shard of its left token; halves A | B split
    at shard G // 2; the shuffled stream is ``stream.shuffled(generator(seed, "floor_shuffle"))``), so the
    values agree up to solver tolerances; only ours' leave-one-shard-out op norms (a top-4 subspace
    lower bound) differ by design.
    """
    v, n = stream.vocab_size, stream.n_tokens
    bounds = stream.shards(n_shards).bounds
    g_n = bounds.size - 1
    split = int(bounds[g_n // 2])
    shuffled = stream.shuffled(generator(seed, "floor_shuffle")).tokens
    keys = ("op", "fro", "floor_op", "floor_fro", "op_debiased", "fro_debiased")
    out = {k: np.full(len(lags), np.nan) for k in keys}
    out["op_jackknife"], out["fro_jackknife"] = np.full((g_n, len(lags)), np.nan), np.full((g_n, len(lags)), np.nan)
    for i, t in enumerate(lags):
        kc, ks = _keys(stream.tokens, v, t), _keys(shuffled, v, t)
        c = _SparseCov(kc, v)
        out["op"][i], out["fro"][i] = c.op(), c.fro()
        del c
        f = _SparseCov(ks, v)
        out["floor_op"][i], out["floor_fro"][i] = f.op(), f.fro()
        del f
        null_lam, _ = _split_half(_SparseCov(ks[:split], v), _SparseCov(ks[split:], v))
        lam, inner = _split_half(_SparseCov(kc[:split], v), _SparseCov(kc[split:], v))
        out["op_debiased"][i] = np.sign(lam - max(null_lam, 0.0)) * np.sqrt(abs(lam - max(null_lam, 0.0)))
        out["fro_debiased"][i] = np.sign(inner) * np.sqrt(abs(inner))
        for g in range(g_n):  # leave shard g out: recount the rest from scratch
            lo, hi = int(bounds[g]), min(int(bounds[g + 1]), n - t)
            r = _SparseCov(np.concatenate([kc[:lo], kc[max(hi, lo) :]]), v)
            out["op_jackknife"][g, i], out["fro_jackknife"][g, i] = r.op(), r.fro()
    return out


def _max_rel(ours: np.ndarray, base: np.ndarray) -> float:
    return float(np.nanmax(np.abs(np.asarray(ours) / np.asarray(base) - 1)))


def ours_bare(stream: TokenStream, lags) -> tuple[float, list[float]]:
    t0 = time.perf_counter()
    counter = PairCounter(stream, False, np.array([0, stream.n_tokens], np.int64))
    warm = {
        "vocab_size": stream.vocab_size,
        "rng": generator(0, "lanczos_start"),
    }  # warm-started from the previous lag, as the curve does
    ops = [C._lag_statistics(counter.count(t), False, False, False, warm=warm)["op"] for t in lags]
    return time.perf_counter() - t0, ops


def run(v: int, n_tokens: int, lags, synthetic: bool, dense: bool, equal_lags=()) -> None:
    s = synthetic_stream(v, n_tokens) if synthetic else gutenberg_stream(v, n_tokens)
    if s is None:
        return
    # compile every kernel outside the timings (enough tokens for the sparse, matrix-free path)
    ours_bare(TokenStream.from_array(s.tokens[:200_000], vocab_size=v), [1, 2])
    C.correlation_curve(TokenStream.from_documents([s.tokens[:50_000]] * 4, vocab_size=v), [1, 2])
    t_bare, ops = ours_bare(s, lags)
    t0 = time.perf_counter()
    curve = C.correlation_curve(s, lags)
    t_full = time.perf_counter() - t0
    print(
        f"  ours: bare {t_bare / len(lags):.2f} s/lag, full curve {t_full / len(lags):.2f} s/lag "
        f"(floor measured at {len(lags)} lags); peak RSS so far {peak_rss_gb():.2f} GB"
    )
    t_base = 0.0
    for t, op in zip(lags, ops):
        t0 = time.perf_counter()
        b_op, b_fro = baseline_unique_svds(s.tokens, v, t)
        t_base += time.perf_counter() - t0
        i = int(np.searchsorted(curve.lags, t))
        assert abs(b_op / op - 1) < 1e-4 and abs(b_fro / curve.fro[i] - 1) < 1e-6, (b_op, op)
    t_base /= len(lags)
    print(
        f"  op+fro only: unique+svds baseline {t_base:.2f} s/lag -> speed-up {t_base / (t_bare / len(lags)):.1f}x "
        f"(ours bare vs baseline op+fro), {t_base / (t_full / len(lags)):.1f}x (ours full curve vs baseline op+fro)"
    )
    if equal_lags:
        n_l = len(equal_lags)
        t0 = time.perf_counter()
        ref = C.correlation_curve(s, equal_lags, floor_lags=None)  # floor at every lag: same work as below
        t_ours = (time.perf_counter() - t0) / n_l
        t0 = time.perf_counter()
        base = baseline_full_curve(s, equal_lags)
        t_sf = (time.perf_counter() - t0) / n_l
        print(
            f"  equal work: full curve vs straightforward full curve, lags {equal_lags}: ours {t_ours:.2f} s/lag, "
            f"straightforward {t_sf:.2f} s/lag -> speed-up {t_sf / t_ours:.1f}x "
            f"(op+fro only: {t_base / (t_bare / len(lags)):.1f}x); peak RSS {peak_rss_gb():.2f} GB"
        )
        diffs = {k: _max_rel(getattr(ref, k), base[k]) for k in base}
        print(
            "    max relative difference ours vs straightforward: "
            + ", ".join(f"{k} {d:.1e}" for k, d in diffs.items())
        )
    if dense and v <= 8192:
        t0 = time.perf_counter()
        d_op = baseline_dense(s.tokens, v, lags[0])
        t_dense = time.perf_counter() - t0
        print(
            f"  dense bincount+svd baseline {t_dense:.1f} s/lag (op {d_op:.4e} vs ours {ops[0]:.4e}) "
            f"-> speed-up {t_dense / (t_bare / len(lags)):.0f}x (bare), "
            f"{t_dense / (t_full / len(lags)):.0f}x (full)"
        )
    print(f"  peak RSS {peak_rss_gb():.2f} GB")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokens", type=float, default=1e7)
    ap.add_argument("--vocab", type=int, nargs="+", default=[8192, 50257])
    ap.add_argument("--lags", default="1,2,4,16,64,256")
    ap.add_argument("--synthetic", action="store_true", help="copy-process tokens instead of Gutenberg")
    ap.add_argument(
        "--equal-lags",
        default="1,2,4,16,64,256",
        help="lags of the equal-work comparison against the straightforward full curve (slow; '' skips it)",
    )
    ap.add_argument("--dense", action="store_true", help="add the dense full-SVD baseline (slow)")
    ap.add_argument("--large", action="store_true", help="time ours only: 1e8 tokens x 30 lags, V=8192")
    args = ap.parse_args(argv)
    import numba

    print(f"threads: {numba.get_num_threads()}; load average {Path('/proc/loadavg').read_text().split()[:3]}")
    if args.large:
        n = int(args.tokens) if args.tokens > 1e7 else 10**8
        s = synthetic_stream(8192, n) if args.synthetic else gutenberg_stream(8192, n)
        lags = C.default_lags(1024)[:30]
        C.correlation_curve(TokenStream.from_documents([s.tokens[:50_000]] * 4, vocab_size=8192), [1, 2])
        t0 = time.perf_counter()
        curve = C.correlation_curve(s, lags, progress=sys.stderr.isatty())
        took = time.perf_counter() - t0
        print(
            f"large: {s.n_tokens:,} tokens x {lags.size} lags (1..{lags[-1]}) in {took:.0f} s "
            f"({took / lags.size:.1f} s/lag); peak RSS {peak_rss_gb():.2f} GB "
            f"({peak_rss_gb() * 1e9 / s.n_tokens:.0f} bytes/token)"
        )
        print("  op:", np.array2string(curve.op[:8], precision=3), "snr:", np.round(curve.snr[:8], 1))
        return
    lags = [int(t) for t in C.parse_lags(args.lags)]
    equal_lags = [int(t) for t in C.parse_lags(args.equal_lags)] if args.equal_lags.strip() else []
    for v in args.vocab:
        run(v, int(args.tokens), lags, args.synthetic, args.dense, equal_lags)


if __name__ == "__main__":
    main()
