/* test_kv_consistency_cpu.c: the KV cache and batching change no result. On a golden checkpoint
 * and on the random-weight tiny preset:
 *   - prefill of the first k tokens then one decode step per remaining token gives the logits of
 *     one full prefill (for several k);
 *   - B sequences prefilled and decoded together give each sequence's batch-1 logits, also when
 *     the prefill is longer than one workspace chunk (rows cross chunk and sequence boundaries);
 *   - decode's greedy `next` is the argmax of its logits; seeds make random weights reproducible;
 *   - the per-kernel profile names every op, and memory() counts the weights;
 *   - fill_context (random K/V instead of a prefill) is read by the next step, per slot. */
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "golden.h"
#include "model/config.h"
#include "model/spec.h"

#define TOL 1e-5 /* same arithmetic in every path: differences would be bugs, not rounding */

static const char *data_dir;

static rl_engine *make(const rl_model_config *m, const char *weights, int64_t batch, int64_t context, uint64_t seed)
{
    rl_engine_opts o = {.backend = RL_BACKEND_CPU, .weights_dir = weights, .seed = seed, .max_batch = batch,
                        .max_context = context, .threads = 2};
    rl_engine *e = NULL;
    rl_err err;
    CHECK(rl_engine_create(m, &o, &e, &err) == 0, "%s: %s", m->name, err.msg);
    return e;
}

static void check_close(const float *got, const float *want, int64_t rows, int64_t V, const char *what)
{
    int64_t bad;
    double rel = golden_rel_err(got, want, rows, V, &bad);
    CHECK(rel <= TOL && bad < 0, "%s: rel err %.3g, argmax mismatch at row %lld", what, rel, (long long)bad);
}

/* Prefill k tokens, decode the rest one by one; compare every position with a full prefill. */
static void test_incremental(const rl_model_config *m, const char *weights, const int32_t *tok, int64_t T)
{
    const int64_t V = m->vocab;
    rl_err err;
    float *full = malloc(sizeof(float) * T * V), *inc = malloc(sizeof(float) * T * V);
    rl_engine *e = make(m, weights, 1, T, 7);
    if (!e) goto out;
    CHECK(rl_engine_prefill(e, 1, T, tok, full, 1, &err) == 0, "%s", err.msg);
    const int64_t ks[] = {1, 2, T / 2, T - 1};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        const int64_t k = ks[i];
        memset(inc, 0, sizeof(float) * T * V);
        CHECK(rl_engine_prefill(e, 1, k, tok, inc, 1, &err) == 0, "%s", err.msg);
        for (int64_t p = k; p < T; p++) {
            int32_t next = -1;
            CHECK(rl_engine_decode(e, &tok[p], inc + p * V, &next, &err) == 0, "%s", err.msg);
            CHECK(next == (int32_t)golden_argmax(inc + p * V, V), "%s: decode next is not the argmax", m->name);
        }
        char what[160];
        snprintf(what, sizeof what, "%s: prefill %lld + decode %lld vs full prefill", m->name, (long long)k,
                 (long long)(T - k));
        check_close(inc, full, T, V, what);
    }
    /* Decoding past the cache fails cleanly. */
    int32_t t0 = tok[0];
    CHECK(rl_engine_decode(e, &t0, NULL, NULL, &err) != 0 && strstr(err.msg, "KV cache full"), "cache-full error: %s",
          err.msg);
    rl_engine_destroy(e);
out:
    free(full), free(inc);
}

