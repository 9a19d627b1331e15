/* test_predict.c: GPU table ridges, model geometry and the cost model against hand numbers. */
#include <string.h>

#include "check.h"
#include "hw/gpu.h"
#include "model/config.h"
#include "predict/predict.h"

static const char *data_dir;

static void test_ridges(void)
{
    rl_gpu_table t;
    rl_err err;
    CHECK(rl_gpu_table_load(NULL, &t, &err) == 0, "%s", err.msg);
    struct { const char *name; double ridge; } seed[] = {{"H200", 206}, {"H100", 295}, {"A100-PCIe", 161}, {"L40S", 419}};
    for (int i = 0; i < 4; i++) {
        const rl_gpu *g = rl_gpu_find(&t, seed[i].name, &err);
        CHECK(g != NULL, "%s", err.msg);
        if (g) CHECK(fabs(rl_gpu_ridge(g, RL_DT_BF16) - seed[i].ridge) < 0.5, "%s ridge %.2f", seed[i].name,
                     rl_gpu_ridge(g, RL_DT_BF16));
    }
    CHECK(rl_gpu_find(&t, "a100 pcie", &err) != NULL, "case/separator-insensitive lookup");
    CHECK(rl_gpu_find(&t, "nope-9000", &err) == NULL, "unknown GPU must fail");
    CHECK(strstr(err.msg, "H200") && strstr(err.msg, "L40S"), "error lists known names: %s", err.msg);
    const rl_gpu *a100 = rl_gpu_find(&t, "A100-PCIe", &err);
    CHECK(a100 && a100->peak_tflops[RL_DT_FP8] == 0 && rl_gpu_ridge(a100, RL_DT_FP8) == 0, "A100 has no fp8");
    const char *names[] = {"H200", "H100", "H100-PCIe", "A100-PCIe", "A100-SXM", "L40S", "L4", "RTX-4090", "B200"};
    for (int i = 0; i < 9; i++) CHECK(rl_gpu_find(&t, names[i], &err) != NULL, "table has %s", names[i]);
    CHECK(rl_gpu_match_device(&t, "NVIDIA H100 80GB HBM3") == rl_gpu_find(&t, "H100", &err), "driver name H100 SXM");
    CHECK(rl_gpu_match_device(&t, "NVIDIA H100 PCIe") == rl_gpu_find(&t, "H100-PCIe", &err), "driver name H100 PCIe");
    CHECK(rl_gpu_match_device(&t, "NVIDIA H200") == rl_gpu_find(&t, "H200", &err), "driver name H200");
    rl_gpu_table_free(&t);

    char path[1024];
    snprintf(path, sizeof path, "%s/configs/gpus_extra.json", data_dir);
    CHECK(rl_gpu_table_load(path, &t, &err) == 0, "%s", err.msg);
    const rl_gpu *mi = rl_gpu_find(&t, "mi300x", &err);
    CHECK(mi && fabs(rl_gpu_ridge(mi, RL_DT_BF16) - 1307.4e12 / 5300e9) < 1e-9, "gpu-file adds a GPU");
    const rl_gpu *h = rl_gpu_find(&t, "H100", &err);
    CHECK(h && h->bandwidth_gbps == 3000, "gpu-file overrides a GPU");
    rl_gpu_table_free(&t);
}

static void test_model(void)
{
    rl_model_config m, f;
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);
    CHECK(rl_model_param_count(&m) == 8030261248LL, "8B params %lld", (long long)rl_model_param_count(&m));
    CHECK(rl_model_kv_bytes_per_token(&m, 2) == 131072, "KV 128 KiB/token");
    char path[1024];
    snprintf(path, sizeof path, "%s/configs/llama31_8b_tf4.json", data_dir);
    CHECK(rl_model_from_config_json(path, &f, &err) == 0, "%s", err.msg);
    CHECK(rl_model_param_count(&f) == 8030261248LL, "config.json params");
    CHECK(f.rope_llama3 && f.rope_factor == 8 && f.rope_low_freq_factor == 1 && f.rope_high_freq_factor == 4 &&
              f.rope_original_max_positions == 8192 && f.rope_theta == 500000,
          "transformers-4 rope_scaling");
    CHECK(f.kv_heads == 8 && f.head_dim == 128 && !f.tied_embeddings && !strcmp(f.dtype, "bfloat16"), "fields");

    snprintf(path, sizeof path, "%s/configs/llama32_1b_tf5.json", data_dir);
    CHECK(rl_model_from_config_json(path, &f, &err) == 0, "%s", err.msg);
    CHECK(f.tied_embeddings && f.head_dim == 64 && f.rope_llama3 && f.rope_factor == 32 && f.rope_theta == 500000,
          "transformers-5 rope_parameters + tied");
    rl_model_config p;
    rl_model_preset("llama-3.2-1b", &p, &err);
    CHECK(rl_model_param_count(&f) == rl_model_param_count(&p), "1B preset matches its config.json");
    CHECK(rl_model_param_count(&p) == 1235814400LL, "Llama-3.2-1B params %lld", (long long)rl_model_param_count(&p));

    snprintf(path, sizeof path, "%s/configs/mistral_7b.json", data_dir);
    CHECK(rl_model_from_config_json(path, &f, &err) == 0, "%s", err.msg);
    CHECK(f.sliding_window == 4096 && f.head_dim == 128 && !f.rope_llama3 && f.rope_theta == 10000, "mistral");
    CHECK(rl_model_param_count(&f) == 7241732096LL, "Mistral-7B params %lld", (long long)rl_model_param_count(&f));

    const char *bad[][2] = {{"bad_missing_hidden.json", "hidden_size"}, {"bad_type.json", "hidden_size"},
                            {"bad_gqa.json", "num_key_value_heads"},   {"bad_rope.json", "yarn"},
                            {"bad_arch.json", "model_type"},           {"bad_truncated.json", "malformed JSON"},
                            {"does_not_exist.json", "cannot open"}};
    for (int i = 0; i < 7; i++) {
        snprintf(path, sizeof path, "%s/configs/%s", data_dir, bad[i][0]);
        err.msg[0] = 0;
        CHECK(rl_model_from_config_json(path, &f, &err) != 0, "%s must fail", bad[i][0]);
        CHECK(strstr(err.msg, bad[i][1]) && strstr(err.msg, bad[i][0]), "%s: message names file and '%s': %s", bad[i][0],
              bad[i][1], err.msg);
    }
    CHECK(rl_model_resolve("llama-9000", &f, &err) != 0 && strstr(err.msg, "llama-3.1-8b"), "unknown model lists presets");
}

