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

typedef struct {
    const char *backend;      /* "cpu" | "cuda" | NULL (cuda when a GPU is present, else cpu) */
    const char *model;        /* preset or config.json; NULL = backend default (or --weights' config) */
    const char *weights_dir;  /* NULL = random weights */
    const char *gpu_file;     /* extra GPU table rows */
    int threads;              /* cpu engine/probe threads, 0 = all cores */
    uint64_t seed;
    int quiet;
} session_args;

typedef struct {
    rl_results res;
    rl_backend backend;
    rl_gpu_table table;
    rl_telemetry *tel;
    rl_engine_opts base;      /* engine options every sweep starts from */
    rl_engine_slot slot;
    rl_progress progress;
    const char *results_path; /* rewritten at every checkpoint; NULL = none */
    int quiet;
} session;

/* Resolves backend and model, stamps the results document, loads the GPU table, opens NVML
 * (cuda; a failure becomes res.telemetry_note). Returns 0 or -1 with a message. */
int session_open(session *s, const session_args *a, int argc, char **argv, rl_err *err);
void session_close(session *s);

/* Measured roofs: loaded from roofs_file (device facts still read from the device), or probed
 * (quick: smaller problems). Then the GPU-table match and one NVML reading. */
int session_roofs(session *s, const char *roofs_file, int quick, rl_err *err);

/* rl_sweep_ctx.checkpoint: analyse, then rewrite results_path atomically. */
int session_checkpoint(void *user, rl_err *err);

/* A sweep context wired to this session (progress, telemetry, checkpoint, stop flag). */
rl_sweep_ctx session_sweep_ctx(session *s, volatile sig_atomic_t *stop);

/* Per-kernel profile of one step (decode batch x, or prefill length x) on the slot's engine (a new
 * one when it is too small). A failure is reported on stderr and skipped: profiling is optional. */
void session_kernels(session *s, rl_phase phase, int64_t x, int64_t input_len);

/* The sweep's points as a table on f. */
void session_print_points(const session *s, rl_phase phase, FILE *f);

/* Installs a SIGINT handler that sets the returned flag (a second Ctrl-C kills as usual);
 * session_restore_sigint puts the old handler back. */
volatile sig_atomic_t *session_install_sigint(void);
void session_restore_sigint(void);

#endif
