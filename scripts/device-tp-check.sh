#!/usr/bin/env bash
# Validates issue 17 (tensor parallelism) on a CUDA machine in one go, everything logged under OUT;
# on one GPU it runs world size 1, on 2, 4 or 8 GPUs of one host every degree they allow:
#   1. build (CUDA, sm_90a) and the TP tests: test_cuda_tp (world size 1 always, 2/4/8 where the GPUs
#      are), the golden, consistency and profile CUDA tests (the single-GPU engine unchanged), the CPU
#      tests of the sharding, the TP launch table and the report's scaling
#   2. the probe (the interconnect over every visible GPU: skipped on one) into OUT/probe.json
#   3. the lab of llama-3.1-8b on one GPU (OUT/lab/h200) and at TP 1 (OUT/lab/h200-tp1), then at every
#      TP 2, 4, 8 the GPUs allow (OUT/lab/h200-tpN); llama-3.1-70b at the largest (>= 4)
#   4. the report over all of them (OUT/report: the scaling chart where two degrees or more ran)
#   5. OUT/summary.txt: hard checks (test_cuda_tp passed; every lab's points ok; TP1 decode B=1 within
#      15% of the single-GPU engine; N > 1: the interconnect measured, nccl_allreduce rows in the
#      per-kernel view, report.json tp_scaling) and the figures (TP1 vs single GPU per batch; the
#      scaling tables)
# usage: scripts/device-tp-check.sh OUT      (exit 0 only when every hard check passes)
# NCCL: the engine opens libnccl.so.2 from the loader path, else the one CMake found at configure time
# (pip's nvidia-nccl-cu13); NCCL_LIB=/path/libnccl.so.2 names another (passed as --nccl-lib).
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1
mkdir -p "$out/lab" || { echo "device-tp-check: cannot create $out" >&2; exit 1; }
. scripts/device-steps.sh
step() { run_step "$@"; } # a failure is logged; the summary's hard checks decide
nccl=()
[ -n "${NCCL_LIB:-}" ] && nccl=(--nccl-lib "$NCCL_LIB")

nvidia-smi --query-gpu=index,name,driver_version --format=csv >"$out/nvidia-smi.csv" 2>&1 ||
  { echo "device-tp-check: nvidia-smi failed: no GPU?" >&2; exit 1; }
nvidia-smi topo -m >"$out/topology.txt" 2>&1
gpus=$(($(wc -l <"$out/nvidia-smi.csv") - 1))
log "GPUs visible: $gpus"
[ -d .deps ] && scripts/carry-deps.sh unpack >/dev/null 2>&1
step build make build CMAKE_FLAGS="-DCMAKE_CUDA_ARCHITECTURES=90a" || exit 1
grep -h "NCCL (tensor parallel)" "$out/build.log" build/CMakeCache.txt 2>/dev/null | head -2 | tee -a "$out/steps.log"
step tests ctest --test-dir build --output-on-failure \
  -R 'test_cuda_golden|test_cuda_consistency|test_cuda_profile|test_tp_shard|test_estimate|test_report_tp|test_predict_models'
step tp-test ./build/tests/test_cuda_tp tests/data # its lines: every model and degree, or why it skipped

step probe ./build/ridgeline probe "${nccl[@]}" --out "$out/probe.json"
step lab-1gpu ./build/ridgeline lab --out "$out/lab/h200"
degrees=(1)
for n in 2 4 8; do [ "$gpus" -ge "$n" ] && degrees+=("$n"); done
for n in "${degrees[@]}"; do
  step "lab-tp$n" ./build/ridgeline lab --tp "$n" "${nccl[@]}" --out "$out/lab/h200-tp$n"
