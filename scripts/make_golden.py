#!/usr/bin/env python3
"""Golden logits for the engine tests, from Hugging Face transformers (CPU is enough).

Builds small random models of every dense family the engines run, saves each as a Hugging Face
checkpoint (config.json + bf16 model.safetensors), loads it back in fp32 and writes the logits of
a fixed token sequence:

  tests/data/golden/untied/        untied lm_head, config.json in transformers-5 spelling
                                   (rope_parameters holds rope_theta and the llama3 block)
  tests/data/golden/tied/          tied embeddings (no lm_head.weight), head_dim * heads != hidden,
                                   config.json in transformers-4 spelling (rope_theta, rope_scaling)
  tests/data/golden/untied_sharded_f32/  the untied weights as F32 in several shards with
                                   model.safetensors.index.json (same logits as untied/)
  tests/data/golden/tied_f16/      the tied weights as F16 (exact: same logits as tied/)
  tests/data/golden/mistral_swa/   Mistral with sliding_window 5 < the 20-token sequence
  tests/data/golden/qwen2_bias/    Qwen2 with q/k/v biases and tied embeddings, config.json in
                                   transformers-4 spelling (no layer_types)
  tests/data/golden/qwen3_qknorm/  Qwen3 with per-head q/k RMSNorm, explicit head_dim (q dim 128 !=
                                   hidden 64), untied

Each model directory holds meta.json ({"tokens", "shape": [T, V], "logits": file, "greedy": the
greedy continuation of the tokens, ...}) and the logits as raw little-endian fp32, row-major
[T, V] (only untied/ and tied/ carry their own).

The models are loaded with from_pretrained(..., dtype=float32): casting a bf16 model to fp32
instead would keep a bf16-rounded RoPE inverse-frequency buffer and skew every position after
the first. The script checks what the tests rely on and stops if any check fails:
  - the top-2 gap of every position is well above the test's 1e-3 tolerance (a well-posed argmax),
  - dropping the llama3 scaling or the RMSNorm weights changes the logits far beyond the tolerance,
    and so does dropping what a family adds: the sliding window, the biases, the q/k norm weights,
  - both config spellings load to the same logits; the F32/F16 copies reproduce them bit for bit.

meta.json also records how far transformers' own bf16 run of the checkpoint lands from its fp32
logits (bf16_rel_diff): the scale a bf16 engine's tolerance must allow for.

Usage: scripts/make_golden.py [--out tests/data/golden] [--only NAME,...]
  (needs torch, transformers, safetensors: pip install torch transformers safetensors)
  --only rebuilds just those directories and leaves the others as they are.
"""
import argparse
import json
import math
import os
import shutil
import tempfile

import numpy as np
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import (AutoModelForCausalLM, LlamaConfig, MistralConfig, Qwen2Config, Qwen3Config)

CONFIGS = {"llama": LlamaConfig, "mistral": MistralConfig, "qwen2": Qwen2Config, "qwen3": Qwen3Config}

SEQ_LEN = 20
GREEDY_STEPS = 8  # tokens of greedy continuation stored as "greedy" (the generate test's reference)
# The smallest gap between the top two logits of a position, relative to the largest |logit|,
# that we accept: 5x the test tolerance, so rounding differences cannot flip the argmax.
MIN_TOP2_GAP = 5e-3

MODELS = {
    "untied": dict(
        family="llama", spelling="tf5",
        vocab_size=384, hidden_size=64, intermediate_size=160, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=2, head_dim=16, max_position_embeddings=256,
        rms_norm_eps=1e-5, tie_word_embeddings=False,
        rope=dict(rope_theta=10000.0, rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                  high_freq_factor=4.0, original_max_position_embeddings=32),
        embed_std=1.0, seed=1,
    ),
    "tied": dict(
        family="llama", spelling="tf4",
        vocab_size=320, hidden_size=96, intermediate_size=192, num_hidden_layers=2,
        num_attention_heads=6, num_key_value_heads=2, head_dim=24, max_position_embeddings=128,
        rms_norm_eps=1e-6, tie_word_embeddings=True,
        rope=dict(rope_theta=500000.0, rope_type="llama3", factor=4.0, low_freq_factor=1.0,
                  high_freq_factor=2.0, original_max_position_embeddings=64),
        embed_std=0.5, seed=2,
    ),
    "mistral_swa": dict(
        family="mistral", spelling="tf5", check="sliding_window",
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=3,
        num_attention_heads=4, num_key_value_heads=1, head_dim=16, max_position_embeddings=128,
        rms_norm_eps=1e-5, tie_word_embeddings=False, sliding_window=5,
        rope=dict(rope_theta=10000.0, rope_type="default"),
        embed_std=1.0, seed=3,
    ),
    "qwen2_bias": dict(
        family="qwen2", spelling="tf4", check="biases",
        vocab_size=288, hidden_size=96, intermediate_size=160, num_hidden_layers=2,
        num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=128,
        rms_norm_eps=1e-6, tie_word_embeddings=True, use_sliding_window=False,
        rope=dict(rope_theta=1000000.0, rope_type="default"),
        embed_std=0.1, bias_std=0.5, seed=4,
    ),
    "qwen3_qknorm": dict(
        family="qwen3", spelling="tf5", check="qk_norm",
        vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, head_dim=32, max_position_embeddings=128,
        rms_norm_eps=1e-6, tie_word_embeddings=False, use_sliding_window=False,
        rope=dict(rope_theta=1000000.0, rope_type="default"),
        embed_std=1.0, seed=5,
    ),
}
# Keys of a MODELS entry that are not config fields.
SCRIPT_KEYS = ("family", "spelling", "check", "rope", "embed_std", "bias_std", "seed")


