// tp.cu: the tensor-parallel CUDA engine (rl_engine_opts.tp >= 1): N GPUs of one host, one engine
// state (cuda_state, forward.cu) and one host thread per GPU. Every call of the backend is a job
// each rank runs on its own thread at once (its CUDA device current there, its graphs captured there
// with the NCCL calls in them); the caller waits for all of them.
//
// Sharding (src/model/tp.h, the model-spec table's rl_tp_split): Q/K/V column-parallel by heads
// (KV heads replicated where there are fewer than GPUs), o_proj row-parallel, gate/up column-parallel,
// down row-parallel, lm_head by vocabulary rows; norms and the embedding whole on every rank.
// What is reduced: o_proj and down_proj of each rank write their partial sums in bf16 (s->tp.part),
// NCCL sums them in place (bf16 all-reduce: hidden x 2 bytes per token, half of an fp32 reduce), and
// the next norm adds the sum to the rank's fp32 residual stream, which every rank keeps whole and
// identical. Sampling: each rank's argmax over its vocabulary slice, an all-gather of the B
// candidates of every rank, and the best of them (the lowest token on ties, as one GPU picks).
// Logits for the host: each rank copies its columns into the caller's rows.
//
// World size 1 runs all of it (the sharded layout, the partial sums, the reduce call sites, the
// candidate argmax) on one GPU; its collectives are NCCL calls on a one-rank communicator when NCCL
// loads (they enqueue no work, so they are not launches of the plan), skipped when it does not.
// A group of two or more needs NCCL (nccl_lib.h: which library, and the NCCL_* defaults it sets).
//
// A rank that fails mid-step may leave its peers waiting inside a collective (on the host, or on the
// GPU after their part of the step was enqueued), and the ranks' positions would part ways: the
// communicators are aborted at once (their collectives quit; NCCL frees them once the graphs that
// hold their work are destroyed, when the engine is), the error of the first rank that failed is
// returned, and every later call fails at once: the engine has to be created again.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cupti.h"
#include "state.h"
extern "C" {
#include "../../model/tp.h"
}

typedef struct tp_group tp_group;
typedef int (*tp_job)(tp_group *g, int rank, void *arg, rl_err *err);

typedef struct {
    tp_group *g;
    int rank;
} tp_worker;

struct tp_group {
    int n;
    rl_model_config m;
    rl_engine_opts o;
    cuda_state *st[RL_TP_MAX];
    rl_nccl *nccl;
    void *comm[RL_TP_MAX];
    // The NCCL calls of every rank hold it for reading; the abort takes it for writing, so no rank
    // enqueues on a communicator being freed, and none after (aborted).
    pthread_rwlock_t comm_lock;
    int aborted;
    pthread_t abort_threads[RL_TP_MAX]; // abort_main per communicator, joined by tp_destroy
    int abort_started[RL_TP_MAX];
    // The job board: post() bumps generation, each worker runs the job once and counts down.
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    unsigned long generation;
    int remaining, quit;
    tp_job job;
    void *arg;
    int rc[RL_TP_MAX];
    rl_err err[RL_TP_MAX];
    int first_failed; // the rank that failed first in this job, -1 none
    tp_worker workers[RL_TP_MAX];
    pthread_t threads[RL_TP_MAX];
    int n_threads;
    int broken;   // a job failed with its collectives aborted: every call fails now
    rl_err why_broken;
    char banner[160];
};

// ---- the collectives a rank's forward calls (state.h) ------------------------------------------

// The group of the state (set at creation; the states never outlive it).
static tp_group *group_of(const cuda_state *s) { return (tp_group *)s->tp.group; }

// Runs call under the communicator lock; fails without calling once the group was aborted.
template <typename Call> static int guarded(cuda_state *s, const char *what, Call call, rl_err *err)
{
    tp_group *g = group_of(s);
    pthread_rwlock_rdlock(&g->comm_lock);
    const int rc = g->aborted ? rl_fail(err, "tensor parallel: %s on rank %d: the group was aborted (another rank "
                                             "failed)", what, s->tp.rank)
                              : call();
    pthread_rwlock_unlock(&g->comm_lock);
    return rc;
}

int cuda_tp_allreduce(cuda_state *s, int layer, int T, rl_err *err)
{
    s->tp.pending = 1;
    if (!s->tp.nccl) return 0; // world size 1 without NCCL: one rank's sum is its own
    const size_t count = (size_t)T * (size_t)s->m.hidden;
    auto call = [&]() { return rl_nccl_allreduce_bf16(s->tp.nccl, s->tp.comm, s->tp.part, count, s->st, err); };
    if (s->tp.n == 1) return guarded(s, "all-reduce", call, err); // enqueues nothing: no launch of the plan
    if (cuda_prof_begin(s, err)) return -1;
    if (guarded(s, "all-reduce", call, err)) return rl_wrap(err, "layer %d", layer);
    s->after_lt = 1; // the next kernel waits for the collective the classic way (no PDL edge from it)
    return cuda_prof_end(s, "nccl_allreduce", RL_OPMASK(RL_OP_ALLREDUCE), layer, err);
}

