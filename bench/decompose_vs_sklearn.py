"""strata-decompose side by side with scikit-learn, in one run, on the same data.

    pip install scikit-learn pandas
    python3 bench/decompose_vs_sklearn.py [--repeats 7] [--rounds 1] [--rows 1000000]

For each case it runs the Rust benchmark (cargo run -p strata-decompose
--example decompose_bench, the dev profile that `cargo xtask sweep` uses; --release for
the release profile) in its own process, then times scikit-learn on the same
matrix, and prints medians and the ratio sklearn / strata (above 1: strata is
faster). FastICA runs against both of scikit-learn's whitening solvers
(`whiten_solver="svd"`, its default, and `"eigh"`), with the iterations of
the last repeat on both sides.
Both sides run untimed warm-up runs for 0.3 s (one at least) before timing.
With --rounds R, the repeats are split into R alternating rounds of strata then
scikit-learn, and each side's time is the median of its round medians, so that
a slow spell of the machine weighs on both sides alike.
Peak memory is the strata process's peak resident set, in copies of the input.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.decomposition import PCA, FastICA
from sklearn.random_projection import GaussianRandomProjection, SparseRandomProjection

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
from common import spotify  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def synthetic(n, d=50):
    """Same formula as crates/strata-decompose/examples/decompose_bench.rs."""
    j = np.arange(d, dtype=np.uint64)[None, :]
    mix = np.cos(np.outer(np.arange(d), np.arange(d)) * 0.1) + 2.0 * np.eye(d)
    out = np.empty((n, d))
    for start in range(0, n, 100_000):
        i = np.arange(start, min(n, start + 100_000), dtype=np.uint64)[:, None]
        h = (i * np.uint64(2654435761) + j * np.uint64(40503)) % np.uint64(2**32)
        out[start:start + len(i)] = (h / 2.0**32 - 0.5) @ mix
    return out


def sklearn_case(algo, big, x, r, variant=None):
    """Runs one case; returns scikit-learn's iteration count where there is one."""
    if algo == "pca":
        PCA(n_components=10 if big else 12).fit_transform(x)
    elif algo == "ica":
        m = FastICA(n_components=10 if big else 8, whiten="unit-variance", random_state=r, max_iter=200,
                    whiten_solver=variant or "svd")
        m.fit(x)
        m.transform(x)
        return m.n_iter_
    elif algo == "gaussian_rp":
        GaussianRandomProjection(n_components=20 if big else 8, random_state=r).fit_transform(x)
    elif algo == "sparse_rp":
        SparseRandomProjection(n_components=20 if big else 8, random_state=r, dense_output=True).fit_transform(x)


def warm_up(f, seconds=0.3):
    """Untimed runs for at least `seconds` (one at least), as the Rust bench does."""
    begin, r = time.perf_counter(), 0
    while r == 0 or time.perf_counter() - begin < seconds:
        f(r)
        r += 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--only", default=None, help="spotify or synthetic")
    ap.add_argument("--release", action="store_true", help="the release profile instead of dev")
    args = ap.parse_args()
    profile = ["--release"] if args.release else []
    subprocess.run(["cargo", "build", *profile, "-q", "-p", "strata-decompose", "--example", "decompose_bench"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release" if args.release else "debug", "examples", "decompose_bench")
    rows = []
    data = {}
    for dataset in ["spotify", "synthetic"]:
        if args.only and args.only != dataset:
            continue
        big = dataset == "synthetic"
        reps = max(1, args.repeats // 2) if big else args.repeats
        x = synthetic(args.rows) if big else spotify()[0]
        for algo, variant in [("pca", None), ("ica", "svd"), ("ica", "eigh"), ("gaussian_rp", None), ("sparse_rp", None)]:
            case = f"{dataset}/{algo}"
            rounds = max(1, min(args.rounds, reps))
            per_round = max(1, reps // rounds)
            ours_t, theirs_t, peak, iters = [], [], 0.0, ["-", "-"]
            for _ in range(rounds):
                out = subprocess.run([exe, "--case", case, "--repeats", str(per_round), "--rows", str(args.rows)],
                                     capture_output=True, text=True, check=True)
                ours = json.loads(out.stdout.strip().splitlines()[-1])
                ours_t.append(ours["median_s"])
                iters[0] = str(ours.get("n_iter", "-"))
                peak = max(peak, ours["peak_rss_mb"] / ours["input_mb"])
                warm_up(lambda r: sklearn_case(algo, big, x, r, variant))
                times = []
                for r in range(per_round):
                    t = time.perf_counter()
                    it = sklearn_case(algo, big, x, r, variant)
                    times.append(time.perf_counter() - t)
                    iters[1] = "-" if it is None else str(it)
                theirs_t.append(statistics.median(times))
            a, b = statistics.median(ours_t), statistics.median(theirs_t)
            label = f"{case} ({variant})" if variant else case
            rows.append((label, a, iters[0], b, iters[1], b / a, peak))
            print(f"{label:<24} strata {a * 1e3:.3f} ms [{iters[0]}]   scikit-learn {b * 1e3:.3f} ms [{iters[1]}]   x{b / a:.1f}", flush=True)
        data[dataset] = x.shape
    print()
    print("| case (scikit-learn variant) | strata median (ms) | strata iterations | scikit-learn median (ms) | scikit-learn iterations | speed-up | strata peak RSS / input |")
    print("|---|---:|---|---:|---|---:|---:|")
    for case, a, ia, b, ib, ratio, mem in rows:
        print(f"| {case} | {a * 1e3:.3f} | {ia} | {b * 1e3:.3f} | {ib} | {ratio:.1f}x | {mem:.2f} |")
    print(f"\nshapes: {data}; repeats: {args.repeats} (synthetic: {max(1, args.repeats // 2)}) in {args.rounds} round(s); medians")


if __name__ == "__main__":
    main()
