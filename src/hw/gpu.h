/* gpu.h: the GPU table (datasheet roofs) and measured roofs.
 * Ridge points are always computed (peak / bandwidth), never stored. */
#ifndef RL_GPU_H
#define RL_GPU_H
#include "../common/err.h"

typedef enum { RL_DT_FP32, RL_DT_TF32, RL_DT_BF16, RL_DT_FP16, RL_DT_FP8, RL_DT_COUNT } rl_dtype;

extern const char *const rl_dtype_names[RL_DT_COUNT];
/* Looks a dtype up by name ("bf16"); returns -1 if unknown. */
int rl_dtype_from_name(const char *name);

typedef struct {
    char name[48];
    char aliases[96];    /* comma-separated alternative names */
    double bandwidth_gbps; /* HBM/GDDR bandwidth, GB/s (1e9 bytes/s) */
    double peak_tflops[RL_DT_COUNT]; /* dense tensor/vector peak; 0 where the part lacks the dtype */
    double memory_gb;
    char source[200];
} rl_gpu;

typedef struct {
    rl_gpu *gpus;
    int n;
} rl_gpu_table;

/* The built-in table, optionally extended/overridden by a JSON file (array of objects with
 * name, bandwidth_gbps, peak_tflops{dtype:..}, optional memory_gb, aliases, source).
 * A file row whose name matches a built-in row replaces it. gpu_file may be NULL. */
int rl_gpu_table_load(const char *gpu_file, rl_gpu_table *out, rl_err *err);
void rl_gpu_table_free(rl_gpu_table *t);

/* Finds a GPU by name or alias (case-insensitive, '-', '_' and ' ' ignored). On failure the
 * message lists every known name. */
const rl_gpu *rl_gpu_find(const rl_gpu_table *t, const char *name, rl_err *err);

/* Finds the table row that best matches a driver-reported name ("NVIDIA H100 80GB HBM3"), or NULL. */
const rl_gpu *rl_gpu_match_device(const rl_gpu_table *t, const char *device_name);

/* peak FLOP/byte; 0 when the dtype is absent. */
double rl_gpu_ridge(const rl_gpu *g, rl_dtype dt);

/* The two roofs the cost model uses. */
typedef struct {
    double bandwidth_gbps; /* bytes roof */
    double peak_tflops;    /* FLOPs roof at the model's dtype */
    char origin[64];       /* "datasheet" or "measured (FILE)" */
    double kernel_min_us;  /* the latency roof t_min (a probe's kernel_min_us); 0 = not measured */
} rl_roofs;

/* FLOP/byte where the roofs meet: peak / bandwidth (0 when either is missing). */
double rl_roofs_ridge(const rl_roofs *r);

/* Datasheet roofs of a GPU at a dtype. */
int rl_roofs_from_gpu(const rl_gpu *g, rl_dtype dt, rl_roofs *out, rl_err *err);

/* Measured roofs from the JSON written by `ridgeline probe` (or a results.json): reads
 * roofs.read_gbps and roofs.gemm_tflops (top-level object or under "roofs"), and kernel_min_us
 * where the probe measured it. */
int rl_roofs_load(const char *path, rl_roofs *out, rl_err *err);

#endif
