// state.h: the CUDA engine's state, shared by its files (memory plan, weights, projections,
// forward pass). Internal to src/engine/cuda.
#pragma once
extern "C" {
#include "../code_path.h"
#include "../engine.h"
}
#include "blas.h"
#include "common.cuh"
#include "kernels.h"
#include "tma.h"
#include "profile.h"
#include "nccl_lib.h"

// One layer's weights (memory.cu carves them from the model-spec table; stacks of one op are
// contiguous: qkv = q|k|v rows, gate_up = gate|up rows). qkv_bias [q|k|v] (qwen2) and
// qk_norm [q_norm | k_norm] (qwen3) are NULL when the model has none.
typedef struct {
    bf16 *attn_norm, *qkv, *o, *ffn_norm, *gate_up, *down;
    bf16 *qkv_bias, *qk_norm;
    CUtensorMap tm_qkv, tm_o, tm_gate_up, tm_down; // TMA maps of the projection weights (Hopper path)
    CUtensorMap tm_k, tm_v;                        // and of the layer's K and V cache
} cuda_layer;

// Sizes of everything the engine allocates, decided before any allocation.
typedef struct {
    int64_t weights_bytes, kv_bytes, workspace_bytes;
    int64_t chunk_tokens;  // activation rows the workspace holds (prefill chunk, decode batch)
    int64_t logits_rows;   // rows of the fp32 logits buffer
    int64_t partial_floats;
    int64_t scratch_bytes; // tuning scratch beyond the gate/up buffer (0 when that is big enough)
    int64_t lt_workspace_bytes;
    int64_t gs_floats;     // gemm_stream partial tiles
} cuda_plan;

// The projection kernels (rl_linear_choice.kernel names them).
typedef enum { LIN_STREAM, LIN_GEMV, LIN_LT } cuda_lin;

// How one projection shape runs, decided by timing the kernels that apply once.
typedef struct {
    int T, N, K, mode;
    rl_op_id op;
    cuda_lin kernel;
    double ms, alt_ms;
    CUtensorMap tx; // LIN_STREAM: the activations' TMA map (box rows for this T)
} cuda_choice;

// Tensor parallel (tp.cu): this state is rank `rank` of a group of n GPUs; n = 0 is the single-GPU
// engine, which never touches any of it. A rank runs the single-GPU forward on its share of the model
// (s->m = rl_tp_local_config of `global`): o_proj and down_proj store their partial sums in `part`,
// which is all-reduced in place (bf16), and the next norm adds it to the fp32 residual stream
// (add_rmsnorm; `pending` says a sum waits). The vocabulary is split: each rank's argmax of its slice
// goes to `cand`, gathered from every rank, and the best of them is the token.
typedef struct {
    int n, rank, device;
    rl_model_config global; // the whole model
    int64_t v0;             // this rank's first vocabulary row (logits column)
    rl_nccl *nccl;          // NULL at world size 1 without NCCL: the collectives are skipped
    void *comm;
    bf16 *part;             // [chunk, hidden] bf16 partial sums of o_proj / down_proj
    int pending;            // part holds a sum the residual stream has not taken yet
    rl_token_cand *cand;   // [n][batch] each rank's best (logit, token)
    void *group;            // the tp.cu group the rank belongs to
} cuda_tp;

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
    rl_code_path path; // sm80 / sm90 / sm90a, decided in create: consult it before any sm_90-only launch
    cudaStream_t st;
    int sm90;    // the Hopper kernels (wgmma, TMA) run: path.hopper_kernels unless tuning.portable
    int pdl;     // programmatic dependent launch between our kernels: path.pdl unless tuning says no
    int after_lt; // the previous launch was a cuBLASLt GEMM (or an NCCL collective): the next one waits the classic way
    int qkv_dim; // (heads + 2 * kv_heads) * head_dim
    cuda_tma_encode_fn tma_encode;

    void *weights_mem, *kv_mem, *ws_mem;
    bf16 *embed, *final_norm, *lm_head;
    CUtensorMap tm_lm_head;
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
    float *partial;  // split-KV partials
    int *tickets;    // [max_batch * kv_heads] split-KV merge counters (kept at zero)
    float *gs_ws;    // gemm_stream partial tiles
    int *gs_tickets; // [RL_GS_MAX_TILES] gemm_stream tile counters (kept at zero)
    rl_gs_work gs;   // the two above, for the launcher
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
    cuda_tp tp;
} cuda_state;

