/* test_cuda_tp.c: the tensor-parallel CUDA engine (src/engine/cuda/tp.cu) against the single-GPU
 * engine and transformers. World size 1 always runs (one GPU: the sharded layout, the partial sums
 * with their reduce call sites, add_rmsnorm, the vocabulary-split argmax with its candidate pick);
 * N = 2, 4, 8 where that many GPUs are visible (else it says it skipped them), for every model the
 * degree splits (heads, KV heads, an MLP of 16-byte rows).
 *  - every golden checkpoint: prefill logits at all positions within TOL of transformers and of the
 *    single-GPU engine; prefill of half the prompt then token-by-token decode likewise; the greedy
 *    tokens the group hands out are the argmax of the logits it returns (the candidates' reduction
 *    over the vocabulary slices); a batch of 3 copies gives each sequence the batch-1 logits;
 *  - random weights (`tiny`: 2 KV heads, replicated on 4 and 8 GPUs): every shard holds its block of
 *    the single-GPU engine's values, so the logits of 8 decode steps match it within TOL and the
 *    greedy tokens agree wherever the top-2 margin is clear.
 * TOL = 2e-2 of max|logit| as in test_cuda_golden.c: the TP path rounds the o_proj and down_proj
 * outputs to bf16 before the residual add (the single-GPU engine accumulates them in fp32) and sums
 * them in another order: a few bf16 ulps, never percents.
 * NCCL for N > 1: the engine's default (libnccl.so.2 on the loader path, then the library CMake
 * found at configure time). Exits 77 (skipped) without a CUDA GPU. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "golden.h"
#include "model/config.h"
#include "model/tp.h"

#define TOL 2e-2

static const char *data_dir;
static int n_gpus;

static double compare(const float *got, const float *want, int64_t rows, int64_t V, int64_t *bad_row)
{
    return golden_compare_tol(got, want, rows, V, TOL, bad_row);
}

/* 1 when the engine can split m over n GPUs (else the reason is printed). */
static int splits(const rl_model_config *m, int n, const char *name)
{
    rl_err err;
    if (n > n_gpus) return 0;
    if (rl_tp_check(m, n, &err)) {
        printf("%-20s TP%d skipped: %s\n", name, n, err.msg);
        return 0;
    }
    if ((m->intermediate / n) % 8) {
        printf("%-20s TP%d skipped: intermediate %lld / %d is not a multiple of 8\n", name, n, (long long)m->intermediate, n);
        return 0;
    }
    return 1;
}

static rl_engine *make(const rl_model_config *m, const char *dir, int tp, int64_t batch, int64_t ctx)
{
    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .weights_dir = dir, .seed = 5, .max_batch = batch,
                        .max_context = ctx, .quiet = 1, .tp = tp};
    rl_engine *e = NULL;
    rl_err err;
    CHECK(rl_engine_create(m, &o, &e, &err) == 0, "TP%d: %s", tp, err.msg);
    return e;
}

/* Prefill logits at all positions, then half the prompt and token-by-token decode (logits and the
 * tokens the engine hands out), then a batch of 3 copies: into all [T][V], dec [T][V], b3 [3][V]. */
static void run(rl_engine *e, const int32_t *tok, int64_t T, int64_t V, float *all, float *dec, float *b3,
                const char *what)
{
    rl_err err;
    const int64_t half = T / 2;
    CHECK(rl_engine_prefill(e, 1, T, tok, all, 1, &err) == 0, "%s: %s", what, err.msg);
    CHECK(rl_engine_prefill(e, 1, half, tok, dec + (half - 1) * V, 0, &err) == 0, "%s: %s", what, err.msg);
    for (int64_t p = half; p < T; p++) {
        int32_t next = -1;
        CHECK(rl_engine_decode(e, &tok[p], dec + p * V, &next, &err) == 0, "%s: %s", what, err.msg);
        CHECK(next == golden_argmax(dec + p * V, V), "%s: step %lld hands out token %d, the logits' argmax is %lld",
              what, (long long)p, next, (long long)golden_argmax(dec + p * V, V));
    }
    int32_t *tok3 = malloc(sizeof *tok3 * (size_t)(3 * T));
    for (int b = 0; tok3 && b < 3; b++) memcpy(tok3 + b * T, tok, sizeof *tok * (size_t)T);
    CHECK(tok3 && rl_engine_prefill(e, 3, T, tok3, b3, 0, &err) == 0, "%s: batch 3: %s", what, err.msg);
    free(tok3);
}

static void expect_close(const float *got, const float *want, int64_t rows, int64_t V, const char *what, const char *vs)
{
    int64_t bad;
    const double rel = compare(got, want, rows, V, &bad);
    printf("  %-44s vs %-12s max|diff|/max|logit| = %.3g\n", what, vs, rel);
    CHECK(rel <= TOL, "%s: differs from %s by %.3g of max|logit| (tolerance %g)", what, vs, rel, TOL);
    CHECK(bad < 0, "%s: argmax differs from %s at row %lld", what, vs, (long long)bad);
}

