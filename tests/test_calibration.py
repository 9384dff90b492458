"""Calibration against exact ground truth on a small grid (the full table: benchmarks/bench_calibration.py)."""

import importlib.util
import math
from pathlib import Path

import pytest


def _bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_calibration.py"
    spec = importlib.util.spec_from_file_location("bench_calibration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_valid_points_and_intervals_cover_exact_values():
    bench = _bench()
    records = bench.run((3e5,), (1, 2), (0.3, 0.6), markov_orders=(1, 2), iid=True, log=lambda s: None)
    ent = records["entropy"]
    covered, points = sum(r["covered"] for r in ent), sum(r["n_valid"] for r in ent)
    assert points >= 10 and covered / points >= 0.9, bench.tables(records)
    assert max(r["max_z"] for r in ent if r["n_valid"]) <= 4, bench.tables(records)
    for r in ent:
        if "gamma" in r:  # an interval may miss, but never by more than 4 total errors
            assert math.isfinite(r["gamma_se"]) and abs(r["gamma"] - r["gamma_exact"]) <= 4 * r["gamma_se"], r
            p = r["gamma_parts"]
            estimation = p["scale"] * math.hypot(p["statistical"], p["curve_systematic"])
            assert r["gamma_se"] == pytest.approx(math.hypot(estimation, p["window"]))
        if r["kind"] != "santa_fe":  # flat H_n (iid; Markov beyond its order): gamma refused, never a number
            assert "gamma" not in r and r["refused"], r
    assert "median |z|" in bench.tables(records)
