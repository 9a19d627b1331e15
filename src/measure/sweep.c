/* sweep.c: the timed decode and prefill sweeps (see sweep.h for what each point measures). */
#include "sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/stats.h"
#include "../common/util.h"

void rl_random_tokens(int32_t *a, int64_t n, int64_t vocab, uint64_t *rng)
{
    uint64_t s = *rng ? *rng : 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < n; i++) {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        a[i] = (int32_t)(s % (uint64_t)vocab);
    }
    *rng = s;
}

/* ---- engine reuse -------------------------------------------------------------------------- */

void rl_engine_slot_release(rl_engine_slot *s)
{
    rl_engine_destroy(s->e);
    s->e = NULL;
}

static int slot_fits(const rl_engine_slot *s, int64_t batch, int64_t context, int64_t max_prefill)
{
    return s->e && s->opts.max_batch >= batch && s->opts.max_context >= context && s->opts.max_prefill >= max_prefill;
}

rl_engine *rl_engine_slot_get(rl_engine_slot *s, const rl_engine_opts *base, const rl_model_config *m,
                              int64_t batch, int64_t context, int64_t max_prefill, int64_t plan_batch,
                              int64_t plan_context, int64_t plan_prefill, rl_err *err)
{
    if (slot_fits(s, batch, context, max_prefill)) return s->e;
    rl_engine_slot_release(s); /* free its memory before asking for the next one */
    rl_engine_opts o = *base;
    o.max_batch = plan_batch > batch ? plan_batch : batch;
    o.max_context = plan_context > context ? plan_context : context;
    o.max_prefill = plan_prefill > max_prefill ? plan_prefill : max_prefill;
    rl_err first;
    if (!rl_engine_create(m, &o, &s->e, &first)) {
        s->opts = o, s->created++;
        return s->e;
    }
    /* The planned size did not fit (memory, most likely): try exactly what this point needs. */
    if (o.max_batch != batch || o.max_context != context || o.max_prefill != max_prefill) {
        o.max_batch = batch, o.max_context = context, o.max_prefill = max_prefill;
        if (!rl_engine_create(m, &o, &s->e, err)) {
            s->opts = o, s->created++;
            return s->e;
        }
        return NULL;
    }
    *err = first;
    return NULL;
}

/* ---- predictions ----------------------------------------------------------------------------- */

static rl_workload point_workload(const rl_results *res, const rl_point *p)
{
    rl_workload w = p->sweep == RL_PHASE_DECODE ? rl_workload_decode(p->batch, p->context)
                                                : rl_workload_prefill(p->batch, p->x);
    rl_workload_set_dtype_name(&w, res->dtype);
    w.tp = res->tp; /* per GPU of a tensor-parallel group, its all-reduces included */
    return w;
}

static int datasheet_roofs(const rl_results *res, rl_roofs *r)
{
    if (!res->have_datasheet || strcmp(res->dtype, "bf16")) return -1;
    rl_err err;
    return rl_roofs_from_gpu(&res->datasheet, RL_DT_BF16, r, &err);
}

void rl_point_predict(const rl_results *res, rl_point *p)
{
    rl_workload w = point_workload(res, p);
    rl_cost c;
    rl_prediction pr;
    rl_roofs meas, ds;
    int have_meas = rl_results_roofs(res, &meas) == 0, have_ds = datasheet_roofs(res, &ds) == 0;
    rl_cost_step(&res->model, &w, &c);
    p->flops = c.total_flops;
    p->bytes = c.total_bytes;
    p->intensity = c.total_bytes > 0 ? c.total_flops / c.total_bytes : 0;
    p->predicted_ms = p->predicted_datasheet_ms = -1;
    if (have_ds) {
        rl_predict(&c, &ds, &pr);
        p->predicted_datasheet_ms = pr.total_ms;
        p->compute_bound = pr.compute_bound_total;
    }
    if (have_meas) {
        rl_predict(&c, &meas, &pr);
        p->predicted_ms = pr.total_ms;
        p->compute_bound = pr.compute_bound_total; /* the measured ridge decides when both exist */
    }
}

