"""The downstream classifier side by side with scikit-learn, in one run, on the
marketing features (2,240 customers x 34 features, as strata prepares them).

    pip install scikit-learn pandas
    python3 bench/neural_vs_sklearn.py [--repeats 3] [--profile dev]

Case `fit`: one MLP of hidden layers 32-16 (ReLU), Adam with learning rate
1e-3, 200 epochs of batch 64 on all rows, no early stopping - strata's burn MLP
(`cargo run --release -p strata-lab --example neural_bench`) against
scikit-learn's MLPClassifier(hidden_layer_sizes=(32, 16), solver="adam",
batch_size=64, max_iter=200, n_iter_no_change=200, tol=0, alpha=0). Medians of
the repeats; ratio = scikit-learn / strata. `--profile dev` times the build
that `cargo xtask sweep` uses (dependencies and strata's crates optimised,
strata's with overflow checks) instead of the release build.

Case `cv`: strata's whole classification stage of
experiments/marketing_campaign.toml (7 feature sets x 3 models x 5 folds x 3
repeats); scikit-learn has no equivalent in one call, so only strata's time is
shown, against the 60 s target.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import warnings

import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools", "fixtures"))
from common import data_file, marketing  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", choices=["release", "dev"], default="release")
    args = ap.parse_args()
    release = args.profile == "release"
    subprocess.run(["cargo", "build", *(["--release"] if release else []), "-q", "-p", "strata-lab", "--example",
                    "neural_bench"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, os.environ.get("CARGO_TARGET_DIR", "target"), "release" if release else "debug",
                       "examples", "neural_bench")

    def rust(case, repeats):
        out = subprocess.run([exe, "--case", case, "--repeats", str(repeats)], capture_output=True, text=True,
                             check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    x, _ = marketing()
    y = pd.read_csv(data_file("marketing_campaign.csv"), sep="\t")["Response"].to_numpy()
    ours = rust("fit", args.repeats)
    ts, accs = [], []
    for r in range(args.repeats):
        clf = MLPClassifier(hidden_layer_sizes=(32, 16), solver="adam", learning_rate_init=1e-3, batch_size=64,
                            max_iter=200, n_iter_no_change=200, tol=0.0, alpha=0.0, random_state=r)
        t = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(x, y)
        ts.append(time.perf_counter() - t)
        accs.append(clf.score(x, y))
    theirs = statistics.median(ts)
    cv = rust("cv", 1)
    print("| case | strata median (s) | scikit-learn median (s) | speed-up | note |")
    print("|---|---:|---:|---:|---|")
    print(f"| one MLP fit, 32-16, 200 epochs, batch 64 | {ours['median_s']:.3f} | {theirs:.3f} | "
          f"{theirs / ours['median_s']:.1f}x | training accuracy strata {ours['train_accuracy']:.3f}, "
          f"scikit-learn {statistics.median(accs):.3f} |")
    print(f"| classification stage, {cv['fits']} fits (5x3 CV, 7 feature sets, 3 models) | {cv['median_s']:.1f} | "
          f"- | - | target: under 60 s |")


if __name__ == "__main__":
    main()
