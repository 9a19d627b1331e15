/* test_predict_models.c: the model-spec table and the cost model for every family, precision and
 * tensor-parallel case, each against arithmetic written out here independently of predict.c:
 *  - parameter counts of Qwen2.5-7B, Qwen3-8B, Mixtral-8x7B, Qwen3-30B-A3B (config.json in the
 *    transformers 4 and 5 spellings = presets), the ops of each family's step, the tensor table;
 *  - qwen2 biases, qwen3 q/k norm, mistral / qwen2 sliding windows per layer, MoE expected experts
 *    (decode bytes) and k experts per token (prefill FLOPs);
 *  - fp8 / int8 (one bf16 scale per output channel), int4 (0.5 + 2/128 bytes per weight) weights,
 *    fp8 KV, the matmul roof of each precision, a dtype the GPU lacks;
 *  - TP: per-GPU weights, KV (replicated KV heads), two all-reduces per layer with bandwidth and
 *    latency terms, the communication-bound case, bad --tp values. */
#include <math.h>
#include <string.h>

#include "check.h"
#include "hw/gpu.h"
#include "model/config.h"
#include "model/spec.h"
#include "predict/predict.h"

static const char *data_dir;

static rl_model_config load(const char *file)
{
    char path[1024];
    rl_model_config m;
    rl_err err;
    snprintf(path, sizeof path, "%s/configs/%s", data_dir, file);
    memset(&m, 0, sizeof m);
    CHECK(rl_model_from_config_json(path, &m, &err) == 0, "%s", err.msg);
    return m;
}

static rl_model_config preset(const char *name)
{
    rl_model_config m;
    rl_err err;
    memset(&m, 0, sizeof m);
    CHECK(rl_model_preset(name, &m, &err) == 0, "%s", err.msg);
    return m;
}

static rl_roofs roofs(const char *gpu, rl_dtype matmul, rl_dtype other)
{
    rl_gpu_table t;
    rl_err err;
    rl_roofs r;
    memset(&r, 0, sizeof r);
    CHECK(rl_gpu_table_load(NULL, &t, &err) == 0, "%s", err.msg);
    const rl_gpu *g = rl_gpu_find(&t, gpu, &err);
    CHECK(g && rl_roofs_from_gpu_prec(g, matmul, other, "--weight-dtype", &r, &err) == 0, "%s roofs", gpu);
    rl_gpu_table_free(&t);
    return r;
}