int cuda_tp_gather_cand(cuda_state *s, int B, rl_err *err)
{
    if (!s->tp.nccl) return 0;
    const size_t bytes = sizeof(rl_token_cand) * (size_t)B;
    auto call = [&]() {
        return rl_nccl_allgather(s->tp.nccl, s->tp.comm, (const char *)s->tp.cand + s->tp.rank * bytes, s->tp.cand,
                                 bytes, s->st, err);
    };
    if (s->tp.n == 1) return guarded(s, "all-gather", call, err);
    if (cuda_prof_begin(s, err)) return -1;
    if (guarded(s, "all-gather", call, err)) return -1;
    s->after_lt = 1;
    return cuda_prof_end(s, "nccl_allgather", RL_OPMASK(RL_OP_SAMPLE), -1, err);
}

// ---- the job board ------------------------------------------------------------------------------

static void *worker_main(void *p)
{
    const tp_worker *w = (const tp_worker *)p;
    tp_group *g = w->g;
    unsigned long seen = 0;
    pthread_mutex_lock(&g->mu);
    for (;;) {
        while (!g->quit && g->generation == seen) pthread_cond_wait(&g->go, &g->mu);
        if (g->quit) break;
        seen = g->generation;
        const tp_job job = g->job;
        void *arg = g->arg;
        pthread_mutex_unlock(&g->mu);
        rl_err e;
        e.msg[0] = 0;
        const int rc = job(g, w->rank, arg, &e);
        pthread_mutex_lock(&g->mu);
        g->rc[w->rank] = rc, g->err[w->rank] = e;
        if (rc && g->first_failed < 0) g->first_failed = w->rank;
        if (--g->remaining == 0 || rc) pthread_cond_broadcast(&g->done);
    }
    pthread_mutex_unlock(&g->mu);
    return NULL;
}

// ncclCommAbort tells the collectives in flight to quit at once, then waits for every CUDA graph
// holding the communicator's work to be destroyed before it frees it: so each runs on a thread of its
// own (all at once: a rank's kernel waits for its peers' until their flags are up too), which
// tp_destroy joins after the ranks destroyed their graphs.
static void *abort_main(void *p)
{
    const tp_worker *w = (const tp_worker *)p;
    rl_nccl_abort(w->g->nccl, w->g->comm[w->rank]);
    return NULL;
}

// Marks the group aborted (no rank enqueues on a communicator any more: the lock waits for those
// enqueueing now) and starts aborting the communicators, which releases ranks blocked in a collective.
static void abort_comms(tp_group *g)
{
    pthread_rwlock_wrlock(&g->comm_lock);
    const int first = !g->aborted;
    g->aborted = 1;
    pthread_rwlock_unlock(&g->comm_lock);
    for (int r = 0; first && r < g->n; r++)
        if (!pthread_create(&g->abort_threads[r], NULL, abort_main, &g->workers[r])) g->abort_started[r] = 1;
}

// Runs job on every rank and waits for all; returns 0 or the first failure (its rank named). A
// failure aborts the communicators at once (a peer may be waiting for the failed rank inside a
// collective, on the host or on its GPU) and leaves the group broken.
static int post_all(tp_group *g, tp_job job, void *arg, rl_err *err)
{
    pthread_mutex_lock(&g->mu);
    g->job = job, g->arg = arg, g->remaining = g->n, g->first_failed = -1;
    g->generation++;
    pthread_cond_broadcast(&g->go);
    int aborted = 0;
    while (g->remaining > 0) {
        pthread_cond_wait(&g->done, &g->mu);
        if (g->first_failed >= 0 && !aborted && g->nccl && g->n > 1) {
            pthread_mutex_unlock(&g->mu);
            abort_comms(g);
            pthread_mutex_lock(&g->mu);
            aborted = 1;
        }
    }
    const int failed = g->first_failed;
    pthread_mutex_unlock(&g->mu);
    if (failed < 0) return 0;
    rl_fail(err, "tensor parallel, rank %d (GPU %d): %s", failed, failed, g->err[failed].msg);
    g->broken = 1;
    rl_fail(&g->why_broken, "tensor parallel: the engine stopped after rank %d failed (%s); create it again", failed,
            g->err[failed].msg);
    return -1;
}

// A backend call: fails at once when an earlier one broke the group.
static int run_all(tp_group *g, tp_job job, void *arg, rl_err *err)
{
    if (g->broken) {
        *err = g->why_broken;
        return -1;
    }
    return post_all(g, job, arg, err);
}

