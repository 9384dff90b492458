"""Benchmark: all-n conditional entropy (n <= 32) against per-n ``np.unique`` of hashed n-gram keys.

Each method runs in its own child process on the same saved, memory-mapped stream, so peak memory
(peak resident size ``VmHWM``, reset just before the call, minus
the resident size then) is measured separately::

    python benchmarks/bench_entropy.py                      # 1e7 and 1e8 tokens, n_max = 32
    python benchmarks/bench_entropy.py --sizes 1e6 --kind copy

``ours`` is :func:`corpus_stats.entropy.curve.entropy_curve` with ``upper=False`` (all orders 1..n_max+1 in one
pass, *with* the 20-shard jackknife and the half-corpus test). The baseline hashes every n-gram into a
64-bit key (rolling polynomial) and counts it with ``np.unique(..., return_counts=True)``, one n at a
time, computing only plug-in block entropies. On large streams the baseline runs ``--baseline-levels``
orders and is extrapolated linearly to all n_max + 1 (stated in the output).
Targets (the project's, see docs/performance.md): >= 5x faster, 1e8 tokens in <= 5 minutes, <= 40 bytes/token peak.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    """Reset VmHWM (peak RSS) so that compile-time peaks before the timed call do not count."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


def _child(method: str, path: str, n_max: int, levels: int) -> None:
    from corpus_stats.entropy.curve import entropy_curve
    from corpus_stats.stream import TokenStream

    stream = TokenStream.load(path, mmap=True)
    # compile / load the numba cache outside the timing, for the same (read-only memmap) array type
    warm = TokenStream.from_array(stream.tokens[:1000], vocab_size=stream.vocab_size)
    entropy_curve(warm, 3, upper=False)
    np.asarray(stream.tokens).sum()  # page the memmap in for both methods alike
    before = _status_bytes("VmRSS")
    _reset_peak()
    t0 = time.perf_counter()
    if method == "ours":
        curve = entropy_curve(stream, n_max, upper=False)
        run_levels, result = n_max + 1, curve.plugin[:4].round(4).tolist()
    else:
        tok = np.asarray(stream.tokens).astype(np.uint64)
        h = tok.copy()
        block = []
        run_levels = min(levels, n_max + 1)
        for n in range(1, run_levels + 1):
            if n > 1:
                h = h[:-1] * np.uint64(0x9E3779B97F4A7C15) + tok[n - 1 :]
            _, c = np.unique(h, return_counts=True)
            P = c.sum()
            block.append(float(np.log(P) - (c * np.log(c)).sum() / P))
            del c
        result = np.diff(np.r_[0.0, block]).round(4)[:4].tolist()
    seconds = time.perf_counter() - t0
    peak = _status_bytes("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "levels": run_levels, "peak_bytes": max(peak - before, 0), "H_0..3": result}))


def _make_stream(kind: str, n_tokens: int, path: Path) -> None:
    from corpus_stats import synthetic

    if kind == "zipf":
        corpus = synthetic.iid_zipf(n_tokens, vocab_size=8192, exponent=1.0, n_documents=1000, seed=0)
    elif kind == "copy":
        corpus = synthetic.copy_process(n_tokens, vocab_size=8192, rho=0.5, n_documents=1000, seed=0)
    else:
        raise SystemExit(f"unknown --kind {kind!r}; use zipf or copy")
    corpus.stream.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", type=float, default=[1e7, 1e8])
    ap.add_argument("--n-max", type=int, default=32)
    ap.add_argument("--kind", default="copy", help="zipf (iid Zipf, V=8192) or copy (copy process, V=8192)")
    ap.add_argument(
        "--baseline-levels",
        type=int,
        default=None,
        help="orders the baseline runs (default: all up to 3e7 tokens, else 2)",
    )
    ap.add_argument("--child", nargs=4, metavar=("METHOD", "PATH", "N_MAX", "LEVELS"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.child[0], args.child[1], int(args.child[2]), int(args.child[3]))
        return
    print(
        f"{'tokens':>12} {'method':>9} {'seconds':>9} {'levels':>6} {'s (all n)':>10} "
        f"{'bytes/token':>11}  H_0..3 (plugin)"
    )
    for size in args.sizes:
        n_tokens = int(size)
        with tempfile.TemporaryDirectory(prefix="bench_entropy_") as tmp:
            path = Path(tmp) / "stream"
            _make_stream(args.kind, n_tokens, path)
            levels = args.baseline_levels or (args.n_max + 1 if n_tokens <= 3e7 else 2)
            rows = {}
            for method in ("ours", "baseline"):
                out = subprocess.run(
                    [sys.executable, __file__, "--child", method, str(path), str(args.n_max), str(levels)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                r["all_n_seconds"] = r["seconds"] * (args.n_max + 1) / r["levels"]
                rows[method] = r
                print(
                    f"{n_tokens:>12,} {method:>9} {r['seconds']:>9.1f} {r['levels']:>6} "
                    f"{r['all_n_seconds']:>10.1f} {r['peak_bytes'] / n_tokens:>11.1f}  {r['H_0..3']}",
                    flush=True,
                )
            ratio = rows["baseline"]["all_n_seconds"] / rows["ours"]["all_n_seconds"]
            note = "" if rows["baseline"]["levels"] == args.n_max + 1 else " (baseline extrapolated)"
            print(
                f"{'':>12} speed-up x{ratio:.1f}{note}; ours {rows['ours']['seconds']:.1f} s for "
                f"n <= {args.n_max}, {rows['ours']['peak_bytes'] / n_tokens:.1f} bytes/token peak",
                flush=True,
            )


if __name__ == "__main__":
    main()
