/* test_cuda_consistency.c: the CUDA engine agrees with itself across its paths, with random
 * weights (generated on the GPU from a seed), on two geometries: the `tiny` preset (head_dim 32)
 * and a small head_dim-128 model (the shape of Llama's heads: on Hopper it runs the wgmma/TMA
 * attention and every projection through gemm_stream):
 *  - incremental decode (KV cache, projection kernels, split-KV attention) == full prefill
 *    (cuBLASLt or gemm_stream, flash attention) at every position;
 *  - batched decode: each of 4 sequences == the same sequence run alone at batch 1;
 *  - chunked prefill (chunk_tokens = 64: prompts split across passes, one prompt split by
 *    position) == one-pass prefill, all positions;
 *  - two engines from the same seed give bit-identical logits (deterministic init and kernels);
 *  - fill_context (random K/V in place of a prefill) gives finite logits read from each slot's own
 *    cache, independent of the batch.
 * Decode and batching run with the engine's timed kernel picks, with our kernels forced wherever
 * they apply, with cuBLASLt forced, and on the portable sm_80 code path (on a Hopper GPU: the
 * mma.sync GEMV and attention that A100 and L40S run).
 * Tolerance: max |diff| <= TOL * max|logit| with TOL = 2e-2, and equal argmax wherever the top-2
 * margin exceeds 2 * TOL * max|logit|. The paths round different intermediates to bf16 (e.g. our
 * kernels apply SiLU to fp32 accumulators, the cuBLASLt path to bf16 outputs; flash attention
 * rounds P to bf16), so they differ by a few bf16 ulps (~0.2% each), never by 2%.
 * Exits 77 (skipped) without a CUDA GPU. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "golden.h"
#include "model/config.h"

#define TOL 2e-2

static rl_model_config m;
static rl_cuda_tuning tuning; /* the knobs of the engines the current case creates */

static double compare(const float *got, const float *want, int64_t rows, int64_t V, int64_t *bad_row)
{
    return golden_compare_tol(got, want, rows, V, TOL, bad_row);
}

static rl_engine *engine(int64_t batch, int64_t context, uint64_t seed)
{
    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .seed = seed, .max_batch = batch, .max_context = context,
                        .quiet = 1, .cuda = tuning};
    rl_engine *e = NULL;
    rl_err err;
    CHECK(rl_engine_create(&m, &o, &e, &err) == 0, "%s", err.msg);
    return e;
}

static void fill_tokens(int32_t *t, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)m.vocab);
    }
}

