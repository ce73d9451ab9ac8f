#!/bin/bash
# Queues the sharded sweep and, once every shard succeeded, the merge:
#   deploy/slurm/submit.sh [extra sbatch options, e.g. --array=0-3]
# Build strata first (cargo build --release -p strata-lab) on a node that
# sees the same file system.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
array=$(sbatch --parsable "$@" "$here/sweep.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency=afterok:"$array" "$here/merge.sbatch")
echo "sweep array job $array, merge job $merge (runs after every shard succeeded)"