static void test_param_counts(void)
{
    struct { const char *file, *preset; int64_t params; } c[] = {
        {"qwen25_7b_tf4.json", "qwen2.5-7b", 7615616512LL},
        {"qwen3_8b_tf5.json", "qwen3-8b", 8190735360LL},
        {"mixtral_8x7b_tf4.json", "mixtral-8x7b", 46702792704LL},
        {"qwen3_30b_a3b_tf5.json", "qwen3-30b-a3b", 30532122624LL},
        {"mistral_7b.json", "mistral-7b", 7241732096LL},
    };
    for (int i = 0; i < 5; i++) {
        rl_model_config f = load(c[i].file), p = preset(c[i].preset);
        CHECK(rl_model_param_count(&f) == c[i].params, "%s: %lld params, want %lld", c[i].file,
              (long long)rl_model_param_count(&f), (long long)c[i].params);
        CHECK(rl_model_param_count(&p) == c[i].params, "preset %s params", c[i].preset);
    }
    /* Qwen2.5-7B by hand: untied embeddings, per layer q,k,v with biases, o, three MLP matrices, two norms. */
    const int64_t H = 3584, I = 18944, V = 152064, Q = 3584, K = 512;
    const int64_t layer = Q * H + 2 * K * H + (Q + 2 * K) + H * Q + 3 * H * I + 2 * H;
    CHECK(2 * V * H + 28 * layer + H == 7615616512LL, "Qwen2.5-7B arithmetic");
    /* Mixtral active: 2 of 8 experts per layer. */
    rl_model_config mx = preset("mixtral-8x7b");
    const int64_t expert = 3LL * 4096 * 14336;
    CHECK(rl_model_active_param_count(&mx) == 46702792704LL - 32 * 6 * expert, "Mixtral active params %lld",
          (long long)rl_model_active_param_count(&mx));
    /* The family flags and fields. */
    rl_model_config q2 = load("qwen25_7b_tf4.json"), q3 = load("qwen3_8b_tf5.json");
    CHECK(q2.qkv_bias && !q2.qk_norm && q2.sliding_window == 0 && q2.family == RL_FAMILY_QWEN2,
          "qwen2: biases, no window (use_sliding_window false)");
    CHECK(q3.qk_norm && !q3.qkv_bias && q3.head_dim == 128 && q3.rope_theta == 1e6 && !q3.tied_embeddings,
          "qwen3: q/k norm, head_dim, rope_parameters");
    rl_model_config moe = load("qwen3_moe_mixed.json");
    CHECK(moe.experts == 8 && moe.experts_per_token == 2 && moe.moe_intermediate == 32, "qwen3_moe fields");
    CHECK(!moe.moe_layer[0] && moe.moe_layer[1] && !moe.moe_layer[2] && moe.moe_layer[3] && !moe.moe_layer[4] &&
              !moe.moe_layer[5],
          "decoder_sparse_step 2 and mlp_only_layers [5]: MoE in layers 1 and 3 only");
    /* Mixed model: dense layers I = 256, MoE layers 8 experts of 32 plus a router. */
    const int64_t attn = 64 * 64 + 2 * 32 * 64 + 64 * 64 + 2 * 16 + 2 * 64;
    const int64_t dense = 3 * 64 * 256, sparse = 8 * 3 * 64 * 32 + 8 * 64;
    CHECK(rl_model_param_count(&moe) == 1000 * 64 + 64 + 6 * attn + 4 * dense + 2 * sparse, "mixed MoE params %lld",
          (long long)rl_model_param_count(&moe));
}

static void test_spec(void)
{
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    char name[192];
    rl_model_config q2 = preset("qwen2.5-7b"), q3 = preset("qwen3-8b"), mx = preset("mixtral-8x7b");
    int n = rl_spec_tensors(&q2, 3, t);
    const rl_tensor_spec *bk = rl_spec_find(t, n, RL_T_BK);
    CHECK(bk && bk->rows == 512 && bk->cols == 0 && bk->op == RL_OP_QKV_BIAS, "qwen2 k bias [512]");
    rl_spec_name(bk, 3, 0, name, sizeof name);
    CHECK(!strcmp(name, "model.layers.3.self_attn.k_proj.bias"), "bias name %s", name);
    CHECK(rl_spec_stacks_on(bk - 1, bk) && !rl_spec_stacks_on(rl_spec_find(t, n, RL_T_WV), rl_spec_find(t, n, RL_T_BQ)),
          "biases stack together, not onto the matrices");
    n = rl_spec_tensors(&q3, 0, t);
    const rl_tensor_spec *kn = rl_spec_find(t, n, RL_T_K_NORM);
    CHECK(kn && kn->rows == 128 && kn->op == RL_OP_QK_NORM && !rl_spec_find(t, n, RL_T_BQ), "qwen3 k_norm [128]");
    n = rl_spec_tensors(&mx, 31, t);
    const rl_tensor_spec *w2 = rl_spec_find(t, n, RL_T_EXPERT_DOWN);
    CHECK(w2 && w2->experts == 8 && w2->rows == 4096 && w2->cols == 14336, "mixtral w2 [4096, 14336] x8");
    rl_spec_name(w2, 31, 7, name, sizeof name);
    CHECK(!strcmp(name, "model.layers.31.block_sparse_moe.experts.7.w2.weight"), "expert name %s", name);
    CHECK(!rl_spec_find(t, n, RL_T_W_GATE), "no dense MLP in an MoE layer");
    n = rl_spec_tensors(&q3, RL_SPEC_GLOBAL, t);
    CHECK(!rl_spec_find(t, n, RL_T_LM_HEAD)->tied, "qwen3-8b: untied lm_head");
    rl_model_config l1 = preset("llama-3.2-1b");
    n = rl_spec_tensors(&l1, RL_SPEC_GLOBAL, t);
    const rl_tensor_spec *lm = rl_spec_find(t, n, RL_T_LM_HEAD);
    CHECK(lm->tied && lm->optional && rl_spec_stored_elems(lm) == 0, "tied lm_head: optional, no storage");
    CHECK(rl_spec_ignorable("model.layers.0.self_attn.rotary_emb.inv_freq") && !rl_spec_ignorable("lm_head.weight"),
          "inv_freq buffers are ignorable");

    /* The ops of a step. */
    const unsigned base = rl_spec_step_ops(&l1);
    CHECK(!(base & (RL_OPMASK(RL_OP_QKV_BIAS) | RL_OPMASK(RL_OP_QK_NORM) | RL_OPMASK(RL_OP_ROUTER))),
          "llama: no bias, q/k norm or router");
    CHECK(rl_spec_step_ops(&q2) == (base | RL_OPMASK(RL_OP_QKV_BIAS)), "qwen2 adds qkv_bias");
    CHECK(rl_spec_step_ops(&q3) == (base | RL_OPMASK(RL_OP_QK_NORM)), "qwen3 adds qk_norm");
    CHECK(rl_spec_step_ops(&mx) == (base | RL_OPMASK(RL_OP_ROUTER)), "mixtral adds the router");
}