static void test_cost(void)
{
    rl_model_config m;
    rl_err err;
    rl_model_preset("llama-3.1-8b", &m, &err);
    rl_gpu_table t;
    rl_gpu_table_load(NULL, &t, &err);
    rl_roofs h100;
    rl_roofs_from_gpu(rl_gpu_find(&t, "H100", &err), RL_DT_BF16, &h100, &err);

    rl_workload w = rl_workload_decode(1, 160);
    rl_cost c;
    rl_prediction p;
    rl_cost_step(&m, &w, &c);
    rl_predict(&c, &h100, &p);
    CHECK_REL(c.total_bytes, 15.03e9, 0.01, "decode B=1 C=160 bytes");
    CHECK(!p.compute_bound_total, "decode B=1 memory-bound");
    CHECK_REL(p.total_ms, 15.03e9 / 3350e9 * 1e3, 0.02, "decode B=1 time ~ bytes/bw");
    /* The weights are everything but the embedding table (only B rows gathered). */
    double weights = 2.0 * (double)(rl_model_param_count(&m) - rl_model_embedding_params(&m));
    CHECK_REL(weights, 15.01e9, 0.001, "weights read per step");
    /* Decode attention: KV of 161 tokens for one sequence, 128 KiB each. */
    CHECK_REL(c.bytes[RL_OP_ATTENTION], 161.0 * 131072 + 2.0 * 2 * 4096 * 32, 1e-9, "GQA KV read bytes");
    CHECK_REL(c.bytes[RL_OP_KV_WRITE], 2.0 * 2 * 1024 * 2 * 32, 1e-9, "KV write bytes (read+write)");

    w = rl_workload_prefill(1, 4096);
    rl_cost_step(&m, &w, &c);
    rl_predict(&c, &h100, &p);
    CHECK_REL(c.total_flops, 6.16e13, 0.02, "prefill L=4096 FLOPs");
    CHECK(p.compute_bound_total, "prefill L=4096 compute-bound");
    CHECK_REL(c.flops[RL_OP_LM_HEAD], 2.0 * 4096 * 128256, 1e-12, "lm_head on the last position only");

    /* Tied embeddings: the one matrix is read once, as lm_head; untied reads lm_head too but the
     * embedding table is only gathered: weight bytes differ by nothing at decode, params by V*H. */
    rl_model_config tied = m, untied = m;
    tied.tied_embeddings = 1;
    CHECK(rl_model_param_count(&untied) - rl_model_param_count(&tied) == rl_model_embedding_params(&m),
          "tied counted once, untied twice");
    rl_cost ct, cu;
    w = rl_workload_decode(1, 160);
    rl_cost_step(&tied, &w, &ct);
    rl_cost_step(&untied, &w, &cu);
    CHECK(ct.bytes[RL_OP_LM_HEAD] == cu.bytes[RL_OP_LM_HEAD], "lm_head matrix read once either way");

    /* GQA: KV bytes scale with kv_heads, not heads. */
    rl_model_config mha = m;
    mha.kv_heads = mha.heads;
    rl_cost cm;
    rl_cost_step(&mha, &w, &cm);
    CHECK_REL(cm.bytes[RL_OP_KV_WRITE], 4.0 * c.bytes[RL_OP_KV_WRITE] / 4.0 * 1, 10.0, "sanity");
    rl_cost_step(&m, &w, &c);
    CHECK_REL(cm.bytes[RL_OP_ATTENTION] - 2.0 * 2 * 4096 * 32, 4.0 * (c.bytes[RL_OP_ATTENTION] - 2.0 * 2 * 4096 * 32),
              1e-9, "MHA reads 4x the KV of GQA-4");

    /* Crossings: decode at context 160 and prefill, datasheet H100. */
    int64_t xb = rl_predict_crossing(&m, RL_PHASE_DECODE, 160, &h100, 1 << 20);
    int64_t xl = rl_predict_crossing(&m, RL_PHASE_PREFILL, 0, &h100, 1 << 20);
    /* Above 295: lm_head runs for one position only and activations add bytes. */
    CHECK(xl > 295 && xl < 450, "prefill crossing just above the ridge (295): %lld", (long long)xl);
    CHECK(xb == 0 || xb > 295, "decode crossing beyond the ridge (attention adds bytes): %lld", (long long)xb);
    w = rl_workload_prefill(1, xl);
    rl_cost_step(&m, &w, &c);
    rl_predict(&c, &h100, &p);
    CHECK(p.compute_bound_total, "crossing length is compute-bound");
    w = rl_workload_prefill(1, xl - 1);
    rl_cost_step(&m, &w, &c);
    rl_predict(&c, &h100, &p);
    CHECK(!p.compute_bound_total, "crossing length - 1 is memory-bound");
    rl_gpu_table_free(&t);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_ridges();
    test_model();
    test_cost();
    return CHECK_DONE();
}
