/* test_cuda_profile.c: per-kernel profiles of the real step on the GPU (engine.h, set_profile) on
 * the `tiny` preset: CUPTI times the decode graph's replay (PDL on) and the eager prefill, each
 * kernel record lands on the launch it came from (checked by name: our kernels' device functions
 * carry the engine's names, so a shift by one would show), one step's records match its launch
 * plan kernel for kernel, the plan mode records the same launches without times, and the step still
 * produces the tokens of an unprofiled run. Exits 77 (skipped) without a CUDA GPU. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/engine.h"
#include "model/config.h"

/* The stem of our kernel's device function ("rmsnorm" -> rmsnorm_kernel): cuBLASLt's are its own. */
static int symbol_matches(const rl_kernel_record *r)
{
    static const char *const map[][2] = {{"embed_gather", "embed"},      {"rmsnorm", "rmsnorm"},
                                         {"gemv_tc", "gemv"},            {"attn_decode_splitkv", "attn_decode"},
                                         {"argmax", "argmax"},           {"rope_kv_write", "rope_kv"},
                                         {"attn_prefill_flash", "attn_prefill_kernel"}, {"silu_mul", "silu_mul"},
                                         {"gemm_stream", "gemm_stream_kernel"}, {"attn_prefill_sm90", "attn_prefill_sm90"},
                                         {"qkv_post", "qkv_post"}};
    if (!strcmp(r->kernel, "cublaslt_gemm")) return r->symbol[0] != 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (!strcmp(r->kernel, map[i][0])) return strstr(r->symbol, map[i][1]) != NULL;
    return 0;
}

static void check_step(const rl_kernel_log *log, int step, const char *what)
{
    int n = 0, named = 0;
    double sum = 0, last_start = -1;
    for (int i = 0; i < log->n; i++) {
        const rl_kernel_record *r = &log->recs[i];
        if (r->step != step) continue;
        n++;
        named += symbol_matches(r);
        CHECK(r->op_mask != 0 && r->ms >= 0 && r->busy_ms > 0, "%s: record %d (%s) has ops and times", what, i, r->kernel);
        CHECK(r->start_ms >= last_start, "%s: records in start order", what);
        last_start = r->start_ms;
        sum += r->ms;
        if (!symbol_matches(r)) fprintf(stderr, "%s: launch %d %s ran %s\n", what, r->launch, r->kernel, r->symbol);
    }
    CHECK(n > 0 && named == n, "%s: every kernel on its own launch (%d of %d)", what, named, n);
    CHECK(sum > 0, "%s: the step takes time", what);
}

int main(void)
{
    if (!rl_cuda_available()) {
        printf("SKIP: no CUDA GPU visible\n");
        return 77;
    }
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .seed = 7, .max_batch = 4, .max_context = 128, .quiet = 1};
    rl_engine *e = NULL;
    if (rl_engine_create(&m, &o, &e, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int32_t prompt[4 * 16], tok[4], next[4], ref[4];
    for (int i = 0; i < 64; i++) prompt[i] = (i * 37 + 11) % (int)m.vocab;
    for (int i = 0; i < 4; i++) tok[i] = i + 1;
    CHECK(rl_engine_prefill(e, 4, 16, prompt, NULL, 0, &err) == 0, "%s", err.msg);
    for (int s = 0; s < 2; s++) { /* warm: kernel choice, graph capture */
        CHECK(rl_engine_decode(e, tok, NULL, next, &err) == 0, "%s", err.msg);
        memcpy(tok, next, sizeof tok);
    }
    /* The reference: two steps unprofiled from a fresh prefill of the same prompts. */
    int32_t t0[4];
    memcpy(t0, tok, sizeof t0);
    memcpy(ref, t0, sizeof ref);
    CHECK(rl_engine_prefill(e, 4, 16, prompt, NULL, 0, &err) == 0, "%s", err.msg);
    for (int s = 0; s < 2; s++) {
        CHECK(rl_engine_decode(e, ref, NULL, next, &err) == 0, "%s", err.msg);
        memcpy(ref, next, sizeof ref);
    }

    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    CHECK(rl_engine_prefill(e, 4, 16, prompt, NULL, 0, &err) == 0, "%s", err.msg);
    memcpy(tok, t0, sizeof tok);
    e->ops->set_profile(e->state, &log);
    for (int s = 0; s < 2; s++) {
        CHECK(rl_engine_decode(e, tok, NULL, next, &err) == 0, "%s", err.msg);
        memcpy(tok, next, sizeof tok);
        rl_kernel_log_next_step(&log);
    }
    e->ops->set_profile(e->state, NULL);
    CHECK(log.timing == RL_TIMING_CUPTI, "decode profiled with CUPTI (note: %s)", log.note);
    CHECK(!memcmp(tok, ref, sizeof tok), "profiling does not change the tokens");
    const int first = log.n ? log.recs[0].step : 0;
    check_step(&log, first, "decode");
    check_step(&log, first + 1, "decode, second step");
    rl_launch_plan timed = {0}, planned = {0};
    CHECK(rl_kernel_log_plan(&log, first + 1, &timed, &err) == 0, "%s", err.msg);

    rl_kernel_log plan;
    memset(&plan, 0, sizeof plan);
    plan.want = RL_PROFILE_PLAN;
    e->ops->set_profile(e->state, &plan);
    CHECK(rl_engine_decode(e, tok, NULL, next, &err) == 0, "%s", err.msg);
    e->ops->set_profile(e->state, NULL);
    CHECK(plan.timing == RL_TIMING_NONE && plan.n > 0 && plan.recs[0].ms < 0, "plan mode: launches without times");
    CHECK(rl_kernel_log_plan(&plan, 0, &planned, &err) == 0, "%s", err.msg);
    CHECK(planned.n == timed.n && rl_launch_plan_kernels(&planned) == rl_launch_plan_kernels(&timed),
          "the plan and the profiled replay: %d/%d launches, %d/%d kernels", planned.n, timed.n,
          rl_launch_plan_kernels(&planned), rl_launch_plan_kernels(&timed));
    for (int i = 0; i < planned.n && i < timed.n; i++)
        CHECK(!strcmp(planned.v[i].kernel, timed.v[i].kernel) && planned.v[i].op_mask == timed.v[i].op_mask,
              "launch %d: %s vs %s", i, planned.v[i].kernel, timed.v[i].kernel);

    rl_kernel_log pre;
    memset(&pre, 0, sizeof pre);
    e->ops->set_profile(e->state, &pre);
    CHECK(rl_engine_prefill(e, 1, 64, prompt, NULL, 0, &err) == 0, "%s", err.msg);
    rl_kernel_log_next_step(&pre);
    e->ops->set_profile(e->state, NULL);
    CHECK(pre.timing == RL_TIMING_CUPTI, "prefill profiled with CUPTI (note: %s)", pre.note);
    check_step(&pre, 0, "prefill");
    rl_launch_plan_free(&timed);
    rl_launch_plan_free(&planned);
    rl_kernel_log_free(&log);
    rl_kernel_log_free(&plan);
    rl_kernel_log_free(&pre);
    rl_engine_destroy(e);
    return CHECK_DONE();
}
