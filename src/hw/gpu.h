/* gpu.h: the GPU table (datasheet roofs) and measured roofs.
 * Ridge points are always computed (peak / bandwidth), never stored. */
#ifndef RL_GPU_H
#define RL_GPU_H
#include "../common/err.h"

/* Compute dtypes with a tensor peak in the table (int8: tera-ops per second). */
typedef enum { RL_DT_FP32, RL_DT_TF32, RL_DT_BF16, RL_DT_FP16, RL_DT_FP8, RL_DT_INT8, RL_DT_COUNT } rl_dtype;

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
    /* Tensor parallel: the GPU-to-GPU link (NVLink, or PCIe where the part has none), GB/s in
     * each direction, and the latency of one small all-reduce over it; 0 = unknown. */
    double link_gbps;
    double allreduce_us;
    char link_source[160];
} rl_gpu;

typedef struct {
    rl_gpu *gpus;
    int n;
} rl_gpu_table;

/* The built-in table, optionally extended/overridden by a JSON file (array of objects with
 * name, bandwidth_gbps, peak_tflops{dtype:..}, optional memory_gb, aliases, source,
 * interconnect_gbps, allreduce_latency_us).
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

/* The roofs the cost model uses. */
typedef struct {
    double bandwidth_gbps; /* bytes roof */
    double peak_tflops;    /* FLOPs roof of the weight matmuls, at the precision they run in */
    char origin[64];       /* "datasheet" or "measured (FILE)" */
    double other_peak_tflops; /* attention and elementwise ops (the activations' dtype); 0 = peak_tflops */
    double link_gbps;         /* tensor-parallel interconnect, GB/s each direction; 0 = none */
    double allreduce_us;      /* latency of one all-reduce */
    double kernel_min_us;     /* the latency roof t_min (a probe's kernel_min_us); 0 = not measured */
} rl_roofs;

/* FLOP/byte where the roofs meet: peak / bandwidth (0 when either is missing). */
double rl_roofs_ridge(const rl_roofs *r);

/* Datasheet roofs of a GPU at a dtype (matmuls and everything else alike). */
int rl_roofs_from_gpu(const rl_gpu *g, rl_dtype dt, rl_roofs *out, rl_err *err);

/* Datasheet roofs with the matmuls at `matmul` and attention / elementwise ops at `other`. flag
 * names the option that chose the matmul precision, for the message when the GPU lacks it. */
int rl_roofs_from_gpu_prec(const rl_gpu *g, rl_dtype matmul, rl_dtype other, const char *flag, rl_roofs *out,
                           rl_err *err);

/* Measured roofs from the JSON written by `ridgeline probe` (or a results.json): reads
 * roofs.read_gbps and roofs.gemm_tflops (at the precision the model runs in; top-level object or
 * under "roofs"); optional interconnect_gbps and allreduce_latency_us (measured tensor-parallel
 * link) and kernel_min_us (the latency roof) where the probe measured them. */
int rl_roofs_load(const char *path, rl_roofs *out, rl_err *err);

/* The same for matmuls at `matmul`: gemm_tflops is the GEMM roof the probe measured at
 * roofs.dtype (bf16 when absent); another precision needs its own field, gemm_tflops_<dtype>
 * (e.g. gemm_tflops_fp8), else a one-line error naming it. */
int rl_roofs_load_prec(const char *path, rl_dtype matmul, rl_roofs *out, rl_err *err);

#endif