// ---- the backend calls, each a job --------------------------------------------------------------

static int job_create(tp_group *g, int rank, void *arg, rl_err *err)
{
    (void)arg;
    cuda_tp tp;
    memset(&tp, 0, sizeof tp);
    tp.n = g->n, tp.rank = rank, tp.device = rank;
    tp.global = g->m;
    tp.nccl = g->nccl, tp.comm = g->comm[rank];
    tp.group = g;
    rl_engine_opts o = g->o;
    o.quiet = 1; // the group prints one line
    return cuda_create_state(&g->m, &o, &tp, (void **)&g->st[rank], err);
}

typedef struct {
    int64_t batch, len;
    const int32_t *tokens;
    float *logits;
    int32_t *next;
    int all_positions;
} step_args;

static int job_prefill(tp_group *g, int rank, void *arg, rl_err *err)
{
    const step_args *a = (const step_args *)arg;
    return rl_cuda_backend.prefill(g->st[rank], a->batch, a->len, a->tokens, a->logits, a->all_positions, err);
}

static int job_decode(tp_group *g, int rank, void *arg, rl_err *err)
{
    const step_args *a = (const step_args *)arg; // every rank has the tokens; rank 0 hands them out
    return rl_cuda_backend.decode(g->st[rank], a->batch, a->tokens, a->logits, rank == 0 ? a->next : NULL, err);
}

static int job_sync(tp_group *g, int rank, void *arg, rl_err *err)
{
    (void)arg;
    return rl_cuda_backend.sync(g->st[rank], err);
}

// Profiles are rank 0's kernels (its CUPTI records only: the other GPUs' kernels are left out).
static int job_profile(tp_group *g, int rank, void *arg, rl_err *err)
{
    (void)err;
    if (rank == 0) rl_cuda_backend.set_profile(g->st[0], (rl_kernel_log *)arg);
    return 0;
}

// Each rank frees its state on its own thread (its device current): graphs holding NCCL work go
// before the communicators.
static int job_destroy(tp_group *g, int rank, void *arg, rl_err *err)
{
    (void)arg, (void)err;
    if (g->st[rank]) rl_cuda_backend.destroy(g->st[rank]); // synchronises its stream first
    g->st[rank] = NULL;
    return 0;
}

static void tp_destroy(void *state)
{
    tp_group *g = (tp_group *)state;
    if (!g) return;
    rl_err e;
    if (g->n_threads == g->n) post_all(g, job_destroy, NULL, &e);
    pthread_mutex_lock(&g->mu);
    g->quit = 1;
    pthread_cond_broadcast(&g->go);
    pthread_mutex_unlock(&g->mu);
    for (int i = 0; i < g->n_threads; i++) pthread_join(g->threads[i], NULL);
    for (int r = 0; r < g->n; r++)
        if (g->st[r]) rl_cuda_backend.destroy(g->st[r]); // a rank whose thread never started
    for (int r = 0; r < g->n; r++) // the graphs are gone: the aborts finish
        if (g->abort_started[r]) pthread_join(g->abort_threads[r], NULL);
    if (!g->aborted)
        for (int r = 0; r < g->n; r++) rl_nccl_destroy(g->nccl, g->comm[r]);
    rl_nccl_close(g->nccl);
    pthread_rwlock_destroy(&g->comm_lock);
    pthread_cond_destroy(&g->go);
    pthread_cond_destroy(&g->done);
    pthread_mutex_destroy(&g->mu);
    free(g);
}

// NCCL for the group: required for two GPUs or more, used at world size 1 when it loads.
static int open_nccl(tp_group *g, rl_err *err)
{
    rl_err e;
    if (rl_nccl_open(g->o.nccl_lib, &g->nccl, &e)) {
        if (g->n > 1) return rl_fail(err, "cuda engine --tp %d: %s", g->n, e.msg);
        snprintf(g->banner, sizeof g->banner, "NCCL not loaded, world size 1 skips the collectives");
        return 0;
    }
    int devices[RL_TP_MAX];
    for (int r = 0; r < g->n; r++) devices[r] = r;
    if (rl_nccl_comms(g->nccl, g->n, devices, g->comm, err)) return rl_wrap(err, "cuda engine --tp %d", g->n);
    snprintf(g->banner, sizeof g->banner, "NCCL %s", rl_nccl_describe(g->nccl));
    return 0;
}

