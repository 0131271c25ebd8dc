#!/usr/bin/env bash
# Regenerates docs/figures/ (PNG + SVG) and the sweep CSV behind them, from whichever trained
# traces exist, falling back to synthetic traces. Re-run it once the trained traces land:
#   bash bench/make_figures.sh
# Figures: energy_accuracy (every trace), decisions + layers (the main trace), sweep (the
# examples/sweep_array.yaml grid on the main trace). Intermediate run outputs go to $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."

ARCH=arch_configs/bitfusion_16x16.yaml
FIG=docs/figures
WORK=${WORK:-$(mktemp -d)}
SYNTH=traces/resnet74_synthetic_cp20.jsonl.gz
hwsim() { python -m hwsim "$@"; }
mkdir -p "$FIG" "$WORK"

label_of() {  # a legend label from the trace's file name
  local stem
  stem=$(basename "$1"); stem=${stem%%.*}
  case "$stem" in
    resnet74_full) echo "ResNet74 full precision" ;;
    skipnet74_cp*) echo "SkipNet74 target cp 0.${stem##*_cp}" ;;
    resnet74_cp*) echo "DFS-ResNet74 target cp 0.${stem##*_cp}" ;;
    *synthetic_cp*) echo "synthetic DFS-ResNet74 cp 0.${stem##*_cp}" ;;
    *) echo "$stem" ;;
  esac
}

traces=()
for t in traces/resnet74_cp20.jsonl traces/resnet74_cp40.jsonl.gz traces/resnet74_cp60.jsonl.gz \
         traces/skipnet74_cp20.jsonl.gz traces/resnet74_full.jsonl.gz; do
  [[ -f "$t" ]] && traces+=("$t")
done
if [[ ${#traces[@]} -eq 0 ]]; then
  echo "no trained traces yet: using synthetic ones (accuracy there is not meaningful)"
  [[ -f "$SYNTH" ]] || hwsim synth-trace --depth 74 --inputs 10000 --cp 0.2 --seed 0 --out "$SYNTH"
  for cp in 40 60; do
    hwsim synth-trace --depth 74 --inputs 2000 --cp "0.$cp" --seed 0 \
      --out "$WORK/resnet74_synthetic_cp$cp.jsonl.gz" > /dev/null
  done
  traces=("$SYNTH" "$WORK/resnet74_synthetic_cp40.jsonl.gz" "$WORK/resnet74_synthetic_cp60.jsonl.gz")
fi
main=${traces[0]}
echo "traces: ${traces[*]} (main: $main)"

runs=(); labels=()
for t in "${traces[@]}"; do
  name=$(basename "$t"); name=${name%%.*}
  hwsim run --arch "$ARCH" --trace "$t" --out "$WORK/run_$name" --format json --no-progress > /dev/null
  runs+=("$WORK/run_$name"); labels+=(--label "$(label_of "$t")")
done
main_name=$(basename "$main"); main_name=${main_name%%.*}

hwsim plot energy-accuracy "${runs[@]}" "${labels[@]}" --out "$FIG/energy_accuracy"
hwsim plot decisions "$main" --out "$FIG/decisions"
hwsim plot layers "$WORK/run_$main_name" --title "$(label_of "$main")" --out "$FIG/layers"
hwsim sweep --spec examples/sweep_array.yaml --trace "$main" --out "$FIG/sweep_array.csv" \
  --restart --no-progress
hwsim plot sweep "$FIG/sweep_array.csv" --out "$FIG/sweep"
echo "figures in $FIG (run outputs in $WORK)"