extern "C" const rl_backend_ops rl_cuda_backend;    // forward.cu: one GPU
extern "C" const rl_backend_ops rl_cuda_tp_backend; // tp.cu: a tensor-parallel group (opts.tp >= 1)

// forward.cu: a state for one GPU; tp NULL: the single-GPU engine on GPU 0, else rank tp->rank of a
// tensor-parallel group on GPU tp->device (tp->global, n, rank, device, nccl and comm set; m is
// the whole model, the state computes on its share). rl_cuda_backend's create is (m, o, NULL).
int cuda_create_state(const rl_model_config *m, const rl_engine_opts *o, const cuda_tp *tp, void **state,
                      rl_err *err);

// tp.cu: the collectives of a rank (no-ops of the single-GPU engine are never called).
// Sums s->tp.part [T, hidden] over the group (layer: for the profile); the next norm adds it.
int cuda_tp_allreduce(cuda_state *s, int layer, int T, rl_err *err);
// Gathers every rank's B candidates into s->tp.cand.
int cuda_tp_gather_cand(cuda_state *s, int B, rl_err *err);

// memory.cu
int cuda_plan_memory(cuda_state *s, rl_err *err); // s->plan from the model, options and device
// TMA maps of every projection weight and KV cache layer (after carving; Hopper path only).
int cuda_weight_maps(cuda_state *s, rl_err *err);
int cuda_allocate(cuda_state *s, rl_err *err);
int cuda_random_weights(cuda_state *s, rl_err *err);
int cuda_load_weights(cuda_state *s, const char *dir, rl_err *err);
int cuda_rope_table(cuda_state *s, rl_err *err);
int cuda_fill_context(void *state, int64_t batch, int64_t context, uint64_t seed, rl_err *err); // rl_backend_ops

// linear.cu: Y = X W^T in one of the GEMV modes, by gemm_stream (Hopper), the GEMV (sm_80 path)
// or cuBLASLt (+ silu_mul). norm_w: the RMSNorm weight in front of the projection (NULL: X is the
// input as it is); the rmsnorm kernel first writes s->xn (norm_op names it in profiles). w_map:
// W's TMA map (Hopper path; NULL elsewhere).
int cuda_linear(cuda_state *s, rl_op_id op, int layer, int T, const bf16 *X, const bf16 *W, const CUtensorMap *w_map,
                int N, int K, void *Y, int mode, const bf16 *norm_w, rl_op_id norm_op, rl_err *err);
int cuda_linear_choices(void *state, rl_linear_choice *out, int max);

// profile.cu: around every launch (see profile.h). cuda_prof_end names the launch and its ops.
int cuda_prof_begin(cuda_state *s, rl_err *err);
int cuda_prof_end(cuda_state *s, const char *kernel, unsigned op_mask, int layer, rl_err *err);
// set_profile: CUPTI where it works, else events; the plan alone when log->want says so.
void cuda_prof_set(cuda_state *s, rl_kernel_log *log);
// Events mode: launches are timed one by one, eagerly, without PDL or graphs.
int cuda_prof_serial(const cuda_state *s);
// Whether the next launch of ours chains by PDL: not under events timing, and not after a cuBLASLt
// GEMM or a collective (those end without the trigger, so the next kernel waits the classic way).
static inline int cuda_pdl_on(const cuda_state *s) { return s->pdl && !cuda_prof_serial(s) && !s->after_lt; }
// 0 when a CUPTI session started after g was captured: capture it again before profiling a replay.
int cuda_prof_graph_current(const cuda_state *s, const cuda_graph *g);
// Around graph capture: the launches recorded in between become g's plan.
void cuda_prof_capture_begin(cuda_state *s);
void cuda_prof_capture_end(cuda_state *s, cuda_graph *g);
// After a profiled step (g: the graph it replayed, NULL: eager): its kernels go to the log.
int cuda_prof_step_done(cuda_state *s, const cuda_graph *g, rl_err *err);
void cuda_prof_release(cuda_state *s);