static void test_decode_vs_prefill(const char *label)
{
    const int64_t L = 40, P = 8, V = m.vocab;
    rl_err err;
    int32_t tok[40];
    fill_tokens(tok, L, 11);
    float *full = calloc((size_t)(L * V), sizeof *full), *inc = calloc((size_t)(L * V), sizeof *inc);
    rl_engine *e = engine(1, L, 7);
    if (!e) goto out;
    CHECK(rl_engine_prefill(e, 1, L, tok, full, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(e, 1, P, tok, inc + (P - 1) * V, 0, &err) == 0, "%s", err.msg);
    for (int64_t p = P; p < L; p++) CHECK(rl_engine_decode(e, &tok[p], inc + p * V, NULL, &err) == 0, "%s", err.msg);
    int64_t bad;
    const double rel = compare(inc + (P - 1) * V, full + (P - 1) * V, L - P + 1, V, &bad);
    printf("decode vs prefill (%s), %lld positions: max|diff|/max|logit| = %.3g\n", label, (long long)(L - P + 1),
           rel);
    CHECK(rel <= TOL, "incremental decode differs from full prefill by %.3g of max|logit| (tolerance %g)", rel, TOL);
    CHECK(bad < 0, "incremental decode argmax differs at position %lld", (long long)(bad + P - 1));
out:
    rl_engine_destroy(e);
    free(full), free(inc);
}

static void test_batch_vs_single(const char *label)
{
    enum { B = 4, L = 12, STEPS = 10 };
    const int64_t V = m.vocab;
    rl_err err;
    int32_t prompts[B * L], forced[STEPS][B];
    fill_tokens(prompts, B * L, 23);
    fill_tokens(&forced[0][0], STEPS * B, 29);
    float *batched = calloc((size_t)(STEPS * B * V), sizeof *batched), *single = calloc((size_t)(STEPS * V), sizeof *single);
    float *pre = calloc((size_t)(B * V), sizeof *pre);
    rl_engine *e = engine(B, L + STEPS, 7);
    if (!e) goto out;
    CHECK(rl_engine_prefill(e, B, L, prompts, pre, 0, &err) == 0, "%s", err.msg);
    for (int s = 0; s < STEPS; s++)
        CHECK(rl_engine_decode(e, forced[s], batched + (int64_t)s * B * V, NULL, &err) == 0, "%s", err.msg);
    double worst = 0;
    for (int b = 0; b < B; b++) {
        CHECK(rl_engine_prefill(e, 1, L, prompts + b * L, single, 0, &err) == 0, "%s", err.msg);
        int64_t bad;
        double rel = compare(pre + b * V, single, 1, V, &bad);
        CHECK(rel <= TOL && bad < 0, "prefill: batch-%d sequence %d differs from batch 1 by %.3g", B, b, rel);
        for (int s = 0; s < STEPS; s++) {
            CHECK(rl_engine_decode(e, &forced[s][b], single + s * V, NULL, &err) == 0, "%s", err.msg);
            rel = compare(single + s * V, batched + ((int64_t)s * B + b) * V, 1, V, &bad);
            if (rel > worst) worst = rel;
            CHECK(rel <= TOL && bad < 0, "decode step %d: batch-%d sequence %d differs from batch 1 by %.3g", s, B, b,
                  rel);
        }
    }
    printf("batch %d vs batch 1 (%s), %d steps: worst max|diff|/max|logit| = %.3g\n", B, label, STEPS, worst);
out:
    rl_engine_destroy(e);
    free(batched), free(single), free(pre);
}

/* fill_context (random K/V in place of a prefill, here 1000 tokens: split-KV attention) and the step
 * after it: finite logits; each slot reads its own cache (two rows of one token differ); slot 0's
 * fill does not depend on the batch; another seed changes the logits; the position is the context. */
static void test_fill_context(const char *label)
{
    enum { MAXC = 1100, C = 1000 };
    const int64_t V = m.vocab;
    rl_err err;
    int32_t tok[2] = {7, 7};
    float *two = calloc((size_t)(2 * V), sizeof *two), *one = calloc((size_t)V, sizeof *one),
          *other = calloc((size_t)V, sizeof *other);
    rl_engine *e = engine(2, MAXC, 7);
    if (!e) goto out;
    CHECK(rl_engine_fill_context(e, 2, C, 5, &err) == 0 && rl_engine_decode(e, tok, two, NULL, &err) == 0, "%s",
          err.msg);
    int finite = 1;
    for (int64_t i = 0; i < 2 * V; i++) finite &= isfinite(two[i]) != 0;
    CHECK(finite, "decode after fill_context (%s): non-finite logits", label);
    int64_t bad;
    CHECK(compare(two + V, two, 1, V, &bad) > TOL / 10, "fill_context (%s): two slots give one row", label);
    CHECK(rl_engine_fill_context(e, 1, C, 5, &err) == 0 && rl_engine_decode(e, tok, one, NULL, &err) == 0, "%s",
          err.msg);
    const double rel = compare(one, two, 1, V, &bad);
    printf("fill_context (%s), context %d: slot 0 at batch 1 vs batch 2: max|diff|/max|logit| = %.3g\n", label, C, rel);
    CHECK(rel <= TOL && bad < 0, "fill_context (%s): slot 0 at batch 1 differs from batch 2 by %.3g", label, rel);
    CHECK(rl_engine_fill_context(e, 1, C, 6, &err) == 0 && rl_engine_decode(e, tok, other, NULL, &err) == 0, "%s",
          err.msg);
    CHECK(compare(other, one, 1, V, &bad) > TOL / 10, "fill_context (%s): another seed, the same logits", label);
    CHECK(rl_engine_fill_context(e, 1, MAXC - 1, 5, &err) == 0 && rl_engine_decode(e, tok, NULL, NULL, &err) == 0,
          "%s", err.msg);
    CHECK(rl_engine_decode(e, tok, NULL, NULL, &err) != 0, "fill_context (%s): a full cache took another step", label);
out:
    rl_engine_destroy(e);
    free(two), free(one), free(other);
}

static void test_chunked_prefill(void)
{
    enum { B = 3, L = 40, L1 = 100 };
    const int64_t V = m.vocab;
    rl_err err;
    int32_t tok[B * L1];
    fill_tokens(tok, B * L1, 31);
    float *ref = calloc((size_t)(B * L1 * V), sizeof *ref), *got = calloc((size_t)(B * L1 * V), sizeof *got);
    int64_t bad;
    rl_engine *e = engine(B, L1, 5);
    tuning.chunk_tokens = 64;
    rl_engine *c = engine(B, L1, 5);
    tuning.chunk_tokens = 0;
    if (!e || !c) goto out;
    /* 3 prompts of 40: one prompt per 64-token pass */
    CHECK(rl_engine_prefill(e, B, L, tok, ref, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(c, B, L, tok, got, 1, &err) == 0, "%s", err.msg);
    double rel = compare(got, ref, B * L, V, &bad);
    printf("prefill %dx%d in 64-token passes vs one pass: %.3g\n", B, L, rel);
    CHECK(rel <= TOL && bad < 0, "chunked prefill (whole prompts) differs by %.3g (row %lld)", rel, (long long)bad);
    /* one prompt of 100: positions 0..63 then 64..99, attention reads the first pass from the cache */
    CHECK(rl_engine_prefill(e, 1, L1, tok, ref, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(c, 1, L1, tok, got, 1, &err) == 0, "%s", err.msg);
    rel = compare(got, ref, L1, V, &bad);
    printf("prefill 1x%d in 64-token passes vs one pass: %.3g\n", L1, rel);
    CHECK(rel <= TOL && bad < 0, "chunked prefill (split prompt) differs by %.3g (row %lld)", rel, (long long)bad);
    /* same seed, same work: bit-identical */
    CHECK(rl_engine_prefill(e, 1, L1, tok, got, 1, &err) == 0, "%s", err.msg);
    CHECK(memcmp(got, ref, sizeof(float) * L1 * V) == 0, "repeated prefill is not bit-identical");
out:
    rl_engine_destroy(e);
    rl_engine_destroy(c);
    free(ref), free(got);
}

static void run_geometry(const char *name)
{
    const struct {
        const char *label;
        rl_cuda_tuning t;
    } paths[] = {
        {"timed picks", {0}},
        {"our kernels forced", {.linear = RL_LINEAR_OWN}},
        {"cuBLASLt forced", {.linear = RL_LINEAR_CUBLASLT}},
        {"portable sm_80 path", {.portable = 1}},
        {"portable sm_80 path, GEMV forced", {.portable = 1, .linear = RL_LINEAR_OWN}},
    };
    printf("-- %s: hidden %lld, heads %lld / %lld, head_dim %lld\n", name, (long long)m.hidden, (long long)m.heads,
           (long long)m.kv_heads, (long long)m.head_dim);
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        char label[96];
        snprintf(label, sizeof label, "%s, %s", name, paths[i].label);
        tuning = paths[i].t;
        test_decode_vs_prefill(label);
        test_batch_vs_single(label);
    }
    tuning = (rl_cuda_tuning){0};
    test_fill_context(name);
    test_chunked_prefill();
    tuning.portable = 1;
    test_chunked_prefill();
    tuning = (rl_cuda_tuning){0};
}

int main(void)
{
    if (!rl_cuda_available()) {
        printf("skipped: no CUDA GPU (or a CPU-only build); this test needs the CUDA engine\n");
        return 77;
    }
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    run_geometry("tiny");
    /* head_dim 128 (Llama's), GQA 2, K = 512: every Hopper kernel applies */
    m.hidden = 512, m.intermediate = 1024, m.heads = 4, m.kv_heads = 2, m.head_dim = 128, m.layers = 2, m.vocab = 2048;
    run_geometry("head_dim 128");
    return CHECK_DONE();
}