static void test_families_cost(void)
{
    const rl_roofs h100 = roofs("H100", RL_DT_BF16, RL_DT_BF16);
    rl_cost c;
    rl_prediction p;
    /* Qwen2.5-7B decode B=1, C=160: the bias op reads q|k|v and the biases, writes q|k|v. */
    rl_model_config q2 = preset("qwen2.5-7b");
    rl_workload w = rl_workload_decode(1, 160);
    rl_cost_step(&q2, &w, &c);
    CHECK_REL(c.bytes[RL_OP_QKV_BIAS], 28.0 * (4608 * 2 + 2 * 4608 * 2), 1e-12, "qwen2 bias bytes");
    CHECK_REL(c.flops[RL_OP_QKV_BIAS], 28.0 * 4608, 1e-12, "qwen2 bias flops");
    /* Weights read: everything but the embedding (gathered), in bf16. */
    double wsum = 0;
    for (int op = 0; op < RL_OP_COUNT; op++) wsum += c.bytes[op];
    const double weights = 2.0 * (7615616512.0 - 152064.0 * 3584);
    CHECK(c.total_bytes > weights && c.total_bytes < weights * 1.002, "qwen2 decode bytes %.4g ~ weights %.4g",
          c.total_bytes, weights);
    CHECK_REL(wsum, c.total_bytes, 1e-12, "total = sum of ops");
    CHECK_REL(c.bytes[RL_OP_ATTENTION], 28.0 * (161 * 2 * 512 * 2 + 3584 * 2 * 2), 1e-12, "qwen2 KV read");

    /* Qwen3-8B: per-head q/k RMSNorm over Q + K elements. */
    rl_model_config q3 = preset("qwen3-8b");
    rl_cost_step(&q3, &w, &c);
    CHECK_REL(c.flops[RL_OP_QK_NORM], 36.0 * 4 * (4096 + 1024), 1e-12, "qwen3 qk_norm flops");
    CHECK_REL(c.bytes[RL_OP_QK_NORM], 36.0 * (2 * 128 * 2 + 2 * (4096 + 1024) * 2), 1e-12, "qwen3 qk_norm bytes");
    CHECK(c.flops[RL_OP_QKV_BIAS] == 0 && c.flops[RL_OP_ROUTER] == 0, "qwen3: no bias, no router");

    /* Mistral: the window caps decode KV at 4096 tokens and prefill pairs at W(W+1)/2 + (L-W)W. */
    rl_model_config mi = preset("mistral-7b");
    w = rl_workload_decode(3, 9000);
    rl_cost_step(&mi, &w, &c);
    CHECK_REL(c.bytes[RL_OP_ATTENTION], 32.0 * (3 * 4096.0 * 2 * 1024 * 2 + 3 * 4096 * 2 * 2), 1e-12,
              "mistral decode KV capped at the window");
    CHECK_REL(c.kv_cache_bytes, 3 * 4096.0 * 32 * 2 * 1024 * 2, 1e-12, "mistral holds the window's KV");
    CHECK_REL(c.weight_resident_bytes, 2.0 * 7241732096, 1e-12, "mistral resident weights = 2 x params");
    w = rl_workload_prefill(1, 8000);
    rl_cost_step(&mi, &w, &c);
    const double pairs = 4096.0 * 4097 / 2 + (8000.0 - 4096) * 4096;
    CHECK_REL(c.flops[RL_OP_ATTENTION], 32.0 * (4 * 32 * 128 + 5 * 32) * pairs, 1e-12, "mistral windowed prefill");
    /* Qwen2 with use_sliding_window from max_window_layers 2 of 4: two full layers, two windowed. */
    rl_model_config qw = load("qwen2_windowed_tf4.json");
    CHECK(qw.sliding_window == 32 && !qw.window_layer[1] && qw.window_layer[2] && qw.window_layer[3],
          "qwen2 windows from max_window_layers on");
    w = rl_workload_prefill(1, 100);
    rl_cost_step(&qw, &w, &c);
    const double full = 100.0 * 101 / 2, win = 32.0 * 33 / 2 + (100.0 - 32) * 32, per_pair = 4 * 4 * 16 + 5 * 4;
    CHECK_REL(c.flops[RL_OP_ATTENTION], per_pair * (2 * full + 2 * win), 1e-12, "per-layer windows");

    /* Mixtral decode: a batch of B tokens touches 8 (1 - (1 - 2/8)^B) experts per layer. */
    rl_model_config mx = preset("mixtral-8x7b");
    const double H = 4096, I = 14336, a = 2;
    const int64_t batches[] = {1, 4, 64};
    for (int i = 0; i < 3; i++) {
        const double B = (double)batches[i], touched = 8 * (1 - pow(0.75, B));
        w = rl_workload_decode(batches[i], 160);
        rl_cost_step(&mx, &w, &c);
        CHECK_REL(c.bytes[RL_OP_GATE_UP], 32 * (touched * 2 * I * H * 2 + B * 2 * H * a + 2 * B * 2 * I * a), 1e-12,
                  "mixtral gate_up bytes");
        CHECK_REL(c.bytes[RL_OP_DOWN],
                  32 * (touched * H * I * 2 + B * 2 * I * a + B * 2 * H * a + 2 * B * H * a), 1e-12,
                  "mixtral down bytes");
        CHECK_REL(c.bytes[RL_OP_ROUTER], 32 * (8 * H * 2 + B * H * a + B * 8 * a), 1e-12, "router bytes");
    }
    CHECK_REL(c.weight_resident_bytes, 2.0 * 46702792704, 1e-12, "mixtral holds every expert");
    CHECK_REL(rl_moe_expected_experts(8, 2, 1), 2, 1e-12, "one token: k experts");
    CHECK(rl_moe_expected_experts(128, 8, 4096) > 127.99, "a long prefill touches every expert");
    /* Prefill: FLOPs count the k experts of every token. */
    w = rl_workload_prefill(1, 1000);
    rl_cost_step(&mx, &w, &c);
    CHECK_REL(c.flops[RL_OP_GATE_UP], 32 * 2 * 1000.0 * 2 * H * 2 * I, 1e-12, "mixtral prefill k experts per token");
    rl_predict(&c, &h100, &p);
    CHECK(!p.compute_bound_total, "mixtral prefill 1000: every expert read for 2 of 8 used: still memory-bound");
    w = rl_workload_prefill(1, 4096);
    rl_cost_step(&mx, &w, &c);
    rl_predict(&c, &h100, &p);
    CHECK(p.compute_bound_total, "mixtral prefill 4096 compute-bound");
}

