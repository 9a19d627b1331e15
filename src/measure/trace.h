/* trace.h: per-kernel profiles as a Chrome trace-event file (`lab`/`sweep --trace FILE`), the
 * nsys-style timeline of a step without nsys: it opens in Perfetto (ui.perfetto.dev) and
 * chrome://tracing. One process per profiled step ("decode B=64 (cupti)"), one track in it: the
 * step as a complete event ("ph": "X"), each layer as a child of it, each kernel as a child of its
 * layer with args.ops (the operators it implements), args.symbol (the device function) and its own
 * start and run time. Times in us from the step's first kernel. A kernel's bar starts where the
 * kernel before it ended when they overlap (PDL), so bars nest; args keep the true start. */
#ifndef RL_TRACE_H
#define RL_TRACE_H
#include "../engine/engine.h"

typedef struct rl_trace rl_trace;

rl_trace *rl_trace_new(void); /* NULL when out of memory */
void rl_trace_free(rl_trace *t);

/* Adds step `step` of log as one process named label (the timing is added to the name). */
int rl_trace_add_step(rl_trace *t, const char *label, const rl_kernel_log *log, int step, rl_err *err);
/* Steps added so far. */
int rl_trace_steps(const rl_trace *t);

/* Writes {"traceEvents": [...], "displayTimeUnit": "ns", "otherData": {...}} atomically. */
int rl_trace_save(const rl_trace *t, const char *path, rl_err *err);

#endif
