/* trace.c: Chrome trace-event JSON of profiled steps (trace.h). */
#include "trace.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "results.h"

struct rl_trace {
    cJSON *events;
    int steps;
};

rl_trace *rl_trace_new(void)
{
    rl_trace *t = calloc(1, sizeof *t);
    if (t && !(t->events = cJSON_CreateArray())) {
        free(t);
        t = NULL;
    }
    return t;
}

void rl_trace_free(rl_trace *t)
{
    if (!t) return;
    cJSON_Delete(t->events);
    free(t);
}

int rl_trace_steps(const rl_trace *t) { return t ? t->steps : 0; }

static cJSON *event(cJSON *events, const char *name, const char *cat, int pid, double ts_us, double dur_us)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddStringToObject(e, "cat", cat);
    cJSON_AddStringToObject(e, "ph", "X");
    cJSON_AddNumberToObject(e, "pid", pid);
    cJSON_AddNumberToObject(e, "tid", 1);
    cJSON_AddNumberToObject(e, "ts", ts_us);
    cJSON_AddNumberToObject(e, "dur", dur_us > 0 ? dur_us : 0);
    cJSON_AddItemToArray(events, e);
    return e;
}

static void metadata(cJSON *events, const char *what, int pid, const char *name)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", what);
    cJSON_AddStringToObject(e, "ph", "M");
    cJSON_AddNumberToObject(e, "pid", pid);
    cJSON_AddNumberToObject(e, "tid", 1);
    cJSON_AddStringToObject(cJSON_AddObjectToObject(e, "args"), "name", name);
    cJSON_AddItemToArray(events, e);
}

/* The bar of a record: it ends where the kernel ended and starts at its own start or where the
 * kernels before it ended, whichever is later (ms is end - that point, busy_ms end - start). */
static void bar_of(const rl_kernel_record *r, double *ts_us, double *dur_us)
{
    const double end = r->start_ms + r->busy_ms;
    const double dur = r->ms < r->busy_ms ? r->ms : r->busy_ms;
    *ts_us = 1e3 * (end - dur);
    *dur_us = 1e3 * dur;
}

int rl_trace_add_step(rl_trace *t, const char *label, const rl_kernel_log *log, int step, rl_err *err)
{
    int first = -1, last = -1, max_layer = -1;
    for (int i = 0; i < log->n; i++)
        if (log->recs[i].step == step && log->recs[i].ms >= 0) {
            if (first < 0) first = i;
            last = i;
            if (log->recs[i].layer > max_layer) max_layer = log->recs[i].layer;
        }
    if (first < 0) return rl_fail(err, "trace: step %d of the %s profile has no timed kernels", step, label);
    const int pid = ++t->steps;
    char name[200];
    snprintf(name, sizeof name, "%s (%s)", label, rl_timing_name(log->timing));
    metadata(t->events, "process_name", pid, name);
    metadata(t->events, "thread_name", pid,
             log->timing == RL_TIMING_CUPTI ? "kernels (CUPTI activity)" : "kernels (timed between events)");
    double end_us = 0;
    for (int i = first; i <= last; i++) {
        const rl_kernel_record *r = &log->recs[i];
        if (r->step != step || r->ms < 0) continue;
        double ts, dur;
        bar_of(r, &ts, &dur);
        if (ts + dur > end_us) end_us = ts + dur;
    }
    snprintf(name, sizeof name, "%s step", label);
    event(t->events, name, "step", pid, 0, end_us);
    for (int l = 0; l <= max_layer; l++) {
        double lo = -1, hi = 0;
        for (int i = first; i <= last; i++) {
            const rl_kernel_record *r = &log->recs[i];
            if (r->step != step || r->ms < 0 || r->layer != l) continue;
            double ts, dur;
            bar_of(r, &ts, &dur);
            if (lo < 0 || ts < lo) lo = ts;
            if (ts + dur > hi) hi = ts + dur;
        }
        if (lo < 0) continue;
        snprintf(name, sizeof name, "layer %d", l);
        event(t->events, name, "layer", pid, lo, hi - lo);
    }
    for (int i = first; i <= last; i++) {
        const rl_kernel_record *r = &log->recs[i];
        if (r->step != step || r->ms < 0) continue;
        double ts, dur;
        bar_of(r, &ts, &dur);
        cJSON *e = event(t->events, r->kernel, "kernel", pid, ts, dur);
        cJSON *a = cJSON_AddObjectToObject(e, "args");
        char ops[200];
        rl_ops_text(r->op_mask, ops, sizeof ops);
        cJSON_AddStringToObject(a, "ops", ops);
        cJSON_AddNumberToObject(a, "layer", r->layer);
        if (r->symbol[0]) cJSON_AddStringToObject(a, "symbol", r->symbol);
        cJSON_AddNumberToObject(a, "start_us", 1e3 * r->start_ms);
        cJSON_AddNumberToObject(a, "run_us", 1e3 * r->busy_ms);
        cJSON_AddNumberToObject(a, "share_us", 1e3 * r->ms);
        cJSON_AddNumberToObject(a, "launch", r->launch);
    }
    return 0;
}

int rl_trace_save(const rl_trace *t, const char *path, rl_err *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return rl_fail(err, "%s: out of memory", path);
    cJSON_AddItemReferenceToObject(root, "traceEvents", t->events);
    cJSON_AddStringToObject(root, "displayTimeUnit", "ns");
    cJSON *o = cJSON_AddObjectToObject(root, "otherData");
    cJSON_AddStringToObject(o, "producer", "ridgeline");
    cJSON_AddStringToObject(o, "commit", rl_build_commit());
    cJSON_AddStringToObject(o, "units", "ts and dur in us from the step's first kernel; args.start_us / run_us: the "
                                        "kernel's own start and run time, share_us: its share of the step");
    int rc = rl_json_save(path, root, err);
    cJSON_Delete(root);
    return rc;
}
