#!/usr/bin/env bash
# End-to-end test of `ridgeline lab` on the CPU backend (tiny model): the CONTRACT fields of
# results.json (the decode context sweep's points included), the report, --quiet, --contexts, and
# Ctrl-C keeping the finished points (exit 130).
# usage: cli_lab_cpu.sh RIDGELINE DATA_DIR
set -u
R=$1
D=$2
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"

# Checks results.json against CONTRACT.md: device.name, roofs.read_gbps > 0, roofs.gemm_tflops > 0,
# decode and prefill points with ms, p10 <= ms <= p90 and predicted_ms. python3 (stdlib json) when
# present, else a coarser text check.
check_results() { # file, min points per sweep, the context sweep's contexts (comma-separated)
  if command -v python3 >/dev/null 2>&1; then
    python3 - "$1" "$2" "$3" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
need = int(sys.argv[2])
contexts = [int(c) for c in sys.argv[3].split(",")]
errs = []
num = lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)
dev = d.get("device") or {}
if not (isinstance(dev.get("name"), str) and dev["name"]): errs.append("device.name missing")
roofs = d.get("roofs") or {}
for k in ("read_gbps", "gemm_tflops"):
    if not (num(roofs.get(k)) and roofs[k] > 0): errs.append("roofs.%s not > 0: %r" % (k, roofs.get(k)))
pts = d.get("points")
if not isinstance(pts, list): errs.append("points is not an array")
pts = pts or []
for sw in ("decode", "prefill"):
    ps = [p for p in pts if p.get("sweep") == sw]
    if len(ps) < need: errs.append("%d %s points, want >= %d" % (len(ps), sw, need))
    for p in ps:
        if p.get("status") != "ok": errs.append("%s x=%r failed: %s" % (sw, p.get("x"), p.get("error"))); continue
        for k in ("x", "ms", "p10", "p90", "predicted_ms"):
            if not num(p.get(k)): errs.append("%s point lacks number %s" % (sw, k))
        if all(num(p.get(k)) for k in ("ms", "p10", "p90")) and not (p["p10"] <= p["ms"] <= p["p90"]):
            errs.append("%s x=%r: p10 %r <= ms %r <= p90 %r fails" % (sw, p["x"], p["p10"], p["ms"], p["p90"]))
        if not (num(p.get("ms")) and p["ms"] > 0): errs.append("%s x=%r: ms not > 0" % (sw, p.get("x")))
tool = d.get("tool") or {}
for k in ("commit", "command", "date"):
    if not tool.get(k): errs.append("tool.%s missing" % k)
a = d.get("analysis")
if not isinstance(a, dict) or "decode" not in a or "prefill" not in a or "prediction_error" not in a:
    errs.append("analysis section missing")
for p in pts:
    if p.get("status") == "ok" and not num(p.get("estimated_ms")):
        errs.append("%s x=%r lacks estimated_ms" % (p.get("sweep"), p.get("x")))
profs = d.get("profiles")
if not isinstance(profs, list) or not profs:
    errs.append("no profiles")
for p in profs or []:
    if p.get("timing") != "events": errs.append("cpu profile timing %r, want events" % p.get("timing"))
    for k in ("kernels_ms", "step_ms"):
        if not (num(p.get(k)) and p[k] > 0): errs.append("profile %s x=%r: %s not > 0" % (p.get("phase"), p.get("x"), k))
# The decode context sweep: B = 1 and 2 at each context, measured, with the context they were asked
# for, the mean of their steps' contexts (input_len + output_len / 2), and left out of the analysis.
cpts = [p for p in pts if p.get("context_sweep") is True]
got = sorted((p.get("context"), p.get("x")) for p in cpts)
want = sorted((c, b) for c in contexts for b in (1, 2))
if got != want: errs.append("context points (context, B) %r, want %r" % (got, want))
for p in cpts:
    if p.get("sweep") != "decode" or p.get("status") != "ok":
        errs.append("context point %r: sweep %r status %r" % (p.get("context"), p.get("sweep"), p.get("status")))
    elif p["input_len"] + p["output_len"] // 2 != p["context"]:
        errs.append("context point %r: input_len %r + output_len %r / 2" % (p["context"], p["input_len"], p["output_len"]))
seed_ctx = {p.get("context") for p in pts if p.get("sweep") == "decode" and not p.get("context_sweep")}
if len(seed_ctx) != 1: errs.append("the batch sweep's points should share one context: %r" % seed_ctx)
pe = (a or {}).get("prediction_error") or {}
nsweep = len([p for p in pts if p.get("status") == "ok" and not p.get("context_sweep")])
if pe.get("points") != nsweep: errs.append("prediction_error over %r points, want the %d of the batch and length sweeps" % (pe.get("points"), nsweep))
if d.get("kernel_choices") != []: errs.append("cpu kernel_choices %r, want []" % d.get("kernel_choices"))
for e in errs: print(e)
sys.exit(1 if errs else 0)
PY
  else
    local t
    t=$(tr -d '\n\t ' <"$1")
    for f in '"device":{"name":"' '"read_gbps":' '"gemm_tflops":' '"sweep":"decode"' '"sweep":"prefill"' '"p10":' '"p90":' '"predicted_ms":'; do
      case "$t" in *"$f"*) ;; *) echo "results lack $f"; return 1 ;; esac
    done
  fi
}