def make_config(spec, rope_scaling=True, **override):
    kw = {k: v for k, v in spec.items() if k not in SCRIPT_KEYS}
    kw.update(override)
    rope = dict(spec["rope"])
    if not rope_scaling:
        rope = {"rope_theta": rope["rope_theta"], "rope_type": "default"}
    return CONFIGS[spec["family"]](rope_parameters=rope, attn_implementation="eager", **kw)


def new_model(config):
    return AutoModelForCausalLM.from_config(config, attn_implementation="eager").eval()


def init_weights(model, spec, seed):
    """Weights with unit-scale activations (HF's default std 0.02 gives near-equal logits) and
    RMSNorm weights away from 1, rounded to bf16 with tiny values flushed to zero so that the
    F16 copy is exact."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):  # also qwen3's per-head q_norm / k_norm
                v = 1.0 + 0.3 * torch.randn(p.shape, generator=g)
            elif name.endswith(".bias"):  # qwen2's q/k/v biases
                v = spec.get("bias_std", 0.5) * torch.randn(p.shape, generator=g)
            elif "embed_tokens" in name:
                v = spec["embed_std"] * torch.randn(p.shape, generator=g)
            else:  # Linear [out, in]
                v = torch.randn(p.shape, generator=g) / math.sqrt(p.shape[1])
            v = v.to(torch.bfloat16).float()
            v[v.abs() < 2.0 ** -14] = 0.0
            p.copy_(v)


def load_as(path, dtype):
    try:
        return AutoModelForCausalLM.from_pretrained(path, dtype=dtype, attn_implementation="eager").eval()
    except TypeError:  # transformers 4 spells it torch_dtype
        return AutoModelForCausalLM.from_pretrained(path, torch_dtype=dtype, attn_implementation="eager").eval()


def load_fp32(path):
    return load_as(path, torch.float32)


def logits_of(model, tokens):
    with torch.no_grad():
        return model(torch.tensor([tokens])).logits[0].float().numpy()


def greedy(model, tokens, steps):
    """Greedy continuation recomputed from scratch each step (no KV cache): the reference for the
    engines' cached decode. Stops early where the top-2 gap is too small to be well-posed."""
    seq, out, gaps = list(tokens), [], []
    for _ in range(steps):
        row = logits_of(model, seq)[-1]
        top = np.sort(row)
        gap = float((top[-1] - top[-2]) / np.abs(row).max())
        if gap < MIN_TOP2_GAP:
            break
        out.append(int(row.argmax()))
        gaps.append(gap)
        seq.append(out[-1])
    return out, (min(gaps) if gaps else None)


