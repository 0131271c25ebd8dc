#!/usr/bin/env bash
# The Fashion-MNIST DFS / SkipNet pipeline on CPU (about 6 CPU-hours), sequential and resumable:
# rerunning after a kill (or in a fresh clone, from the committed last.pt) continues each stage
# bit-exactly, finished stages return at once, and a trace is rewritten only when its header does
# not carry the sha256 of its checkpoint. Launch from the repository root:
#   nohup setsid bash bench/train_fmnist.sh > runs/train_fmnist.log 2>&1 &
# THREADS (default 1; 2 threads on 2 shared cores spin-wait and ran 3x slower) and NICE (default 5) may be set in the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
THREADS="${THREADS:-1}"
NICE="${NICE:-5}"
CFG=dfs_models/configs
RUNS=runs/fmnist

train() {  # train CONFIG [flags...]
  local config="$1"; shift
  echo "== $(date -u +%FT%TZ) train ${config} $*"
  nice -n "${NICE}" python -m dfs_models train --config "${config}" --resume \
    --threads "${THREADS}" "$@"
}

export_trace() {  # export CHECKPOINT OUT: (re)written unless OUT's header names CHECKPOINT's sha256
  if [[ -f "$2" ]] && python - "$1" "$2" <<'PY'
import gzip, json, sys
from dfs_models.checkpoint import sha256_file
from pathlib import Path
opener = gzip.open if sys.argv[2].endswith(".gz") else open
with opener(sys.argv[2], "rt") as handle:
    header = json.loads(handle.readline())
sys.exit(0 if header["model"].get("checkpoint_sha256") == sha256_file(Path(sys.argv[1])) else 1)
PY
  then echo "== $2 is current, kept"; return 0; fi
  echo "== $(date -u +%FT%TZ) export $1 -> $2"
  nice -n "${NICE}" python -m dfs_models export --checkpoint "$1" --split test --out "$2" \
    --threads "${THREADS}" --no-progress || echo "!! export of $1 failed (rerun this script to retry)"
}

joint() {  # joint NAME OPTIONS CP INIT
  train "${CFG}/fmnist_joint.yaml" --name "$1" --options "$2" --target-cp "$3" \
    --run-dir "${RUNS}/$1" --init-from "${RUNS}/$4/model.pt"
}

mkdir -p "${RUNS}" traces
train "${CFG}/fmnist_base.yaml"
train "${CFG}/fmnist_gate_init.yaml" --name dfs_gate_init --options 0,8,16,32 \
  --run-dir "${RUNS}/dfs_gate_init" --init-from "${RUNS}/base/model.pt"
train "${CFG}/fmnist_gate_init.yaml" --name skipnet_gate_init --options 0,32 \
  --run-dir "${RUNS}/skipnet_gate_init" --init-from "${RUNS}/base/model.pt"
# The matched cp 0.20 pair first (the headline), then the rest of the curve, then low cp.
joint dfs_cp20 0,8,16,32 0.20 dfs_gate_init
joint skipnet_cp20 0,32 0.20 skipnet_gate_init
for cp in 40 60; do
  joint "dfs_cp${cp}" 0,8,16,32 "0.${cp}" dfs_gate_init
  joint "skipnet_cp${cp}" 0,32 "0.${cp}" skipnet_gate_init
done
joint dfs_cp05 0,8,16,32 0.05 dfs_gate_init
joint dfs_cp10 0,8,16,32 0.10 dfs_gate_init

export_trace "${RUNS}/base/model.pt" traces/resnet74_full.jsonl.gz
export_trace "${RUNS}/dfs_cp20/model.pt" traces/resnet74_cp20.jsonl
for cp in 05 10 40 60; do
  export_trace "${RUNS}/dfs_cp${cp}/model.pt" "traces/resnet74_cp${cp}.jsonl.gz"
done
for cp in 20 40 60; do
  export_trace "${RUNS}/skipnet_cp${cp}/model.pt" "traces/skipnet74_cp${cp}.jsonl.gz"
done
echo "== $(date -u +%FT%TZ) all done"
