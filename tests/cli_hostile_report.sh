#!/usr/bin/env bash
# cli_hostile_report.sh (issue 14): `report` against inputs written to break it.
#  - the GPU name payload of the issue (newlines, EOD, system(...)) in --gpu-file matched by a
#    results.json, in device.name and in engine, and a backquoted CSV gpu name: gnuplot runs, the
#    marker file it would create is never created;
#  - --out - and --out -x: charts rendered there (gnuplot is run by fork/exec, no shell line);
#  - absurd numbers: ms 1e308 refused; predicted_ms 1e308 never reaches a script as inf/nan;
#  - CSV: a UTF-8 BOM, quoted fields ("H100" is H100), 200k rows read in linear time;
#  - gpus --csv/--md escape ',', '"' and '|' in names;
#  - one writer per output directory: a held DIR/.ridgeline.lock is refused, two reports at
#    once leave one consistent report, and a stale X.tmp never gets in the way.
# usage: cli_hostile_report.sh RIDGELINE DATA_DIR
set -u
R=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
D=$(cd "$2" && pwd)
FX=$D/fixtures
. "$(dirname "$0")/lib.sh"
T=$(mktemp -d)
# The marker the payload would create: short (GPU names hold under 48 characters), unique, ours.
M=$(mktemp -u /tmp/rlP.XXXXXX)
trap 'rm -rf "$T" "$M"' EXIT
have_gnuplot=0
command -v gnuplot >/dev/null && have_gnuplot=1

# --- command execution through gnuplot: the payload of the issue, with a marker of our own
payload="Z\\nEOD\\nsystem(\\\"touch $M\\\")\\n\$q << EOD"
printf '[{"name":"%s","bandwidth_gbps":0.001,"peak_tflops":{"bf16":0.001}}]\n' "$payload" >"$T/gpus.json"
# A results.json whose device names that GPU (table_name), so its rows and violations carry the name.
results_for() { # DEVICE_NAME TABLE_NAME ENGINE -> a minimal results.json on stdout
  printf '{"schema": "ridgeline-results/1", "engine": "%s", "device": {"name": "%s", "backend": "cuda", "table_name": "%s"},
  "model": {"name": "llama-3.1-8b", "dtype": "bf16"},
  "points": [{"sweep": "decode", "x": 1, "ms": 5.0}, {"sweep": "prefill", "x": 128, "ms": 5.0}]}\n' "$3" "$1" "$2"
}
results_for "NVIDIA Z" "$payload" "ridgeline" >"$T/via_table.json"
results_for "$payload" "" "ridgeline" >"$T/via_device.json"
results_for "NVIDIA H100 80GB HBM3" "" "$payload" >"$T/via_engine.json"
printf 'sweep,gpu,x,ms\ndecode,`touch %s`,1,5\ndecode,"a""b`touch %s`",4,6\n' "$M" "$M" >"$T/backquote.csv"
expect_ok "report with the hostile --gpu-file name" "$R" report "$T/via_table.json" --gpu-file "$T/gpus.json" --out "$T/h1" --quiet
expect_ok "report with a hostile device.name" "$R" report "$T/via_device.json" --out "$T/h2" --quiet
expect_ok "report with a hostile engine" "$R" report "$T/via_engine.json" "$FX/h100_results.json" --out "$T/h3" --quiet
expect_ok "report with backquotes in a CSV gpu" "$R" report --import-csv "$T/backquote.csv" --out "$T/h4" --quiet
if [ $have_gnuplot = 1 ]; then
  [ ! -e "$M" ] && ok || bad "a GPU name ran a command through gnuplot ($M was created)"
  for h in h1 h2 h3 h4; do
    [ -s "$T/$h/figure1.svg" ] && [ -s "$T/$h/roofline.svg" ] && ok || bad "$h: charts not rendered"
    grep -q '^system' "$T/$h/figure1.gp" "$T/$h/roofline.gp" && bad "$h: a script line starts with system(" || ok
  done
else
  echo "SKIP: gnuplot injection checks (gnuplot not installed: no script is run)"
fi

# --- --out - and --out -x: directories, not options of a shell `cd`
mkdir "$T/cwd"
(cd "$T/cwd" && "$R" report "$FX/h100_results.json" --out - --quiet) >"$T/dash.log" 2>&1 && ok || bad "--out -: $(cat "$T/dash.log")"
(cd "$T/cwd" && "$R" report "$FX/h100_results.json" --out -x --quiet) >"$T/dashx.log" 2>&1 && ok || bad "--out -x: $(cat "$T/dashx.log")"
[ -s "$T/cwd/-/report.md" ] && [ -s "$T/cwd/-x/report.md" ] && ok || bad "--out -/-x: no report.md there"
if [ $have_gnuplot = 1 ]; then
  [ -s "$T/cwd/-/figure1.png" ] && [ -s "$T/cwd/-x/roofline.png" ] && ok || bad "--out -/-x: charts not rendered"
fi

# --- absurd numbers
results_for "NVIDIA H100 80GB HBM3" "" "ridgeline" |
  sed 's/"ms": 5.0}, {"sweep": "prefill"/"ms": 1e308}, {"sweep": "prefill"/' >"$T/huge_ms.json"
expect_err "ms 1e308 refused" "field 'ms' must be in (0, 1e9]" "$R" report "$T/huge_ms.json" --out "$T/n1"
results_for "NVIDIA H100 80GB HBM3" "" "ridgeline" |
  sed 's/"ms": 5.0}/"ms": 5.0, "predicted_ms": 1e308, "p10": 4.0}/' >"$T/huge_pred.json"
