"""The whole clustering study side by side: scikit-learn against `strata run`,
in one run, on the matrices strata prepares (tools/fixtures/common.py).

    pip install scikit-learn pandas
    python3 bench/sweep_vs_sklearn.py [--repeats 3] [--skip-sklearn]

The work, per dataset (the marketing customers and the Spotify tracks):
representations none, PCA keeping 90 % of the variance, FastICA and a
Gaussian random projection at PCA's dimension; k-means (n_init = 10) and
full-covariance Gaussian mixtures (n_init = 1, k-means start) for
k = 2..10; the exact silhouette of every labeling in its representation and,
for the reduced ones, in the prepared features as well (strata stores both).
No stability, no classification. strata runs the manifests in
bench/manifests/ with the binary `cargo xtask sweep` uses (the dev profile,
in which strata's crates are optimized), into a scratch folder with --force:
median of --repeats runs; scikit-learn runs once. Iteration counts are not
compared here (bench/cluster_vs_sklearn.py does per call); note that
strata's k-means stops when the labels stop changing, as scikit-learn does,
and both mixtures use tol 1e-3 and at most 100 iterations.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA, FastICA
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.random_projection import GaussianRandomProjection

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
from common import marketing, spotify  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def sklearn_study(x, seed=42):
    """Returns seconds per stage: representations, k-means, mixtures, silhouettes."""
    t = {"representations": 0.0, "kmeans": 0.0, "mixtures": 0.0, "silhouettes": 0.0}
    s = time.perf_counter()
    pca = PCA(n_components=0.9, svd_solver="full").fit_transform(x)
    d = pca.shape[1]
    reps = {
        "none": x,
        "pca": pca,
        "ica": FastICA(n_components=d, whiten="unit-variance", max_iter=200, tol=1e-4,
                       random_state=seed).fit_transform(x),
        "random_projection": GaussianRandomProjection(n_components=d, random_state=seed).fit_transform(x),
    }
    t["representations"] += time.perf_counter() - s
    for name, z in reps.items():
        for k in range(2, 11):
            s = time.perf_counter()
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(z).labels_
            t["kmeans"] += time.perf_counter() - s
            s = time.perf_counter()
            gm = GaussianMixture(n_components=k, covariance_type="full", n_init=1, max_iter=100, tol=1e-3,
                                 reg_covar=1e-6, random_state=seed).fit(z).predict(z)
            t["mixtures"] += time.perf_counter() - s
            s = time.perf_counter()
            for labels in (km, gm):
                if len(set(labels)) < 2:
                    continue
                silhouette_score(z, labels)
                if name != "none":
                    silhouette_score(x, labels)
            t["silhouettes"] += time.perf_counter() - s
    return t, d


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--skip-sklearn", action="store_true", help="time strata only")
    a = ap.parse_args()
    subprocess.run(["cargo", "build", "-q", "-p", "strata-lab", "--bin", "strata"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "debug", "strata")
    manifests = [os.path.join(ROOT, "bench", "manifests", f"seed_{n}.toml")
                 for n in ("marketing_campaign", "spotify_songs")]
    ours = []
    for _ in range(a.repeats):
        out = tempfile.mkdtemp(prefix="strata-seed-")
        s = time.perf_counter()
        subprocess.run([exe, "run", *manifests, "--out", out, "--force", "--quiet"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
        ours.append(time.perf_counter() - s)
        shutil.rmtree(out, ignore_errors=True)
    strata_s = statistics.median(ours)
    print(f"strata run (dev profile), both datasets: median {strata_s:.1f} s of {a.repeats} "
          f"({', '.join(f'{v:.1f}' for v in ours)})", flush=True)
    if a.skip_sklearn:
        return
    total = {}
    for name, data in (("marketing_campaign", marketing()[0]), ("spotify_songs", spotify()[0])):
        s = time.perf_counter()
        stages, d = sklearn_study(np.ascontiguousarray(data))
        wall = time.perf_counter() - s
        print(f"scikit-learn {name} (PCA dimension {d}): {wall:.1f} s; "
              + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items()), flush=True)
        for k, v in stages.items():
            total[k] = total.get(k, 0.0) + v
        total["wall"] = total.get("wall", 0.0) + wall
    print()
    print("| | wall time | ratio |")
    print("|---|---:|---:|")
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in total.items() if k != "wall")
    print(f"| scikit-learn, one run ({stages}) | {total['wall']:.0f} s | 1x |")
    print(f"| `strata run`, dev profile, median of {a.repeats} | {strata_s:.1f} s | {total['wall'] / strata_s:.0f}x |")


if __name__ == "__main__":
    main()