void rl_point_estimate(const rl_results *res, rl_point *p, const rl_launch_plan *plan)
{
    rl_roofs meas;
    p->estimated_ms = p->estimated_latency_ms = -1;
    if (!plan->n || rl_results_roofs(res, &meas)) return;
    rl_workload w = point_workload(res, p);
    rl_cost c;
    rl_estimate e;
    rl_cost_step(&res->model, &w, &c);
    rl_estimate_step(plan, &c, &meas, rl_results_kernel_min_us(res), &e);
    p->estimated_ms = e.total_ms;
    p->estimated_latency_ms = e.latency_ms;
    p->estimated_kernels = e.kernels;
}

double rl_point_attention_share(const rl_results *res, const rl_point *p)
{
    rl_roofs roofs;
    if (rl_results_roofs(res, &roofs) && datasheet_roofs(res, &roofs)) return -1;
    rl_workload w = point_workload(res, p);
    rl_cost c;
    rl_prediction pr;
    rl_cost_step(&res->model, &w, &c);
    rl_predict(&c, &roofs, &pr);
    return pr.total_ms > 0 ? pr.time_ms[RL_OP_ATTENTION] / pr.total_ms : -1;
}

static double predicted_ms_of(const rl_results *res, rl_phase phase, int64_t batch, int64_t x, int64_t context)
{
    rl_point p;
    rl_point_init(&p, phase, x);
    p.batch = batch, p.context = context;
    rl_point_predict(res, &p);
    return p.predicted_ms >= 0 ? p.predicted_ms : p.predicted_datasheet_ms;
}

double rl_sweep_point_weight(const rl_results *res, rl_phase phase, int64_t x, int64_t input_len, int64_t output_len,
                             int warmup, int reps)
{
    const double overhead_ms = 20; /* host work per point: tokens, engine calls, file writes */
    if (phase == RL_PHASE_DECODE) {
        double pre = predicted_ms_of(res, RL_PHASE_PREFILL, x, input_len, 0);
        double step = predicted_ms_of(res, RL_PHASE_DECODE, x, 1, rl_decode_context(input_len, output_len));
        if (pre < 0 || step < 0) return 1;
        return overhead_ms + 2 * pre + (double)(warmup + output_len) * step;
    }
    double t = predicted_ms_of(res, RL_PHASE_PREFILL, 1, x, 0);
    return t < 0 ? 1 : overhead_ms + (warmup + reps) * t;
}

double rl_sweep_context_weight(const rl_results *res, int64_t batch, int64_t context, int64_t output_len, int warmup)
{
    const double overhead_ms = 20; /* host work per point, and the fill */
    double step = predicted_ms_of(res, RL_PHASE_DECODE, batch, batch, context);
    return step < 0 ? 1 : overhead_ms + (double)(warmup + output_len) * step;
}

/* ---- points ---------------------------------------------------------------------------------- */

static void summarize(rl_point *p, double *t, int n)
{
    p->reps = n;
    p->ms = rl_percentile(t, n, 50); /* sorts t */
    p->p10 = rl_percentile(t, n, 10);
    p->p90 = rl_percentile(t, n, 90);
    p->min_ms = t[0];
    p->max_ms = t[n - 1];
}

static void sample_nvml(rl_sweep_ctx *ctx, rl_point *p)
{
    rl_telemetry_sample(ctx->tel, &p->nvml);
    rl_results_add_sample(ctx->res, &p->nvml);
}

/* A point measured: its n timed samples t (sorted here), tokens per sample, one NVML reading. */
static void measured(rl_sweep_ctx *ctx, rl_point *p, double *t, int n, int64_t tokens)
{
    sample_nvml(ctx, p);
    summarize(p, t, n);
    p->tokens_per_s = (double)tokens / (p->ms * 1e-3);
    p->ok = 1;
}

