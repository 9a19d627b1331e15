#!/usr/bin/env bash
# The transformers peer script (scripts/peer_transformers.py): it parses everywhere (py_compile);
# where torch and transformers are installed (not in CI: RL_TEST_PYTHON may name a Python that has
# them), its --compile mode runs on the tiny model on the CPU (torch.compile, static cache), writes
# the results schema with "engine": "transformers+torch.compile", records points skipped by
# --max-seconds as failed with the reason, and `ridgeline report` reads both files.
# usage: cli_peer_script.sh RIDGELINE DATA_DIR
set -u
R=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/lib.sh"
S="$(dirname "$0")/../scripts/peer_transformers.py"
PY=${RL_TEST_PYTHON:-python3}

if ! command -v "$PY" >/dev/null 2>&1; then echo "SKIP: no $PY"; exit 77; fi
"$PY" -c "import py_compile, sys; py_compile.compile(sys.argv[1], cfile='$T/peer.pyc', doraise=True)" "$S" && ok ||
  bad "peer_transformers.py does not compile"
if ! "$PY" -c "import torch, transformers" >/dev/null 2>&1; then
  finish || exit 1
  echo "SKIP: the run itself needs torch and transformers ($PY has not both)"
  exit 77
fi

if "$PY" "$S" --model tiny --device cpu --compile --batches 1,2 --input-len 8 --output-len 6 --out "$T/c.json" \
  >"$T/c.out" 2>"$T/c.err"; then ok; else bad "--compile run: $(grep -v '^W' "$T/c.err" | tail -n 3)"; fi
"$PY" "$S" --model tiny --device cpu --compile --batches 1 --max-seconds 0 --out "$T/skip.json" >/dev/null 2>&1 &&
  ok || bad "--max-seconds 0 run failed"
if msg=$("$PY" - "$T/c.json" "$T/skip.json" <<'PY' 2>&1
import json, sys
c, s = (json.load(open(p)) for p in sys.argv[1:3])
assert c["engine"] == "transformers+torch.compile", c["engine"]
assert "torch.compile(mode='reduce-overhead', fullgraph=True" in c["sweeps"]["decode_ms"], c["sweeps"]
assert "eager" in c["sweeps"]["prefill_ms"], c["sweeps"]["prefill_ms"]
pts = c["points"]
assert [(p["sweep"], p["x"]) for p in pts] == [("decode", 1), ("decode", 2)], pts
for p in pts:
    assert p["status"] == "ok", p
    assert p["p10"] <= p["ms"] <= p["p90"] and p["reps"] == 5 and p["compile_s"] > 0, p
    assert p["context"] == 8 + 6 // 2, p
sp = s["points"]
assert len(sp) == 1 and sp[0]["status"] == "failed" and "--max-seconds" in sp[0]["error"], sp
PY
); then ok; else bad "peer_compile.json: $msg"; fi
if "$R" report "$T/c.json" "$T/skip.json" --out "$T/rep" >"$T/rep.out" 2>&1; then ok; else bad "report: $(tail -n 3 "$T/rep.out")"; fi
grep -q 'transformers+torch.compile' "$T/rep/report.md" 2>/dev/null && ok || bad "the report does not name the compile peer"
finish
