#!/usr/bin/env bash
# The Slurm templates in deploy/slurm/ on a real one-node Slurm cluster:
#
#   .ci/slurm.sh UNSHARDED_RESULTS [STRATA_BIN]
#
# Installs slurm-wlm and munge when missing (Debian packages), starts munged,
# slurmctld and slurmd for a one-node cluster on this machine, submits
# deploy/slurm/submit.sh as a 4-task array over the marketing experiment plus
# the dependent merge, waits (bounded), and checks that the merged results
# equal UNSHARDED_RESULTS/marketing_campaign (an unsharded sweep) apart from
# timings. Every daemon it started is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
reference="$(cd "$1" && pwd)/marketing_campaign"
strata="${2:-$root/target/debug/strata}"
test -d "$reference" || { echo "slurm: no unsharded results in $reference" >&2; exit 1; }
test -x "$strata" || { echo "slurm: no strata binary at $strata" >&2; exit 1; }

if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm: installing slurm-wlm and munge"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
fi

work="$(mktemp -d)"
started_munge=""
export SLURM_CONF="$work/slurm.conf"
stop() {
    scontrol shutdown >/dev/null 2>&1 || true
    for p in "$work/slurmctld.pid" "$work/slurmd.pid"; do
        [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
    done
    sleep 1
    pkill -f "slurmd -f $work/slurm.conf" 2>/dev/null || true
    pkill -f "slurmctld -f $work/slurm.conf" 2>/dev/null || true
    if [ -n "$started_munge" ] && [ -f /run/munge/munged.pid ]; then
        kill "$(cat /run/munge/munged.pid)" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap stop EXIT

# munge: one key for this machine, the daemon as the munge user.
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    mkdir -p /etc/munge /run/munge /var/log/munge /var/lib/munge
    [ -s /etc/munge/munge.key ] || dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    chown -R munge:munge /etc/munge /run/munge /var/log/munge /var/lib/munge
    chmod 400 /etc/munge/munge.key
    runuser -u munge -- /usr/sbin/munged
    started_munge=1
    munge -n | unmunge >/dev/null || { echo "slurm: munged does not answer" >&2; exit 1; }
fi

host="$(hostname -s)"
cpus="$(nproc)"
mkdir -p "$work/state" "$work/spool" "$work/jobs"
cat > "$SLURM_CONF" <<EOF
ClusterName=strataci
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
MinJobAge=3600
NodeName=$host CPUs=$cpus RealMemory=4000 State=UNKNOWN
PartitionName=ci Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 30); do
    sinfo -h -o %T 2>/dev/null | grep -q idle && break
    sleep 1
done
sinfo -h -o %T | grep -q idle || { echo "slurm: the node never became idle" >&2; tail -20 "$work/slurmd.log" >&2; exit 1; }
echo "slurm: one-node cluster up ($host, $cpus CPUs)"

# The shipped template, as a user submits it: 4 shards, then the merge.
cd "$work/jobs"
out="$work/results"
export STRATA_DIR="$root" STRATA_BIN="$strata" STRATA_OUT="$out" STRATA_MANIFESTS="experiments/marketing_campaign.toml"
line="$("$root/deploy/slurm/submit.sh" --array=0-3 --cpus-per-task=1)"
echo "slurm: $line"
array="$(echo "$line" | sed -n 's/^sweep array job \([0-9]*\),.*/\1/p')"
merge="$(echo "$line" | sed -n 's/.*merge job \([0-9]*\) .*/\1/p')"
start=$SECONDS
while squeue -h -j "$array,$merge" 2>/dev/null | grep -q .; do
    if (( SECONDS - start > 1500 )); then
        echo "slurm: jobs still queued or running after 1500 s" >&2
        squeue >&2; exit 1
    fi
    sleep 5
done
state="$(scontrol show job "$merge" | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p')"
echo "slurm: array and merge done in $((SECONDS - start)) s; merge job $state"
for f in strata-sweep-*.out strata-merge-*.out; do
    echo "--- $f"; cat "$f"
done
[ "$state" = COMPLETED ] || { echo "slurm: the merge job ended $state" >&2; exit 1; }

# The merged results against the unsharded sweep, apart from timings, to the
# bit: a run's numbers do not depend on which runs were pending with it (the
# silhouette sums distances in fixed point, so the make-up of its distance
# pass cannot move its last bits). The largest deviation is printed.
python3 - "$out/marketing_campaign" "$reference" <<'EOF'
import json, os, sys
got, want = sys.argv[1], sys.argv[2]
worst = [0.0, ""]
def same(a, b, where):
    if isinstance(a, float) and isinstance(b, float):
        d = abs(a - b) / max(abs(a), abs(b), 1e-300)
        if d > worst[0]:
            worst[:] = [d, where]
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        # Timings (a fold's or a stage's seconds) are the only fields allowed to differ.
        return a.keys() == b.keys() and all(same(a[k], b[k], where + "." + k) for k in a
                                            if k not in ("seconds", "timings_s"))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y, where) for x, y in zip(a, b))
    return a == b
def load(path, drop):
    with open(path) as f:
        v = json.load(f)
    for k in drop:
        v.pop(k, None)
    return v
with open(os.path.join(want, "plan.json")) as f:
    runs = [r["hash"] + ".json" for r in json.load(f)["runs"]]
bad = []
for r in runs:
    p = os.path.join("runs", r)
    if not os.path.exists(os.path.join(got, p)):
        bad.append(p + " missing")
    elif not same(load(os.path.join(got, p), ["timings_s"]), load(os.path.join(want, p), ["timings_s"]), r):
        bad.append(p)
for name, drop in [("classification.json", ["seconds"]), ("segments.json", []), ("targeting.json", []),
                   ("cohorts.json", [])]:
    if not same(load(os.path.join(got, name), drop), load(os.path.join(want, name), drop), name):
        bad.append(name)
# Present only where the sweep measured some run's stability again; then in both.
name = "stability_refined.json"
if os.path.exists(os.path.join(got, name)) != os.path.exists(os.path.join(want, name)):
    bad.append(name + " in one folder only")
elif os.path.exists(os.path.join(want, name)) and not same(load(os.path.join(got, name), []), load(os.path.join(want, name), []), name):
    bad.append(name)
if open(os.path.join(got, "RESULTS.md")).read() != open(os.path.join(want, "RESULTS.md")).read():
    bad.append("RESULTS.md")
if bad:
    sys.exit("slurm: merged results differ from the unsharded sweep: " + ", ".join(bad[:10]))
print(f"slurm: merged results equal the unsharded sweep ({len(runs)} runs, classification, decisions, RESULTS.md;"
      f" timings aside; largest relative deviation {worst[0]:.1e} at {worst[1] or '-'})")
EOF
