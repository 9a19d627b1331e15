/* results.h: the measured lab in memory (device, roofs, sweep points, per-kernel rows, analysis)
 * and its writer to results.json (docs/results-schema.md). The lab rewrites the file atomically
 * after every point, so an interrupted run keeps everything it finished. */
#ifndef RL_RESULTS_H
#define RL_RESULTS_H
#include <stdint.h>

#include "../analyse/analyse.h"
#include "../common/err.h"
#include "../hw/gpu.h"
#include "../model/config.h"
#include "../predict/predict.h"
#include "telemetry.h"

struct cJSON;

typedef struct {
    char name[128];       /* as the driver reports it (CPU: the model name from /proc/cpuinfo) */
    char backend[8];      /* "cuda" | "cpu" */
    char table_name[48];  /* the GPU table row it matches, "" when none */
    char driver[48];      /* NVIDIA driver version, "" if unknown */
    char cuda_runtime[24];
    char pci_bus_id[32];
    char code_path[8];    /* the CUDA engine's code path (engine/code_path.h): "sm80", "sm90a"; "" on cpu */
    int sm_count;         /* CUDA multiprocessors; 0 on cpu */
    int threads;          /* cpu: worker threads used */
    double memory_gb;     /* device memory (GPU) or RAM (cpu), 1e9 bytes */
    double l2_mb;         /* GPU L2 or CPU last-level cache, 1e6 bytes */
} rl_device_info;

typedef struct {
    char name[24]; /* "square", "qkv_proj", ... */
    int64_t m, n, k;
    double tflops;
} rl_gemm_shape;

/* Measured roofs (`ridgeline probe`). A field < 0 was not measured. */
typedef struct {
    char dtype[8];               /* precision of the GEMM roof: "bf16" on cuda, "fp32" on cpu */
    double read_gbps;            /* read-only stream, GB/s (1e9): the bytes roof */
    double write_gbps;           /* write-only stream */
    double copy_gbps;            /* copy, read + write bytes both counted */
    double buffer_bytes;         /* bytes of the streamed buffer */
    double gemm_tflops;          /* the FLOPs roof: the large square GEMM (cpu: the matrix kernel) */
    double gemm_square_tflops;
    int64_t gemm_square_n;
    rl_gemm_shape shapes[8];     /* the model's prefill GEMMs at M = L tokens */
    int n_shapes;
    double launch_us;            /* back-to-back empty-kernel launches, per launch */
    double graph_node_us;        /* the same kernels replayed from a CUDA graph, per node */
    int reps;                    /* timed repetitions behind each median */
    char method[320];            /* one line: how the figures were taken */
} rl_probe;

/* One measured point of a sweep. x is the batch (decode) or prompt length (prefill). */
typedef struct {
    rl_phase sweep;
    int64_t x;
    int ok;                      /* 0: failed, see error; the timing fields are then unset */
    char error[256];
    double ms, p10, p90;         /* decode: per step; prefill: the whole forward */
    double min_ms, max_ms;
    int reps;                    /* timed samples behind ms (decode: steps of the run) */
    double predicted_ms;         /* measured roofs; < 0 when no roofs */
    double predicted_datasheet_ms; /* datasheet roofs of the matched GPU; < 0 when none */
    double flops, bytes, intensity;
    int compute_bound;           /* of the predicted step */
    double tokens_per_s;
    double prefill_ms;           /* decode: the timed prefill of the batch before its steps */
    double seed_ms_per_token;    /* decode: (prefill + every step) / output_len, the seed's column */
    int64_t batch, input_len, output_len, context;
    rl_nvml_sample nvml;
} rl_point;

/* One kernel of a profiled step, aggregated over its calls (all layers). */
typedef struct {
    rl_phase phase;
    int64_t x;
    char kernel[48];
    unsigned op_mask;
    int calls;
    double ms;                   /* sum over calls in one step */
    double flops, bytes;         /* from rl_cost_step: the ops in op_mask */
    int shared;                  /* 1 when another kernel also claims one of its ops (cost split by time) */
} rl_kernel_row;

/* One kernel from an imported Nsight Compute CSV, aggregated over its launches. */
typedef struct {
    char kernel[160];
    int calls;
    double ms;                   /* gpu__time_duration summed */
    double dram_bytes;           /* dram__bytes(.read + .write) summed; < 0 when absent */
    char ours[48];               /* our kernel whose name it contains, "" when none */
} rl_ncu_row;

typedef struct {
    char engine[32];             /* "ridgeline" */
    char command[1024];
    char date[32];               /* UTC, ISO 8601 */
    rl_device_info device;
    rl_model_config model;
    char weights[256];           /* "random (seed N)" or the directory */
    char dtype[8];               /* the engine's precision: bf16 (cuda) or fp32 (cpu) */
    int elem_bytes;              /* bytes per weight/activation/KV element the predictions use */
    int have_probe;
    rl_probe probe;
    int have_datasheet;
    rl_gpu datasheet;            /* the GPU table row matching the device */
    char telemetry_note[160];    /* why there is no telemetry, "" when there is */
    rl_nvml_sample *samples;     /* every NVML reading taken during the run */
    int n_samples, cap_samples;
    int64_t input_len, output_len; /* decode sweep shape */
    rl_point *points;
    int n_points, cap_points;
    rl_kernel_row *kernels;
    int n_kernels, cap_kernels;
    rl_ncu_row *ncu;
    int n_ncu, cap_ncu;
    int have_analysis;
    rl_analysis analysis;
    int interrupted;             /* the run was stopped (Ctrl-C) before its plan finished */
} rl_results;

/* Zeroes r and stamps engine, command line (argv joined) and the UTC date. */
void rl_results_init(rl_results *r, int argc, char **argv);
void rl_results_free(rl_results *r);

int rl_results_add_point(rl_results *r, const rl_point *p, rl_err *err);
int rl_results_add_kernel(rl_results *r, const rl_kernel_row *k, rl_err *err);
int rl_results_add_ncu(rl_results *r, const rl_ncu_row *n, rl_err *err);
void rl_results_add_sample(rl_results *r, const rl_nvml_sample *s);

/* Measured roofs of the probe as the cost model takes them; -1 when there is no probe. */
int rl_results_roofs(const rl_results *r, rl_roofs *out);

/* The whole document as cJSON (caller deletes). */
struct cJSON *rl_results_to_json(const rl_results *r);
struct cJSON *rl_probe_to_json(const rl_probe *p);
struct cJSON *rl_device_to_json(const rl_device_info *d);

/* Writes the document to path atomically (path.tmp, then rename). */
int rl_results_save(const rl_results *r, const char *path, rl_err *err);

#endif
