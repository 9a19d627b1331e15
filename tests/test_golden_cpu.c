/* test_golden_cpu.c: the CPU engine's logits against transformers' (scripts/make_golden.py) for
 * every golden checkpoint: within 1e-3 of the largest |logit|, same argmax at every position;
 * the last-position-only prefill agrees with the all-positions one; the result does not depend
 * on the thread count; greedy generation reproduces transformers' greedy continuation. */
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "golden.h"
#include "model/config.h"

#define TOL 1e-3

static const char *data_dir;

static rl_engine *open_engine(const golden *g, const rl_model_config *m, int64_t context, int threads)
{
    rl_engine_opts o = {.backend = RL_BACKEND_CPU, .weights_dir = g->dir, .max_batch = 1, .max_context = context,
                        .threads = threads};
    rl_engine *e = NULL;
    rl_err err;
    CHECK(rl_engine_create(m, &o, &e, &err) == 0, "%s: %s", g->dir, err.msg);
    return e;
}

static void test_model(const char *name)
{
    golden g;
    rl_err err;
    CHECK(golden_load(data_dir, name, &g, &err) == 0, "%s", err.msg);
    if (!g.logits) return;
    rl_model_config m;
    CHECK(rl_model_from_config_json(g.dir, &m, &err) == 0, "%s", err.msg);
    CHECK(m.vocab == g.vocab, "%s: config vocab %lld vs golden %lld", name, (long long)m.vocab, (long long)g.vocab);
    const int64_t T = g.n_tokens, V = g.vocab;
    float *all = calloc((size_t)(T * V), sizeof *all), *all1 = calloc((size_t)(T * V), sizeof *all1);
    float *last = calloc((size_t)V, sizeof *last);

    rl_engine *e = open_engine(&g, &m, T + g.n_greedy, 0);
    if (!e) goto out;
    CHECK(rl_engine_prefill(e, 1, T, g.tokens, all, 1, &err) == 0, "%s", err.msg);
    int64_t bad_row;
    double rel = golden_rel_err(all, g.logits, T, V, &bad_row);
    printf("%-20s %2lld tokens x vocab %lld: max |diff| / max |logit| = %.3g\n", name, (long long)T, (long long)V, rel);
    CHECK(rel <= TOL, "%s: logits differ from transformers by %.3g of the largest logit (tolerance %g)", name, rel, TOL);
    CHECK(bad_row < 0, "%s: argmax differs from transformers at position %lld", name, (long long)bad_row);

    /* The contract's prefill (last position only) gives the same last row. */
    CHECK(rl_engine_prefill(e, 1, T, g.tokens, last, 0, &err) == 0, "%s", err.msg);
    CHECK(memcmp(last, all + (T - 1) * V, sizeof(float) * V) == 0, "%s: last-position prefill differs", name);

    /* Greedy decode with the KV cache reproduces transformers' uncached greedy continuation. */
    int32_t tok = (int32_t)golden_argmax(last, V), next = -1;
    for (int i = 0; i < g.n_greedy; i++) {
        CHECK(tok == g.greedy[i], "%s: greedy token %d is %d, transformers gives %d", name, i, tok, g.greedy[i]);
        if (i + 1 == g.n_greedy) break;
        CHECK(rl_engine_decode(e, &tok, NULL, &next, &err) == 0, "%s", err.msg);
        tok = next;
    }
    CHECK(g.n_greedy >= 4, "%s: golden greedy continuation too short (%d)", name, g.n_greedy);
    rl_engine_destroy(e);

    /* One thread gives bit-identical logits (the split of the work changes no sum). */
    e = open_engine(&g, &m, T, 1);
    if (!e) goto out;
    CHECK(rl_engine_prefill(e, 1, T, g.tokens, all1, 1, &err) == 0, "%s", err.msg);
    CHECK(memcmp(all, all1, sizeof(float) * T * V) == 0, "%s: 1 thread and all threads differ", name);
    rl_engine_destroy(e);
out:
    free(all), free(all1), free(last);
    golden_free(&g);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    char names[GOLDEN_MAX_MODELS][64];
    rl_err err;
    const int n = golden_list(data_dir, names, &err);
    CHECK(n > 0, "%s", err.msg);
    for (int i = 0; i < n; i++) test_model(names[i]);
    return CHECK_DONE();
}