def rel_diff(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def top2_gap(logits):
    s = np.sort(logits, axis=1)
    return float(((s[:, -1] - s[:, -2]) / np.abs(logits).max()).min())


def to_tf4_spelling(path):
    """Rewrites config.json as transformers 4 wrote it: top-level rope_theta and rope_scaling."""
    with open(path) as f:
        cfg = json.load(f)
    rope = cfg.pop("rope_parameters")
    cfg["rope_theta"] = rope.pop("rope_theta")
    cfg["rope_scaling"] = rope
    cfg["torch_dtype"] = cfg.pop("dtype", "bfloat16")
    cfg.pop("layer_types", None)  # written from 4.53 on; older configs derive it (use_sliding_window, max_window_layers)
    with open(path, "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def save_model(model, spec, out_dir):
    """bf16 checkpoint: config.json + model.safetensors."""
    tmp = tempfile.mkdtemp()
    model.to(torch.bfloat16).save_pretrained(tmp)
    model.float()
    os.makedirs(out_dir, exist_ok=True)
    for f in ("config.json", "model.safetensors"):
        shutil.copy(os.path.join(tmp, f), os.path.join(out_dir, f))
    shutil.rmtree(tmp)
    sd = load_file(os.path.join(out_dir, "model.safetensors"))
    assert all(t.dtype == torch.bfloat16 for t in sd.values()), "checkpoint is not bf16"
    if spec["tie_word_embeddings"]:
        assert "lm_head.weight" not in sd, "tied checkpoint carries lm_head.weight"
    else:
        assert "lm_head.weight" in sd
    if spec["spelling"] == "tf4":
        to_tf4_spelling(os.path.join(out_dir, "config.json"))


def write_logits(out_dir, name, tokens, logits, extra):
    logits.astype("<f4").tofile(os.path.join(out_dir, "logits.f32"))
    meta = {
        "model": name,
        "tokens": tokens,
        "shape": list(logits.shape),
        "logits": "logits.f32",
        "format": "raw little-endian float32, row-major [tokens, vocab]",
        "made_by": "scripts/make_golden.py",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        **extra,
    }
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def write_copy_meta(out_dir, name, of, tokens, shape, what):
    with open(os.path.join(out_dir, "..", of, "meta.json")) as f:
        greedy_tokens = json.load(f)["greedy"]
    meta = {"model": name, "tokens": tokens, "shape": shape, "logits": f"../{of}/logits.f32",
            "greedy": greedy_tokens, "copy_of": of, "what": what, "made_by": "scripts/make_golden.py"}
    with open(os.path.join(out_dir, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")


def make_sharded_f32(src_dir, out_dir):
    """The same weights as F32 in shards of ~300 KB, with model.safetensors.index.json."""
    os.makedirs(out_dir, exist_ok=True)
    sd = {k: v.float().contiguous() for k, v in load_file(os.path.join(src_dir, "model.safetensors")).items()}
    shards, cur, cur_bytes = [], {}, 0
    for k in sorted(sd):
        if cur and cur_bytes + sd[k].numel() * 4 > 300_000:
            shards.append(cur)
            cur, cur_bytes = {}, 0
        cur[k] = sd[k]
        cur_bytes += sd[k].numel() * 4
    shards.append(cur)
    weight_map, total = {}, 0
    for i, sh in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        save_file(sh, os.path.join(out_dir, fname), metadata={"format": "pt"})
        for k, v in sh.items():
            weight_map[k] = fname
            total += v.numel() * 4
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(src_dir, "config.json")) as f:
        cfg = json.load(f)
    cfg["dtype"] = "float32"
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    return len(shards)


def make_f16(src_dir, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    sd = load_file(os.path.join(src_dir, "model.safetensors"))
    f16 = {k: v.to(torch.float16).contiguous() for k, v in sd.items()}
    for k in sd:
        assert torch.equal(f16[k].float(), sd[k].float()), f"{k} is not exact in float16"
    save_file(f16, os.path.join(out_dir, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(src_dir, "config.json")) as f:
        cfg = json.load(f)
    cfg["torch_dtype" if "torch_dtype" in cfg else "dtype"] = "float16"
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def build(name, spec, out_root):
    out_dir = os.path.join(out_root, name)
    rng = np.random.default_rng(spec["seed"])
    V = spec["vocab_size"]
    # Both ends of the vocabulary appear, so an off-by-one in the embedding gather shows.
    tokens = [0, V - 1] + [int(t) for t in rng.integers(1, V - 1, SEQ_LEN - 2)]
    for attempt in range(50):
        seed = spec["seed"] * 1000 + attempt
        torch.manual_seed(seed)
        model = new_model(make_config(spec))
        init_weights(model, spec, seed)
        save_model(model, spec, out_dir)
        golden = logits_of(load_fp32(out_dir), tokens)
        gap = top2_gap(golden)
        if gap >= MIN_TOP2_GAP:
            break
        print(f"{name}: weight seed {seed}: top-2 gap {gap:.2e} too small, next seed")
    else:
        raise SystemExit(f"{name}: no weight seed gave a well-posed argmax")

    # The same weights in the other config spelling and without the parts the test must catch.
    checks = {}
    model_fp32 = load_fp32(out_dir)
    sd = model_fp32.state_dict()

    def variant(config, edit=None):
        m = new_model(config)
        m.load_state_dict(sd, strict=False)
        if spec["tie_word_embeddings"]:
            m.tie_weights()
        if edit:
            with torch.no_grad():
                for n, p in m.named_parameters():
                    edit(n, p)
        return rel_diff(logits_of(m, tokens), golden)

    if spec["rope"].get("rope_type") == "llama3":
        checks["no_llama3_scaling_rel_diff"] = variant(make_config(spec, rope_scaling=False))
    checks["unit_norm_weights_rel_diff"] = variant(
        make_config(spec), lambda n, p: p.fill_(1.0) if n.endswith("layernorm.weight") or n == "model.norm.weight" else None)
    what = spec.get("check")
    if what == "sliding_window":
        checks["no_sliding_window_rel_diff"] = variant(make_config(spec, sliding_window=None))
    elif what == "biases":
        checks["zero_biases_rel_diff"] = variant(make_config(spec), lambda n, p: p.zero_() if n.endswith(".bias") else None)
    elif what == "qk_norm":
        checks["unit_qk_norm_weights_rel_diff"] = variant(
            make_config(spec), lambda n, p: p.fill_(1.0) if n.endswith(("q_norm.weight", "k_norm.weight")) else None)
    for k, v in checks.items():
        assert v > 0.05, f"{name}: {k} = {v:.3g}: the golden data would not catch that bug"

    other = tempfile.mkdtemp()
    shutil.copy(os.path.join(out_dir, "model.safetensors"), other)
    shutil.copy(os.path.join(out_dir, "config.json"), other)
    cfg_path = os.path.join(other, "config.json")
    if spec["spelling"] == "tf5":
        to_tf4_spelling(cfg_path)
    else:  # back to rope_parameters
        with open(cfg_path) as f:
            cfg = json.load(f)
        cfg["rope_parameters"] = dict(cfg.pop("rope_scaling"), rope_theta=cfg.pop("rope_theta"))
        with open(cfg_path, "w") as f:
            json.dump(cfg, f)
    checks["other_spelling_rel_diff"] = rel_diff(logits_of(load_fp32(other), tokens), golden)
    shutil.rmtree(other)
    assert checks["other_spelling_rel_diff"] == 0.0, f"{name}: the two config spellings disagree"

    greedy_tokens, greedy_gap = greedy(model_fp32, tokens, GREEDY_STEPS)
    assert len(greedy_tokens) >= 4, f"{name}: greedy continuation ill-posed after {len(greedy_tokens)} tokens"
    bf16 = rel_diff(logits_of(load_as(out_dir, torch.bfloat16), tokens), golden)
    write_logits(out_dir, name, tokens, golden,
                 {"family": spec["family"], "greedy": greedy_tokens, "greedy_top2_gap_min": greedy_gap,
                  "top2_gap_min": gap, "weight_seed": seed, "config_spelling": spec["spelling"],
                  "bf16_rel_diff": bf16, "checks": checks})
    print(f"{name}: {len(tokens)} tokens x vocab {V}, max |logit| {np.abs(golden).max():.3f}, "
          f"min top-2 gap {gap:.2e}, greedy {greedy_tokens}, transformers bf16 vs fp32 {bf16:.3g}, checks {checks}")
    return tokens, golden


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "golden"))
    ap.add_argument("--only", help="comma-separated directories to rebuild (the others stay as they are)")
    args = ap.parse_args()
    out = os.path.normpath(args.out)
    if args.only:
        only = args.only.split(",")
        unknown = [n for n in only if n not in MODELS]
        if unknown:
            raise SystemExit(f"--only: unknown {unknown} (known: {', '.join(MODELS)})")
        for name in only:
            shutil.rmtree(os.path.join(out, name), ignore_errors=True)
            build(name, MODELS[name], out)
        return
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    results = {name: build(name, spec, out) for name, spec in MODELS.items()}

    tokens, golden = results["untied"]
    d = os.path.join(out, "untied_sharded_f32")
    n = make_sharded_f32(os.path.join(out, "untied"), d)
    diff = rel_diff(logits_of(load_fp32(d), tokens), golden)
    assert diff == 0.0, f"sharded F32 copy differs ({diff})"
    write_copy_meta(d, "untied_sharded_f32", "untied", tokens, list(golden.shape), f"F32 weights in {n} shards")
    print(f"untied_sharded_f32: {n} shards, logits identical to untied")

    tokens, golden = results["tied"]
    d = os.path.join(out, "tied_f16")
    make_f16(os.path.join(out, "tied"), d)
    diff = rel_diff(logits_of(load_fp32(d), tokens), golden)
    assert diff == 0.0, f"F16 copy differs ({diff})"
    write_copy_meta(d, "tied_f16", "tied", tokens, list(golden.shape), "F16 weights (exact copy of the bf16 values)")
    print("tied_f16: logits identical to tied")

    total = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(out) for f in fs)
    print(f"golden data: {total / 1e6:.2f} MB in {out}")


if __name__ == "__main__":
    main()
