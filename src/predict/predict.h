/* predict.h: the analytical roofline cost model. Every formula lives in predict.c and is
 * documented in docs/cost-model.md. */
#ifndef RL_PREDICT_H
#define RL_PREDICT_H
#include <stdint.h>

#include "../hw/gpu.h"
#include "../model/config.h"
#include "ops.h"

typedef enum { RL_PHASE_DECODE, RL_PHASE_PREFILL } rl_phase;

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
