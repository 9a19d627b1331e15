/* test_cuda_golden.c: the CUDA engine against transformers' fp32 logits (scripts/make_golden.py)
 * for every golden checkpoint:
 *  - full prefill (all positions) within TOL of the largest |logit|;
 *  - same argmax wherever transformers' top-2 margin exceeds 2 * TOL * max|logit| (where the
 *    margin is smaller, a bf16 rounding may legitimately swap the top two);
 *  - prefill of the first half then token-by-token decode gives the same rows (KV-cache path);
 *  - a batch of 3 copies of the prompt gives every sequence the batch-1 logits.
 * Every directory under tests/data/golden runs (Llama tied/untied/f16/sharded, Mistral with a
 * sliding window of 5 < the 20 tokens, Qwen2 with q/k/v biases, Qwen3 with q/k norm).
 * Why TOL = 2e-2: the engine stores weights and activations in bf16 (8 significant bits, relative
 * rounding 2^-9 = 0.2%) with fp32 accumulation; a handful of roundings per layer leave logit errors
 * of a few tenths of a percent of max|logit|. transformers' own bf16 run of the same checkpoints
 * lands about 1% from its fp32 logits on the CPU (meta.json bf16_rel_diff) and 1.9-3.1% on the GPU
 * (measured on the H200 in the second round): a bf16 engine cannot be held much below that; ours keeps the residual
 * stream and accumulators in fp32, so 2% keeps headroom over its rounding while a real bug moves
 * logits by tens of percent (RoPE pairing, causal mask, GQA mapping, a wrong scale; and, per the
 * golden self-checks, no sliding window 111%, no biases 139%, unit q/k norm weights 25%).
 * Exits 77 (skipped) without a CUDA GPU. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "golden.h"
#include "model/config.h"

#define TOL 2e-2

static const char *data_dir;

/* Max |got - want| / max |want| over rows; *bad_row: first row whose argmax differs where the
 * reference's top-2 margin is clear (> 2 * TOL * max|want|), -1 if none. */
static double compare(const float *got, const float *want, int64_t rows, int64_t V, int64_t *bad_row)
{
    return golden_compare_tol(got, want, rows, V, TOL, bad_row);
}

static void test_model(const char *name)
{
    golden g;
    rl_model_config m;
    rl_err err;
    if (golden_load_model(data_dir, name, &g, &m, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const int64_t T = g.n_tokens, V = g.vocab, half = T / 2;
    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .weights_dir = g.dir, .max_batch = 3, .max_context = T, .quiet = 1};
    rl_engine *e = NULL;
    float *all = calloc((size_t)(T * V), sizeof *all), *dec = calloc((size_t)(T * V), sizeof *dec);
    float *b3 = calloc((size_t)(3 * V), sizeof *b3);
    int32_t *tok3 = calloc((size_t)(3 * T), sizeof *tok3);
    if (rl_engine_create(&m, &o, &e, &err)) {
        CHECK(0, "%s: %s", name, err.msg);
        goto out;
    }
    int64_t bad;
    CHECK(rl_engine_prefill(e, 1, T, g.tokens, all, 1, &err) == 0, "%s", err.msg);
    double rel = compare(all, g.logits, T, V, &bad);
    printf("%-20s prefill %2lld tokens: max|diff|/max|logit| = %.3g\n", name, (long long)T, rel);
    CHECK(rel <= TOL, "%s: prefill logits differ from transformers by %.3g of max|logit| (tolerance %g)", name, rel,
          TOL);
    CHECK(bad < 0, "%s: prefill argmax differs from transformers at position %lld", name, (long long)bad);

    /* KV-cache path: prefill half, then decode the rest one token at a time. */
    CHECK(rl_engine_prefill(e, 1, half, g.tokens, dec + (half - 1) * V, 0, &err) == 0, "%s", err.msg);
    for (int64_t p = half; p < T; p++)
        CHECK(rl_engine_decode(e, &g.tokens[p], dec + p * V, NULL, &err) == 0, "%s", err.msg);
    rel = compare(dec + (half - 1) * V, g.logits + (half - 1) * V, T - half + 1, V, &bad);
    printf("%-20s decode  %2lld steps : max|diff|/max|logit| = %.3g\n", name, (long long)(T - half), rel);
    CHECK(rel <= TOL, "%s: decode logits differ from transformers by %.3g (tolerance %g)", name, rel, TOL);
    CHECK(bad < 0, "%s: decode argmax differs at row %lld", name, (long long)bad);

    /* Batch of 3 identical prompts: each sequence sees the batch-1 last-position logits. */
    for (int b = 0; b < 3; b++) memcpy(tok3 + b * T, g.tokens, sizeof(int32_t) * T);
    CHECK(rl_engine_prefill(e, 3, T, tok3, b3, 0, &err) == 0, "%s", err.msg);
    for (int b = 0; b < 3; b++) {
        rel = compare(b3 + b * V, all + (T - 1) * V, 1, V, &bad);
        CHECK(rel <= TOL && bad < 0, "%s: batch-3 sequence %d differs from batch 1 by %.3g", name, b, rel);
    }
out:
    rl_engine_destroy(e);
    free(all), free(dec), free(b3), free(tok3);
    golden_free(&g);
}

int main(int argc, char **argv)
{
    if (!rl_cuda_available()) {
        printf("skipped: no CUDA GPU (or a CPU-only build); this test needs the CUDA engine\n");
        return 77;
    }
    data_dir = argc > 1 ? argv[1] : "tests/data";
    char names[GOLDEN_MAX_MODELS][64];
    rl_err err;
    const int n = golden_list(data_dir, names, &err);
    CHECK(n > 0, "%s", err.msg);
    for (int i = 0; i < n; i++) test_model(names[i]);
    return CHECK_DONE();
}
