/* predict.h: the analytical roofline cost model. Every formula lives in predict.c and is
 * documented in docs/cost-model.md. */
#ifndef RL_PREDICT_H
#define RL_PREDICT_H
#include <stdint.h>

#include "../hw/gpu.h"
#include "../model/config.h"
#include "ops.h"

typedef enum { RL_PHASE_DECODE, RL_PHASE_PREFILL } rl_phase;
const char *rl_phase_name(rl_phase p); /* "decode" | "prefill" */

typedef struct {
    rl_phase phase;
    int64_t batch;   /* sequences */
    int64_t context; /* decode: tokens already in each sequence's KV cache */
    int64_t length;  /* prefill: prompt tokens per sequence */
    int weight_bytes; /* bytes per weight element (2 for bf16, 4 for fp32) */
    int act_bytes;    /* bytes per activation element */
    int kv_bytes;     /* bytes per KV-cache element */
} rl_workload;

/* A bf16 workload (2/2/2 bytes). */
rl_workload rl_workload_decode(int64_t batch, int64_t context);
rl_workload rl_workload_prefill(int64_t batch, int64_t length);

/* Element sizes of a step computed in dt: weights and KV cache at dt, activations at least 2 bytes
 * (fp8 matmuls keep bf16 activations). The one place the bytes of a dtype are decided. */
void rl_workload_set_dtype(rl_workload *w, rl_dtype dt);
/* Bytes of one weight element in dt (fp32/tf32 4, bf16/fp16 2, fp8 1). */
int rl_dtype_bytes(rl_dtype dt);

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
} rl_cost;

/* FLOPs and HBM bytes of every operator for one step (all layers). */
void rl_cost_step(const rl_model_config *m, const rl_workload *w, rl_cost *out);

typedef struct {
    double time_ms[RL_OP_COUNT];
    int compute_bound[RL_OP_COUNT];
    double total_ms;          /* sum over ops of max(flops/peak, bytes/bw) */
    double intensity;         /* total FLOPs / total bytes */
    double ridge;             /* peak / bandwidth */
    int compute_bound_total;  /* intensity >= ridge */
} rl_prediction;

void rl_predict(const rl_cost *c, const rl_roofs *r, rl_prediction *out);

/* Time for one op: max(flops / peak, bytes / bandwidth), ms. */
double rl_roof_time_ms(double flops, double bytes, const rl_roofs *r);

/* Smallest batch (decode, at context) or length (prefill, batch 1) whose step is compute-bound,
 * searched up to limit; 0 if none (decode attention keeps intensity bounded). */
int64_t rl_predict_crossing(const rl_model_config *m, rl_phase phase, int64_t context, const rl_roofs *r,
                            int64_t limit);

#endif