static void test_precision(void)
{
    rl_model_config m = preset("llama-3.1-8b");
    const double H = 4096, QK = 4096 + 2 * 1024, V = 128256, N = 32;
    rl_workload w = rl_workload_decode(1, 160);
    rl_cost bf, c;
    rl_cost_step(&m, &w, &bf);
    /* fp8 weights: 1 byte per weight + a bf16 scale per output row. */
    rl_workload_set_formats(&w, RL_FMT_FP8, RL_FMT_BF16);
    rl_cost_step(&m, &w, &c);
    CHECK_REL(c.bytes[RL_OP_QKV], N * (QK * H + QK * 2 + H * 2 + QK * 2), 1e-12, "fp8 qkv bytes");
    CHECK_REL(c.bytes[RL_OP_LM_HEAD], V * H + V * 2 + H * 2 + V * 4, 1e-12, "fp8 lm_head bytes");
    CHECK_REL(c.bytes[RL_OP_ATTENTION], bf.bytes[RL_OP_ATTENTION], 1e-12, "bf16 KV unchanged");
    CHECK(c.flops[RL_OP_QKV] == bf.flops[RL_OP_QKV], "same FLOPs");
    /* int8: the same bytes as fp8. */
    rl_workload w8 = w;
    rl_workload_set_formats(&w8, RL_FMT_INT8, RL_FMT_BF16);
    rl_cost c8;
    rl_cost_step(&m, &w8, &c8);
    CHECK(c8.total_bytes == c.total_bytes, "int8 weights = fp8 bytes");
    /* int4: 0.5 + 2/128 bytes per weight. */
    rl_workload_set_formats(&w, RL_FMT_INT4, RL_FMT_BF16);
    rl_cost_step(&m, &w, &c);
    CHECK_REL(c.bytes[RL_OP_GATE_UP], N * (2 * 14336 * H * (0.5 + 2.0 / 128) + H * 2 + 2 * 14336 * 2), 1e-12,
              "int4 gate_up bytes");
    CHECK(c.total_bytes < 0.3 * bf.total_bytes, "int4 step reads < 30%% of bf16 (%.3g vs %.3g)", c.total_bytes,
          bf.total_bytes);
    /* fp8 KV: one byte per element. */
    rl_workload_set_formats(&w, RL_FMT_BF16, RL_FMT_FP8);
    rl_cost_step(&m, &w, &c);
    CHECK_REL(c.bytes[RL_OP_ATTENTION], N * (161 * 2 * 1024 * 1 + H * 2 * 2), 1e-12, "fp8 KV read");
    CHECK_REL(c.bytes[RL_OP_KV_WRITE], N * (2 * 1024 * 2 + 2 * 1024 * 1), 1e-12, "fp8 KV write");

    /* The matmul roof follows the weights: fp8 / int8 tensor cores, int4 dequantised to bf16. */
    CHECK(rl_format_compute_dtype(RL_FMT_FP8) == RL_DT_FP8 && rl_format_compute_dtype(RL_FMT_INT8) == RL_DT_INT8 &&
              rl_format_compute_dtype(RL_FMT_INT4) == RL_DT_BF16,
          "compute dtypes");
    const rl_roofs r8 = roofs("H100", RL_DT_FP8, RL_DT_BF16);
    CHECK(r8.peak_tflops == 1979 && r8.other_peak_tflops == 989, "H100 fp8 matmuls, bf16 attention");
    rl_workload wp = rl_workload_prefill(1, 4096);
    rl_workload_set_formats(&wp, RL_FMT_FP8, RL_FMT_BF16);
    rl_prediction p;
    rl_cost_step(&m, &wp, &c);
    rl_predict(&c, &r8, &p);
    CHECK_REL(p.time_ms[RL_OP_QKV], 1e3 * c.flops[RL_OP_QKV] / 1979e12, 1e-12, "prefill qkv at the fp8 peak");
    CHECK_REL(p.time_ms[RL_OP_ATTENTION], 1e3 * c.flops[RL_OP_ATTENTION] / 989e12, 1e-12, "attention at bf16");
    CHECK_REL(p.ridge, 1979e12 / 3350e9, 1e-12, "fp8 ridge");
    /* The GPU table: int8 peaks and ridges per precision. */
    rl_gpu_table t;
    rl_err err;
    rl_gpu_table_load(NULL, &t, &err);
    const rl_gpu *a100 = rl_gpu_find(&t, "A100-PCIe", &err);
    CHECK(a100 && a100->peak_tflops[RL_DT_INT8] == 624 && fabs(rl_gpu_ridge(a100, RL_DT_INT8) - 624e12 / 1935e9) < 1e-9,
          "A100 int8 ridge");
    rl_roofs r;
    err.msg[0] = 0;
    CHECK(rl_roofs_from_gpu_prec(a100, RL_DT_FP8, RL_DT_BF16, "--weight-dtype", &r, &err) != 0 &&
              strstr(err.msg, "--weight-dtype fp8") && strstr(err.msg, "peak_tflops.fp8") && strstr(err.msg, "A100"),
          "fp8 on A100 refused, naming the field: %s", err.msg);
    const rl_gpu *h200 = rl_gpu_find(&t, "H200", &err);
    CHECK(h200 && h200->link_gbps == 450 && h200->allreduce_us == 10, "H200 NVLink 450 GB/s, 10 us");
    rl_gpu_table_free(&t);
    /* Measured roofs: an fp8 matmul roof needs its own field. */
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/roofs_fp8.json", data_dir);
    CHECK(rl_roofs_load_prec(path, RL_DT_FP8, &r, &err) == 0 && r.peak_tflops == 1500 && r.other_peak_tflops == 700 &&
              r.link_gbps == 400,
          "gemm_tflops_fp8 from a roofs file: %s", err.msg);
    CHECK(rl_roofs_load_prec(path, RL_DT_INT8, &r, &err) != 0 && strstr(err.msg, "gemm_tflops_int8"),
          "missing gemm_tflops_int8 named: %s", err.msg);
}

