/* results.h: the measured lab in memory (device, roofs, sweep points, per-kernel rows and
 * profiles), its writer to results.json and its reader (docs/results-schema.md): both go through
 * one field table (results_fields.h), so a field is named, typed and null-marked in one place. The
 * lab rewrites the file atomically after every point, so an interrupted run keeps everything it
 * finished. The analysis (src/analyse) is computed from this document, never stored in it. */
#ifndef RL_RESULTS_H
#define RL_RESULTS_H
#include <stdint.h>

#include "../common/err.h"
#include "../engine/engine.h"
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

/* One message size of the interconnect probe: a bf16 NCCL all-reduce over interconnect_gpus GPUs. */
typedef struct {
    double bytes;      /* the buffer each GPU reduces */
    double us;         /* time of one all-reduce (median of replays, graph-captured) */
    double busbw_gbps; /* bus bandwidth: bytes x 2 (N - 1) / N / time, what each GPU sends per second */
} rl_allreduce_point;

#define RL_PROBE_MAX_ALLREDUCE 32

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
    double empty_node_us;        /* an empty kernel node in a graph chained with PDL, per node */
    double kernel_min_us;        /* the latency roof t_min: a kernel node moving 8 KB in a PDL chain */
    int reps;                    /* timed repetitions behind each median */
    char method[320];            /* one line: how the figures were taken */
    /* Tensor parallel: the interconnect roof (probe_nccl.cu), measured over interconnect_gpus GPUs of
     * this host; -1 (and interconnect_note says why) with one GPU or without NCCL. */
    double interconnect_gbps;    /* all-reduce bus bandwidth at 256 MB: the link roof of predict --tp */
    double allreduce_latency_us; /* one all-reduce of 8 KB (B = 1 x hidden 4096 x 2 bytes): its latency */
    int interconnect_gpus;
    rl_allreduce_point allreduce[RL_PROBE_MAX_ALLREDUCE]; /* every size measured, ascending */
    int n_allreduce;
    char interconnect_note[200];
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
    double estimated_ms;         /* latency-aware: the engine's launches, measured roofs and t_min; < 0 none */
    double estimated_latency_ms; /* of which the latency roof adds (estimated - the same launches' roofline) */
    int estimated_kernels;       /* device kernels of the launch plan behind it */
    double flops, bytes, intensity;
    int compute_bound;           /* of the predicted step */
    double tokens_per_s;
    double prefill_ms;           /* decode: the timed prefill of the batch before its steps */
    double seed_ms_per_token;    /* decode: (prefill + every step) / output_len, the seed's column */
    int64_t batch, input_len, output_len, context;
    int context_sweep;           /* decode: a point of the context sweep (its KV cache filled, not prefilled) */
    rl_nvml_sample nvml;
} rl_point;

/* One kernel of a profiled step, aggregated over its calls (all layers). */
typedef struct {
    rl_phase phase;
    int64_t x;
    char kernel[48];
    unsigned op_mask;
    int calls;                   /* kernels of this row in one step */
    double ms;                   /* sum over calls in one step (mean over the profiled steps) */
    double busy_ms;              /* the same over the kernels' own run times (CUPTI; overlaps under PDL) */
    double flops, bytes;         /* from rl_cost_step: the ops in op_mask */
    double link_bytes;           /* all-reduce rows: their share of the step's comm_bytes (sent per GPU) */
    int shared;                  /* 1 when another kernel also claims one of its ops (cost split by time) */
    char symbol[96];             /* the device function of its first kernel (CUPTI), "" when unknown */
} rl_kernel_row;

/* One per-kernel profile: how it was timed, and its rows' sum against the same step timed the
 * normal way in the same run. */
