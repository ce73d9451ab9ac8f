"""strata-cluster-mixed side by side with the Python `kmodes` package, in one
run, on the marketing data (23 numeric columns, education and marital status
as two categorical variables).

    pip install kmodes pandas
    python3 bench/kprototypes_vs_kmodes.py [--repeats 5]

Case "same start": both sides run k-prototypes from the same initial
prototypes (given rows), n_init = 1: the same work, epochs printed on both
sides (they must agree). Case "n_init = 10": each side's own seeding (kmodes
'Cao', strata k-means++-style) and 10 restarts; not the same starts, so the
costs differ a little. strata runs `cargo run -p strata-cluster-mixed
--example kprototypes_bench` (the dev profile, in which strata's crates are optimized) in
its own process; kmodes runs with n_jobs=1, strata on every core. Medians of
the repeats; ratio = kmodes / strata.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from kmodes.kprototypes import KPrototypes

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
from common import marketing_mixed  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "-p", "strata-cluster-mixed", "--example", "kprototypes_bench"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "examples", "kprototypes_bench")
    xnum, xcat, numeric, _ = marketing_mixed()
    X = np.column_stack([xnum, xcat]).astype(object)
    cat = list(range(xnum.shape[1], X.shape[1]))
    print(f"marketing: {X.shape[0]} rows, {len(numeric)} numeric columns, {len(cat)} categorical variables; "
          f"repeats {a.repeats}")
    print(f"{'case':<26} {'kmodes s':>9} {'strata s':>9} {'ratio':>6}  epochs kmodes / strata")
    for k, rows in [(2, [3, 1200]), (4, [0, 500, 1000, 1500]), (8, [0, 250, 500, 750, 1000, 1250, 1500, 1750])]:
        ts, epochs = [], None
        for _ in range(a.repeats):
            model = KPrototypes(n_clusters=k, init=[xnum[rows].copy(), xcat[rows].copy()], n_init=1, max_iter=100)
            t = time.perf_counter()
            model.fit(X, categorical=cat)
            ts.append(time.perf_counter() - t)
            epochs = model.n_iter_
        r = json.loads(subprocess.run([exe, "--k", str(k), "--rows", ",".join(map(str, rows)), "--repeats",
                                       str(a.repeats)], capture_output=True, text=True, check=True).stdout)
        py = statistics.median(ts)
        print(f"{'same start, k=' + str(k):<26} {py:>9.3f} {r['median_s']:>9.4f} {py / r['median_s']:>6.0f}  "
              f"{epochs} / {r['epochs']}")
    k = 4
    ts = []
    for rep in range(a.repeats):
        model = KPrototypes(n_clusters=k, n_init=10, max_iter=100, random_state=rep, n_jobs=1)
        t = time.perf_counter()
        model.fit(X, categorical=cat)
        ts.append(time.perf_counter() - t)
    r = json.loads(subprocess.run([exe, "--k", str(k), "--n-init", "10", "--repeats", str(a.repeats)],
                                  capture_output=True, text=True, check=True).stdout)
    py = statistics.median(ts)
    print(f"{'n_init = 10, k=4':<26} {py:>9.3f} {r['median_s']:>9.4f} {py / r['median_s']:>6.0f}  "
          f"(own seeding each side; cost kmodes {model.cost_:.1f}, strata {r['cost']:.1f})")


if __name__ == "__main__":
    main()
