#!/usr/bin/env bash
# cli_report.sh: `ridgeline report` end to end from the committed fixtures: files written,
# the seed's violations in report.json, the no-gnuplot path, and one-line errors naming the
# file (and line) for bad inputs. Usage: cli_report.sh BIN DATA_DIR
set -u
bin=$1
data=$2
fx=$data/fixtures
tmp=$(mktemp -d /tmp/rl_cli_report.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail=0
check() { # check DESCRIPTION COMMAND...
    if "${@:2}"; then :; else echo "FAIL: $1"; fail=1; fi
}

# 1. Everything merged: ours on H100 and H200, a peer engine on H100, a CPU run, the seed CSV.
"$bin" report "$fx/h100_results.json" "$fx/h200_results.json" "$fx/h100_transformers_failed.json" \
    "$fx/cpu_tiny_results.json" --import-csv "$data/seed_measurements.csv" --out "$tmp/all" 2>"$tmp/err"
check "report exits 0 ($(cat "$tmp/err"))" test $? -eq 0
for f in report.md report.json; do check "$f non-empty" test -s "$tmp/all/$f"; done
if command -v gnuplot >/dev/null; then
    for f in figure1.svg figure1.png roofline.svg roofline.png figure1.gp roofline.gp; do
        check "$f non-empty" test -s "$tmp/all/$f"
    done
    check "figure1.png is a PNG" bash -c "head -c 8 '$tmp/all/figure1.png' | od -An -tx1 | grep -q '89 50 4e 47 0d 0a 1a 0a'"
    check "svg is SVG" grep -q "<svg" "$tmp/all/roofline.svg"
fi
md=$tmp/all/report.md
check "13 violations in report.json" test "$(grep -c '"reason":' "$tmp/all/report.json")" -eq 13
check "violation of the seed's H100 L=4096 with its floor" grep -q '| H100 (imported) | prefill | 4096 | 14.86 ⚠ | 62.32 |' "$md"
check "two H100 engines, two rows" grep -q '^| H100 (transformers) | 16.98 |' "$md"
check "our H100 row" grep -q '^| H100 (ridgeline) | 5.76 |' "$md"
check "predicted rows for unmeasured GPUs" grep -q '^| A100-PCIe (predicted) | \*7.77\*' "$md"
check "L40S predicted row" grep -q '^| L40S (predicted) |' "$md"
check "failed point shown" grep -q 'failed: out of GPU memory' "$md"
check "CPU run is noted as uncheckable" grep -q 'AMD EPYC 7B13 (2 threads).*cannot be checked' "$md"
check "seed-style and per-step tables are separate" grep -q '^## Decode: seed-style ms per token' "$md"

# 2. The seed CSV alone finds its impossible points.
"$bin" report --import-csv "$data/seed_measurements.csv" --out "$tmp/seed" --quiet 2>"$tmp/err"
check "seed-only report exits 0" test $? -eq 0
check "seed-only: 13 violations" test "$(grep -c '"reason":' "$tmp/seed/report.json")" -eq 13
check "seed-only: quiet means no summary" test ! -s "$tmp/err"
for gx in 'H200.*1024' 'H100.*2048' 'A100-PCIe.*512' 'L40S.*4096'; do
    check "seed-only violation $gx" grep -q "^| ${gx%%.*} (imported) | prefill | ${gx##*\*} |" "$tmp/seed/report.md"
done

# 3. Without gnuplot: markdown and JSON still written, one line on stderr, no charts.
PATH=/nonexistent "$bin" report "$fx/h100_results.json" --out "$tmp/nognu" 2>"$tmp/err"
check "no-gnuplot exits 0" test $? -eq 0
check "no-gnuplot message" grep -qx 'report: gnuplot not found (apt-get install gnuplot-nox); charts skipped' "$tmp/err"
check "no-gnuplot report.md" test -s "$tmp/nognu/report.md"
check "no-gnuplot report.json" test -s "$tmp/nognu/report.json"
check "no-gnuplot: no PNG" test ! -e "$tmp/nognu/figure1.png"

# 4. Bad inputs: exit 1, one line naming the file (and the line where there is one).
expect_error() { # expect_error STATUS NEEDLE ARGS...
    local want=$1 needle=$2
    shift 2
    "$bin" report "$@" 2>"$tmp/err" >/dev/null
    local rc=$?
    check "rc $rc == $want for: $*" test $rc -eq "$want"
    check "one stderr line for: $*" test "$(wc -l <"$tmp/err")" -eq 1
    check "'$needle' in: $(cat "$tmp/err")" grep -qF -- "$needle" "$tmp/err"
}
expect_error 1 "ridgeline: $fx/nope.json: cannot open" "$fx/nope.json" --out "$tmp/x"
expect_error 1 "bad_truncated.json:36:3: malformed JSON" "$fx/bad_truncated.json" --out "$tmp/x"
expect_error 1 "bad_no_points.json: required field 'points'" "$fx/bad_no_points.json" --out "$tmp/x"
expect_error 1 "bad_row.csv:5: ms: 'seven' is not a number" --import-csv "$fx/bad_row.csv" --out "$tmp/x"
expect_error 1 "bad_fields.csv:3: expected 4 comma-separated fields" "$fx/h100_results.json" \
    --import-csv "$fx/bad_fields.csv" --out "$tmp/x"
expect_error 2 "--out DIR is required" "$fx/h100_results.json"
expect_error 2 "unknown option '--bogus'" "$fx/h100_results.json" --bogus --out "$tmp/x"
expect_error 2 "at least one RESULTS.json" --out "$tmp/x"
check "no output dir after failures" test ! -e "$tmp/x"
"$bin" report --help | grep -q -- "--import-csv FILE"
check "--help documents --import-csv" test $? -eq 0

if [ $fail -ne 0 ]; then echo "cli_report: FAILED"; exit 1; fi
echo "cli_report: ok"
