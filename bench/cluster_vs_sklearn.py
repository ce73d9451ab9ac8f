"""strata-cluster side by side with scikit-learn, in one run, on the same data.

    pip install scikit-learn pandas
    python3 bench/cluster_vs_sklearn.py [--repeats 3] [--synthetic | --only-synthetic]

Cases: k-means (k = 10, n_init = 10; scikit-learn's `lloyd` and `elkan`
both) and a full-covariance Gaussian mixture (k = 10) on the Spotify
features, each with the iterations of every repeat on both sides (the kept
restart's, as both report); the exact silhouette of one labeling (one call
against one `silhouette_score`) and of 18 labelings (k = 2..10, k-means and
mixture) of the same data. With --synthetic, k-means and the mixture also run
on a 1,000,000 x 20 matrix (--only-synthetic: those alone). The Rust side
runs `cargo run -p strata-cluster --example cluster_bench` (the dev profile that
`cargo xtask sweep` uses; --release for the release profile) in its own
process per case; medians of the repeats, ratio = scikit-learn / strata.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
from common import spotify  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def synthetic(n, d=20):
    """Same formula as crates/strata-cluster/examples/cluster_bench.rs."""
    i = np.arange(n, dtype=np.uint64)[:, None]
    j = np.arange(d, dtype=np.uint64)[None, :]
    h = (i * np.uint64(2654435761) + j * np.uint64(40503)) % np.uint64(2**32)
    u = h / 2.0**32 - 0.5
    blob = (np.arange(n) % 10)[:, None] * np.sin((np.arange(d) + 1) * 0.7)[None, :] * 3.0
    return blob + u


def run_rust(exe, case, repeats, rows):
    out = subprocess.run([exe, "--case", case, "--repeats", str(repeats), "--rows", str(rows)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def timed(f, repeats):
    ts = []
    for r in range(repeats):
        t = time.perf_counter()
        f(r)
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--synthetic", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--only-synthetic", action="store_true", help="skip the Spotify cases (implies --synthetic)")
    ap.add_argument("--release", action="store_true", help="the release profile instead of dev")
    args = ap.parse_args()
    profile = ["--release"] if args.release else []
    subprocess.run(["cargo", "build", *profile, "-q", "-p", "strata-cluster", "--example", "cluster_bench"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release" if args.release else "debug", "examples", "cluster_bench")
    rows = []
    cache = {}

    def case(name, data, f, reps, variant="", iters=None):
        """`f(data, r)` fits repeat r and returns its iteration count (or None)."""
        if name not in cache:
            cache[name] = run_rust(exe, name, reps, args.rows)
        ours = cache[name]
        theirs_iters = []
        theirs = timed(lambda r: theirs_iters.append(f(data, r)), reps)
        it_ours = ",".join(map(str, ours.get("n_iter", []))) or "-"
        it_theirs = ",".join(str(i) for i in theirs_iters if i is not None) or "-"
        label = f"{name} ({variant})" if variant else name
        rows.append((label, ours["median_s"], it_ours, theirs, it_theirs, theirs / ours["median_s"], ours["peak_rss_mb"]))
        print(f"{label:<34} strata {ours['median_s']:.3f} s [{it_ours}]   scikit-learn {theirs:.3f} s [{it_theirs}]   x{theirs / ours['median_s']:.1f}", flush=True)

    def km(algorithm):
        return lambda d, r: KMeans(n_clusters=10, n_init=10, random_state=r, algorithm=algorithm).fit(d).n_iter_

    def gm(d, r):
        return GaussianMixture(n_components=10, covariance_type="full", random_state=r).fit(d).n_iter_

    if not args.only_synthetic:
        x = spotify()[0]
        case("spotify/kmeans", x, km("lloyd"), args.repeats, "lloyd")
        case("spotify/kmeans", x, km("elkan"), args.repeats, "elkan")
        case("spotify/gmm_full", x, gm, args.repeats)
        one = KMeans(n_clusters=10, n_init=1, random_state=0).fit(x).labels_
        case("spotify/silhouette1", x, lambda d, r: silhouette_score(d, one) and None, 1)
        labelings = []
        for k in range(2, 11):
            labelings.append(KMeans(n_clusters=k, n_init=1, random_state=0).fit(x).labels_)
            labelings.append(GaussianMixture(n_components=k, covariance_type="full", random_state=0).fit(x).predict(x))
        case("spotify/silhouette18", x, lambda d, r: [silhouette_score(d, l) for l in labelings] and None, 1)
    if args.synthetic or args.only_synthetic:
        xs = synthetic(args.rows)
        case("synthetic/kmeans", xs, km("lloyd"), args.repeats, "lloyd")
        case("synthetic/kmeans", xs, km("elkan"), args.repeats, "elkan")
        case("synthetic/gmm_full", xs, gm, args.repeats)
    print()
    print("| case (scikit-learn variant) | strata median (s) | strata iterations | scikit-learn median (s) | scikit-learn iterations | speed-up | strata peak RSS (MB) |")
    print("|---|---:|---|---:|---|---:|---:|")
    for name, a, ia, b, ib, ratio, mem in rows:
        print(f"| {name} | {a:.3f} | {ia} | {b:.3f} | {ib} | {ratio:.1f}x | {mem:.0f} |")


if __name__ == "__main__":
    main()
