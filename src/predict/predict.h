/* predict.h: the analytical roofline cost model. Every formula lives in predict.c and is
 * documented in docs/cost-model.md. */
#ifndef RL_PREDICT_H
#define RL_PREDICT_H
#include <stdint.h>

#include "../hw/gpu.h"
#include "../model/config.h"
#include "../model/ops.h"

typedef enum { RL_PHASE_DECODE, RL_PHASE_PREFILL } rl_phase;
const char *rl_phase_name(rl_phase p); /* "decode" | "prefill" */

/* How weight matrices are stored (CONTRACT.md): plain elements of weight_bytes each, or
 * quantised: fp8 / int8 one byte per weight plus one bf16 scale per output channel (row); int4
 * half a byte per weight plus one bf16 scale per group of 128 (no zero point): 0.5 + 2/128. */
typedef enum { RL_WFMT_PLAIN, RL_WFMT_FP8, RL_WFMT_INT8, RL_WFMT_INT4 } rl_weight_format;

typedef struct {
    rl_phase phase;
    int64_t batch;   /* sequences */
    int64_t context; /* decode: tokens already in each sequence's KV cache */
    int64_t length;  /* prefill: prompt tokens per sequence */
    int weight_bytes; /* bytes per element of plain weight matrices (2 for bf16, 4 for fp32) */
    int act_bytes;    /* bytes per activation element, and per element of vectors (norms, biases) */
    int kv_bytes;     /* bytes per KV-cache element (1 for fp8 / int8: per-tensor scales, not counted) */
    rl_weight_format weight_format; /* RL_WFMT_PLAIN unless the matrices are quantised */
    int tp;           /* GPUs of the tensor-parallel group; 0 or 1: one GPU */
} rl_workload;

/* A bf16 workload (2/2/2 bytes, one GPU). */
rl_workload rl_workload_decode(int64_t batch, int64_t context);
rl_workload rl_workload_prefill(int64_t batch, int64_t length);

/* Storage dtypes of --weight-dtype and --kv-dtype. */
typedef enum { RL_FMT_BF16, RL_FMT_FP16, RL_FMT_FP8, RL_FMT_INT8, RL_FMT_INT4, RL_FMT_FP32, RL_FMT_COUNT } rl_format;
extern const char *const rl_format_names[RL_FMT_COUNT];
int rl_format_from_name(const char *name); /* -1 if unknown */
/* The dtype the weight matmuls run in: bf16 / fp16 / fp32 themselves, fp8 and int8 on their own
 * tensor cores (activations quantised too, W8A8), int4 dequantised to bf16 (W4A16). */
rl_dtype rl_format_compute_dtype(rl_format weights);
/* Sets w's element sizes and weight format for weights stored as `weights` and a KV cache as
 * `kv`. Activations stay bf16 (fp32 with fp32 weights). */
void rl_workload_set_formats(rl_workload *w, rl_format weights, rl_format kv);

/* Bytes of a [rows, cols] weight matrix in w's format. */
double rl_matrix_bytes(double rows, double cols, const rl_workload *w);

/* Checks w against m: a tensor-parallel group must split the heads, KV heads, MLP widths evenly
 * (one-line error naming --tp). */
int rl_workload_check(const rl_model_config *m, const rl_workload *w, rl_err *err);
/* The dtype's element sizes (weights and KV cache in it, activations at least 2 bytes): the one
 * place a single-dtype run's bytes are decided (rl_workload_set_formats for mixed formats). */
void rl_workload_set_dtype(rl_workload *w, rl_dtype dt);
/* The storage format of weights (and a KV cache) kept in dt. */
rl_format rl_format_of_dtype(rl_dtype dt);
/* The same by name, as results files store it ("bf16", ...); an empty or unknown name is bf16. */
void rl_workload_set_dtype_name(rl_workload *w, const char *name);

/* The seed's decode run: prompts of 128 tokens, 64 generated. */
#define RL_SEED_INPUT_LEN 128
#define RL_SEED_OUTPUT_LEN 64
/* The KV context a decode run's steps see on average: input + output / 2 (160 for 128 / 64); the
 * context every decode prediction of a run uses. */
