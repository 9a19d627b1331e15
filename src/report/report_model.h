/* report_model.h: the report's in-memory model, shared by its files (load, derive, violations,
 * tables, JSON, charts). Every results.json and every imported CSV becomes "runs" (one row of the
 * report each); derive.c fills predictions, floors and transitions; the writers only read it.
 * Absent numbers are NAN, so a writer can print "–" without a separate flag. */
#ifndef RL_REPORT_MODEL_H
#define RL_REPORT_MODEL_H
#include <math.h>
#include <stdint.h>

#include "../common/err.h"
#include "../hw/gpu.h"
#include "../measure/results.h"
#include "../model/config.h"
#include "../predict/predict.h"

/* Where a row's numbers come from. */
typedef enum {
    RL_SRC_RESULTS,   /* a results.json (ours or a peer engine's) */
    RL_SRC_CSV,       /* --import-csv measurements (seed format) */
    RL_SRC_PREDICTED, /* no measurement at all: cost model on datasheet roofs */
} rl_report_source;

/* Predicted rows and imported CSV rows use the seed's grids and decode run (predict.h:
 * rl_seed_*_grid, RL_SEED_INPUT_LEN / RL_SEED_OUTPUT_LEN, context rl_decode_context of them). */

typedef struct {
    rl_phase sweep;
    int64_t x;               /* batch (decode) or prompt length (prefill) */
    int ok;                  /* 0: the producer recorded a failure and no time */
    char error[256];         /* failed points: why */
    int line;                /* CSV line (0 for results.json) */

    /* measured */
    double ms;               /* decode: one step; prefill: whole forward. NAN for imported decode */
    double p10_ms, p90_ms;
    double seed_ms_per_token; /* decode: whole run incl. prefill / output_len (ours or imported) */
    int64_t context, input_len, output_len;
    int context_sweep;       /* decode: a point of the context sweep, a series of its own */

    /* cost model (derive.c) */
    double flops, bytes, intensity;
    double predicted_ms;           /* measured roofs: from the file, else computed; NAN without roofs */
    double predicted_datasheet_ms; /* datasheet roofs; NAN when the GPU is not in the table */
    double predicted_seed_ms_per_token; /* datasheet, seed-style (decode only) */
    double estimated_ms;           /* latency-aware estimate from the engine's launches (the file's); NAN if none */
    double estimated_latency_ms;   /* of which the latency roof adds */
    double attention_share;        /* context points: the cost model's attention ms ÷ step ms; NAN otherwise */

    /* violation check (violations.c) */
    double floor_ms;         /* max(FLOPs / peak, bytes / bandwidth), datasheet; NAN if not checkable */
    int violation;
} rl_report_point;

typedef struct {
    rl_phase phase;
    int64_t x;
    char kernel[96];
    char symbol[96];         /* its device function (CUPTI), "" when not known */
    char ops[160];           /* operator names joined with '+' */
    int64_t calls;
    double ms, busy_ms, flops, bytes, intensity;
    double achieved_gbps, achieved_tflops;
    double link_bytes;        /* all-reduce rows: bytes sent over the link per GPU (their comm roof) */
    double roof_ms, roof_pct; /* the binding one of the roofs (bytes, FLOPs, calls x t_min; the link) */
    char bound[16];           /* "memory" | "compute" | "latency" | "communication" */
} rl_report_kernel;

typedef struct {
    double min, median, max;
} rl_report_stat;

typedef struct {
    double measured;              /* x where the flat floor meets the linear ramp; NAN if unknown */
    char method[640];
    double predicted_measured;    /* crossing with measured roofs (file or computed); NAN if no roofs */
    double predicted_datasheet;   /* crossing with datasheet roofs; NAN if not in the table */
    double floor_ms, slope_ms;    /* our fit: ms = floor * max(1, x / measured); slope = floor / measured */
    double max_x;                 /* largest measured x: a transition beyond it means "still flat" */
} rl_report_transition;

