#!/usr/bin/env python3
"""peer_transformers.py: the lab's shapes run through Hugging Face transformers (issue 7, peers).

A random-initialised Llama-3.1-8B (geometry built in code, nothing downloaded) in bf16 on the GPU:
  decode  : for each batch B, a StaticCache sized for the run, B random prompts of --input-len tokens
            prefilled (timed once), then --output-len - 1 decode steps, each the same decode forward
            replayed from a CUDA graph (captured once per B after eager warm-up steps), each step
            timed alone on the host clock after a device sync; ms = median step, p10/p90 over the
            steps, seed_ms_per_token = (prefill + all steps) / output_len; the greedy token of each
            step feeds the next, as in generation.
  prefill : eager forward of one L-token prompt (batch 1, no cache, logits of the last position),
            warm-up runs then -r timed runs, each a new prompt; ms = median.
  roofs   : read bandwidth (torch.sum over a 2 GiB bf16 tensor: read-only) and an 8192^3 bf16 matmul,
            median of 10 event-timed runs, so the file stands alone; the report predicts from them.
Writes a results.json in ridgeline's schema (docs/results-schema.md) with "engine": "transformers",
rewritten after every point, so `ridgeline report results/h100/results.json peers.json --out DIR`
draws both.

--compile: the strongest peer we can run, the gpt-fast recipe in transformers: the decode step (the
  model's forward and the greedy argmax) under torch.compile(mode="reduce-overhead", fullgraph=True,
  dynamic=False) with a StaticCache: inductor kernels replayed as CUDA graphs (cudagraph trees), one
  compile per batch size (torch._dynamo.reset() between them). The same decode shapes and timing as
  above (prompt prefilled eagerly, warm-up steps that compile and record, then output_len - 1 steps
  timed alone); "engine": "transformers+torch.compile", each point's compile_s says what the compile
  cost. Prefill stays eager (the same forward as the eager peer), so by default this mode runs no
  prefill sweep (--lengths runs one). A batch whose compile fails or runs out of memory is recorded
  as a failed point with the error and the run goes on; --max-seconds S records the points not yet
  started after S seconds as skipped, so the run fits a bounded device call. Defaults: B 1, 64, 16
  (the two batches the decode targets name first, in case the time runs out), --max-seconds 240.

With the defaults (B 1..512, L 64..4096, -r 3) it ran in under a minute on an H200 (transformers
5.17, torch 2.11; the points themselves 26 s): 7.54 / 17.5 / 87.0 ms per decode step at B = 1 / 64 /
512 and 122 ms for the L = 4096 prefill. `--model tiny --device cpu` is a smoke test
(eager decode, no graphs). Needs torch and transformers (tested with transformers 5.x).
"""
import argparse
import datetime
import gc
import inspect
import json
import os
import signal
import statistics
import sys
import time

import torch
import transformers
from transformers import LlamaConfig, LlamaForCausalLM, StaticCache


def llama_config(name):
    if name == "llama-3.1-8b":
        geo = dict(vocab_size=128256, hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                   num_attention_heads=32, num_key_value_heads=8, head_dim=128, max_position_embeddings=131072,
                   rope_theta=500000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                      "high_freq_factor": 4.0,
                                                      "original_max_position_embeddings": 8192})
    elif name == "tiny":  # ridgeline's `tiny` preset
        geo = dict(vocab_size=8192, hidden_size=256, intermediate_size=768, num_hidden_layers=4,
                   num_attention_heads=8, num_key_value_heads=2, head_dim=32, max_position_embeddings=4096,
                   rope_theta=10000.0, rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                                     "high_freq_factor": 4.0,
                                                     "original_max_position_embeddings": 1024})
    else:
        raise SystemExit("peer_transformers.py: --model must be llama-3.1-8b or tiny, not %r" % name)
    return LlamaConfig(rms_norm_eps=1e-5, tie_word_embeddings=False, bos_token_id=0, eos_token_id=1, **geo)


def percentile(v, p):
    """Linear interpolation between order statistics (the same rule as ridgeline's rl_percentile)."""
    s = sorted(v)
    pos = p / 100.0 * (len(s) - 1)
    lo = int(pos)
    if lo >= len(s) - 1:
        return s[-1]
    return s[lo] + (s[lo + 1] - s[lo]) * (pos - lo)