/* B sequences of length L in one prefill (+ decode steps) vs each alone. */
static void test_batch(const rl_model_config *m, const char *weights, int64_t B, int64_t L, int64_t steps)
{
    const int64_t V = m->vocab, ctx = L + steps;
    rl_err err;
    int32_t *tok = malloc(sizeof(int32_t) * B * ctx);
    for (int64_t i = 0; i < B * ctx; i++) tok[i] = (int32_t)((i * 2654435761u) % (uint64_t)V);
    float *batch_all = malloc(sizeof(float) * B * L * V), *batch_last = malloc(sizeof(float) * B * V);
    float *batch_dec = malloc(sizeof(float) * steps * B * V);
    float *one = malloc(sizeof(float) * L * V), *one_dec = malloc(sizeof(float) * V);
    int32_t *step_tok = malloc(sizeof(int32_t) * B);
    rl_engine *e = make(m, weights, B, ctx, 7);
    if (!e) goto out;
    /* Sequence b's prompt is tok[b*ctx .. b*ctx+L), its decode inputs the next `steps` tokens. */
    int32_t *prompts = malloc(sizeof(int32_t) * B * L);
    for (int64_t b = 0; b < B; b++) memcpy(prompts + b * L, tok + b * ctx, sizeof(int32_t) * L);
    CHECK(rl_engine_prefill(e, B, L, prompts, batch_all, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(e, B, L, prompts, batch_last, 0, &err) == 0, "%s", err.msg);
    for (int64_t s = 0; s < steps; s++) {
        for (int64_t b = 0; b < B; b++) step_tok[b] = tok[b * ctx + L + s];
        CHECK(rl_engine_decode(e, step_tok, batch_dec + s * B * V, NULL, &err) == 0, "%s", err.msg);
    }
    free(prompts);
    rl_engine_destroy(e);
    e = make(m, weights, 1, ctx, 7);
    if (!e) goto out;
    for (int64_t b = 0; b < B; b++) {
        char what[160];
        CHECK(rl_engine_prefill(e, 1, L, tok + b * ctx, one, 1, &err) == 0, "%s", err.msg);
        snprintf(what, sizeof what, "%s: batch %lld x %lld prefill, sequence %lld", m->name, (long long)B, (long long)L,
                 (long long)b);
        check_close(batch_all + b * L * V, one, L, V, what);
        snprintf(what, sizeof what, "%s: batch %lld last-position prefill, sequence %lld", m->name, (long long)B,
                 (long long)b);
        check_close(batch_last + b * V, one + (L - 1) * V, 1, V, what);
        for (int64_t s = 0; s < steps; s++) {
            CHECK(rl_engine_decode(e, &tok[b * ctx + L + s], one_dec, NULL, &err) == 0, "%s", err.msg);
            snprintf(what, sizeof what, "%s: batch %lld decode step %lld, sequence %lld", m->name, (long long)B,
                     (long long)s, (long long)b);
            check_close(batch_dec + (s * B + b) * V, one_dec, 1, V, what);
        }
    }
    rl_engine_destroy(e);
out:
    free(tok), free(batch_all), free(batch_last), free(batch_dec), free(one), free(one_dec), free(step_tok);
}

static void test_random_weights_and_profile(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    const int32_t tok[4] = {1, 2, 3, 4};
    float *a = malloc(sizeof(float) * m.vocab), *b = malloc(sizeof(float) * m.vocab), *c = malloc(sizeof(float) * m.vocab);
    rl_engine *e1 = make(&m, NULL, 2, 16, 1), *e2 = make(&m, NULL, 2, 16, 1), *e3 = make(&m, NULL, 2, 16, 2);
    if (!e1 || !e2 || !e3) goto out;
    CHECK(rl_engine_prefill(e1, 1, 4, tok, a, 0, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(e2, 1, 4, tok, b, 0, &err) == 0, "%s", err.msg);
    CHECK(rl_engine_prefill(e3, 1, 4, tok, c, 0, &err) == 0, "%s", err.msg);
    CHECK(memcmp(a, b, sizeof(float) * m.vocab) == 0, "same seed, same weights");
    CHECK(memcmp(a, c, sizeof(float) * m.vocab) != 0, "another seed, other weights");
    int finite = 1;
    double max_abs = 0;
    for (int64_t i = 0; i < m.vocab; i++) {
        finite &= isfinite(a[i]);
        if (fabs(a[i]) > max_abs) max_abs = fabs(a[i]);
    }
    CHECK(finite && max_abs > 0.1 && max_abs < 100, "random-weight logits finite and unit-scale (max %g)", max_abs);

    int64_t wb, kvb, wsb;
    e1->ops->memory(e1->state, &wb, &kvb, &wsb);
    CHECK(wb == rl_model_param_count(&m) * 4, "weights bytes %lld vs params x 4 %lld", (long long)wb,
          (long long)rl_model_param_count(&m) * 4);
    CHECK(kvb == rl_model_kv_bytes_per_token(&m, 4) * 2 * 16, "kv bytes %lld", (long long)kvb);
    CHECK(wsb > 0, "workspace bytes");
    const char *dev = e1->ops->device_name(e1->state);
    CHECK(dev && dev[0], "device name");

    /* Profile one decode step of 2 sequences: every op appears, layers are in range. */
    rl_kernel_log log = {0};
    int32_t two[2] = {5, 6}, next[2];
    CHECK(rl_engine_prefill(e1, 2, 3, (int32_t[]){1, 2, 3, 4, 5, 6}, NULL, 0, &err) == 0, "%s", err.msg);
    e1->ops->set_profile(e1->state, &log);
    CHECK(rl_engine_decode(e1, two, NULL, next, &err) == 0, "%s", err.msg);
    e1->ops->set_profile(e1->state, NULL);
    unsigned seen = 0;
    int layers_ok = 1;
    for (int i = 0; i < log.n; i++) {
        seen |= log.recs[i].op_mask;
        layers_ok &= log.recs[i].layer >= -1 && log.recs[i].layer < m.layers && log.recs[i].ms >= 0;
    }
    CHECK(seen == rl_spec_step_ops(&m), "profile covers every op of the step (mask %#x, spec %#x)", seen,
          rl_spec_step_ops(&m));
    CHECK(layers_ok, "profile layers in range");
    int n_qkv = 0;
    for (int i = 0; i < log.n; i++) n_qkv += log.recs[i].op_mask == RL_OPMASK(RL_OP_QKV);
    CHECK(n_qkv == m.layers, "one qkv record per layer (%d)", n_qkv);
    int before = log.n;
    CHECK(rl_engine_decode(e1, two, NULL, next, &err) == 0, "%s", err.msg);
    CHECK(log.n == before, "profiling off records nothing");
    rl_kernel_log_free(&log);
out:
    rl_engine_destroy(e1), rl_engine_destroy(e2), rl_engine_destroy(e3);
    free(a), free(b), free(c);
}

/* fill_context: random K/V in place of a prefill. The step after it reads every slot's own cache
 * (rows differ for the same token; another seed changes the logits), slot 0's fill does not depend
 * on the batch, the position is the context (a full cache refuses the next step), bounds fail cleanly. */
static double rel_diff(const float *a, const float *b, int64_t V)
{
    int64_t ignored;
    return golden_rel_err(a, b, 1, V, &ignored);
}

static void test_fill_context(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    const int64_t V = m.vocab, C = 40, MAXC = 64;
    float *two = malloc(sizeof(float) * 2 * V), *one = malloc(sizeof(float) * V), *other = malloc(sizeof(float) * V);
    int32_t tok[2] = {7, 7};
    rl_engine *e = make(&m, NULL, 2, MAXC, 3);
    if (!e) goto out;
    CHECK(rl_engine_fill_context(e, 2, C, 5, &err) == 0, "%s", err.msg);
    CHECK(e->pos == C && e->batch == 2, "position %lld batch %lld after the fill", (long long)e->pos, (long long)e->batch);
    CHECK(rl_engine_decode(e, tok, two, NULL, &err) == 0, "%s", err.msg);
    int finite = 1;
    for (int64_t i = 0; i < 2 * V; i++) finite &= isfinite(two[i]) != 0;
    CHECK(finite, "decode after fill_context: non-finite logits");
    CHECK(rel_diff(two, two + V, V) > 1e-3, "two slots, one token, the same logits: a cache not read");
    CHECK(rl_engine_fill_context(e, 1, C, 5, &err) == 0 && rl_engine_decode(e, tok, one, NULL, &err) == 0, "%s",
          err.msg);
    check_close(one, two, 1, V, "fill_context: slot 0 at batch 1 vs batch 2");
    CHECK(rl_engine_fill_context(e, 1, C, 6, &err) == 0 && rl_engine_decode(e, tok, other, NULL, &err) == 0, "%s",
          err.msg);
    CHECK(rel_diff(other, one, V) > 1e-3, "another seed, the same logits: the filled cache is not read");
    CHECK(rl_engine_fill_context(e, 1, MAXC - 1, 5, &err) == 0 && rl_engine_decode(e, tok, NULL, NULL, &err) == 0, "%s",
          err.msg);
    CHECK(rl_engine_decode(e, tok, NULL, NULL, &err) != 0 && strstr(err.msg, "KV cache full"), "full cache: %s", err.msg);
    CHECK(rl_engine_fill_context(e, 1, MAXC, 5, &err) != 0 && strstr(err.msg, "outside 1..63"), "context bound: %s",
          err.msg);
    CHECK(rl_engine_fill_context(e, 3, C, 5, &err) != 0 && strstr(err.msg, "batch 3 outside 1..2"), "batch bound: %s",
          err.msg);
    rl_engine_destroy(e);
out:
    free(two), free(one), free(other);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    rl_err err;
    golden g;
    rl_model_config m;
    CHECK(golden_load(data_dir, "untied", &g, &err) == 0, "%s", err.msg);
    CHECK(rl_model_from_config_json(g.dir, &m, &err) == 0, "%s", err.msg);
    if (g.logits) {
        test_incremental(&m, g.dir, g.tokens, g.n_tokens);
        test_batch(&m, g.dir, 3, 12, 4);
    }
    golden_free(&g);

    rl_model_config tiny;
    CHECK(rl_model_preset("tiny", &tiny, &err) == 0, "%s", err.msg);
    int32_t tok[40];
    for (int i = 0; i < 40; i++) tok[i] = (int32_t)((i * 7919) % tiny.vocab);
    test_incremental(&tiny, NULL, tok, 40);
    test_batch(&tiny, NULL, 5, 3, 3);   /* decode batch 5 (4x4 tiles plus a leftover row) */
    test_batch(&tiny, NULL, 3, 100, 2); /* 300 prefill rows: more than one 256-row chunk */
    test_random_weights_and_profile();
    test_fill_context();
    return CHECK_DONE();
}