expect_ok "predicted_ms 1e308" "$R" report "$T/huge_pred.json" --out "$T/n2" --quiet
if [ $have_gnuplot = 1 ]; then
  grep -Eq '(^|[^A-Za-z])-?(inf|nan)([^A-Za-z]|$)' "$T/n2/figure1.gp" "$T/n2/roofline.gp" && bad "inf or nan in a script" || ok
  [ -s "$T/n2/figure1.svg" ] && ok || bad "huge predicted_ms: figure1 not rendered"
fi

# --- CSV: BOM, quoted fields, linear import
printf '\xef\xbb\xbfsweep,gpu,x,ms\n"decode","H100",1,"6.5"\nprefill, "H100" ,128,20\n' >"$T/bom.csv"
expect_ok "CSV with a BOM and quoted fields" "$R" report --import-csv "$T/bom.csv" --out "$T/c1" --quiet
grep -q '"gpu":[[:space:]]*"H100"' "$T/c1/report.json" && ok || bad "quoted \"H100\" is not H100"
grep -q '"H100"' "$T/c1/report.json" && ! grep -q 'H100\\"' "$T/c1/report.json" && ok || bad "quotes kept in a GPU name"
grep -q 'H100 (imported)' "$T/c1/report.md" && ok || bad "imported H100 row missing"
# 200,000 rows whose last repeats the first: refused at the last line. A quadratic duplicate check
# takes close to a minute here; one pass takes well under a second (the bound is a hang guard).
awk 'BEGIN { print "sweep,gpu,x,ms"; for (i = 1; i <= 200000; i++) printf "decode,H100,%d,%.3f\n", i, 5 + i * 1e-6;
             print "decode,H100,1,5.0" }' >"$T/big.csv"
out=$(timeout 30 "$R" report --import-csv "$T/big.csv" --out "$T/c2" 2>&1)
rc=$?
[ $rc -ne 124 ] && ok || bad "200k-row CSV: not read within 30 s (quadratic import?)"
case "$out" in *"big.csv:200002: duplicate decode point x=1 for H100 (first on line 2)"*) ok ;;
  *) bad "200k-row CSV: exit $rc, want the duplicate on line 200002: $out" ;; esac

# --- gpus --csv/--md escape separators in names
printf '[{"name":"X,Y|Z\\"Q","bandwidth_gbps":1000,"peak_tflops":{"bf16":100},"source":"a, \\"b\\""}]\n' >"$T/sep.json"
expect_ok "gpus --csv with separators in a name" "$R" gpus --csv --gpu-file "$T/sep.json"
last=$(printf '%s\n' "$out" | tail -n 1)
case "$last" in '"X,Y|Z""Q",1000,'*',"a, ""b"""') ok ;; *) bad "gpus --csv: name or source not quoted: $last" ;; esac
cols=$(printf '%s\n' "$out" | head -n 1 | awk -F, '{ print NF }')
fields=$(printf '%s\n' "$last" | sed 's/"[^"]*\("[^"]*"\)*[^"]*"/q/g' | awk -F, '{ print NF }')
[ "$cols" = "$fields" ] && ok || bad "gpus --csv: $fields fields in the row, $cols in the header"
expect_ok "gpus --md with separators in a name" "$R" gpus --md --gpu-file "$T/sep.json"
last=$(printf '%s\n' "$out" | tail -n 1)
case "$last" in '| X,Y\|Z"Q '*) ok ;; *) bad "gpus --md: '|' not escaped: $last" ;; esac

# --- one writer per output directory
mkdir -p "$T/locked"
exec 9>"$T/locked/.ridgeline.lock" # this shell holds the lock, as a running lab would
flock -n 9 || bad "could not take the test's own lock"
expect_err "report into a DIR another run holds" "is in use by another ridgeline run" \
  "$R" report "$FX/h100_results.json" --out "$T/locked"
[ ! -e "$T/locked/report.md" ] && ok || bad "report wrote into a locked directory"
exec 9>&-
expect_ok "report once the lock is released" "$R" report "$FX/h100_results.json" --out "$T/locked" --quiet
# Two reports of different inputs at once: each finishes or is refused; the result is one of them.
"$R" report "$FX/h100_results.json" --out "$T/both" --quiet >"$T/a.log" 2>&1 &
a=$!
"$R" report "$FX/h200_results.json" --out "$T/both" --quiet >"$T/b.log" 2>&1 &
b=$!
wait $a
ra=$?
wait $b
rb=$?
for x in "a:$ra" "b:$rb"; do
  r=${x#*:}
  [ "$r" -eq 0 ] || grep -q "is in use by another ridgeline run" "$T/${x%%:*}.log" && ok ||
    bad "concurrent report ${x%%:*}: exit $r: $(cat "$T/${x%%:*}.log")"
done
[ "$ra" -eq 0 ] || [ "$rb" -eq 0 ] && ok || bad "both concurrent reports failed"
n100=$(grep -c 'h100_results.json' "$T/both/report.md")
n200=$(grep -c 'h200_results.json' "$T/both/report.md")
{ [ "$n100" -gt 0 ] && [ "$n200" -eq 0 ]; } || { [ "$n200" -gt 0 ] && [ "$n100" -eq 0 ]; } && ok ||
  bad "report.md mixes two inputs (h100 $n100, h200 $n200)"
ls -a "$T/both" | grep -q 'XXXXXX\|\.tmp$' && bad "temporary files left behind: $(ls -a "$T/both")" || ok
# A stale X.tmp (a directory, even) from another writer does not stop this one.
mkdir -p "$T/stale/report.md.tmp" "$T/stale/report.json.tmp"
expect_ok "report beside stale .tmp entries" "$R" report "$FX/h100_results.json" --out "$T/stale" --quiet
[ -s "$T/stale/report.md" ] && ok || bad "no report.md beside a stale report.md.tmp"

finish