# --- the whole CPU lab with its defaults
if "$R" lab --backend cpu --model tiny --out "$T/lab" >"$T/out.txt" 2>"$T/err.txt"; then ok; else bad "lab exit $?: $(tail -n 5 "$T/err.txt")"; fi
if [ -f "$T/lab/results.json" ]; then
  if msg=$(check_results "$T/lab/results.json" 5 64,256 2>&1); then ok; else bad "results.json: $msg"; fi
else
  bad "no results.json"
fi
grep -q '^\[1/' "$T/err.txt" && ok || bad "no progress lines on stderr"
grep -q 'decode B=1:' "$T/err.txt" && ok || bad "progress lacks 'decode B=1:'"
grep -q 'decode B=2 context 256: [0-9.]* ms/step' "$T/err.txt" && ok || bad "progress lacks the context point B=2, context 256"
grep -q '^decode context sweep:' "$T/out.txt" && ok || bad "no context sweep table on stdout"
grep -q '## Decode at long context' "$T/lab/report.md" 2>/dev/null && grep -q '^| .* | 2 | 256 | ' "$T/lab/report.md" &&
  ok || bad "report.md lacks the context sweep table (B=2, context 256)"
grep -q 'per-kernel roofline: decode' "$T/out.txt" && ok || bad "no per-kernel table"
grep -q '"kernels":' "$T/lab/results.json" && grep -q '"kernel":' "$T/lab/results.json" && ok || bad "no kernel rows"
grep -q 'timed with events' "$T/out.txt" && ok || bad "the per-kernel table does not say how it was timed"
if command -v python3 >/dev/null 2>&1; then
  if msg=$(python3 - "$T/lab/trace.json" <<'PY' 2>&1
import json, sys
t = json.load(open(sys.argv[1]))
ev = t["traceEvents"]
x = [e for e in ev if e.get("ph") == "X"]
kern = [e for e in x if e.get("cat") == "kernel"]
procs = [e["args"]["name"] for e in ev if e.get("ph") == "M" and e.get("name") == "process_name"]
assert kern and all("ops" in e["args"] and e["dur"] >= 0 for e in kern), "kernel events lack args.ops"
assert any(p.startswith("decode B=1 ") for p in procs) and any(p.startswith("prefill ") for p in procs), procs
assert all(p.endswith("(events)") for p in procs), procs
PY
  ); then ok; else bad "trace.json: $msg"; fi
else
  [ -s "$T/lab/trace.json" ] && ok || bad "no trace.json"
fi
if [ -f "$T/lab/report.md" ]; then
  ok
elif "$R" report --help 2>&1 | grep -q 'not implemented'; then
  echo "SKIP: report.md check (the report renderer has not landed in this build)"
else
  bad "no report.md (and the report command exists)"
fi

# --- --quiet: nothing on stderr
if "$R" lab --backend cpu --quick --quiet --no-report --out "$T/quiet" >/dev/null 2>"$T/quiet.err"; then ok; else bad "quiet lab failed"; fi
[ ! -s "$T/quiet.err" ] && ok || bad "--quiet still wrote to stderr: $(head -n 3 "$T/quiet.err")"
if msg=$(check_results "$T/quiet/results.json" 3 64 2>&1); then ok; else bad "quick results.json: $msg"; fi

# --- --contexts: an explicit list (with an explicit --batches, which alone means none), and none
if "$R" lab --backend cpu --quick --quiet --no-report --batches 1,2,4 --contexts 40,100 --out "$T/ctx" >/dev/null 2>"$T/ctx.err"; then ok; else bad "--contexts lab failed: $(head -n 3 "$T/ctx.err")"; fi
if msg=$(check_results "$T/ctx/results.json" 3 40,100 2>&1); then ok; else bad "--contexts 40,100: $msg"; fi
"$R" lab --backend cpu --quick --quiet --no-report --no-kernels --contexts none --out "$T/noctx" >/dev/null 2>&1
grep -q '"context_sweep"' "$T/noctx/results.json" && bad "--contexts none still swept contexts" || ok
expect_err "--contexts 0" "--contexts" "$R" lab --backend cpu --quick --contexts 0 --out "$T/bad"

# --- Ctrl-C: the current point finishes, results.json keeps the finished ones, exit 130
many=$(printf '32,%.0s' $(seq 1 60))32
"$R" lab --backend cpu --quick --quiet --no-report --batches "$many" --output-len 64 --out "$T/int" >/dev/null 2>"$T/int.err" &
pid=$!
wait_for_point "$T/int/results.json"
kill -INT "$pid" 2>/dev/null
wait "$pid"
check_interrupted SIGINT $? 130 "$T/int/results.json" "$T/int.err"

finish