/* Runs one step with the engine's plan recording on and estimates p from the plan (the kernels
 * this engine launches for this very step). A failure only leaves p without an estimate. */
static int planned_step(rl_sweep_ctx *ctx, rl_engine *e, rl_point *p, const int32_t *prompt, int64_t len, int32_t *tok,
                        int32_t *next, float *logits, rl_err *err)
{
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    log.want = RL_PROFILE_PLAN;
    if (e->ops->set_profile) e->ops->set_profile(e->state, &log);
    int rc = p->sweep == RL_PHASE_DECODE ? rl_engine_decode(e, tok, NULL, next, err)
                                         : rl_engine_prefill(e, 1, len, prompt, logits, 0, err);
    if (!rc) rc = rl_engine_sync(e, err);
    if (e->ops->set_profile) e->ops->set_profile(e->state, NULL);
    rl_launch_plan plan = {0};
    rl_err perr;
    if (!rc && log.n && !rl_kernel_log_plan(&log, 0, &plan, &perr)) rl_point_estimate(ctx->res, p, &plan);
    rl_launch_plan_free(&plan);
    rl_kernel_log_free(&log);
    return rc;
}

/* Warm-up decode steps at the engine's position (graph capture, allocator, clocks); the last one (a
 * graph replay once the first captured it) gives p its launch plan. tok holds the batch's tokens and
 * gets each step's greedy ones. */
static int warm_steps(rl_sweep_ctx *ctx, rl_engine *e, rl_point *p, int64_t B, int64_t warm, int32_t *tok,
                      int32_t *next, rl_err *err)
{
    for (int64_t s = 0; s < warm; s++) {
        const int rc = s == warm - 1 ? planned_step(ctx, e, p, NULL, 0, tok, next, NULL, err)
                                     : rl_engine_decode(e, tok, NULL, next, err);
        if (rc) return -1;
        memcpy(tok, next, sizeof *tok * (size_t)B);
    }
    return rl_engine_sync(e, err);
}

/* steps decode steps, each timed alone (host clock after a sync) into t; their sum into *total_ms. */
static int timed_steps(rl_engine *e, int64_t B, int64_t steps, int32_t *tok, int32_t *next, double *t,
                       double *total_ms, rl_err *err)
{
    for (int64_t s = 0; s < steps; s++) {
        const double t0 = rl_now_ms();
        if (rl_engine_decode(e, tok, NULL, next, err) || rl_engine_sync(e, err)) return -1;
        t[s] = rl_now_ms() - t0;
        *total_ms += t[s];
        memcpy(tok, next, sizeof *tok * (size_t)B);
    }
    return 0;
}

