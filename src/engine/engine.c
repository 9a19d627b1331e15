/* engine.c: backend dispatch and the position bookkeeping every backend shares. */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

extern const rl_backend_ops rl_cpu_backend;
#ifdef RL_HAVE_CUDA
extern const rl_backend_ops rl_cuda_backend;
extern const rl_backend_ops rl_cuda_tp_backend;
int rl_cuda_device_count(void);
#endif

const rl_backend_ops *rl_backend_get(rl_backend b, rl_err *err)
{
    if (b == RL_BACKEND_CPU) return &rl_cpu_backend;
#ifdef RL_HAVE_CUDA
    if (rl_cuda_device_count() <= 0) {
        rl_fail(err, "backend cuda: no CUDA GPU is visible (cudaGetDeviceCount found none); use --backend cpu");
        return NULL;
    }
    return &rl_cuda_backend;
#else
    rl_fail(err, "backend cuda: this build has no CUDA backend (nvcc was not found at configure time); "
                 "install the CUDA toolkit and rebuild, or use --backend cpu");
    return NULL;
#endif
}

int rl_cuda_gpus(void)
{
#ifdef RL_HAVE_CUDA
    return rl_cuda_device_count();
#else
    return 0;
#endif
}

int rl_cuda_available(void) { return rl_cuda_gpus() > 0; }

int rl_backend_from_name(const char *name, rl_backend *out, rl_err *err)
{
    if (rl_name_eq(name, "cpu")) *out = RL_BACKEND_CPU;
    else if (rl_name_eq(name, "cuda")) *out = RL_BACKEND_CUDA;
    else return rl_fail(err, "--backend: unknown backend '%s' (known: cpu, cuda)", name);
    return 0;
}

int rl_engine_create(const rl_model_config *m, const rl_engine_opts *o, rl_engine **out, rl_err *err)
{
    *out = NULL;
    if (o->max_batch <= 0 || o->max_context <= 0)
        return rl_fail(err, "engine: max_batch and max_context must be > 0");
    if (o->max_context > m->max_positions)
        return rl_fail(err, "engine: context %lld exceeds the model's max_position_embeddings %lld",
                       (long long)o->max_context, (long long)m->max_positions);
    if (o->tp < 0 || (o->tp > 0 && o->backend != RL_BACKEND_CUDA))
        return rl_fail(err, "engine: --tp %d: tensor parallelism runs on the cuda backend (GPUs of one host)", o->tp);
    const rl_backend_ops *ops = rl_backend_get(o->backend, err);
    if (!ops) return -1;
#ifdef RL_HAVE_CUDA
    if (o->tp > 0) ops = &rl_cuda_tp_backend; /* the same engine per GPU, as a group */
#endif
    if (rl_model_is_moe(m))
        return rl_fail(err, "engine %s: model_type '%s' is a mixture of experts (%lld experts): the engines run dense "
                            "models only (llama, mistral, qwen2, qwen3); `predict` and `models` handle it",
                       ops->name, m->model_type, (long long)m->experts);
    rl_engine *e = calloc(1, sizeof *e);
    if (!e) return rl_fail(err, "engine: out of host memory");
    e->ops = ops;
    e->model = *m;
    e->opts = *o;
    if (e->opts.max_prefill <= 0) e->opts.max_prefill = o->max_context;
    if (ops->create(m, &e->opts, &e->state, err)) {
        free(e);
        return -1;
    }
    *out = e;
    return 0;
}

void rl_engine_destroy(rl_engine *e)
{
    if (!e) return;
    e->ops->destroy(e->state);
    free(e);
}

int rl_engine_prefill(rl_engine *e, int64_t batch, int64_t len, const int32_t *tokens, float *logits,
                      int all_positions, rl_err *err)
{
    if (batch <= 0 || batch > e->opts.max_batch)
        return rl_fail(err, "prefill: batch %lld outside 1..%lld (the engine's KV cache)", (long long)batch,
                       (long long)e->opts.max_batch);
    if (len <= 0 || len > e->opts.max_prefill || len > e->opts.max_context)
        return rl_fail(err, "prefill: length %lld outside 1..%lld", (long long)len, (long long)e->opts.max_prefill);
    for (int64_t i = 0; i < batch * len; i++)
        if (tokens[i] < 0 || tokens[i] >= e->model.vocab)
            return rl_fail(err, "prefill: token id %d at index %lld is outside the vocabulary (0..%lld)", tokens[i],
                           (long long)i, (long long)e->model.vocab - 1);
    if (e->ops->prefill(e->state, batch, len, tokens, logits, all_positions, err)) return -1;
    e->batch = batch;
    e->pos = len;
    return 0;
}