class Runner:
    def __init__(self, args):
        self.args = args
        self.dev = torch.device(args.device)
        self.cuda = self.dev.type == "cuda"
        self.cfg = llama_config(args.model)
        torch.manual_seed(args.seed)
        # Initialise directly in bf16 on the device: no fp32 copy of 8B parameters on the host.
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.bfloat16)
        with self.dev:
            self.model = LlamaForCausalLM(self.cfg)
        torch.set_default_dtype(old)
        self.model.eval()
        params = inspect.signature(self.model.forward).parameters
        # transformers 5.x renamed past_key_values to cache; older 5.x / 4.x take cache_position.
        self.cache_kw = "cache" if "cache" in params else "past_key_values"
        self.has_cache_position = "cache_position" in params
        self.vocab = self.cfg.vocab_size

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize()

    def timed_ms(self, fn):
        self.sync()
        t0 = time.perf_counter()
        out = fn()
        self.sync()
        return (time.perf_counter() - t0) * 1e3, out

    def make_cache(self, batch, max_len):
        sig = inspect.signature(StaticCache.__init__).parameters
        kw = dict(config=self.cfg, max_cache_len=max_len)
        if "max_batch_size" in sig:  # older signatures allocate eagerly
            kw.update(max_batch_size=batch, device=self.dev, dtype=torch.bfloat16)
        return StaticCache(**kw)

    def forward(self, ids, cache, pos0, position_ids=None, cache_position=None):
        kw = {self.cache_kw: cache, "use_cache": True, "logits_to_keep": 1}
        if position_ids is not None:
            kw["position_ids"] = position_ids
        if self.has_cache_position:
            kw["cache_position"] = cache_position if cache_position is not None else \
                torch.arange(pos0, pos0 + ids.shape[1], device=self.dev)
        return self.model(input_ids=ids, **kw).logits[:, -1, :].argmax(-1)

    @torch.inference_mode()
    def decode_point(self, B, in_len, out_len):
        steps = max(out_len - 1, 1)
        warm = max(self.args.warmup, 1)
        cache = self.make_cache(B, in_len + warm + steps + 2)
        prompt = torch.randint(0, self.vocab, (B, in_len), device=self.dev)
        tok = torch.zeros((B, 1), dtype=torch.long, device=self.dev)
        pos = torch.zeros((B, 1), dtype=torch.long, device=self.dev)
        cpos = torch.zeros((1,), dtype=torch.long, device=self.dev)

        def step():
            return self.forward(tok, cache, 0, position_ids=pos, cache_position=cpos)

        def set_pos(p):
            pos.fill_(p)
            cpos.fill_(p)

        # Warm-up: prefill and eager steps (on a side stream before capture, as CUDA graphs want).
        tok.copy_(self.forward(prompt, cache, 0).view(B, 1))
        p = in_len
        graph, nxt = None, None
        stream = torch.cuda.Stream() if self.cuda else None
        if stream is not None:
            stream.wait_stream(torch.cuda.current_stream())
        ctx = torch.cuda.stream(stream) if stream is not None else _Null()
        with ctx:
            for _ in range(warm):
                set_pos(p)
                tok.copy_(step().view(B, 1))
                p += 1
        if stream is not None:
            torch.cuda.current_stream().wait_stream(stream)
        if self.cuda and not self.args.no_graph:
            graph = torch.cuda.CUDAGraph()
            set_pos(p)
            with torch.cuda.graph(graph):
                nxt = step()
        self.sync()

        # Timed run: the cache emptied, a fresh prompt, its prefill, then every step alone.
        cache.reset()
        prompt = torch.randint(0, self.vocab, (B, in_len), device=self.dev)
        prefill_ms, first = self.timed_ms(lambda: self.forward(prompt, cache, 0))
        tok.copy_(first.view(B, 1))
        p = in_len
        times = []
        for _ in range(steps):
            set_pos(p)
            if graph is not None:
                ms, _ = self.timed_ms(graph.replay)
                tok.copy_(nxt.view(B, 1))
            else:
                ms, out = self.timed_ms(step)
                tok.copy_(out.view(B, 1))
            times.append(ms)
            p += 1
        del graph, cache
        return dict(ms=statistics.median(times), p10=percentile(times, 10), p90=percentile(times, 90),
                    min_ms=min(times), max_ms=max(times), reps=len(times), prefill_ms=prefill_ms,
                    seed_ms_per_token=(prefill_ms + sum(times)) / out_len,
                    tokens_per_s=B / (statistics.median(times) * 1e-3))

    @torch.no_grad()  # not inference_mode: the compiled step updates the cache's tensors in place
    def decode_point_compiled(self, B, in_len, out_len):
        """One decode point with the step compiled for this batch size (see --compile)."""
        steps = max(out_len - 1, 1)
        warm = max(self.args.warmup, 3)  # cudagraph trees: a warm-up run, the recording, then replays
        torch._dynamo.reset()  # one compile per batch size, never a dynamic-shape graph across them
        cache = self.make_cache(B, in_len + warm + steps + 2)
        tok = torch.zeros((B, 1), dtype=torch.long, device=self.dev)
        pos = torch.zeros((B, 1), dtype=torch.long, device=self.dev)

        def step(ids, position_ids, kv):
            out = self.model(input_ids=ids, position_ids=position_ids, **{self.cache_kw: kv}, use_cache=True,
                             logits_to_keep=1)
            return out.logits[:, -1, :].argmax(-1)

        compiled = torch.compile(step, mode="reduce-overhead", fullgraph=True, dynamic=False)

        def call():
            torch.compiler.cudagraph_mark_step_begin()
            return compiled(tok, pos, cache)

        # Warm-up: an eager prefill (it allocates the cache, its tensors marked static for the graphs),
        # then the steps that compile and record. A graph inductor would not capture runs without
        # CUDA graphs: cudagraph_skips counts those (0 is the recipe as meant).
        skips0 = cudagraph_skips()
        prompt = torch.randint(0, self.vocab, (B, in_len), device=self.dev)
        tok.copy_(self.forward(prompt, cache, 0).view(B, 1))
        t0 = time.perf_counter()
        for p in range(in_len, in_len + warm):
            pos.fill_(p)
            tok.copy_(call().view(B, 1))  # before the next replay overwrites the graph's output
        self.sync()
        compile_s = time.perf_counter() - t0

        # Timed run: the cache emptied in place (its addresses are the graphs'), a fresh prompt, its
        # eager prefill, then every compiled step alone.
        cache.reset()
        prompt = torch.randint(0, self.vocab, (B, in_len), device=self.dev)
        prefill_ms, first = self.timed_ms(lambda: self.forward(prompt, cache, 0))
        tok.copy_(first.view(B, 1))
        times = []
        for p in range(in_len, in_len + steps):
            pos.fill_(p)
            ms, nxt = self.timed_ms(call)
            tok.copy_(nxt.view(B, 1))
            times.append(ms)
        del compiled, cache
        return dict(ms=statistics.median(times), p10=percentile(times, 10), p90=percentile(times, 90),
                    min_ms=min(times), max_ms=max(times), reps=len(times), prefill_ms=prefill_ms,
                    seed_ms_per_token=(prefill_ms + sum(times)) / out_len,
                    tokens_per_s=B / (statistics.median(times) * 1e-3), compile_s=compile_s,
                    cudagraph_skips=cudagraph_skips() - skips0 if self.cuda else None)

    @torch.inference_mode()
    def prefill_point(self, L):
        def run():
            ids = torch.randint(0, self.vocab, (1, L), device=self.dev)  # a new prompt each run
            self.sync()
            t0 = time.perf_counter()
            self.model(input_ids=ids, use_cache=False, logits_to_keep=1).logits[:, -1, :].argmax(-1)
            self.sync()
            return (time.perf_counter() - t0) * 1e3
        for _ in range(max(self.args.warmup, 1)):
            run()
        times = [run() for _ in range(self.args.reps)]
        return dict(ms=statistics.median(times), p10=percentile(times, 10), p90=percentile(times, 90),
                    min_ms=min(times), max_ms=max(times), reps=len(times),
                    tokens_per_s=L / (statistics.median(times) * 1e-3))

    @torch.inference_mode()
    def roofs(self):
        if not self.cuda:
            return dict(read_gbps=None, gemm_tflops=None, dtype="bf16", method="not measured on cpu")
        def median_event_ms(fn, reps=10):
            for _ in range(3):
                fn()
            ts = []
            for _ in range(reps):
                a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                a.record()
                fn()
                b.record()
                b.synchronize()
                ts.append(a.elapsed_time(b))
            return statistics.median(ts)
        x = torch.rand(1 << 30, dtype=torch.bfloat16, device=self.dev)  # 2 GiB, far beyond L2
        read = x.numel() * 2 / (median_event_ms(lambda: x.sum()) * 1e-3) / 1e9
        del x
        n = 8192
        a = torch.randn(n, n, dtype=torch.bfloat16, device=self.dev)
        b = torch.randn(n, n, dtype=torch.bfloat16, device=self.dev)
        tf = 2.0 * n ** 3 / (median_event_ms(lambda: a @ b) * 1e-3) / 1e12
        del a, b
        torch.cuda.empty_cache()
        return dict(read_gbps=read, gemm_tflops=tf, gemm_square_n=n, dtype="bf16",
                    method="torch: sum over a 2 GiB bf16 tensor (read-only), 8192^3 bf16 matmul on random "
                           "data; median of 10 event-timed runs after 3 warm-ups")