/* Runs one decode point into p. Returns 0 when measured, -1 with p->error set when it failed. */
static int decode_point(rl_sweep_ctx *ctx, rl_engine_slot *slot, int64_t B, int64_t in, int64_t out, int64_t plan_b,
                        rl_point *p)
{
    rl_err err;
    int64_t steps = out > 1 ? out - 1 : 1;
    int64_t warm = ctx->warmup < steps ? ctx->warmup : steps;
    int32_t *prompt = malloc(sizeof *prompt * (size_t)(B * in)), *tok = malloc(sizeof *tok * (size_t)B),
            *next = malloc(sizeof *next * (size_t)B);
    double *t = malloc(sizeof *t * (size_t)steps);
    uint64_t rng = ctx->seed ^ (uint64_t)B * 0x100000001b3ull;
    int rc = -1;
    if (!prompt || !tok || !next || !t) {
        rl_fail(&err, "out of host memory for batch %lld", (long long)B);
        goto done;
    }
    rl_engine *e = rl_engine_slot_get(slot, &ctx->base, ctx->model, B, in + steps, in, plan_b, in + out, in, &err);
    if (!e) goto done;
    /* Warm-up: a prefill and a few steps at this batch. */
    rl_random_tokens(prompt, B * in, ctx->model->vocab, &rng);
    if (rl_engine_prefill(e, B, in, prompt, NULL, 0, &err)) goto failed;
    rl_random_tokens(tok, B, ctx->model->vocab, &rng);
    if (warm_steps(ctx, e, p, B, warm, tok, next, &err)) goto failed;
    /* Timed run: a fresh prompt, its prefill, then every step alone. */
    rl_random_tokens(prompt, B * in, ctx->model->vocab, &rng);
    double t0 = rl_now_ms();
    if (rl_engine_prefill(e, B, in, prompt, NULL, 0, &err) || rl_engine_sync(e, &err)) goto failed;
    p->prefill_ms = rl_now_ms() - t0;
    rl_random_tokens(tok, B, ctx->model->vocab, &rng);
    double total = p->prefill_ms;
    if (timed_steps(e, B, steps, tok, next, t, &total, &err)) goto failed;
    p->seed_ms_per_token = total / (double)out;
    measured(ctx, p, t, (int)steps, B);
    rc = 0;
    goto done;
failed:
    /* The engine may be unusable after a failure (a sticky CUDA error): start the next point afresh. */
    rl_engine_slot_release(slot);
done:
    if (rc) snprintf(p->error, sizeof p->error, "%s", err.msg);
    free(prompt), free(tok), free(next), free(t);
    return rc;
}

/* Runs one context point into p (p->input_len: the tokens the cache holds before the first timed
 * step). Its engine is sized for the point itself, since the decode attention's split-KV plan
 * follows the KV cache's size: the caches are filled (rl_engine_fill_context) to input_len - warm
 * tokens, the warm-up steps bring them to input_len, then the steps are timed. */
static int context_point(rl_sweep_ctx *ctx, rl_engine_slot *slot, int64_t B, int64_t out, int64_t plan_b, rl_point *p)
{
    rl_err err;
    const int64_t in = p->input_len, steps = out > 1 ? out - 1 : 1, warm = ctx->warmup < steps ? ctx->warmup : steps;
    const int64_t need = in + steps;
    int32_t *tok = malloc(sizeof *tok * (size_t)B), *next = malloc(sizeof *next * (size_t)B);
    double *t = malloc(sizeof *t * (size_t)steps), total = 0;
    uint64_t rng = ctx->seed ^ (uint64_t)(B * 65537 + in) * 0x9e3779b97f4a7c15ull;
    int rc = -1;
    rl_engine *e = NULL;
    if (!tok || !next || !t) {
        rl_fail(&err, "out of host memory for batch %lld", (long long)B);
        goto done;
    }
    if (in - warm < 1) {
        rl_fail(&err, "context %lld is too short for %lld output tokens and %lld warm-up steps", (long long)p->context,
                (long long)out, (long long)warm);
        goto done;
    }
    if (slot->e && slot->opts.max_context != need) rl_engine_slot_release(slot);
    if (!(e = rl_engine_slot_get(slot, &ctx->base, ctx->model, B, need, 1, plan_b, need, 1, &err))) goto done;
    if (rl_engine_fill_context(e, B, in - warm, rng, &err)) goto failed;
    rl_random_tokens(tok, B, ctx->model->vocab, &rng);
    if (warm_steps(ctx, e, p, B, warm, tok, next, &err) || timed_steps(e, B, steps, tok, next, t, &total, &err))
        goto failed;
    measured(ctx, p, t, (int)steps, B);
    rc = 0;
    goto done;
failed:
    rl_engine_slot_release(slot);
done:
    if (rc) snprintf(p->error, sizeof p->error, "%s", err.msg);
    free(tok), free(next), free(t);
    return rc;
}