static void test_tp(void)
{
    rl_model_config m = preset("llama-3.1-70b");
    const rl_roofs r = roofs("H200", RL_DT_BF16, RL_DT_BF16);
    rl_workload w1 = rl_workload_decode(1, 160), w8 = w1;
    w8.tp = 8;
    rl_cost c1, c8;
    rl_prediction p1, p8;
    rl_cost_step(&m, &w1, &c1);
    rl_cost_step(&m, &w8, &c8);
    rl_predict(&c1, &r, &p1);
    rl_predict(&c8, &r, &p8);
    const double H = 8192, I = 28672, N = 80;
    /* Per GPU: 8 of 64 heads, 1 of 8 KV heads, I/8, V/8. */
    CHECK_REL(c8.bytes[RL_OP_QKV], N * ((1024 + 256) * H * 2 + H * 2 + (1024 + 256) * 2), 1e-12, "TP8 qkv bytes");
    CHECK_REL(c8.bytes[RL_OP_DOWN], N * (H * I / 8 * 2 + I / 8 * 2 + 2 * H * 2), 1e-12, "TP8 down bytes");
    CHECK_REL(c8.bytes[RL_OP_ATTENTION], N * (161 * 2 * 128 * 2 + 1024 * 2 * 2), 1e-12, "TP8 KV per GPU");
    CHECK_REL(c8.flops[RL_OP_LM_HEAD], 2 * H * 128256 / 8, 1e-12, "TP8 lm_head vocab split");
    CHECK_REL(c8.flops[RL_OP_ATTN_NORM], c1.flops[RL_OP_ATTN_NORM], 1e-12, "norms replicated");
    /* Two all-reduces per layer of 1 x 8192 bf16: a ring sends 2 (N-1)/N of it. */
    CHECK(c8.collectives == 160 && c1.collectives == 0 && c1.comm_bytes == 0, "160 all-reduces at TP8, none at TP1");
    const double VH = 128256.0 * H;
    CHECK_REL(c8.weight_resident_bytes, 2 * (VH + (70553706496.0 - 2 * VH - N * 2 * H - H) / 8 + VH / 8 + N * 2 * H + H),
              1e-12, "TP8 shard: embedding and norms replicated, the rest / 8");
    CHECK_REL(c8.comm_bytes, 160 * 2 * 7.0 / 8 * H * 2, 1e-12, "TP8 comm bytes");
    CHECK_REL(p8.comm_ms, 160 * 0.010 + 1e3 * c8.comm_bytes / 450e9, 1e-12, "comm_ms = latency + bytes / link");
    rl_cost c8_alone = c8; /* the same step without its all-reduces */
    c8_alone.collectives = 0, c8_alone.comm_bytes = 0;
    rl_prediction p8_alone;
    rl_predict(&c8_alone, &r, &p8_alone);
    CHECK(p8_alone.comm_ms == 0, "no all-reduces, no communication time");
    CHECK_REL(p8.total_ms, p8_alone.total_ms + p8.comm_ms, 1e-12, "step adds the all-reduces");
    CHECK(p8.memory_ms < p1.memory_ms / 7.5 && p8.memory_ms > p1.memory_ms / 8.5, "weights per GPU ~ 1/8");
    CHECK(p8.comm_ms > 0.35 * p8.memory_ms, "70B TP8 B=1: all-reduce latency rivals the weight read (%.3f vs %.3f ms)",
          p8.comm_ms, p8.memory_ms);
    CHECK(p8.bound == RL_BOUND_MEMORY, "70B TP8 B=1 still memory-bound");
    /* A small model at high TP is communication-bound. */
    rl_model_config s = preset("llama-3.2-1b");
    rl_cost cs;
    rl_prediction ps;
    rl_cost_step(&s, &w8, &cs);
    rl_predict(&cs, &r, &ps);
    CHECK(ps.bound == RL_BOUND_COMM && !strcmp(rl_bound_names[ps.bound], "communication"),
          "1B at TP8 B=1: communication-bound (comm %.3f ms, memory %.3f ms)", ps.comm_ms, ps.memory_ms);
    /* Fewer KV heads than GPUs: each GPU keeps one (replicated). */
    rl_model_config l8 = preset("llama-3.1-8b");
    rl_workload w16 = w1;
    w16.tp = 16;
    rl_err err;
    CHECK(rl_workload_check(&l8, &w16, &err) == 0, "8 KV heads over 16 GPUs: replicated: %s", err.msg);
    rl_cost_step(&l8, &w16, &cs);
    CHECK_REL(cs.bytes[RL_OP_KV_WRITE], 32.0 * (2 * 128 * 2 + 2 * 128 * 2), 1e-12, "one KV head per GPU");
    /* Splits that do not divide. */
    rl_workload w3 = w1;
    w3.tp = 3;
    err.msg[0] = 0;
    CHECK(rl_workload_check(&m, &w3, &err) != 0 && strstr(err.msg, "--tp 3") && strstr(err.msg, "num_attention_heads"),
          "TP3 on 64 heads refused: %s", err.msg);
    rl_model_config q2 = preset("qwen2.5-7b");
    w3.tp = 8;
    CHECK(rl_workload_check(&q2, &w3, &err) != 0 && strstr(err.msg, "--tp 8"), "28 heads over 8 GPUs: %s", err.msg);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_param_counts();
    test_spec();
    test_families_cost();
    test_precision();
    test_tp();
    return CHECK_DONE();
}
