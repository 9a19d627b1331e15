// profile.cu: the CUDA engine's per-kernel bookkeeping (profile.h, engine.h set_profile).
//   capture : every launch goes into the plan of the graph being captured, with the kernel nodes it
//             added (a cuBLASLt call may add two), so a replay's kernels can be told apart later.
//   CUPTI   : the real step runs (graph replay with PDL; prefill as usual); its CUPTI records are
//             matched to the graph's plan by position, or to eager launches by correlation id.
//   events  : events around each launch, eager and serialised (the fallback: CUPTI unavailable).
//   plan    : the step runs untouched; its launches are logged without times. Each eager launch sits
//             in an NVTX range "rl#<launch>", so a profiler that renames kernels by their NVTX range
//             (ncu --print-nvtx-rename kernel) tells which launch each kernel came from.
#include <nvtx3/nvToolsExt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cupti.h"
#include "state.h"

// The graph s->st is capturing into and its node count.
static int capture_graph(cuda_state *s, cudaGraph_t *g, size_t *n, rl_err *err)
{
    cudaStreamCaptureStatus status;
    *g = NULL;
    CU_CHECK(cudaStreamGetCaptureInfo(s->st, &status, NULL, g), "profile: cudaStreamGetCaptureInfo");
    if (status != cudaStreamCaptureStatusActive || !*g) return rl_fail(err, "profile: the stream is not capturing");
    CU_CHECK(cudaGraphGetNodes(*g, NULL, n), "profile: cudaGraphGetNodes");
    return 0;
}

// Kernel nodes among the n nodes of g.
static int kernel_nodes(cuda_state *s, cudaGraph_t g, size_t n, size_t *out, rl_err *err)
{
    size_t k = 0;
    if (n > s->pst.nodes_cap) {
        size_t cap = n * 2;
        cudaGraphNode_t *v = (cudaGraphNode_t *)realloc(s->pst.nodes, sizeof *v * cap);
        if (!v) return rl_fail(err, "profile: out of host memory counting graph nodes");
        s->pst.nodes = v, s->pst.nodes_cap = cap;
    }
    if (n) CU_CHECK(cudaGraphGetNodes(g, s->pst.nodes, &n), "profile: cudaGraphGetNodes");
    for (size_t i = 0; i < n; i++) {
        cudaGraphNodeType t;
        CU_CHECK(cudaGraphNodeGetType(s->pst.nodes[i], &t), "profile: cudaGraphNodeGetType");
        k += t == cudaGraphNodeTypeKernel;
    }
    *out = k;
    return 0;
}

// The kernel nodes one captured launch added: a launch that added one node added a kernel (every
// launch launches at least one); only a library call that added several is looked at node by node.
static int captured_kernels(cuda_state *s, int *added, rl_err *err)
{
    cudaGraph_t g;
    size_t n = 0, k = 0;
    if (capture_graph(s, &g, &n, err)) return -1;
    if (n == s->pst.nodes_before + 1) {
        s->pst.kernel_nodes++;
        *added = 1;
        return 0;
    }
    if (kernel_nodes(s, g, n, &k, err)) return -1;
    *added = k > s->pst.kernel_nodes ? (int)(k - s->pst.kernel_nodes) : 0;
    s->pst.kernel_nodes = k;
    return 0;
}

int cuda_prof_begin(cuda_state *s, rl_err *err)
{
    if (s->capturing) {
        cudaGraph_t g;
        return capture_graph(s, &g, &s->pst.nodes_before, err);
    }
    if (!s->prof) return 0;
    switch (s->pst.mode) {
    case CUDA_PROF_EVENTS: CU_CHECK(cudaEventRecord(s->ev0, s->st), "profile: cudaEventRecord"); return 0;
    case CUDA_PROF_CUPTI: return rl_cupti_push(s->pst.cupti, (uint64_t)s->pst.eager.n, err);
    case CUDA_PROF_PLAN: {
        char name[32];
        snprintf(name, sizeof name, "rl#%d", s->prof->launches);
        nvtxRangePushA(name);
        return 0;
    }
    default: return 0;
    }
}

int cuda_prof_end(cuda_state *s, const char *kernel, unsigned op_mask, int layer, rl_err *err)
{
    if (s->capturing) {
        int added = 0;
        if (captured_kernels(s, &added, err)) return -1;
        return rl_launch_plan_push(&s->pst.capture, kernel, op_mask, layer, 1, added, err);
    }
    if (!s->prof) return 0;
    switch (s->pst.mode) {
    case CUDA_PROF_EVENTS: {
        CU_CHECK(cudaEventRecord(s->ev1, s->st), "profile: cudaEventRecord");
        cudaError_t e = cudaEventSynchronize(s->ev1);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel %s (layer %d) failed: %s", kernel, layer, cudaGetErrorString(e));
        float ms = 0.f;
        CU_CHECK(cudaEventElapsedTime(&ms, s->ev0, s->ev1), "profile: cudaEventElapsedTime");
        rl_kernel_log_push(s->prof, kernel, op_mask, layer, ms);
        return 0;
    }
    case CUDA_PROF_CUPTI:
        if (rl_cupti_pop(s->pst.cupti, err)) return -1;
        return rl_launch_plan_push(&s->pst.eager, kernel, op_mask, layer, 1, 0, err);
    case CUDA_PROF_PLAN:
        nvtxRangePop();
        rl_kernel_log_push(s->prof, kernel, op_mask, layer, -1);
        return 0;
    default: return 0;
    }
}

int cuda_prof_serial(const cuda_state *s) { return s->prof && s->pst.mode == CUDA_PROF_EVENTS; }

int cuda_prof_graph_current(const cuda_state *s, const cuda_graph *g)
{
    return !s->prof || s->pst.mode != CUDA_PROF_CUPTI || g->epoch == s->pst.epoch;
}

