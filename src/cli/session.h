/* session.h: what probe, sweep and lab share: the backend/model choice, the results document,
 * the measured (or loaded) roofs with the GPU-table match, NVML, the engine slot, and the
 * checkpoint that re-analyses and rewrites results.json after every point. */
#ifndef RL_CLI_SESSION_H
#define RL_CLI_SESSION_H
#include <signal.h>
#include <stdint.h>
#include <stdio.h>

#include "../measure/probe.h"
#include "../measure/progress.h"
#include "../measure/results.h"
#include "../measure/sweep.h"
#include "../measure/telemetry.h"
#include "../measure/trace.h"
#include "../analyse/analyse.h"

typedef struct {
    const char *backend;      /* "cpu" | "cuda" | NULL (cuda when a GPU is present, else cpu) */
    const char *model;        /* preset or config.json; NULL = backend default (or --weights' config) */
    const char *weights_dir;  /* NULL = random weights */
    const char *gpu_file;     /* extra GPU table rows */
    int threads;              /* cpu engine/probe threads, 0 = all cores */
    uint64_t seed;            /* random weights and prompts, as given (callers start it at CLI_SEED_DEFAULT) */
    int quiet;
    int tp;                   /* --tp N: tensor parallel over N GPUs (cuda); 0 = the single-GPU engine */
    const char *nccl_lib;     /* --nccl-lib PATH: the NCCL library (NULL: libnccl.so.2 on the loader path) */
    int probe_gpus;           /* probe --gpus N: the interconnect test's GPUs (0: the --tp group, else all) */
} session_args;

/* The options sweep and lab share (getopt_long entries: SESSION_MEASURE_OPTIONS, plus "r:"). */
typedef struct {
    session_args s;
    const char *batches, *lengths; /* explicit grids, or NULL for the backend's defaults */
    const char *roofs, *ncu;       /* --roofs FILE, --ncu-csv FILE */
    const char *trace;             /* --trace FILE: the profiled steps as Chrome trace events */
    int quick;
    int64_t input_len, output_len; /* 0 = the backend's default */
    int64_t reps;                  /* 0 = the sweep's default */
    int64_t warmup;                /* -1 = the sweep's default */
} measure_args;

#define SESSION_MEASURE_OPTIONS                                                                              \
    {"backend", required_argument, 0, 'b'}, {"model", required_argument, 0, 'm'},                            \
        {"weights", required_argument, 0, 'w'}, {"batches", required_argument, 0, 'B'},                      \
        {"lengths", required_argument, 0, 'L'}, {"input-len", required_argument, 0, 'i'},                    \
        {"output-len", required_argument, 0, 'o'}, {"warmup", required_argument, 0, 'W'},                    \
        {"roofs", required_argument, 0, 'R'}, {"ncu-csv", required_argument, 0, 'n'},                        \
        {"threads", required_argument, 0, 't'}, {"seed", required_argument, 0, 's'},                         \
        {"quick", no_argument, 0, 'q'}, {"quiet", no_argument, 0, 'Q'}, {"gpu-file", required_argument, 0, 'g'}, \
        {"trace", required_argument, 0, 'T'}, {"tp", required_argument, 0, 'P'}, {"nccl-lib", required_argument, 0, 'Y'}

/* Handles one getopt_long result of SESSION_MEASURE_OPTIONS or -r: 1 = taken, 0 = not a shared
 * option, -1 = a bad value (message in err). */
int session_measure_option(int ch, const char *arg, measure_args *m, rl_err *err);

/* Reads --roofs and --ncu-csv once, so a missing or malformed file fails before anything is
 * measured (--weights and --gpu-file are checked by session_open). */
int session_check_inputs(const measure_args *m, rl_err *err);

/* Checks the --backend name, if one was given. */
int session_check_backend(const measure_args *m, rl_err *err);

/* The batches (decode) or lengths (prefill) to sweep: the explicit list, else the backend's
 * defaults (the seed's grids on cuda; smaller on cpu; the short set when small). Returns the
 * count (at most 64) or -1. */
int session_grid(const measure_args *m, int cuda, rl_phase phase, int small, int64_t *xs, rl_err *err);

/* Decode prompt and generated lengths: explicit, else cuda 128/64 and cpu 32/16 (small: cuda
 * 128/16, cpu 16/8). */
void session_decode_lengths(const measure_args *m, int cuda, int small, int64_t *input_len, int64_t *output_len);

typedef struct {
    rl_results res;
    rl_analysis analysis;     /* of res, recomputed at every checkpoint */
    rl_backend backend;
    rl_gpu_table table;
    rl_telemetry *tel;
    rl_engine_opts base;      /* engine options every sweep starts from */
    int probe_gpus;           /* GPUs the probe's interconnect test spans (0: every visible one) */
    rl_engine_slot slot;
    rl_progress progress;
    const char *results_path; /* rewritten at every checkpoint; NULL = none */
    rl_trace *trace;          /* profiled steps, written to trace_path after each; NULL = none */
    const char *trace_path;
    int quiet;
} session;

/* Resolves backend and model, stamps the results document, loads the GPU table, opens NVML
 * (cuda; a failure becomes res.telemetry_note). Returns 0 or -1 with a message. */
int session_open(session *s, const session_args *a, int argc, char **argv, rl_err *err);
void session_close(session *s);

/* Measured roofs: loaded from roofs_file (device facts still read from the device), or probed
 * (quick: smaller problems). Then the GPU-table match and one NVML reading. */
int session_roofs(session *s, const char *roofs_file, int quick, rl_err *err);

/* Collects the profiled steps into a trace written to path (after every profile). */
int session_trace(session *s, const char *path, rl_err *err);

/* rl_sweep_ctx.checkpoint: the slot engine's kernel choices into the results, analyse, then rewrite
 * results_path atomically. */
int session_checkpoint(void *user, rl_err *err);

/* A sweep context wired to this session (progress, telemetry, checkpoint, stop flag). */
rl_sweep_ctx session_sweep_ctx(session *s, volatile sig_atomic_t *stop);

/* Per-kernel profile of one step (decode batch x, or prefill length x) on the slot's engine (a new
 * one when it is too small). A failure is reported on stderr and skipped: profiling is optional. */
void session_kernels(session *s, rl_phase phase, int64_t x, int64_t input_len);

/* The sweep's points as a table on f (the batch or length sweep; the context sweep has its own). */
void session_print_points(const session *s, rl_phase phase, FILE *f);
void session_print_context_points(const session *s, FILE *f);

/* Installs SIGINT and SIGTERM handlers that set the returned flag to the signal's number (a
 * second signal kills as usual); the caller finishes the point in flight, writes what it has
 * with "interrupted": true and exits 128 + the number. session_restore_stop puts the old
 * handlers back. */
volatile sig_atomic_t *session_install_stop(void);
void session_restore_stop(void);

#endif
