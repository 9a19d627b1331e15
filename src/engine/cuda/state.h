// state.h: the CUDA engine's state, shared by its files (memory plan, weights, projections,
// forward pass). Internal to src/engine/cuda.
#pragma once
extern "C" {
#include "../engine.h"
}
#include "blas.h"
#include "common.cuh"
#include "kernels.h"
#include "profile.h"

typedef struct {
    bf16 *attn_norm, *qkv, *o, *ffn_norm, *gate_up, *down;
} cuda_layer;

// Sizes of everything the engine allocates, decided before any allocation.
typedef struct {
    int64_t weights_bytes, kv_bytes, workspace_bytes;
    int64_t chunk_tokens;  // activation rows the workspace holds (prefill chunk, decode batch)
    int64_t logits_rows;   // rows of the fp32 logits buffer
    int64_t partial_floats;
    int64_t scratch_bytes; // tuning scratch beyond the gate/up buffer (0 when that is big enough)
    int64_t lt_workspace_bytes;
} cuda_plan;

// How one projection shape runs: our GEMV or cuBLASLt, picked by timing both once.
typedef struct {
    int T, N, K, mode;
    int use_gemv;
    int stages; // GEMV weight path: 0 registers, 4 or 8 cp.async stages (forced only)
    int ksplit; // GEMV blocks per row tile along K (accumulating shapes; the fastest timed)
    double gemv_ms, lt_ms;
} cuda_choice;

#define CUDA_MAX_CHOICES 256
#define CUDA_MAX_GRAPHS 16

typedef struct {
    int batch;
    cudaGraphExec_t exec;
    rl_launch_plan plan; // its launches in order, n_kernels = kernel nodes each (profile.cu)
    int epoch;           // cuda_prof_state.epoch when it was captured
} cuda_graph;

typedef struct {
    rl_model_config m;
    rl_engine_opts o;
    cuda_plan plan;
    char device_name[256];
    int sm_count;
    cudaStream_t st;
    int pdl;     // programmatic dependent launch between our kernels (RL_CUDA_PDL=0 turns it off)
    int after_lt; // the previous launch was a cuBLASLt GEMM: the next one waits the classic way
    int tune;    // time GEMV vs cuBLASLt per shape (RL_CUDA_TUNE=0: GEMV up to batch 64 untimed)
    int gemv_ksplit; // RL_CUDA_GEMV_KSPLIT: 0 timed, 1 never (default: no step gain, run 9), N > 1 forced
    int gemv_l2pf;   // RL_CUDA_GEMV_L2PF=1: GEMV prefetches its weights to L2 before the PDL wait (default off)
    int gemv_stages; // RL_CUDA_GEMV_STAGES: 0 register GEMV only, 4/8 forced (untimed), else timed
    int split_override; // RL_CUDA_SPLITS: split-KV count for decode attention (0: heuristic)
    int fuse_norm; // RMSNorm inside the GEMV when its producer left sums of squares (RL_CUDA_FUSE_NORM=0: off)
    int qkv_dim; // (heads + 2 * kv_heads) * head_dim

    void *weights_mem, *kv_mem, *ws_mem;
    bf16 *embed, *final_norm, *lm_head;
    cuda_layer *layers;
    bf16 *kcache, *vcache; // [layers][max_batch][kv_heads][max_context][head_dim]
    int64_t kv_layer_elems;

    float *x;        // [chunk, hidden] fp32 residual stream
    bf16 *xn;        // [chunk, hidden] normed input of a projection
    bf16 *qkv;       // [chunk, qkv_dim]
    bf16 *attn;      // [chunk, heads * head_dim]
    bf16 *gu;        // [chunk, 2 * intermediate] (cuBLASLt path)
    bf16 *h;         // [chunk, intermediate]
    float *logits;   // [logits_rows, vocab]
    int *next;       // [max_batch]
    int *tokens;     // [chunk]
    int *step;       // [1 + max_batch]: decode position, then tokens
    float *ss;       // [chunk][hidden/16] partial sums of squares of x (fused RMSNorm)
    float *rs;       // [chunk] rsqrt(mean(x^2) + eps) of the current x
    int *ss_ticket;  // the accumulating GEMV's last-block counter
    int rs_valid;    // s->rs describes the current x (the last producer of x left it)
    float *partial;  // split-KV partials
    int *tickets;    // [max_batch * kv_heads] split-KV merge counters (kept at zero)
    float2 *rope;    // [max_context][head_dim / 2] (cos, sin)
    void *scratch;   // tuning output for accumulating projections
    void *lt_ws;

    int *host_step;  // pinned staging of step (position + tokens)
    cudaEvent_t step_copied, ev0, ev1;
    rl_lt *lt;
    cuda_choice choices[CUDA_MAX_CHOICES];
    int n_choices;
    cuda_graph graphs[CUDA_MAX_GRAPHS];
    int n_graphs;
    int capturing;
    rl_kernel_log *prof;
    cuda_prof_state pst;
    int64_t pos;
} cuda_state;

// memory.cu
int cuda_plan_memory(const rl_model_config *m, const rl_engine_opts *o, int sm_count, cuda_plan *p, rl_err *err);
int cuda_allocate(cuda_state *s, rl_err *err);
int cuda_random_weights(cuda_state *s, rl_err *err);
int cuda_load_weights(cuda_state *s, const char *dir, rl_err *err);
int cuda_rope_table(cuda_state *s, rl_err *err);

// linear.cu: Y = X W^T in one of the GEMV modes, by GEMV or cuBLASLt (+ silu_mul).
// norm_w: the RMSNorm weight in front of the projection (NULL: X is the input as it is). With
// a GEMV and rs from the producer of x (s->rs_valid) the norm is fused into
// the GEMV; otherwise the rmsnorm kernel first writes s->xn (norm_op names it in profiles).
int cuda_linear(cuda_state *s, rl_op_id op, int layer, int T, const bf16 *X, const bf16 *W, int N, int K, void *Y,
                int mode, const bf16 *norm_w, rl_op_id norm_op, rl_err *err);

// profile.cu: around every launch (see profile.h). cuda_prof_end names the launch and its ops.
int cuda_prof_begin(cuda_state *s, rl_err *err);
int cuda_prof_end(cuda_state *s, const char *kernel, unsigned op_mask, int layer, rl_err *err);
// set_profile: CUPTI where it works, else events; the plan alone when log->want says so.
void cuda_prof_set(cuda_state *s, rl_kernel_log *log);
// Events mode: launches are timed one by one, eagerly, without PDL or graphs.
int cuda_prof_serial(const cuda_state *s);
// 0 when a CUPTI session started after g was captured: capture it again before profiling a replay.
int cuda_prof_graph_current(const cuda_state *s, const cuda_graph *g);
// Around graph capture: the launches recorded in between become g's plan.
void cuda_prof_capture_begin(cuda_state *s);
void cuda_prof_capture_end(cuda_state *s, cuda_graph *g);
// After a profiled step (g: the graph it replayed, NULL: eager): its kernels go to the log.
int cuda_prof_step_done(cuda_state *s, const cuda_graph *g, rl_err *err);
void cuda_prof_release(cuda_state *s);