/* A transition nobody computed yet: every figure unknown. */
static inline rl_report_transition rl_report_no_transition(void)
{
    return (rl_report_transition){.measured = NAN, .predicted_measured = NAN, .predicted_datasheet = NAN,
                                  .floor_ms = NAN, .slope_ms = NAN, .max_x = NAN};
}

typedef struct {
    rl_report_source source;
    char label[160];              /* the row's name in every table and legend */
    char gpu[64];                 /* table name when matched, else the device name */
    int gpu_idx;                  /* row in the GPU table, -1 when not there */
    char engine[48];
    char path[512];

    /* provenance */
    char device_name[128], backend[16], driver[64], cuda_runtime[32];
    char commit[64], version[32], command[512], date[48], weights[256];
    char csv_comment[512];        /* CSV: its leading comment lines, joined */

    /* model */
    char model_name[128];
    rl_model_config model;
    int have_model;
    rl_dtype dtype;

    /* roofs */
    double read_gbps, gemm_tflops;        /* measured; NAN if absent */
    double kernel_min_us;                 /* the latency roof t_min, measured; NAN if absent */
    double ds_bandwidth_gbps, ds_peak_tflops; /* datasheet at dtype; NAN if not in the table */

    int have_telemetry;
    rl_report_stat sm_clock_mhz, mem_clock_mhz, power_w, temp_c;

    rl_report_point *points;
    int n_points;
    rl_report_kernel *kernels;
    int n_kernels;

    rl_report_transition decode, prefill;

    /* The run as a results document (read through the results field table; imported and predicted
     * rows built from their points): what the one analysis function (rl_analyse_results) reads.
     * res.points[i] is points[i]; res.profiles are the run's per-kernel profiles. */
    rl_results res;
} rl_report_run;

/* One case of an ncu-check.json (the cost model's bytes against DRAM counters). */
typedef struct {
    char gpu[64];
    rl_phase phase;
    int64_t x;
    double model_bytes, dram_bytes;
    double op_model_bytes[RL_OP_COUNT], op_dram_bytes[RL_OP_COUNT]; /* NAN where the file has no row */
} rl_report_ncu_case;

typedef struct {
    char gpu[64];                 /* table name (or device name) */
    char label[160];              /* the run's row label */
    rl_report_source source;
    rl_phase sweep;
    int64_t x;
    double ms, floor_ms;
    char reason[400];
} rl_report_violation;

/* Tensor parallel: one workload's step time against the GPU count, from results files of several
 * TP degrees of one model on one GPU, beside the cost model's roofs per GPU at each degree. */
typedef struct {
    int gpus;                 /* the run's TP degree (the single-GPU engine counts 1) */
    int run;                  /* its row in runs */
    double ms;                /* measured median step (decode) or prefill */
    double predicted_ms;      /* the roofline sum: every op's max(FLOPs / peak, bytes / bandwidth) + comm */
    double compute_ms, memory_ms, comm_ms; /* the three roofs (predict.h rl_prediction) */
    rl_bound bound;           /* the largest of the three */
} rl_report_tp_point;

#define RL_REPORT_MAX_TP 8
typedef struct {
    char gpu[64], model[128];
    rl_phase phase;
    int64_t x;                /* decode batch or prefill length */
    rl_report_tp_point pts[RL_REPORT_MAX_TP]; /* ascending GPU count */
    int n;
} rl_report_tp_series;
#define RL_REPORT_MAX_TP_SERIES 6

#define RL_REPORT_MAX_NOTES 64

typedef struct {
    rl_gpu_table table;
    rl_report_run *runs;
    int n_runs;
    rl_report_violation *violations;
    int n_violations;
    char notes[RL_REPORT_MAX_NOTES][400]; /* things the reader must know (unchecked GPUs, ...) */
    int n_notes;
    rl_report_ncu_case *ncu;              /* ncu-check.json beside a results file */
    int n_ncu;
    char ncu_source[600], ncu_command[600];
    rl_report_tp_series tp[RL_REPORT_MAX_TP_SERIES]; /* tensor-parallel scaling (tp_scaling.c) */
    int n_tp;
} rl_report_data;

