#!/usr/bin/env bash
# The reduced Fashion-MNIST DFS / SkipNet pipeline on CPU, run sequentially and resumable:
# rerunning after a kill continues each stage from its last.pt, finished stages return at once,
# existing traces are kept. Launch from the repository root:
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

export_trace() {  # export CHECKPOINT OUT
  if [[ -f "$2" ]]; then echo "== $2 exists, kept"; return 0; fi
  echo "== $(date -u +%FT%TZ) export $1 -> $2"
  nice -n "${NICE}" python -m dfs_models export --checkpoint "$1" --split test --out "$2" \
    --threads "${THREADS}" || echo "!! export of $1 failed (rerun this script to retry)"
}

mkdir -p "${RUNS}" traces
train "${CFG}/fmnist_base.yaml"
train "${CFG}/fmnist_gate_init.yaml" --name dfs_gate_init --options 0,8,16,32 \
  --run-dir "${RUNS}/dfs_gate_init" --init-from "${RUNS}/base/model.pt"
for cp in 20 40 60; do
  train "${CFG}/fmnist_joint.yaml" --name "dfs_cp${cp}" --options 0,8,16,32 \
    --target-cp "0.${cp}" --run-dir "${RUNS}/dfs_cp${cp}" \
    --init-from "${RUNS}/dfs_gate_init/model.pt"
done
train "${CFG}/fmnist_gate_init.yaml" --name skipnet_gate_init --options 0,32 \
  --run-dir "${RUNS}/skipnet_gate_init" --init-from "${RUNS}/base/model.pt"
train "${CFG}/fmnist_joint.yaml" --name skipnet_cp20 --options 0,32 --target-cp 0.20 \
  --run-dir "${RUNS}/skipnet_cp20" --init-from "${RUNS}/skipnet_gate_init/model.pt"

export_trace "${RUNS}/dfs_cp20/model.pt" traces/resnet74_cp20.jsonl
export_trace "${RUNS}/dfs_cp40/model.pt" traces/resnet74_cp40.jsonl.gz
export_trace "${RUNS}/dfs_cp60/model.pt" traces/resnet74_cp60.jsonl.gz
export_trace "${RUNS}/skipnet_cp20/model.pt" traces/skipnet74_cp20.jsonl.gz
export_trace "${RUNS}/base/model.pt" traces/resnet74_full.jsonl.gz
echo "== $(date -u +%FT%TZ) all done"
