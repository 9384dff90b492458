"""Calibration against exact ground truth on a small grid (the full table: benchmarks/bench_calibration.py)."""

import importlib.util
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
            assert abs(r["gamma"] - r["gamma_exact"]) <= 4 * r["gamma_se"], r
        if r["kind"] == "iid_zipf":  # flat H_n: gamma must be refused, never a number
            assert "gamma" not in r and r["refused"]
