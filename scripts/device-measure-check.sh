#!/usr/bin/env bash
# Validates issue 13's GPU side on a CUDA machine (an H200) in one go, everything logged under OUT:
#   1. build (CUDA) and the unit/CUDA tests of the profile machinery (test_cuda_profile: CUPTI on the
#      decode graph replay and the eager prefill; the CPU-side tests of the matcher, trace, estimate,
#      field table, counters check)
#   2. the whole lab into OUT/lab: probe (with the latency roof kernel_min_us), sweeps with
#      estimated_ms on every point, CUPTI profiles of decode B=1, 64 and prefill L=1024, trace.json
#   3. the counters check (scripts/ncu-check.sh) into OUT/lab/ncu-check.json, the report re-rendered
#      with it and the seed's table
#   4. `predict` with the measured roofs (estimated_ms with the measured t_min)
#   5. the checks of OUT/summary.txt: every profile timed with CUPTI and its rows within 3% of the step
#      timed normally; trace.json in Chrome trace-event form with the three steps; kernel_min_us
#      measured; estimated_ms on every ok point (median error printed, target <= 8%); ncu-check.json
#      in the contract's form (per-step DRAM vs model printed, target within 5%).
# usage: scripts/device-measure-check.sh OUT        (exit 0 only when every hard check passes)
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
mkdir -p "$out" || { echo "device-measure-check: cannot create $out" >&2; exit 1; }
. scripts/device-steps.sh
step() { run_step "$@" || { log "device-measure-check: $1 failed"; exit 1; }; } # a failure is fatal

nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit --format=csv >"$out/nvidia-smi.csv" 2>&1 ||
  { echo "device-measure-check: nvidia-smi failed: no GPU?" >&2; exit 1; }
[ -d .deps ] && scripts/carry-deps.sh unpack >/dev/null 2>&1
step build make build CMAKE_FLAGS="-DCMAKE_CUDA_ARCHITECTURES=90a"
step tests ctest --test-dir build --output-on-failure \
  -R 'test_cuda_profile|test_cuda_consistency|test_kernel_match|test_trace|test_estimate|test_results_io|test_measure|test_report'
grep -q 'test_cuda_profile .*Passed' "$out/tests.log" || { log "device-measure-check: test_cuda_profile did not pass (skipped?)"; exit 1; }
step lab ./build/ridgeline lab --out "$out/lab"
step ncu scripts/ncu-check.sh "$out/lab"
step report ./build/ridgeline report "$out/lab/results.json" --import-csv tests/data/seed_measurements.csv --out "$out/lab"
step predict ./build/ridgeline predict --gpu H200 --model llama-3.1-8b --decode --batch 1 --roofs "$out/lab/results.json"

python3 - "$out" <<'PY' 2>&1 | tee "$out/summary.txt"
import json, statistics, sys
out = sys.argv[1]
fail = []
def check(ok, msg):
    print(("ok    " if ok else "FAIL  ") + msg)
    if not ok: fail.append(msg)
r = json.load(open(out + "/lab/results.json"))
print("device:", r["device"]["name"], "commit:", r["tool"]["commit"])
t_min = r["roofs"].get("kernel_min_us")
check(isinstance(t_min, (int, float)) and 0 < t_min < 50, "roofs.kernel_min_us measured: %r us (empty PDL node %r us)" % (t_min, r["roofs"].get("empty_node_us")))
profs = {(p["phase"], p["x"]): p for p in r.get("profiles", [])}
for key in (("decode", 1), ("decode", 64), ("prefill", 1024)):
    p = profs.get(key)
    check(p is not None, "profile %s x=%d present" % key)
    if not p: continue
    check(p["timing"] == "cupti", "profile %s x=%d timed with CUPTI (got %s; note %r)" % (key + (p["timing"], p.get("note"))))
    dev = abs(p["kernels_ms"] - p["step_ms"]) / p["step_ms"] * 100
    check(dev <= 3, "profile %s x=%d: rows %.3f ms vs step %.3f ms (%.2f%%, want <= 3%%)" % (key + (p["kernels_ms"], p["step_ms"], dev)))
pts = [p for p in r["points"] if p.get("status") == "ok"]
est = [p for p in pts if isinstance(p.get("estimated_ms"), (int, float))]
check(len(est) == len(pts), "estimated_ms on every ok point (%d of %d)" % (len(est), len(pts)))
if est:
    errs = [abs(p["estimated_ms"] - p["ms"]) / p["ms"] * 100 for p in est]
    med = statistics.median(errs)
    print("info  estimated_ms median |est - meas| / meas = %.1f%% (target <= 8%%), max %.1f%%" % (med, max(errs)))
    for p, e in zip(est, errs):
        print("      %-7s x=%-5d ms %8.3f predicted %8.3f estimated %8.3f (%+.1f%%) latency part %s" % (
            p["sweep"], p["x"], p["ms"], p["predicted_ms"], p["estimated_ms"], (p["estimated_ms"] - p["ms"]) / p["ms"] * 100,
            p.get("estimated_latency_ms")))
t = json.load(open(out + "/lab/trace.json"))
ev = t.get("traceEvents")
check(isinstance(ev, list) and ev, "trace.json has traceEvents")
ev = ev or []
xs = [e for e in ev if e.get("ph") == "X"]
names = [e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "process_name"]
check(all(isinstance(e.get(k), (int, float)) for e in xs for k in ("ts", "dur")) and all("name" in e for e in xs),
      "complete events carry name, ts, dur (%d events)" % len(xs))
kern = [e for e in xs if e.get("cat") == "kernel"]
check(kern and all("ops" in e.get("args", {}) for e in kern), "kernel events carry args.ops (%d kernels)" % len(kern))
for want in ("decode B=1 (cupti)", "decode B=64 (cupti)", "prefill L=1024 (cupti)"):
    check(want in names, "trace process '%s'" % want)
try:
    n = json.load(open(out + "/lab/ncu-check.json"))
    check(all(k in n for k in ("device", "commit", "command", "cases")), "ncu-check.json: device, commit, command, cases")
    for c in n.get("cases", []):
        ok = all(k in c for k in ("phase", "x", "model_bytes", "dram_bytes", "ops")) and all(
            all(k in o for k in ("op", "model_bytes", "dram_bytes")) for o in c["ops"])
        check(ok, "ncu-check case %s x=%s has the contract's fields" % (c.get("phase"), c.get("x")))
        d = (c["dram_bytes"] - c["model_bytes"]) / c["model_bytes"] * 100
        print("info  %s x=%d: DRAM %.3f GB vs model %.3f GB (%+.1f%%, target within 5%%; %s)" % (
            c["phase"], c["x"], c["dram_bytes"] / 1e9, c["model_bytes"] / 1e9, d, c.get("attributed_by")))
except (OSError, ValueError) as e:
    check(False, "ncu-check.json readable: %s" % e)
print("\n%d hard check(s) failed" % len(fail))
sys.exit(1 if fail else 0)
PY
rc=${PIPESTATUS[0]}
log "device-measure-check: summary in $out/summary.txt (exit $rc)"
exit "$rc"
