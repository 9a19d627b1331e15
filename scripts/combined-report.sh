#!/usr/bin/env bash
# Rebuilds results/README.md: the written analysis (results/analysis.md) followed by the merged
# report of every GPU's results, the transformers peers (eager and torch.compile) and the seed's
# published table.
set -euo pipefail
cd "$(dirname "$0")/.."
R=./build/ridgeline
[ -x "$R" ] || make build
runs=()
for d in results/*/; do
  [ -f "$d/results.json" ] && runs+=("$d/results.json")
  [ -f "$d/peer_transformers.json" ] && runs+=("$d/peer_transformers.json")
  [ -f "$d/peer_compile.json" ] && runs+=("$d/peer_compile.json")
done
"$R" report "${runs[@]}" --import-csv tests/data/seed_measurements.csv --out results/combined
{
  cat results/analysis.md
  echo
  echo "---"
  echo
  # The merged report, its images re-pointed at results/combined/.
  sed -e 's#](figure1.png)#](combined/figure1.png)#' -e 's#](roofline.png)#](combined/roofline.png)#' \
      -e 's#^\# ridgeline report#\# The merged report#' results/combined/report.md
} > results/README.md
echo "wrote results/README.md"
