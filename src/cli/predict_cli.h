/* predict_cli.h: what `ridgeline predict`'s two files share (cmd_predict.c: options, one point;
 * cmd_predict_sweep.c: the sweep tables). Internal to src/cli. */
#ifndef RL_PREDICT_CLI_H
#define RL_PREDICT_CLI_H
#include <cjson/cJSON.h>
#include <stdint.h>

#include "../predict/launch_plan.h"
#include "../predict/predict.h"

#define PREDICT_MAX_LIST 64

typedef struct {
    const char *gpu, *model, *roofs_file, *gpu_file, *sweep;
    int decode, prefill, json;
    int64_t batch, context, length;
    int64_t contexts[PREDICT_MAX_LIST]; /* decode sweep: one table per KV depth */
    int ncontexts;
    /* Precision: storage of weights and KV, the dtype the matmuls run in and the one the other
     * ops run in; prec_flag names the option that set the matmul dtype (for error messages). */
    rl_format weights, kv;
    rl_dtype matmul, other;
    const char *prec_flag;
    int tp;
    double link_gbps, allreduce_us; /* < 0: the GPU table's (or the roofs file's) */
    int64_t xs[PREDICT_MAX_LIST];
    int nx;
    double kernel_min_us; /* --kernel-min-us; 0 = the roofs file's, else the default */
} predict_args;

/* The latency roof for estimated_ms, and where it comes from. */
double predict_kernel_min_us(const predict_args *a, const rl_roofs *r, const char **source);
/* estimated_ms of one step: the static table of the CUDA engine's launches (the tensor-parallel
 * engine's for tp > 1) on these roofs. */
int predict_estimate(const rl_model_config *m, rl_phase phase, int tp, const rl_cost *c, const rl_roofs *r,
                     double t_min_us, rl_estimate *out);

/* The roofs of GPU g for the precision and TP of a (datasheet or a->roofs_file). */
/* The step's bound in a table column: "comm" for an interconnect-bound step. */
static inline const char *predict_bound_word(const rl_prediction *p)
{
    return p->bound == RL_BOUND_COMM ? "comm" : p->compute_bound_total ? "compute" : "memory";
}

int predict_roofs(const rl_gpu *g, const predict_args *a, rl_roofs *r, rl_err *err);

/* A workload of a's precision and TP. */
rl_workload predict_workload(const predict_args *a, rl_phase phase, int64_t batch, int64_t ctx_or_len);

/* "bf16", or "weights fp8, KV bf16, fp8 matmuls" when they differ. */
void predict_precision_label(const predict_args *a, char *buf, size_t n);

/* Adds the precision and TP fields to a JSON object. */
void predict_json_precision(cJSON *o, const predict_args *a);

/* One sweep (decode at one context, or prefill) for GPU g; appended to json_out when set. */
int predict_sweep(const rl_gpu *g, const rl_model_config *m, const predict_args *a, int64_t context, cJSON *json_out);

#endif
