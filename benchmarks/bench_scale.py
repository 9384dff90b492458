"""Benchmark of `corpus_stats.measure` at scale: wall time and peak memory against the stream size.

Streams: synthetic copy processes (V = 8192, rho = 0.5, a = 0.5, documents of 10^4 tokens), written
chunk by chunk to saved TokenStream directories (never held in memory whole) under ``--dir``. Each
run is ``corpus_stats.measure(path, memory_limit=...)`` with all other options at their defaults, in
a fresh process so that its peak RSS (``ru_maxrss``) is its own. Printed per size: wall time, peak
RSS, bytes per token and time per token relative to the smallest size; then the single process
against ``--scheduler local:2`` on the same stream (time ratio, largest relative difference of the
curves; the driver's peak RSS only, the workers have their own).

    python benchmarks/bench_scale.py                       # 1e7 and 1e8 tokens, then local:2 at 1e8
    python benchmarks/bench_scale.py --sizes 1e7,1e8,3e8   # add 3e8 (with --memory-limit 3GB: the target)
    python benchmarks/bench_scale.py --huge                # also 1e9 tokens (the 60-minute target)
    python benchmarks/bench_scale.py --dask-size 1e7       # compare local:2 on a smaller stream
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

VOCAB = 8192
CHUNK = 10_000_000  # tokens generated per chunk (one copy process each, 1,000 documents)
CURVES = {"correlations": ("op", "fro", "floor_op", "op_debiased"), "entropy": ("plugin", "corrected", "upper")}


def write_stream(path: Path, n_tokens: int, seed: int = 0) -> Path:
    """A copy-process stream of ``n_tokens`` written chunk by chunk (bounded memory)."""
    from corpus_stats import synthetic
    from corpus_stats.stream import TokenStream
    from corpus_stats.stream_writer import TokenStreamWriter

    if (path / "meta.json").exists() and TokenStream.load(path).n_tokens == n_tokens:
        return path
    with TokenStreamWriter(path, vocab_size=VOCAB, overwrite=True) as writer:
        done = 0
        while done < n_tokens:
            n = min(CHUNK, n_tokens - done)
            docs = max(n // 10_000, 1)
            c = synthetic.copy_process(n, vocab_size=VOCAB, rho=0.5, a=0.5, n_documents=docs, seed=seed + done)
            writer.append_documents(c.stream.tokens, np.diff(c.stream.doc_offsets))
            done += n
    return path


def run_one(path: str, memory_limit: str | None, scheduler: str | None, out: str, progress: bool = False) -> None:
    """Child process: one measure() call; writes timings, peak RSS and the curves as JSON."""
    import corpus_stats as cs

    start = time.perf_counter()
    m = cs.measure(path, memory_limit=memory_limit, scheduler=scheduler, progress=progress)
    wall = time.perf_counter() - start
    curves = {
        f"{part}.{name}": np.asarray(getattr(getattr(m, part), name), float).tolist()
        for part, names in CURVES.items()
        for name in names
    }
    doc = {
        "wall_s": wall,
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "timings": m.timings,
        "n_tokens": m.provenance["n_tokens"],
        "partitions": m.entropy.options.get("partitions"),
        "curves": curves,
    }
    Path(out).write_text(json.dumps(doc))


def measure_in_child(path: Path, memory_limit: str | None, scheduler: str | None, progress: bool = False) -> dict:
    out = path.parent / f"result-{path.name}-{scheduler or 'serial'}.json".replace(":", "_")
    cmd = [sys.executable, __file__, "--child", str(path), "--out", str(out)]
    if memory_limit:
        cmd += ["--memory-limit", memory_limit]
    if scheduler:
        cmd += ["--scheduler", scheduler]
    if progress:
        cmd += ["--progress"]
    subprocess.run(cmd, check=True)
    return json.loads(out.read_text())


def max_rel_diff(a: dict, b: dict) -> float:
    worst = 0.0
    for key in a["curves"]:
        x, y = np.asarray(a["curves"][key], float), np.asarray(b["curves"][key], float)
        ok = np.isfinite(x) & np.isfinite(y)
        if not np.array_equal(np.isfinite(x), np.isfinite(y)):
            return float("inf")
        if ok.any():
            worst = max(worst, float(np.max(np.abs(x[ok] - y[ok]) / np.maximum(np.abs(x[ok]), 1e-300))))
    return worst


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1e7,1e8", help="comma-separated stream sizes (tokens)")
    p.add_argument("--huge", action="store_true", help="also 1e9 tokens")
    p.add_argument("--memory-limit", default=None, help="measure(memory_limit=...) [default: the package default]")
    p.add_argument("--dask-size", default="1e8", help="size of the single-process vs local:2 comparison ('' to skip)")
    p.add_argument("--dir", default="bench-scale-streams", help="where the streams are written (reused)")
    p.add_argument("--child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=None, help=argparse.SUPPRESS)
    p.add_argument("--scheduler", default=None, help=argparse.SUPPRESS)
    p.add_argument("--progress", action="store_true", help="show each run's progress bars (stderr)")
    args = p.parse_args()
    if args.child:
        run_one(args.child, args.memory_limit, args.scheduler, args.out, args.progress)
        return
    sizes = [int(float(x)) for x in args.sizes.split(",") if x]
    if args.huge:
        sizes.append(10**9)
    root = Path(args.dir)
    root.mkdir(parents=True, exist_ok=True)
    print(f"measure() on copy-process streams, V = {VOCAB}, memory_limit = {args.memory_limit or 'default'}")
    heads = ("wall s", "C(t) s", "H_n s", "peak RSS GB", "bytes/token", "rel t/token")
    print(f"{'tokens':>14} " + " ".join(f"{h:>12}" for h in heads))
    base = None
    results = {}
    for n in sizes:
        path = write_stream(root / f"copy-{n}", n)
        r = results[n] = measure_in_child(path, args.memory_limit, None, args.progress)
        per_token = r["wall_s"] / n
        base = base or per_token
        t = r["timings"]
        print(
            f"{n:>14,} {r['wall_s']:>12.1f} {t.get('correlations', 0):>12.1f} {t.get('entropy', 0):>12.1f} "
            f"{r['peak_rss_bytes'] / 1e9:>12.2f} {r['peak_rss_bytes'] / n:>12.1f} {per_token / base:>12.2f}",
            flush=True,
        )
    if args.dask_size:
        n = int(float(args.dask_size))
        path = write_stream(root / f"copy-{n}", n)
        single = results.get(n) or measure_in_child(path, args.memory_limit, None)
        dask = measure_in_child(path, args.memory_limit, "local:2")
        print(
            f"\n{n:,} tokens: single process {single['wall_s']:.1f} s, local:2 {dask['wall_s']:.1f} s "
            f"(ratio {dask['wall_s'] / single['wall_s']:.2f}; H_n {single['timings']['entropy']:.1f} s vs "
            f"{dask['timings']['entropy']:.1f} s); largest relative difference of the curves: "
            f"{max_rel_diff(single, dask):.2e}; driver peak RSS {dask['peak_rss_bytes'] / 1e9:.2f} GB"
        )


if __name__ == "__main__":
    main()