static int prefill_point(rl_sweep_ctx *ctx, rl_engine_slot *slot, int64_t L, int64_t plan_l, rl_point *p)
{
    rl_err err;
    int reps = ctx->reps > 0 ? ctx->reps : 5, warm = ctx->warmup > 0 ? ctx->warmup : 1;
    int32_t *prompt = malloc(sizeof *prompt * (size_t)L);
    float *logits = malloc(sizeof *logits * (size_t)ctx->model->vocab);
    double *t = malloc(sizeof *t * (size_t)reps);
    uint64_t rng = ctx->seed ^ (uint64_t)L * 0x9e3779b97f4a7c15ull;
    int rc = -1;
    if (!prompt || !logits || !t) {
        rl_fail(&err, "out of host memory for length %lld", (long long)L);
        goto done;
    }
    rl_engine *e = rl_engine_slot_get(slot, &ctx->base, ctx->model, 1, L, L, 1, plan_l, plan_l, &err);
    if (!e) goto done;
    /* Logits of the last position are asked for, so the step includes lm_head as the model counts it. */
    double fastest = INFINITY;
    for (int w = 0; w < warm; w++) {
        rl_random_tokens(prompt, L, ctx->model->vocab, &rng);
        double t0 = rl_now_ms();
        if (rl_engine_prefill(e, 1, L, prompt, logits, 0, &err) || rl_engine_sync(e, &err)) goto failed;
        fastest = fmin(fastest, rl_now_ms() - t0);
    }
    if (planned_step(ctx, e, p, prompt, L, NULL, NULL, logits, &err)) goto failed;
    if (ctx->point_budget_ms > 0 && fastest * reps > ctx->point_budget_ms) {
        int r = (int)(ctx->point_budget_ms / fastest);
        reps = r < 3 ? 3 : r < reps ? r : reps;
    }
    for (int r = 0; r < reps; r++) {
        rl_random_tokens(prompt, L, ctx->model->vocab, &rng); /* a new prompt each run: nothing to reuse */
        double t0 = rl_now_ms();
        if (rl_engine_prefill(e, 1, L, prompt, logits, 0, &err) || rl_engine_sync(e, &err)) goto failed;
        t[r] = rl_now_ms() - t0;
    }
    measured(ctx, p, t, reps, L);
    rc = 0;
    goto done;
failed:
    rl_engine_slot_release(slot);
done:
    if (rc) snprintf(p->error, sizeof p->error, "%s", err.msg);
    free(prompt), free(logits), free(t);
    return rc;
}

static int finish_point(rl_sweep_ctx *ctx, rl_point *p, double weight, rl_err *err)
{
    if (rl_results_add_point(ctx->res, p, err)) return -1;
    if (ctx->progress && p->context_sweep) {
        if (!p->ok)
            rl_progress_step(ctx->progress, weight, "decode B=%lld context %lld: skipped: %s", (long long)p->x,
                             (long long)p->context, p->error);
        else
            rl_progress_step(ctx->progress, weight,
                             "decode B=%lld context %lld: %.3f ms/step (p10 %.3f, p90 %.3f; predicted %.3f)",
                             (long long)p->x, (long long)p->context, p->ms, p->p10, p->p90, p->predicted_ms);
    } else if (ctx->progress) {
        const char *what = p->sweep == RL_PHASE_DECODE ? "decode B" : "prefill L";
        if (!p->ok)
            rl_progress_step(ctx->progress, weight, "%s=%lld: failed: %s", what, (long long)p->x, p->error);
        else if (p->sweep == RL_PHASE_DECODE)
            rl_progress_step(ctx->progress, weight, "%s=%lld: %.3f ms/step (p10 %.3f, p90 %.3f; predicted %.3f)", what,
                             (long long)p->x, p->ms, p->p10, p->p90, p->predicted_ms);
        else
            rl_progress_step(ctx->progress, weight, "%s=%lld: %.3f ms (p10 %.3f, p90 %.3f; predicted %.3f)", what,
                             (long long)p->x, p->ms, p->p10, p->p90, p->predicted_ms);
    }
    return ctx->checkpoint ? ctx->checkpoint(ctx->user, err) : 0;
}

