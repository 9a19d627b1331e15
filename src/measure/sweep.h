/* sweep.h: timed decode (batch) and prefill (length) sweeps on the engine, each point compared
 * with the cost model at the measured roofs (and the datasheet's, where the device is in the table).
 *
 * Decode point B: prefill B random prompts of input_len tokens (timed once), then output_len - 1
 * decode steps, each timed alone (host clock after a device sync), feeding each step's greedy
 * tokens to the next, as generation does. ms = median step, p10/p90 over the steps; the seed's
 * column = (prefill + all steps) / output_len. A warm-up run (prefill + a few steps) precedes it.
 * Prefill point L: warm-up runs, then reps timed prefills of one L-token prompt, each starting
 * from a reset KV cache (the engine resets slot 0 on prefill): nothing is reused between runs.
 * Context point (B, C): decode at a long KV context without a C-token prefill: the engine's caches
 * are filled with random K/V (rl_engine_fill_context), then warm-up and output_len - 1 timed steps
 * as above, the steps' mean context being C (input_len = C - output_len / 2: the tokens the cache
 * holds at the first timed step, so rl_decode_context(input_len, output_len) = C). Each context
 * gets an engine sized for it (the split-KV plan follows the cache size); prefill_ms and the seed's
 * column do not apply. context_sweep = 1 marks these points.
 * A point that fails (out of memory, say) is recorded as failed with its error; the sweep goes on,
 * unless it is the sweep's first point: then the input is bad and the sweep stops with an error.
 * The context sweep never stops on a failed point: a batch x context that does not fit in memory
 * is recorded with the engine's reason and skipped. */
#ifndef RL_SWEEP_H
#define RL_SWEEP_H
#include <signal.h>
#include <stdint.h>

#include "../engine/engine.h"
#include "progress.h"
#include "results.h"
#include "telemetry.h"

/* The engine a sweep runs on, reused across points (and sweeps) while it is large enough. */
typedef struct {
    rl_engine *e;
    rl_engine_opts opts;  /* the sizes it was created with */
    int created;          /* engines created so far (weights generated/loaded each time) */
} rl_engine_slot;

typedef struct {
    const rl_model_config *model;
    rl_engine_opts base;          /* backend, weights_dir, seed, threads, quiet; sizes are set per sweep */
    rl_results *res;              /* points are appended here; roofs, datasheet, elem_bytes come from it */
    rl_telemetry *tel;            /* NULL: no NVML readings */
    rl_progress *progress;        /* NULL: silent */
    volatile sig_atomic_t *stop;  /* non-NULL and set: finish the current point, then return */
    int warmup;                   /* decode: warm-up steps; prefill: warm-up runs */
    int reps;                     /* prefill: timed runs per length */
    double point_budget_ms;       /* prefill: fewer reps (>= 3) when reps runs would exceed this */
    uint64_t seed;                /* prompt tokens */
    /* Called after every point (the lab analyses and rewrites results.json); non-zero aborts. */
    int (*checkpoint)(void *user, rl_err *err);
    void *user;
} rl_sweep_ctx;

/* Returns an engine with room for batch x context tokens and prefills of max_prefill tokens:
 * the slot's own when it is large enough, else a new one (the old is destroyed first). The new
 * one is sized to the plan (plan_* >= need) when that fits in memory, else to the need. */
rl_engine *rl_engine_slot_get(rl_engine_slot *s, const rl_engine_opts *base, const rl_model_config *m,
                              int64_t batch, int64_t context, int64_t max_prefill, int64_t plan_batch,
                              int64_t plan_context, int64_t plan_prefill, rl_err *err);
void rl_engine_slot_release(rl_engine_slot *s);

/* Appends one point per batch / length to ctx->res. Returns -1 when a checkpoint fails or the
 * first point failed (it is recorded first); later failed points are data, not errors. */
int rl_sweep_decode(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *batches, int nb, int64_t input_len,
                    int64_t output_len, rl_err *err);
int rl_sweep_prefill(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *lengths, int nl, rl_err *err);
/* One point per (context, batch), contexts outer. Returns -1 only when a checkpoint fails. */
int rl_sweep_decode_context(rl_sweep_ctx *ctx, rl_engine_slot *slot, const int64_t *contexts, int nc,
                            const int64_t *batches, int nb, int64_t output_len, rl_err *err);

/* Fills the cost-model fields of a point (flops, bytes, intensity, bound, predicted_ms and
 * predicted_datasheet_ms) from res's roofs, datasheet and element size. */
void rl_point_predict(const rl_results *res, rl_point *p);

/* The cost model's share of attention (the KV-cache read) in p's predicted step: attention ms ÷
 * step ms at the measured roofs (the datasheet's without them); -1 without either. */
double rl_point_attention_share(const rl_results *res, const rl_point *p);

/* Fills p's estimated_ms (and estimated_latency_ms, estimated_kernels) from plan, the launches the
 * engine made for p's step, at res's measured roofs and latency roof; -1 without roofs or plan. */
void rl_point_estimate(const rl_results *res, rl_point *p, const rl_launch_plan *plan);

/* Expected cost of a point in ms (for the progress ETA): warm-up and timed work at predicted speed. */
double rl_sweep_point_weight(const rl_results *res, rl_phase phase, int64_t x, int64_t input_len, int64_t output_len,
                             int warmup, int reps);

/* The same for a context-sweep point (its fill instead of prefills). */
double rl_sweep_context_weight(const rl_results *res, int64_t batch, int64_t context, int64_t output_len, int warmup);

/* Fills a with n pseudo-random token ids in [0, vocab) from the state *rng (xorshift64). */
void rl_random_tokens(int32_t *a, int64_t n, int64_t vocab, uint64_t *rng);

#endif