def cudagraph_skips():
    """How many compiled graphs inductor has run without CUDA graphs so far (its own counter)."""
    try:
        from torch._dynamo.utils import counters
        return int(counters["inductor"]["cudagraph_skips"])
    except Exception:  # a torch without the counter: unknown, reported as 0 skips
        return 0


class _Null:
    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def nvml_reader():
    """One NVML reading per point through pynvml (nvidia-ml-py) when it is installed, else None."""
    try:
        import pynvml
        pynvml.nvmlInit()
        h = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())

        def read():
            return dict(sm_clock_mhz=pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_SM),
                        mem_clock_mhz=pynvml.nvmlDeviceGetClockInfo(h, pynvml.NVML_CLOCK_MEM),
                        power_w=pynvml.nvmlDeviceGetPowerUsage(h) / 1000.0,
                        temp_c=pynvml.nvmlDeviceGetTemperature(h, pynvml.NVML_TEMPERATURE_GPU))
        read()
        return read
    except Exception:  # telemetry is optional
        return None


def write_atomic(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)


def ints(s):
    if s == "none":
        return []
    try:
        v = [int(x) for x in s.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("expected a comma-separated list of integers, got %r" % s)
    if not v or min(v) < 1:
        raise argparse.ArgumentTypeError("values must be >= 1: %r" % s)
    return v


def first_line(e):
    return (str(e).strip().split("\n") or [""])[0][:400]


def failure(e):
    """A point's error: out of memory named as such, anything else (a compile that fails) by its type."""
    if isinstance(e, torch.cuda.OutOfMemoryError):
        return "out of GPU memory: %s" % first_line(e)
    return "%s: %s" % (type(e).__name__, first_line(e))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="llama-3.1-8b", help="llama-3.1-8b (default) or tiny")
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--compile", action="store_true",
                    help="decode steps under torch.compile(mode='reduce-overhead', fullgraph=True), static cache")
    ap.add_argument("--batches", type=ints, default=None,
                    help="decode batches (default 1,4,16,64,128,256,512; --compile: 1,64,16)")
    ap.add_argument("--lengths", type=ints, default=None,
                    help="prefill lengths, or none (default 64..4096; --compile: none)")
    ap.add_argument("--input-len", type=int, default=128)
    ap.add_argument("--output-len", type=int, default=64)
    ap.add_argument("-r", "--reps", type=int, default=3, help="prefill repetitions (default 3)")
    ap.add_argument("--warmup", type=int, default=2, help="decode warm-up steps / prefill warm-up runs")
    ap.add_argument("--no-graph", action="store_true", help="eager decode steps (no CUDA graph)")
    ap.add_argument("--max-seconds", type=float, default=None,
                    help="points not started after this many seconds are recorded as skipped "
                         "(default: none; --compile: 240)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=None, help="default peer_transformers.json (--compile: peer_compile.json)")
    args = ap.parse_args()
    if args.input_len < 1 or args.output_len < 1 or args.reps < 1:
        ap.error("--input-len, --output-len and -r must be >= 1")
    if args.compile and args.no_graph:
        ap.error("--no-graph is the eager peer's; --compile replays its own CUDA graphs")
    if args.batches is None:
        args.batches = [1, 64, 16] if args.compile else [1, 4, 16, 64, 128, 256, 512]
    if args.lengths is None:
        args.lengths = [] if args.compile else [64, 128, 256, 512, 1024, 2048, 4096]
    if args.max_seconds is None and args.compile:
        args.max_seconds = 240.0
    if args.out is None:
        args.out = "peer_compile.json" if args.compile else "peer_transformers.json"

    t_start = time.perf_counter()
    run = Runner(args)
    cuda = run.cuda
    props = torch.cuda.get_device_properties(run.dev) if cuda else None
    nvml = nvml_reader() if cuda else None
    if args.compile:
        decode_method = ("median of output_len - 1 decode steps, each one call of the decode step (forward + greedy "
                         "argmax) compiled with torch.compile(mode='reduce-overhead', fullgraph=True, dynamic=False) "
                         "over a StaticCache: inductor kernels replayed as a CUDA graph, one compile per batch size "
                         "(warm-up steps compile and record it; compile_s); host clock after a sync")
        prefill_method = ("eager, not compiled (the transformers peer's forward): median of -r prefill forwards "
                          "(batch 1, no cache, last-position logits); the prompt before each decode run is prefilled "
                          "eagerly too")
    else:
        decode_method = ("median of output_len - 1 decode steps, each a CUDA-graph replay of the decode forward with "
                         "a StaticCache (eager when --no-graph), host clock after a sync")
        prefill_method = "median of -r eager prefill forwards (batch 1, no cache, last-position logits)"
    doc = {
        "schema": "ridgeline-results/1",
        "engine": "transformers+torch.compile" if args.compile else "transformers",
        "tool": {"version": "transformers %s, torch %s" % (transformers.__version__, torch.__version__),
                 "commit": None, "command": " ".join(["scripts/peer_transformers.py"] + sys.argv[1:]),
                 "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "device": {"name": props.name if cuda else "cpu", "backend": "cuda" if cuda else "cpu",
                   "cuda_runtime": torch.version.cuda if cuda else None, "sm_count": props.multi_processor_count if cuda else None,
                   "memory_gb": props.total_memory / 1e9 if cuda else None},
        "model": {"name": args.model, "params": sum(p.numel() for p in run.model.parameters()), "dtype": "bf16",
                  "weights": "random (seed %d)" % args.seed},
        "roofs": run.roofs(),
        "telemetry": None,
        "sweeps": {"input_len": args.input_len, "output_len": args.output_len, "decode_ms": decode_method,
                   "prefill_ms": prefill_method, "interrupted": False},
        "points": [],
        "kernels": [],
        "analysis": None,
    }
    write_atomic(args.out, doc)

    # SIGTERM (a `timeout` around a device call) ends the run like Ctrl-C: the finished points stay.
    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)

    decode = run.decode_point_compiled if args.compile else run.decode_point
    plan = [("decode", B) for B in args.batches] + [("prefill", L) for L in args.lengths]
    try:
        for i, (sweep, x) in enumerate(plan):
            if sweep == "decode":
                pt = {"sweep": "decode", "x": x, "batch": x, "input_len": args.input_len,
                      "output_len": args.output_len, "context": args.input_len + args.output_len // 2}
                fn, unit, label = (lambda x=x: decode(x, args.input_len, args.output_len)), "ms/step", "decode B"
            else:
                pt = {"sweep": "prefill", "x": x, "batch": 1}
                fn, unit, label = (lambda x=x: run.prefill_point(x)), "ms", "prefill L"
            elapsed = time.perf_counter() - t_start
            if args.max_seconds is not None and elapsed > args.max_seconds:
                pt.update(status="failed", error="skipped: --max-seconds %g reached (%.0f s elapsed) before this "
                                                 "point started" % (args.max_seconds, elapsed))
            else:
                try:
                    pt.update(fn(), status="ok")
                except Exception as e:  # a failed compile or OOM is data; the run goes on
                    pt.update(status="failed", error=failure(e))
                    torch._dynamo.reset()
                gc.collect()
                if cuda:
                    torch.cuda.empty_cache()
            if pt["status"] == "ok":
                msg = "%.3f %s (p10 %.3f, p90 %.3f)" % (pt["ms"], unit, pt["p10"], pt["p90"])
                if "compile_s" in pt:
                    msg += ", compile + record %.0f s" % pt["compile_s"]
                if pt.get("cudagraph_skips"):
                    msg += ", %d graph(s) ran WITHOUT CUDA graphs (see the log)" % pt["cudagraph_skips"]
            else:
                msg = "failed: " + pt["error"]
            pt["nvml"] = nvml() if nvml else None
            doc["points"].append(pt)
            write_atomic(args.out, doc)
            print("[%d/%d] %s=%d: %s (elapsed %.0f s)" % (i + 1, len(plan), label, x, msg,
                                                         time.perf_counter() - t_start), file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        doc["sweeps"]["interrupted"] = True
        write_atomic(args.out, doc)
        print("interrupted; the finished points are in %s" % args.out, file=sys.stderr)
        sys.exit(130)
    print("wrote %s" % args.out, file=sys.stderr)


if __name__ == "__main__":
    main()