int64_t rl_decode_context(int64_t input_len, int64_t output_len);
/* The seed's grids: decode batches 1, 4, 16, 64, 128, 256, 512 and prefill lengths 64 .. 4096. */
#define RL_SEED_GRID_N 7
extern const int64_t rl_seed_decode_grid[RL_SEED_GRID_N];
extern const int64_t rl_seed_prefill_grid[RL_SEED_GRID_N];

typedef struct {
    double flops[RL_OP_COUNT];
    double bytes[RL_OP_COUNT];
    double total_flops, total_bytes;
    unsigned ops;        /* RL_OPMASK bits of the ops this model's step has (rl_spec_step_ops) */
    double comm_bytes;   /* tensor parallel: bytes each GPU sends in the step's all-reduces */
    int64_t collectives; /* all-reduces of the step (2 per layer with tp > 1) */
    /* Memory one GPU holds (not traffic): its weight shard, every expert included, and the KV
     * cache of the step's sequences after it (a sliding-window layer keeps its last W tokens). */
    double weight_resident_bytes, kv_cache_bytes;
} rl_cost;

/* FLOPs and HBM bytes of every operator for one step (all layers), per GPU of the group. */
void rl_cost_step(const rl_model_config *m, const rl_workload *w, rl_cost *out);

/* Which roof binds: a step's bytes, FLOPs or all-reduces; a kernel's bytes, FLOPs or latency floor. */
typedef enum { RL_BOUND_MEMORY, RL_BOUND_COMPUTE, RL_BOUND_COMM, RL_BOUND_LATENCY } rl_bound;
extern const char *const rl_bound_names[4]; /* "memory", "compute", "communication", "latency" */

typedef struct {
    double time_ms[RL_OP_COUNT];
    int compute_bound[RL_OP_COUNT];
    double total_ms;          /* sum over ops of max(flops/peak, bytes/bw), plus comm_ms */
    double intensity;         /* total FLOPs / total bytes */
    double ridge;             /* matmul peak / bandwidth */
    int compute_bound_total;  /* the step's FLOPs take longer than its bytes */
    double compute_ms, memory_ms; /* sum of every op's FLOPs / its peak, of its bytes / bandwidth */
    double comm_ms;           /* collectives * latency + comm_bytes / link bandwidth; also time_ms[RL_OP_ALLREDUCE] */
    rl_bound bound;           /* the largest of compute_ms, memory_ms, comm_ms */
} rl_prediction;

void rl_predict(const rl_cost *c, const rl_roofs *r, rl_prediction *out);

/* Time of `collectives` all-reduces sending link_bytes per GPU in all: collectives x allreduce_us +
 * link_bytes / link_gbps, ms (the communication roof). */
double rl_comm_ms(double collectives, double link_bytes, const rl_roofs *r);

/* Time for one op: max(flops / peak, bytes / bandwidth), ms (the matmul peak). */
double rl_roof_time_ms(double flops, double bytes, const rl_roofs *r);

/* Smallest batch (decode, at context) or length (prefill, batch 1) whose step is compute-bound,
 * searched up to limit; 0 if none (decode attention keeps intensity bounded). */
/* How far the crossing searches (batch or length) before it says "never compute-bound". */
#define RL_CROSSING_LIMIT ((int64_t)1 << 20)
int64_t rl_predict_crossing(const rl_model_config *m, rl_phase phase, int64_t context, const rl_roofs *r,
                            int64_t limit);
/* The same for the precision and TP of tmpl (its phase and context; batch / length are searched). */
int64_t rl_predict_crossing_for(const rl_model_config *m, const rl_workload *tmpl, const rl_roofs *r, int64_t limit);

/* MoE: experts a layer is expected to read for `tokens` tokens routed uniformly to k of E:
 * E * (1 - (1 - k/E)^tokens). */
double rl_moe_expected_experts(double experts, double k, double tokens);

#endif
