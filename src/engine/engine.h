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
#include "../predict/ops.h"

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
} rl_engine_opts;

/* One timed kernel (per-kernel profiling): which ops it covers, its time, its layer (-1 = none). */
typedef struct {
    char kernel[48];
    unsigned op_mask; /* RL_OPMASK(...) of the ops this kernel implements */
    int layer;
    double ms;
} rl_kernel_record;

typedef struct {
    rl_kernel_record *recs;
    int n, cap;
} rl_kernel_log;

/* Which kernel runs one projection shape, decided once per shape (recorded in results.json). */
typedef struct {
    char op[24];       /* rl_op_names[] of the projection */
    int tokens, n, k;  /* Y[tokens, n] = X[tokens, k] W[n, k]^T (n: output features; gate/up: each half) */
    char kernel[24];   /* "gemm_stream", "gemv_tc" or "cublaslt" */
    double ms, alt_ms; /* timed ms of the chosen kernel and of the best other one (-1: not timed) */
} rl_linear_choice;

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
    /* Per-kernel timing on (log != NULL) or off. Timed runs serialise kernels; not for sweeps. */
    void (*set_profile)(void *state, rl_kernel_log *log);
    /* Bytes of device (or host) memory the engine holds: weights, KV cache, workspace. */
    void (*memory)(void *state, int64_t *weights_bytes, int64_t *kv_bytes, int64_t *workspace_bytes);
    /* Device name as the driver reports it ("NVIDIA H100 80GB HBM3"; cpu: the CPU model). */
    const char *(*device_name)(void *state);
    /* The projection kernels chosen so far (up to max into out); returns how many. NULL: none. */
    int (*linear_choices)(void *state, rl_linear_choice *out, int max);
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

int rl_engine_create(const rl_model_config *m, const rl_engine_opts *o, rl_engine **out, rl_err *err);
void rl_engine_destroy(rl_engine *e);
int rl_engine_prefill(rl_engine *e, int64_t batch, int64_t len, const int32_t *tokens, float *logits,
                      int all_positions, rl_err *err);
int rl_engine_decode(rl_engine *e, const int32_t *tokens, float *logits, int32_t *next, rl_err *err);
int rl_engine_sync(rl_engine *e, rl_err *err);

void rl_kernel_log_push(rl_kernel_log *log, const char *kernel, unsigned op_mask, int layer, double ms);
void rl_kernel_log_free(rl_kernel_log *log);

#endif