static int stopped(const rl_sweep_ctx *ctx) { return ctx->stop && *ctx->stop; }

/* The first point is the test of the input: when it fails (a checkpoint the engine refuses, a
 * model too large for even this point), every later point would fail the same way, and a sweep
 * of failures must not look like a finished run. */
static int first_point_failed(const rl_point *p, rl_err *err)
{
    return rl_fail(err, "%s %s=%lld, the sweep's first point, failed: %s; the sweep stopped there (the failed point "
                        "is recorded)",
                   rl_phase_name(p->sweep), p->sweep == RL_PHASE_DECODE ? "B" : "L",
                   (long long)p->x, p->error);
}

int rl_sweep_decode(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *batches, int nb, int64_t input_len,
                    int64_t output_len, rl_err *err)
{
    int64_t plan_b = 0;
    for (int i = 0; i < nb; i++) plan_b = batches[i] > plan_b ? batches[i] : plan_b;
    ctx->res->input_len = input_len;
    ctx->res->output_len = output_len;
    for (int i = 0; i < nb && !stopped(ctx); i++) {
        rl_point p;
        rl_point_init(&p, RL_PHASE_DECODE, batches[i]);
        p.input_len = input_len, p.output_len = output_len;
        p.context = rl_decode_context(input_len, output_len); /* the mean context over the run's steps */
        rl_point_predict(ctx->res, &p);
        decode_point(ctx, slot, batches[i], input_len, output_len, plan_b, &p);
        double w = rl_sweep_point_weight(ctx->res, RL_PHASE_DECODE, batches[i], input_len, output_len, ctx->warmup, 0);
        if (finish_point(ctx, &p, w, err)) return -1;
        if (i == 0 && !p.ok) return first_point_failed(&p, err);
    }
    return 0;
}

int rl_sweep_decode_context(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *contexts, int nc,
                            const int64_t *batches, int nb, int64_t output_len, rl_err *err)
{
    int64_t plan_b = 0;
    for (int i = 0; i < nb; i++) plan_b = batches[i] > plan_b ? batches[i] : plan_b;
    for (int c = 0; c < nc && !stopped(ctx); c++)
        for (int i = 0; i < nb && !stopped(ctx); i++) {
            rl_point p;
            rl_point_init(&p, RL_PHASE_DECODE, batches[i]);
            p.context_sweep = 1;
            p.context = contexts[c];
            p.output_len = output_len;
            p.input_len = contexts[c] - output_len / 2; /* so that rl_decode_context(input, output) = context */
            rl_point_predict(ctx->res, &p);
            context_point(ctx, slot, batches[i], output_len, plan_b, &p);
            double w = rl_sweep_context_weight(ctx->res, batches[i], contexts[c], output_len, ctx->warmup);
            if (finish_point(ctx, &p, w, err)) return -1;
        }
    return 0;
}

int rl_sweep_prefill(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *lengths, int nl, rl_err *err)
{
    int64_t plan_l = 0;
    for (int i = 0; i < nl; i++) plan_l = lengths[i] > plan_l ? lengths[i] : plan_l;
    for (int i = 0; i < nl && !stopped(ctx); i++) {
        rl_point p;
        rl_point_init(&p, RL_PHASE_PREFILL, lengths[i]);
        rl_point_predict(ctx->res, &p);
        prefill_point(ctx, slot, lengths[i], plan_l, &p);
        double w = rl_sweep_point_weight(ctx->res, RL_PHASE_PREFILL, lengths[i], 0, 0, ctx->warmup, ctx->reps);
        if (finish_point(ctx, &p, w, err)) return -1;
        if (i == 0 && !p.ok) return first_point_failed(&p, err);
    }
    return 0;
}