int rl_engine_decode(rl_engine *e, const int32_t *tokens, float *logits, int32_t *next, rl_err *err)
{
    if (e->batch <= 0) return rl_fail(err, "decode: no sequences (run a prefill first)");
    if (e->pos >= e->opts.max_context)
        return rl_fail(err, "decode: KV cache full (%lld tokens)", (long long)e->opts.max_context);
    for (int64_t i = 0; i < e->batch; i++)
        if (tokens[i] < 0 || tokens[i] >= e->model.vocab)
            return rl_fail(err, "decode: token id %d is outside the vocabulary", tokens[i]);
    if (e->ops->decode(e->state, e->batch, tokens, logits, next, err)) return -1;
    e->pos++;
    return 0;
}

int rl_engine_sync(rl_engine *e, rl_err *err) { return e->ops->sync(e->state, err); }

int rl_engine_fill_context(rl_engine *e, int64_t batch, int64_t context, uint64_t seed, rl_err *err)
{
    if (!e->ops->fill_context)
        return rl_fail(err, "fill_context: the %s backend cannot fill its KV cache directly", e->ops->name);
    if (batch <= 0 || batch > e->opts.max_batch)
        return rl_fail(err, "fill_context: batch %lld outside 1..%lld (the engine's KV cache)", (long long)batch,
                       (long long)e->opts.max_batch);
    if (context <= 0 || context >= e->opts.max_context)
        return rl_fail(err, "fill_context: context %lld outside 1..%lld (the KV cache holds %lld tokens and a decode "
                            "step needs one more)",
                       (long long)context, (long long)e->opts.max_context - 1, (long long)e->opts.max_context);
    if (e->ops->fill_context(e->state, batch, context, seed, err)) return -1;
    e->batch = batch;
    e->pos = context;
    return 0;
}

int rl_engine_linear_choices(rl_engine *e, rl_linear_choice *out, int max)
{
    return e->ops->linear_choices ? e->ops->linear_choices(e->state, out, max) : 0;
}

static int log_grow(rl_kernel_log *log)
{
    if (log->n < log->cap) return 0;
    int cap = log->cap ? log->cap * 2 : 256;
    rl_kernel_record *r = realloc(log->recs, sizeof *r * (size_t)cap);
    if (!r) return -1;
    log->recs = r;
    log->cap = cap;
    return 0;
}

void rl_kernel_log_push(rl_kernel_log *log, const char *kernel, unsigned op_mask, int layer, double ms)
{
    if (!log || log_grow(log)) return; /* profiling is best effort; the caller sees fewer records */
    double start = 0;
    for (int i = log->n - 1; i >= 0 && log->recs[i].step == log->steps; i--)
        if (log->recs[i].ms > 0) start += log->recs[i].ms;
    rl_kernel_record *r = &log->recs[log->n++];
    memset(r, 0, sizeof *r);
    snprintf(r->kernel, sizeof r->kernel, "%s", kernel);
    r->op_mask = op_mask;
    r->layer = layer;
    r->ms = r->busy_ms = ms;
    r->start_ms = start;
    r->step = log->steps;
    r->launch = log->launches++;
}

int rl_kernel_log_add(rl_kernel_log *log, const rl_kernel_record *r, rl_err *err)
{
    if (log_grow(log)) return rl_fail(err, "profile: out of host memory for kernel records");
    log->recs[log->n++] = *r;
    return 0;
}

void rl_kernel_log_next_step(rl_kernel_log *log)
{
    log->steps++;
    log->launches = 0;
}

void rl_kernel_log_clear(rl_kernel_log *log)
{
    log->n = 0;
    log->steps = log->launches = 0;
}

void rl_kernel_log_free(rl_kernel_log *log)
{
    free(log->recs);
    log->recs = NULL;
    log->n = log->cap = 0;
}

int rl_kernel_log_plan(const rl_kernel_log *log, int step, rl_launch_plan *out, rl_err *err)
{
    rl_launch_plan_clear(out);
    int last = -1;
    for (int i = 0; i < log->n; i++) {
        const rl_kernel_record *r = &log->recs[i];
        if (r->step != step) continue;
        if (out->n && r->launch == last) {
            out->v[out->n - 1].n_kernels++;
            continue;
        }
        if (rl_launch_plan_push(out, r->kernel, r->op_mask, r->layer, 1, 1, err)) return -1;
        last = r->launch;
    }
    return 0;
}