done
big=${degrees[${#degrees[@]}-1]}
if [ "$big" -ge 4 ]; then
  step "lab-70b-tp$big" ./build/ridgeline lab --tp "$big" "${nccl[@]}" --model llama-3.1-70b --out "$out/lab/h200-70b-tp$big"
fi
files=()
for d in "$out"/lab/*/; do [ -f "$d/results.json" ] && files+=("$d/results.json"); done
step report ./build/ridgeline report "${files[@]}" --out "$out/report"

python3 - "$out" "$gpus" <<'PY' 2>&1 | tee "$out/summary.txt"
import glob, json, os, sys
out, gpus = sys.argv[1], int(sys.argv[2])
fail = []
def check(ok, msg):
    print(("ok    " if ok else "FAIL  ") + msg)
    if not ok: fail.append(msg)
tests = open(out + "/tests.log").read()
check("tests failed" not in tests and "100% tests passed" in tests, "the CUDA and TP ctest set passed")
tp = open(out + "/tp-test.log").read()
check(tp.rstrip().endswith("0 failed") and "skipped: no CUDA GPU" not in tp, "test_cuda_tp passed (not skipped)")
print("\n".join(l for l in tp.splitlines() if "TP" in l or "visible" in l))
labs = {}
for f in sorted(glob.glob(out + "/lab/*/results.json")):
    r = json.load(open(f))
    labs[os.path.basename(os.path.dirname(f))] = r
    pts = r["points"]
    bad = [p for p in pts if p.get("status") == "failed"]
    check(pts and not bad, "%s: %d points, failed: %s" % (f, len(pts), [(p["sweep"], p["x"], p.get("error")) for p in bad]))
def decode(r):
    return {p["x"]: p["ms"] for p in r["points"] if p["sweep"] == "decode" and p.get("status") != "failed"}
one, tp1 = labs.get("h200"), labs.get("h200-tp1")
if one and tp1:
    a, b = decode(one), decode(tp1)
    print("decode ms/step, single-GPU engine vs TP1 (sharded path on one GPU):")
    for x in sorted(set(a) & set(b)):
        print("  B=%-4d %8.3f %8.3f  %+5.1f%%" % (x, a[x], b[x], 100 * (b[x] - a[x]) / a[x]))
    check(1 in a and 1 in b and b[1] < 1.15 * a[1], "TP1 decode B=1 within 15% of the single-GPU engine")
probe = json.load(open(out + "/probe.json"))["roofs"] if os.path.exists(out + "/probe.json") else {}
print("probe interconnect: %s GB/s, %s us (%s)" % (probe.get("interconnect_gbps"), probe.get("allreduce_latency_us"),
                                                probe.get("interconnect_note")))
if gpus >= 2:
    check(isinstance(probe.get("interconnect_gbps"), (int, float)) and probe["interconnect_gbps"] > 0,
          "interconnect measured over %d GPUs" % gpus)
    for name, r in labs.items():
        if "tp" not in name or name.endswith("tp1"): continue
        rows = [k for k in r.get("kernels", []) if "allreduce" in k.get("ops", [])]
        check(rows, "%s: nccl_allreduce rows in the per-kernel view (%s)" % (name, [(k["phase"], k["x"], k["calls"], k["ms"], k.get("bound")) for k in rows]))
    rep = json.load(open(out + "/report/report.json"))
    check(rep.get("tp_scaling"), "report.json tp_scaling has %d series" % len(rep.get("tp_scaling", [])))
    for s in rep.get("tp_scaling", []):
        print("%s %s %s=%s:" % (s["gpu"], s["model"], s["sweep"], s["x"]))
        for p in s["points"]:
            print("  %d GPUs: measured %.3f ms, predicted %.3f (compute %.3f, memory %.3f, comm %.3f) %s" %
                  (p["gpus"], p["ms"], p["predicted_ms"] or -1, p["compute_ms"] or -1, p["memory_ms"] or -1,
                   p["comm_ms"] or 0, p["bound"]))
else:
    print("one GPU: TP 2, 4, 8 not run (multi-GPU kinds needed)")
print("FAILED: %d" % len(fail) if fail else "all hard checks passed")
sys.exit(1 if fail else 0)
PY