/* load.c ------------------------------------------------------------------------------------ */
/* Loads the GPU table (gpu_file may be NULL) and zeroes the model. */
int rl_report_data_init(rl_report_data *d, const char *gpu_file, rl_err *err);
void rl_report_data_free(rl_report_data *d);
/* Appends one run from a results.json. Errors name the file and the line (syntax) or field path. */
int rl_report_load_results(rl_report_data *d, const char *path, rl_err *err);
/* Reads an ncu-check.json (the counters check, scripts/ncu-check.sh) for the GPU gpu. */
int rl_report_load_ncu_check(rl_report_data *d, const char *path, const char *gpu, rl_err *err);
/* Appends one run per GPU named in a CSV (sweep,gpu,x,ms). Errors name FILE:LINE. */
int rl_report_load_csv(rl_report_data *d, const char *path, rl_err *err);
void rl_report_note(rl_report_data *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* derive.c ---------------------------------------------------------------------------------- */
/* Fills cost-model numbers, predictions and transitions of every run; adds predicted rows for
 * the seed's four GPUs that have no measurement; orders rows by GPU table order. */
int rl_report_derive(rl_report_data *d, rl_err *err);
/* Fits ms = floor * max(1, x / k) (the roofline's shape) on relative error; returns k, NAN with
 * fewer than 3 points. k above the largest x means the curve stayed flat. */
double rl_report_fit_transition(const double *x, const double *ms, int n, double *floor_ms, double *slope_ms);
/* 1 when p belongs to the batch sweep (decode) or length sweep (prefill) of ph: the tables, fits and
 * x-vs-ms charts of those sweeps leave the context sweep's points out (rl_point_in_sweep). */
int rl_report_in_sweep(const rl_report_point *p, rl_phase ph);
/* Cost of one workload of run r's model (decode at context, or prefill at length x, batch 1). */
void rl_report_cost(const rl_report_run *r, rl_phase sweep, int64_t x, int64_t context, rl_cost *out);
/* The run's per-kernel profile of (phase, x), NULL when none. */
const rl_profile *rl_report_profile(const rl_report_run *r, rl_phase phase, int64_t x);

/* tp_scaling.c ------------------------------------------------------------------------------ */
/* The tensor-parallel degree of a run: its results' tp, the single-GPU engine (0) counting 1. */
int rl_report_tp_of(const rl_report_run *r);
/* Fills d->tp: for every GPU and model with results of two TP degrees or more, decode at the
 * smallest and largest batch they share and prefill at the longest length they share. */
void rl_report_tp_scaling(rl_report_data *d);

/* violations.c ------------------------------------------------------------------------------ */
/* floor_ms = max(flops / peak, bytes / bandwidth) in ms. */
double rl_report_floor_ms(double flops, double bytes, double peak_tflops, double bandwidth_gbps);
/* 1 when ms is faster than the floor (strictly; a point at the floor is possible). */
int rl_report_is_violation(double ms, double floor_ms);
/* Sets floor_ms and violation on every measured point and fills d->violations. */
int rl_report_find_violations(rl_report_data *d, rl_err *err);

/* writers ----------------------------------------------------------------------------------- */
/* Markdown, returned as a malloc'd string. */
char *rl_report_markdown(const rl_report_data *d, const char *const *charts, int n_charts);
int rl_report_write_json(const rl_report_data *d, const char *path, rl_err *err);
/* Writes .gp scripts and renders SVG + PNG. Returns 0 with *rendered = 0 when gnuplot is absent. */
int rl_report_charts(const rl_report_data *d, const char *out_dir, int quiet, int *rendered, rl_err *err);
/* The PNG names of the charts d makes (the registry of charts_gnuplot.c), at most max. */
int rl_report_chart_names(const rl_report_data *d, const char **names, int max);

/* Measured value of a point for checks and tables: ms, or the imported seed-style value. */
double rl_report_point_value(const rl_report_point *p);
/* Number formatting shared by the writers: 3 significant digits at least, "–" for NAN. */
const char *rl_report_fmt_ms(double ms, char *buf, int n);

#endif
