/* test_cuda_llama8b.c: Llama-3.1-8B geometry on the GPU with random weights.
 *  - 64 greedy decode steps at batch 1 and at batch 64 (prompt 16): every logit finite, the
 *    logits not constant, greedy tokens inside the vocabulary;
 *  - the same after fill_context at the lab's longest context (batch 1, 32768 tokens of random
 *    K/V in place of a prefill: split-KV attention over the whole cache), 8 steps;
 *  - the batch-512 x context-192 plan fits in weights + KV cache + 2 GB of workspace;
 *  - an impossible request (batch 100000 x context 192) fails before allocating, with the
 *    out-of-memory message and its numbers, instead of crashing.
 * Needs ~20 GB of GPU memory; exits 77 (skipped) without a CUDA GPU. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "model/config.h"

static rl_model_config m;

/* A prompt of 16 tokens prefilled (fill_context 0) or fill_context tokens of random K/V, then steps
 * greedy decode steps. */
static void run_batch(rl_engine *e, int64_t B, int64_t fill_context, int steps)
{
    enum { PROMPT = 16 };
    const int64_t V = m.vocab;
    rl_err err;
    int32_t *tok = malloc(sizeof(int32_t) * B * PROMPT), *next = malloc(sizeof(int32_t) * B);
    float *logits = malloc(sizeof(float) * B * V);
    for (int64_t i = 0; i < B * PROMPT; i++) tok[i] = (int32_t)((i * 7919 + 13) % V);
    if (fill_context)
        CHECK(rl_engine_fill_context(e, B, fill_context, 3, &err) == 0, "batch %lld fill_context %lld: %s",
              (long long)B, (long long)fill_context, err.msg);
    else
        CHECK(rl_engine_prefill(e, B, PROMPT, tok, logits, 0, &err) == 0, "batch %lld prefill: %s", (long long)B,
              err.msg);
    for (int64_t b = 0; b < B; b++) next[b] = (int32_t)((b * 31 + 5) % V);
    int64_t nonfinite = 0, flat_rows = 0, bad_tokens = 0;
    for (int s = 0; s < steps; s++) {
        if (rl_engine_decode(e, next, logits, next, &err)) {
            CHECK(0, "batch %lld step %d: %s", (long long)B, s, err.msg);
            break;
        }
        for (int64_t b = 0; b < B; b++) {
            const float *row = logits + b * V;
            float lo = row[0], hi = row[0];
            for (int64_t v = 0; v < V; v++) {
                if (!isfinite(row[v])) nonfinite++;
                lo = row[v] < lo ? row[v] : lo;
                hi = row[v] > hi ? row[v] : hi;
            }
            if (!(hi > lo)) flat_rows++;
            if (next[b] < 0 || next[b] >= V) bad_tokens++;
        }
    }
    printf("llama-3.1-8b batch %lld, context %lld: %d steps, %lld non-finite logits, %lld flat rows\n", (long long)B,
           (long long)(fill_context ? fill_context : PROMPT), steps, (long long)nonfinite, (long long)flat_rows);
    CHECK(nonfinite == 0, "batch %lld: %lld non-finite logits", (long long)B, (long long)nonfinite);
    CHECK(flat_rows == 0, "batch %lld: %lld rows of constant logits", (long long)B, (long long)flat_rows);
    CHECK(bad_tokens == 0, "batch %lld: %lld greedy tokens outside the vocabulary", (long long)B, (long long)bad_tokens);
    free(tok), free(next), free(logits);
}

int main(void)
{
    if (!rl_cuda_available()) {
        printf("skipped: no CUDA GPU (or a CPU-only build); this test needs the CUDA engine\n");
        return 77;
    }
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);

    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .seed = 1, .max_batch = 64, .max_context = 80, .quiet = 1};
    rl_engine *e = NULL;
    CHECK(rl_engine_create(&m, &o, &e, &err) == 0, "%s", err.msg);
    if (e) {
        run_batch(e, 1, 0, 64);
        run_batch(e, 64, 0, 64);
        rl_engine_destroy(e);
    }

    /* the lab's longest context point, sized as the lab sizes it (no prefill workspace) */
    o.max_batch = 1, o.max_context = 32768 + 32, o.max_prefill = 1;
    e = NULL;
    CHECK(rl_engine_create(&m, &o, &e, &err) == 0, "batch 1 x context %lld: %s", (long long)o.max_context, err.msg);
    if (e) {
        run_batch(e, 1, 32768, 8);
        rl_engine_destroy(e);
    }

    /* the lab's largest decode point fits in weights + KV + 2 GB */
    o.max_batch = 512, o.max_context = 192, o.max_prefill = 0;
    e = NULL;
    CHECK(rl_engine_create(&m, &o, &e, &err) == 0, "batch 512 x 192: %s", err.msg);
    if (e) {
        int64_t w = 0, kv = 0, ws = 0;
        e->ops->memory(e->state, &w, &kv, &ws);
        printf("batch 512 x context 192: weights %.2f GB, KV %.2f GB, workspace %.2f GB\n", w / 1e9, kv / 1e9, ws / 1e9);
        CHECK(kv == 2LL * 32 * 512 * 8 * 192 * 128 * 2, "KV cache bytes %lld", (long long)kv);
        CHECK(ws <= 2000000000LL, "workspace %.2f GB exceeds 2 GB", ws / 1e9);
        rl_engine_destroy(e);
    }

    /* an impossible request fails cleanly, naming the numbers */
    o.max_batch = 100000, o.max_context = 192;
    e = NULL;
    CHECK(rl_engine_create(&m, &o, &e, &err) != 0, "batch 100000 x 192 must not fit");
    CHECK(e == NULL, "no engine on failure");
    CHECK(strstr(err.msg, "out of GPU memory") && strstr(err.msg, "GB free"), "message: %s", err.msg);
    printf("batch 100000: %s\n", err.msg);
    return CHECK_DONE();
}