static void test_golden(const char *name)
{
    golden g;
    rl_model_config m;
    rl_err err;
    if (golden_load_model(data_dir, name, &g, &m, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    const int64_t T = g.n_tokens, V = g.vocab, half = T / 2;
    float *ref = calloc((size_t)(T * V), sizeof *ref), *ref_dec = calloc((size_t)(T * V), sizeof *ref_dec);
    float *ref3 = calloc((size_t)(3 * V), sizeof *ref3);
    float *all = calloc((size_t)(T * V), sizeof *all), *dec = calloc((size_t)(T * V), sizeof *dec);
    float *b3 = calloc((size_t)(3 * V), sizeof *b3);
    rl_engine *one = make(&m, g.dir, 0, 3, T);
    if (one) run(one, g.tokens, T, V, ref, ref_dec, ref3, "single-GPU engine");
    rl_engine_destroy(one);
    for (int n = 1; n <= 8 && one; n *= 2) {
        if (!splits(&m, n, name)) continue;
        char what[96];
        rl_engine *e = make(&m, g.dir, n, 3, T);
        if (!e) continue;
        snprintf(what, sizeof what, "%s TP%d", name, n);
        run(e, g.tokens, T, V, all, dec, b3, what);
        rl_engine_destroy(e);
        snprintf(what, sizeof what, "%s TP%d prefill", name, n);
        expect_close(all, g.logits, T, V, what, "transformers");
        expect_close(all, ref, T, V, what, "one GPU");
        snprintf(what, sizeof what, "%s TP%d decode", name, n);
        expect_close(dec + (half - 1) * V, g.logits + (half - 1) * V, T - half + 1, V, what, "transformers");
        expect_close(dec + (half - 1) * V, ref_dec + (half - 1) * V, T - half + 1, V, what, "one GPU");
        for (int b = 0; b < 3; b++) {
            snprintf(what, sizeof what, "%s TP%d batch-3 sequence %d", name, n, b);
            expect_close(b3 + b * V, all + (T - 1) * V, 1, V, what, "batch 1");
            expect_close(b3 + b * V, ref3 + b * V, 1, V, what, "one GPU batch 3");
        }
    }
    free(ref), free(ref_dec), free(ref3), free(all), free(dec), free(b3);
    golden_free(&g);
}

/* Random weights: 8 decode steps at batch 2 after a 24-token prefill, logits and tokens. */
static void decode_run(rl_engine *e, int64_t V, float *logits, int32_t *tokens)
{
    rl_err err;
    int32_t prompt[48], tok[2];
    for (int i = 0; i < 48; i++) prompt[i] = (int32_t)((i * 2654435761u) % (uint32_t)V);
    CHECK(rl_engine_prefill(e, 2, 24, prompt, NULL, 0, &err) == 0, "%s", err.msg);
    tok[0] = prompt[23], tok[1] = prompt[47];
    for (int s = 0; s < 8; s++) {
        CHECK(rl_engine_decode(e, tok, logits + s * 2 * V, tokens + s * 2, &err) == 0, "%s", err.msg);
        tok[0] = tokens[s * 2], tok[1] = tokens[s * 2 + 1];
    }
}

static void test_random(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    const int64_t V = m.vocab;
    float *ref = calloc((size_t)(16 * V), sizeof *ref), *got = calloc((size_t)(16 * V), sizeof *got);
    int32_t ref_tok[16], got_tok[16];
    rl_engine *one = make(&m, NULL, 0, 2, 64);
    if (one) decode_run(one, V, ref, ref_tok);
    rl_engine_destroy(one);
    for (int n = 1; n <= 8 && one; n *= 2) {
        if (!splits(&m, n, "tiny (random)")) continue;
        rl_engine *e = make(&m, NULL, n, 2, 64);
        if (!e) continue;
        decode_run(e, V, got, got_tok);
        rl_engine_destroy(e);
        char what[64];
        snprintf(what, sizeof what, "tiny random TP%d, 8 decode steps", n);
        /* The tokens feed the next step: the rows compare while both runs chose the same tokens. */
        int same = 16;
        for (int i = 0; i < 16; i++)
            if (got_tok[i] != ref_tok[i]) {
                same = i / 2 * 2 + 2;
                break;
            }
        expect_close(got, ref, same, V, what, "one GPU");
    }
    free(ref), free(got);
}

int main(int argc, char **argv)
{
    if (!rl_cuda_available()) {
        printf("skipped: no CUDA GPU (or a CPU-only build); this test needs the CUDA engine\n");
        return 77;
    }
    data_dir = argc > 1 ? argv[1] : "tests/data";
    n_gpus = rl_cuda_gpus();
    if (n_gpus < 8)
        printf("%d GPU(s) visible: world size 1%s; TP %s skipped (not enough GPUs)\n", n_gpus,
               n_gpus >= 2 ? (n_gpus >= 4 ? ", 2 and 4" : " and 2") : "",
               n_gpus >= 4 ? "8" : n_gpus >= 2 ? "4 and 8" : "2, 4 and 8");
    char names[GOLDEN_MAX_MODELS][64];
    rl_err err;
    const int n = golden_list(data_dir, names, &err);
    CHECK(n > 0, "%s", err.msg);
    for (int i = 0; i < n; i++) test_golden(names[i]);
    test_random();
    return CHECK_DONE();
}
