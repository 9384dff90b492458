"""Benchmark of the word-set geometry (``corpus-stats geometry --set months``) on 10^7 words, in one process.

Corpus: a planted circle (:func:`corpus_stats.synthetic.planted_circle`, 20,000 ids, 200 documents) written
as text, the twelve circle words named after the months and filler id 12 written as ``.`` (the most
frequent filler word, so sentences end about every tenth word); and, when ``../shared/corpora/gutenberg``
exists, the 28 Gutenberg books read from disk with ``--set numbers``. Each run times the steps of the
Python API / CLI path: reading and splitting into words (:func:`~corpus_stats.geometry.word_stream`),
the same again from the word cache (a rerun), the window counts, the PPMI embeddings and the whole
:func:`~corpus_stats.geometry.set_geometry` (both counts, both embeddings, ablation, symmetry null).

Baseline (same process, same words): numpy per-shift ``np.bincount`` of pair keys into a dense K x K
matrix, the dense PMI and a full ``np.linalg.eigh`` of the K x K PPMI matrix; its counts must equal
ours exactly and its embeddings (as the Gram matrix of the set's vectors, which no sign or rotation
inside the subspace changes) agree to rounding.

    python benchmarks/bench_geometry.py                    # 1e7 words, K = 4000, baseline, Gutenberg
    python benchmarks/bench_geometry.py --tokens 1e6 --no-baseline
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from corpus_stats.geometry import analysis as A
from corpus_stats.geometry import cooccurrence as C
from corpus_stats.geometry import resolve_set, set_geometry, word_stream

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
MONTHS = "January February March April May June July August September October November December".split()


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # kB on Linux


def timed(label: str, f, *args, **kwargs):
    """Run ``f``, print wall and CPU seconds, return (result, (wall, CPU) seconds)."""
    t0, c0 = time.perf_counter(), time.process_time()
    out = f(*args, **kwargs)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"  {label:<34} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)
    return out, np.array([wall, cpu])


def planted_text(n_tokens: int, seed: int = 0):
    """A planted circle as text: months on the circle, ``.`` for filler id 12, ``w<id>`` otherwise."""
    from corpus_stats import synthetic as S
    from corpus_stats.text import Corpus

    c = S.planted_circle(n_tokens, n_words=12, vocab_size=20_000, n_documents=200, seed=seed)
    names = np.array(MONTHS + ["."] + [f"w{i}" for i in range(13, 20_000)], dtype=object)
    st = c.stream
    return Corpus.from_texts([" ".join(names[st.document(d)].tolist()) for d in range(st.n_documents)])


def baseline_counts(ws, row_of: np.ndarray, window: int) -> np.ndarray:
    """Dense K x K counts by one ``np.bincount`` of pair keys per shift 1..window."""
    idx, doc = row_of[ws.ids].astype(np.int64), ws.doc_id
    n = int(row_of.max()) + 1
    m = np.zeros(n * n, np.int64)
    for s in range(1, window + 1):
        a, b = idx[:-s], idx[s:]
        ok = (a >= 0) & (b >= 0) & (doc[:-s] == doc[s:])
        m += np.bincount(a[ok] * n + b[ok], minlength=n * n)
    m = m.reshape(n, n)
    return (m + m.T).astype(np.float64)


def baseline_embeddings(counts: np.ndarray, dim: int, min_count: int) -> np.ndarray:
    """Dense PPMI, full ``eigh``, top ``dim`` vectors scaled and normalised as ``embeddings``."""
    m = np.where(counts >= min_count, np.maximum(C.pmi(counts, A.CDS), 0.0), 0.0)
    lam, vec = np.linalg.eigh(0.5 * (m + m.T))
    lam, vec = lam[-dim:], vec[:, -dim:]
    emb = vec * np.sqrt(np.maximum(lam, 0.0))
    return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), np.finfo(float).tiny)


def run(label: str, read, set_name: str, n_frequent: int, window: int, baseline: bool, cache_dir: str) -> None:
    print(f"{label}:")
    corpus = read()  # the synthetic text is made here, untimed; files are read lazily by word_stream
    total0 = time.perf_counter()
    ws, t_words = timed("words (word_stream, reads the text)", word_stream, corpus, cache_dir=cache_dir)
    word_set = resolve_set(set_name)
    g, t_geom = timed("set_geometry (whole analysis)", set_geometry, ws, word_set, n_frequent=n_frequent)
    total = time.perf_counter() - total0
    print(
        f"  {ws.ids.size:,} words, {len(ws.words):,} distinct, {ws.info['n_documents']:,} documents; "
        f"K = {g.options['rows']} rows; geometry path {total:.2f} s wall ({t_words[0]:.2f} s words + "
        f"{t_geom[0]:.2f} s analysis), CPU {t_words[1] + t_geom[1]:.2f} s"
    )
    print("  " + "\n  ".join(A.summary_lines(g)[1:3]))
    again, _ = timed("words again (a rerun: from the cache)", word_stream, corpus, cache_dir=cache_dir)
    assert again.info["cache"]["hit"] and np.array_equal(again.ids, ws.ids)
    ids = [ws.id_of(w) for w in g.words]
    _, row_of = C.row_index(ws, n_frequent, ids)
    rows = row_of[np.asarray(ids)]
    counts, t_counts = timed("ours: window counts (sparse)", C.count_pairs, ws, row_of, window)
    emb, t_emb = timed("ours: PPMI embeddings (eigsh)", A.embeddings, counts, A.DEFAULT_DIM, A.DEFAULT_MIN_COUNT)
    print(f"  counts: {counts.nnz:,} stored pairs of {counts.shape[0]:,}^2; peak RSS so far {peak_rss_gb():.2f} GB")
    if not baseline:
        return
    dense, b_counts = timed("baseline: bincount per shift (dense)", baseline_counts, ws, row_of, window)
    b_emb_vec, b_emb = timed("baseline: dense PPMI + full eigh", baseline_embeddings, dense, A.DEFAULT_DIM, 5)
    same = np.array_equal(dense, counts.toarray())
    gram, b_gram = emb[rows] @ emb[rows].T, b_emb_vec[rows] @ b_emb_vec[rows].T
    r_counts, r_emb = b_counts / t_counts, b_emb / t_emb
    print(
        f"  speed-up (baseline / ours, wall | CPU): counts {r_counts[0]:.1f}x | {r_counts[1]:.1f}x, embeddings "
        f"{r_emb[0]:.1f}x | {r_emb[1]:.1f}x; counts identical: {same}; set Gram max |diff| "
        f"{np.abs(gram - b_gram).max():.1e}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=float, default=1e7, help="Words of the planted-circle corpus.")
    ap.add_argument("--vocab", type=int, default=A.DEFAULT_N_FREQUENT, help="K most frequent words.")
    ap.add_argument("--window", type=int, default=A.DEFAULT_WINDOW)
    ap.add_argument("--no-baseline", action="store_true", help="Skip the dense numpy baseline.")
    args = ap.parse_args()
    # compile the numba kernels outside the timings
    set_geometry(word_stream(planted_text(20_000), use_cache=False), resolve_set("months"), n_frequent=50, dim=5)
    base = not args.no_baseline
    n = int(args.tokens)
    with tempfile.TemporaryDirectory() as cache_dir:  # the word cache, here and gone afterwards
        run(f"planted circle, {n:,} words", lambda: planted_text(n), "months", args.vocab, args.window, base, cache_dir)
        books = SHARED / "corpora" / "gutenberg"
        if books.is_dir():
            from corpus_stats.text import read_corpus

            read = lambda: read_corpus(books)  # noqa: E731
            run("Gutenberg (28 books, read from disk)", read, "numbers", args.vocab, args.window, base, cache_dir)
        else:
            print(f"skip Gutenberg: {books} is absent")
    print(f"peak RSS {peak_rss_gb():.2f} GB")


if __name__ == "__main__":
    main()