static int tp_create(const rl_model_config *m, const rl_engine_opts *o, void **state, rl_err *err)
{
    *state = NULL;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess) devices = 0;
    if (o->tp < 1 || o->tp > RL_TP_MAX) return rl_fail(err, "cuda engine: --tp %d: 1 to %d GPUs", o->tp, RL_TP_MAX);
    if (o->tp > devices)
        return rl_fail(err, "cuda engine: --tp %d needs %d GPUs, %d visible (CUDA_VISIBLE_DEVICES?)", o->tp, o->tp, devices);
    if (rl_tp_check(m, o->tp, err)) return -1;
    tp_group *g = (tp_group *)calloc(1, sizeof *g);
    if (!g) return rl_fail(err, "cuda engine: out of host memory");
    g->n = o->tp, g->m = *m, g->o = *o;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->go, NULL);
    pthread_cond_init(&g->done, NULL);
    pthread_rwlock_init(&g->comm_lock, NULL);
    // NCCL first: its buffers are on the GPUs before the memory plan counts what is free.
    int rc = open_nccl(g, err);
    for (int r = 0; !rc && r < g->n; r++) {
        g->workers[r] = tp_worker{g, r};
        if (pthread_create(&g->threads[r], NULL, worker_main, &g->workers[r]))
            rc = rl_fail(err, "cuda engine --tp %d: cannot start the thread of rank %d", g->n, r);
        else g->n_threads++;
    }
    if (!rc) rc = run_all(g, job_create, NULL, err);
    if (rc) {
        tp_destroy(g);
        return -1;
    }
    if (!o->quiet) {
        const cuda_state *s = g->st[0];
        fprintf(stderr, "cuda engine: tensor parallel over %d x %s (code path %s, %s): weights %.2f GB, KV cache "
                        "%.2f GB (%lld x %lld), workspace %.2f GB per GPU\n",
                g->n, s->device_name, s->path.name, g->banner, s->plan.weights_bytes / 1e9, s->plan.kv_bytes / 1e9,
                (long long)o->max_batch, (long long)o->max_context, s->plan.workspace_bytes / 1e9);
    }
    *state = g;
    return 0;
}

static int tp_prefill(void *state, int64_t batch, int64_t len, const int32_t *tokens, float *logits, int all_positions,
                      rl_err *err)
{
    step_args a = {batch, len, tokens, logits, NULL, all_positions};
    return run_all((tp_group *)state, job_prefill, &a, err);
}

static int tp_decode(void *state, int64_t batch, const int32_t *tokens, float *logits, int32_t *next, rl_err *err)
{
    step_args a = {batch, 1, tokens, logits, next, 0};
    return run_all((tp_group *)state, job_decode, &a, err);
}

static int tp_sync(void *state, rl_err *err) { return run_all((tp_group *)state, job_sync, NULL, err); }

static void tp_set_profile(void *state, rl_kernel_log *log)
{
    rl_err e;
    if (run_all((tp_group *)state, job_profile, log, &e) && log) snprintf(log->note, sizeof log->note, "%s", e.msg);
}

typedef struct {
    int64_t batch, context;
    uint64_t seed;
} fill_args;

// Each rank fills the KV heads it holds (with values of its own seed stream: a filled cache is timed,
// never compared across group sizes) and places its sequences at the same position.
static int job_fill_context(tp_group *g, int rank, void *arg, rl_err *err)
{
    const fill_args *a = (const fill_args *)arg;
    return rl_cuda_backend.fill_context(g->st[rank], a->batch, a->context, a->seed + 0x9e3779b9ull * (uint64_t)rank,
                                        err);
}

static int tp_fill_context(void *state, int64_t batch, int64_t context, uint64_t seed, rl_err *err)
{
    fill_args a = {batch, context, seed};
    return run_all((tp_group *)state, job_fill_context, &a, err);
}

// The group's whole: every GPU's weights, KV cache and workspace.
static void tp_memory(void *state, int64_t *weights_bytes, int64_t *kv_bytes, int64_t *workspace_bytes)
{
    const tp_group *g = (const tp_group *)state;
    int64_t w = 0, k = 0, s = 0;
    for (int r = 0; r < g->n; r++) {
        int64_t a, b, c;
        rl_cuda_backend.memory(g->st[r], &a, &b, &c);
        w += a, k += b, s += c;
    }
    if (weights_bytes) *weights_bytes = w;
    if (kv_bytes) *kv_bytes = k;
    if (workspace_bytes) *workspace_bytes = s;
}

static const char *tp_device_name(void *state) { return rl_cuda_backend.device_name(((tp_group *)state)->st[0]); }

static int tp_linear_choices(void *state, rl_linear_choice *out, int max)
{
    return rl_cuda_backend.linear_choices(((tp_group *)state)->st[0], out, max);
}

extern "C" const rl_backend_ops rl_cuda_tp_backend = {
    "cuda", tp_create, tp_destroy, tp_prefill, tp_decode, tp_sync, tp_set_profile, tp_memory, tp_device_name,
    tp_linear_choices, tp_fill_context,
};
