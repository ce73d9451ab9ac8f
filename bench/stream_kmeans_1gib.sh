#!/bin/bash
# strata stream-kmeans on a 20,000,000 x 20 Parquet table (3.2 GB as f64)
# inside a memory cgroup limited to 1 GiB, for crates/strata-cluster/README.md.
# Needs root (cgroup v1 memory controller at /sys/fs/cgroup/memory) and about
# 3 GB of free disk in $DIR. Prints one JSON line per run and the cgroup's
# peak usage; the page cache is dropped before each run.
#
#     sudo bash bench/stream_kmeans_1gib.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-/tmp}
CG=/sys/fs/cgroup/memory/strata_stream
cargo build -q -p strata-lab --bin strata --example stream_kmeans
[ -f "$DIR/big.parquet" ] || ./target/debug/examples/stream_kmeans generate "$DIR/big.parquet" 20000000 20
run() {
  sync; echo 3 > /proc/sys/vm/drop_caches || true
  rmdir "$CG" 2>/dev/null || true
  mkdir -p "$CG"
  echo $((1024 * 1024 * 1024)) > "$CG/memory.limit_in_bytes"
  ( echo $BASHPID > "$CG/cgroup.procs"
    exec ./target/debug/strata stream-kmeans "$DIR/big.toml" --k 10 --batch-rows 500000 "$@" ) |
    python3 -c 'import json,sys; d=json.load(sys.stdin); d.pop("centres"); d.pop("features"); print(json.dumps(d))'
  echo "cgroup peak usage: $(cat "$CG/memory.max_usage_in_bytes") bytes"
}
run --labels "$DIR/big_labels.parquet"
run --sample-start 100000
run --sample-start 100000 --mini-batch 100000
rmdir "$CG"
