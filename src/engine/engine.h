/* engine.h: the inference engine interface, one implementation per backend.
 *   cpu  : src/engine/cpu/forward.c  (fp32 reference, readable top to bottom)
 *   cuda : src/engine/cuda/forward.cu (bf16 weights/KV, fp32 accumulation, cuBLASLt + own kernels)
 * The engine holds the weights and a KV cache of max_batch sequences x max_context tokens.
 * Sequences are slots 0..batch-1; every sequence in a call has the same position. */
#ifndef RL_ENGINE_H
#define RL_ENGINE_H
#include <stdint.h>

#include "../common/err.h"
#include "../model/config.h"
#include "../predict/launch_plan.h"
#include "../model/ops.h"

typedef enum { RL_BACKEND_CPU, RL_BACKEND_CUDA } rl_backend;

/* How the CUDA engine runs its projections (rl_cuda_tuning.linear). */
typedef enum {
    RL_LINEAR_TIMED = 0, /* per shape, the faster of our code path's kernel and cuBLASLt, timed once */
    RL_LINEAR_OWN,       /* our kernel wherever it applies: gemm_stream on Hopper, the mma.sync GEMV on sm_80 */
    RL_LINEAR_CUBLASLT   /* cuBLASLt everywhere */
} rl_linear_kernel;

/* The CUDA engine's knobs, for tests and A/B benchmarks: all zero is the production engine.
 * Read once at engine creation; documented in docs/perf-notes.md ("Engine knobs"). */
typedef struct {
    int no_pdl;             /* 1: plain launches (no programmatic dependent launch) */
    int portable;           /* 1: the sm_80 code path (mma.sync kernels, no PDL) even on a Hopper GPU */
    rl_linear_kernel linear;
    int chunk_tokens;       /* prefill tokens per pass (0: 4096); small values exercise chunked prefill */
    int attn_splits;        /* decode split-KV count (0: the heuristic) */
} rl_cuda_tuning;

typedef struct {
    rl_backend backend;
    const char *weights_dir; /* HF config.json + model.safetensors[.index.json]; NULL = random weights */
    uint64_t seed;           /* random-weight seed */
    int64_t max_batch;       /* KV cache sequences */
    int64_t max_context;     /* KV cache tokens per sequence (prompt + generated) */
    int64_t max_prefill;     /* longest prefill (tokens per sequence) workspace is sized for; 0 = max_context */
    int threads;             /* cpu: worker threads (0 = all cores) */
    rl_cuda_tuning cuda;     /* cuda: knobs for tests and benchmarks (zero: production) */
    int quiet;
    /* cuda: tensor parallel over GPUs 0..tp-1 of this host (src/engine/cuda/tp.cu); 0 = the single-GPU
     * engine (none of the TP code), 1 = its sharded code path on one GPU, up to 8. */
    int tp;
    const char *nccl_lib;    /* cuda, tp >= 1: the NCCL library to open; NULL = "libnccl.so.2" (loader path) */
} rl_engine_opts;

/* Per-kernel profiling (set_profile). The caller sets `want`, hands the log to set_profile, runs
 * steps (rl_kernel_log_next_step after each), then calls set_profile(NULL).
 *   RL_PROFILE_TIMES: every kernel of the step is timed. The CUDA engine records CUPTI activity of
 *     the real step (decode: the graph replay with PDL; prefill: its launches as they run), timing =
 *     RL_TIMING_CUPTI; where CUPTI is unavailable (or its records do not match the launches) it
 *     times eager, serialised launches between events instead: timing = RL_TIMING_EVENTS and `note`
 *     says why. The CPU engine times each operator on the host clock (events).
 *   RL_PROFILE_PLAN: the step runs as usual; only its launch plan is recorded (ms = -1), one record
 *     per device kernel where the engine knows them (a replayed graph), else one per launch. */
typedef enum { RL_PROFILE_TIMES, RL_PROFILE_PLAN } rl_profile_want;
typedef enum { RL_TIMING_NONE, RL_TIMING_EVENTS, RL_TIMING_CUPTI } rl_timing;