static void stop_cupti(cuda_state *s)
{
    rl_cupti_stop(s->pst.cupti);
    s->pst.cupti = NULL;
}

void cuda_prof_set(cuda_state *s, rl_kernel_log *log)
{
    stop_cupti(s);
    rl_launch_plan_clear(&s->pst.eager);
    s->prof = log;
    s->pst.mode = CUDA_PROF_OFF;
    if (!log) return;
    if (log->want == RL_PROFILE_PLAN) {
        s->pst.mode = CUDA_PROF_PLAN;
        log->timing = RL_TIMING_NONE;
        return;
    }
    rl_err e;
    if (rl_cupti_start(&s->pst.cupti, &e) == 0) {
        if (s->tp.n > 1) rl_cupti_only_device(s->pst.cupti, s->tp.device); // tensor parallel: this rank's GPU
        s->pst.mode = CUDA_PROF_CUPTI;
        s->pst.epoch++;
        log->timing = RL_TIMING_CUPTI;
        return;
    }
    s->pst.mode = CUDA_PROF_EVENTS;
    log->timing = RL_TIMING_EVENTS;
    snprintf(log->note, sizeof log->note, "%s; kernels timed between events, eager and serialised", e.msg);
}

void cuda_prof_capture_begin(cuda_state *s)
{
    rl_launch_plan_clear(&s->pst.capture);
    s->pst.kernel_nodes = 0;
}

void cuda_prof_capture_end(cuda_state *s, cuda_graph *g)
{
    rl_launch_plan_free(&g->plan);
    g->plan = s->pst.capture; // the capture's plan moves into the graph
    memset(&s->pst.capture, 0, sizeof s->pst.capture);
    g->epoch = s->pst.epoch;
}

// CUPTI's records cannot be trusted for this step: the profile goes on with events.
static void fall_back(cuda_state *s, const char *why)
{
    stop_cupti(s);
    rl_kernel_log_clear(s->prof);
    s->pst.mode = CUDA_PROF_EVENTS;
    s->prof->timing = RL_TIMING_EVENTS;
    snprintf(s->prof->note, sizeof s->prof->note, "CUPTI records did not match the launches (%s); kernels timed "
                                                  "between events, eager and serialised",
             why);
}

static int log_graph_plan(cuda_state *s, const rl_launch_plan *plan, rl_err *err)
{
    for (int i = 0; i < plan->n; i++) {
        const rl_plan_entry *l = &plan->v[i];
        for (int k = 0; k < (l->n_kernels > 0 ? l->n_kernels : 1); k++) {
            rl_kernel_record r;
            memset(&r, 0, sizeof r);
            snprintf(r.kernel, sizeof r.kernel, "%s", l->kernel);
            r.op_mask = l->op_mask, r.layer = l->layer;
            r.ms = r.busy_ms = r.start_ms = -1;
            r.step = s->prof->steps, r.launch = i;
            if (rl_kernel_log_add(s->prof, &r, err)) return -1;
        }
    }
    s->prof->launches = plan->n;
    return 0;
}

int cuda_prof_step_done(cuda_state *s, const cuda_graph *g, rl_err *err)
{
    if (!s->prof) return 0;
    if (s->pst.mode == CUDA_PROF_PLAN) return g ? log_graph_plan(s, &g->plan, err) : 0;
    if (s->pst.mode != CUDA_PROF_CUPTI) return 0;
    CU_CHECK(cudaStreamSynchronize(s->st), "profile: the profiled step");
    const rl_launch_plan *plan = g ? &g->plan : &s->pst.eager;
    /* CUPTI hands records over after the kernels end, not always by the time the stream is synced:
     * collect until the step's kernels are all there (a graph's are known; an eager step has at
     * least one per launch), for at most ~50 ms. */
    const int want = g ? rl_launch_plan_kernels(plan) : plan->n;
    rl_kernel_activity *acts = NULL;
    int n = 0;
    rl_err e;
    for (int tries = 0; n < want && tries < 50; tries++) {
        rl_kernel_activity *more = NULL;
        int m = 0;
        if (rl_cupti_collect(s->pst.cupti, &more, &m, &e)) {
            free(acts);
            fall_back(s, e.msg);
            return 0;
        }
        rl_kernel_activity *all = (rl_kernel_activity *)realloc(acts, sizeof *all * (size_t)(n + m + 1));
        if (!all) {
            free(more), free(acts);
            return rl_fail(err, "profile: out of host memory for activity records");
        }
        acts = all;
        if (m) memcpy(acts + n, more, sizeof *acts * (size_t)m);
        n += m;
        free(more);
        if (n < want) usleep(1000);
    }
    // A replay's kernels all carry the graph launch's correlation: they are matched by position.
    if (g)
        for (int i = 0; i < n; i++) acts[i].launch = -1;
    const int kept = rl_kernel_assign(plan, acts, n, &e);
    int rc = 0;
    if (kept < 0 || kept == 0) {
        fall_back(s, kept < 0 ? e.msg : "no kernel of the step was recorded");
    } else {
        if (kept < n)
            snprintf(s->prof->note, sizeof s->prof->note,
                     "%d kernels outside the engine's launches (kernel-choice timing) left out", n - kept);
        rc = rl_kernel_log_activities(s->prof, plan, acts, n, err);
    }
    free(acts);
    rl_launch_plan_clear(&s->pst.eager);
    return rc;
}

void cuda_prof_release(cuda_state *s)
{
    stop_cupti(s);
    rl_launch_plan_free(&s->pst.capture);
    rl_launch_plan_free(&s->pst.eager);
    free(s->pst.nodes);
    s->pst.nodes = NULL;
    s->pst.nodes_cap = 0;
}