typedef struct {
    rl_phase phase;
    int64_t x;
    rl_timing timing;            /* RL_TIMING_CUPTI or RL_TIMING_EVENTS */
    double kernels_ms;           /* sum of its kernel rows (one step) */
    double step_ms;              /* median of the step timed normally just before */
    int steps;                   /* profiled steps the rows average */
    int kernels;                 /* kernels per step */
    char note[240];              /* why events, or what was left out; "" */
} rl_profile;

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
    char version[32], commit[64]; /* of the binary that measured */
    char command[1024];
    char date[32];               /* UTC, ISO 8601 */
    rl_device_info device;
    rl_model_config model;
    char weights[256];           /* "random (seed N)" or the directory */
    char dtype[8];               /* the engine's precision: bf16 (cuda) or fp32 (cpu) */
    int tp;                      /* tensor parallel: GPUs of the group (0: the single-GPU engine); every
                                  * prediction and per-kernel figure is per GPU of the group */
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
    rl_profile *profiles;
    int n_profiles, cap_profiles;
    rl_ncu_row *ncu;
    int n_ncu, cap_ncu;
    rl_linear_choice *choices;   /* which kernel ran each projection shape ("kernel_choices"); none on cpu */
    int n_choices, cap_choices;
    int interrupted;             /* the run was stopped (Ctrl-C) before its plan finished */
} rl_results;

/* Zeroes r and stamps engine, command line (argv joined) and the UTC date. */
void rl_results_init(rl_results *r, int argc, char **argv);
void rl_results_free(rl_results *r);

/* A point of sweep at x, every figure marked "not measured" (-1) until it is. */
void rl_point_init(rl_point *p, rl_phase sweep, int64_t x);

int rl_results_add_point(rl_results *r, const rl_point *p, rl_err *err);
int rl_results_add_kernel(rl_results *r, const rl_kernel_row *k, rl_err *err);
int rl_results_add_ncu(rl_results *r, const rl_ncu_row *n, rl_err *err);
int rl_results_add_profile(rl_results *r, const rl_profile *p, rl_err *err);
/* The profile of the step (phase, x): the first recorded; NULL when that step was not profiled. */
const rl_profile *rl_results_profile(const rl_results *r, rl_phase phase, int64_t x);
void rl_results_add_sample(rl_results *r, const rl_nvml_sample *s);
/* Adds the choices whose shape (op, tokens, n, k) is not there yet: the first engine to run a shape
 * is the one recorded (a later engine times it again and nearly always agrees). */
int rl_results_add_choices(rl_results *r, const rl_linear_choice *c, int n, rl_err *err);

/* 1 when p belongs to the batch sweep (decode) or the length sweep (prefill) of its phase: the
 * context sweep's decode points are a series of their own, kept out of the batch sweep's tables,
 * fits and charts. */
int rl_point_in_sweep(const rl_point *p, rl_phase phase);

/* Measured roofs of the probe as the cost model takes them; -1 when there is no probe. */
int rl_results_roofs(const rl_results *r, rl_roofs *out);

/* The latency roof t_min of r in us: the probe's kernel_min_us, else 0 (not measured). */
double rl_results_kernel_min_us(const rl_results *r);

/* The whole document as cJSON (caller deletes). */
struct cJSON *rl_results_to_json(const rl_results *r);
struct cJSON *rl_probe_to_json(const rl_probe *p);
struct cJSON *rl_device_to_json(const rl_device_info *d);

/* Writes the document to path atomically (path.tmp, then rename); extra (may be NULL) is added to
 * the document's top level under its own keys first (the lab's analysis). */
int rl_results_save(const rl_results *r, const struct cJSON *extra, const char *path, rl_err *err);

/* Reads a results document (ours or a peer engine's, schema ridgeline-results/1) through the same
 * field table: errors name the file and the field path ("FILE: points[3]: field 'x' must be a
 * number"). path names the document in messages. out->model holds only the name the file gives
 * (resolve it with rl_model_resolve). */
int rl_results_from_json(const struct cJSON *root, const char *path, rl_results *out, rl_err *err);

/* "cupti" / "events" / "none", and back (-1 when unknown). */
const char *rl_timing_name(rl_timing t);
int rl_timing_from_name(const char *s);

#endif