typedef struct {
    char kernel[48];  /* the engine's name of the launch ("gemv_tc", "cublaslt_gemm", ...) */
    unsigned op_mask; /* RL_OPMASK(...) of the ops this kernel implements */
    int layer;        /* -1 = none */
    double ms;        /* the kernel's share of its step. CUPTI: from the end of the kernel before it (the
                       * start of the first) to its own end, so one step's records add up to the step's
                       * span on the GPU and PDL overlap is counted once; events: between the events
                       * around the launch; -1 in plan mode */
    double busy_ms;   /* CUPTI: the kernel's own end - start (overlaps its neighbours under PDL); else ms */
    double start_ms;  /* start after the step's first kernel (events: the records before it, summed) */
    int step;         /* which step of the profile */
    int launch;       /* its launch within the step: the kernels of one library call share it */
    char symbol[96];  /* the device function (CUPTI; demangled, no parameters), "" when not known */
} rl_kernel_record;

typedef struct {
    rl_kernel_record *recs;
    int n, cap;
    rl_profile_want want; /* set by the caller */
    rl_timing timing;     /* set by the engine */
    int steps;            /* steps finished (rl_kernel_log_next_step) */
    int launches;         /* launches recorded in the current step */
    char note[240];       /* why CUPTI is not used, or what was left out; "" */
} rl_kernel_log;

/* Which kernel runs one projection shape, decided once per shape (recorded in results.json). */
typedef struct {
    char op[24];       /* rl_op_names[] of the projection */
    int tokens, n, k;  /* Y[tokens, n] = X[tokens, k] W[n, k]^T (n: output features; gate/up: each half) */
    char kernel[24];   /* "gemm_stream", "gemv_tc" or "cublaslt" */
    double ms, alt_ms; /* timed ms of the chosen kernel and of the best other one (-1: not timed) */
} rl_linear_choice;

/* One kernel as the GPU ran it (CUPTI activity, or an Nsight Compute launch). */
typedef struct {
    char symbol[96];
    uint64_t start_ns, end_ns;
    int64_t launch; /* the launch of the plan it belongs to when known (external correlation), else -1 */
} rl_kernel_activity;

typedef struct rl_engine rl_engine;

/* Backend function table; engine.c dispatches through it. */
typedef struct {
    const char *name;
    int (*create)(const rl_model_config *m, const rl_engine_opts *o, void **state, rl_err *err);
    void (*destroy)(void *state);
    /* Prefill batch sequences of len tokens each (tokens: batch x len, row-major), starting at
     * position 0 of slots 0..batch-1 (their caches are reset). logits: NULL, or batch x vocab for
     * the last position, or (all_positions) batch x len x vocab. */
    int (*prefill)(void *state, int64_t batch, int64_t len, const int32_t *tokens, float *logits, int all_positions,
                   rl_err *err);
    /* One decode step: one token per sequence at the next position. logits: NULL or batch x vocab;
     * next: NULL or batch greedy token ids. */
    int (*decode)(void *state, int64_t batch, const int32_t *tokens, float *logits, int32_t *next, rl_err *err);
    int (*sync)(void *state, rl_err *err);
    /* Per-kernel profiling on (log != NULL, see rl_kernel_log) or off. */
    void (*set_profile)(void *state, rl_kernel_log *log);
    /* Bytes of device (or host) memory the engine holds: weights, KV cache, workspace. */
    void (*memory)(void *state, int64_t *weights_bytes, int64_t *kv_bytes, int64_t *workspace_bytes);
    /* Device name as the driver reports it ("NVIDIA H100 80GB HBM3"; cpu: the CPU model). */
    const char *(*device_name)(void *state);
    /* The projection kernels chosen so far (up to max into out); returns how many. NULL: none. */
    int (*linear_choices)(void *state, rl_linear_choice *out, int max);
    /* Long-context decode without a long prefill: fills the K and V cache of slots 0..batch-1,
     * positions 0..context-1, in every layer with seeded random values (std 1/sqrt(3), never all
     * zeros: attention over zeros can time faster than over data) and places those batch
     * sequences at position `context`, so the next decode step attends context + 1 keys, as after a
     * prefill of context tokens (its logits are not computed). A backend may fill the later
     * positions of those slots too: decode writes each position before it reads it. NULL: none. */
    int (*fill_context)(void *state, int64_t batch, int64_t context, uint64_t seed, rl_err *err);
} rl_backend_ops;

struct rl_engine {
    const rl_backend_ops *ops;
    void *state;
    rl_model_config model;
    rl_engine_opts opts;
    int64_t pos; /* tokens held by each active sequence */
    int64_t batch;
};

/* Returns the backend, or NULL with a message if it is not compiled in. */
const rl_backend_ops *rl_backend_get(rl_backend b, rl_err *err);
int rl_backend_from_name(const char *name, rl_backend *out, rl_err *err);
/* 1 when the CUDA backend is compiled in and a GPU is present. */
int rl_cuda_available(void);
/* CUDA GPUs visible (0 without the CUDA backend): what a tensor-parallel group may span. */
int rl_cuda_gpus(void);

int rl_engine_create(const rl_model_config *m, const rl_engine_opts *o, rl_engine **out, rl_err *err);
void rl_engine_destroy(rl_engine *e);
int rl_engine_prefill(rl_engine *e, int64_t batch, int64_t len, const int32_t *tokens, float *logits,
                      int all_positions, rl_err *err);
int rl_engine_decode(rl_engine *e, const int32_t *tokens, float *logits, int32_t *next, rl_err *err);
int rl_engine_sync(rl_engine *e, rl_err *err);
/* rl_backend_ops.fill_context with the bounds checked (batch 1..max_batch, context 1..max_context - 1:
 * room for one step at least); afterwards decode runs batch sequences from position context. */
int rl_engine_fill_context(rl_engine *e, int64_t batch, int64_t context, uint64_t seed, rl_err *err);
/* The projection kernels the engine has chosen so far (rl_backend_ops.linear_choices; 0 when the
 * backend has none, like the CPU engine). */
int rl_engine_linear_choices(rl_engine *e, rl_linear_choice *out, int max);

/* Appends one launch timed as a whole (events, host clock): its start follows the step's records. */
void rl_kernel_log_push(rl_kernel_log *log, const char *kernel, unsigned op_mask, int layer, double ms);
int rl_kernel_log_add(rl_kernel_log *log, const rl_kernel_record *r, rl_err *err);
/* Closes the current step: records pushed after it belong to the next. */
void rl_kernel_log_next_step(rl_kernel_log *log);
/* Drops every record (the settings stay). */
void rl_kernel_log_clear(rl_kernel_log *log);
void rl_kernel_log_free(rl_kernel_log *log);
/* The launch plan of one step of the log: its launches in order, n_kernels = their records. */
int rl_kernel_log_plan(const rl_kernel_log *log, int step, rl_launch_plan *out, rl_err *err);

/* kernel_match.c: which launch of plan (count 1 per entry) each activity came from. Sorts acts by
 * start. Activities that carry their launch (external correlation) keep it, those outside the plan
 * get -1; otherwise the plan's n_kernels assign them in order (a replayed graph: its kernel nodes run
 * in capture order) and must add up to n. Returns the activities assigned, or -1 with a message. */
int rl_kernel_assign(const rl_launch_plan *plan, rl_kernel_activity *acts, int n, rl_err *err);
/* Appends the assigned activities of one step (sorted, as rl_kernel_assign leaves them) to log, one
 * record each, with the attributed times described at rl_kernel_record.ms. */
int rl_kernel_log_activities(rl_kernel_log *log, const rl_launch_plan *plan, const rl_kernel_activity *acts, int n,
                             rl_err *err);

#endif
