/* report_json.c: report.json, the report in machine form: every row with its points,
 * predictions, floors and transitions, and the contract's "violations" array. Absent numbers
 * are null, never 0. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

#include "../common/util.h"
#include "../measure/results_fields.h"
#include "report_model.h"


static const char *source_name(rl_report_source s)
{
    return s == RL_SRC_RESULTS ? "measured" : s == RL_SRC_CSV ? "imported" : "predicted";
}

static double err_pct(double predicted, double measured) { return (predicted - measured) / measured * 100; }

static cJSON *point_json(const rl_report_run *r, const rl_report_point *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sweep", rl_phase_name(p->sweep));
    cJSON_AddNumberToObject(o, "x", (double)p->x);
    const char *status = r->source == RL_SRC_PREDICTED ? "predicted" : p->ok ? "ok" : "failed";
    cJSON_AddStringToObject(o, "status", status);
    if (!p->ok && r->source != RL_SRC_PREDICTED) rl_json_add_string_or_null(o, "error", p->error);
    rl_json_add_number_or_null(o, "ms", p->ms);
    rl_json_add_number_or_null(o, "p10", p->p10_ms);
    rl_json_add_number_or_null(o, "p90", p->p90_ms);
    if (p->sweep == RL_PHASE_DECODE) {
        rl_json_add_number_or_null(o, "seed_ms_per_token", p->seed_ms_per_token);
        rl_json_add_number_or_null(o, "predicted_seed_ms_per_token", p->predicted_seed_ms_per_token);
        cJSON_AddNumberToObject(o, "context", (double)p->context);
        if (p->context_sweep) {
            cJSON_AddBoolToObject(o, "context_sweep", 1);
            rl_json_add_number_or_null(o, "attention_share", p->attention_share);
        }
    }
    rl_json_add_number_or_null(o, "predicted_ms", p->predicted_ms);
    rl_json_add_number_or_null(o, "predicted_datasheet_ms", p->predicted_datasheet_ms);
    rl_json_add_number_or_null(o, "estimated_ms", p->estimated_ms);
    rl_json_add_number_or_null(o, "estimated_latency_ms", p->estimated_latency_ms);
    double v = rl_report_point_value(p);
    int seed = isnan(p->ms);
    rl_json_add_number_or_null(o, "error_pct", seed ? NAN : err_pct(p->predicted_ms, v));
    rl_json_add_number_or_null(o, "error_datasheet_pct",
            err_pct(seed ? p->predicted_seed_ms_per_token : p->predicted_datasheet_ms, v));
    rl_json_add_number_or_null(o, "error_estimated_pct", seed ? NAN : err_pct(p->estimated_ms, v));
    /* The gap to the roofline: what the latency roof explains, what the kernels lose below their roofs. */
    rl_json_add_number_or_null(o, "gap_latency_ms", seed ? NAN : p->estimated_ms - p->predicted_ms);
    rl_json_add_number_or_null(o, "gap_kernels_ms", seed ? NAN : v - p->estimated_ms);
    rl_json_add_number_or_null(o, "flops", p->flops);
    rl_json_add_number_or_null(o, "bytes", p->bytes);
    rl_json_add_number_or_null(o, "intensity", p->intensity);
    rl_json_add_number_or_null(o, "floor_ms", p->floor_ms);
    cJSON_AddBoolToObject(o, "violation", p->violation);
    if (p->line) cJSON_AddNumberToObject(o, "line", p->line);
    return o;
}

static cJSON *kernel_json(const rl_report_kernel *k)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", rl_phase_name(k->phase));
    cJSON_AddNumberToObject(o, "x", (double)k->x);
    cJSON_AddStringToObject(o, "kernel", k->kernel);
    rl_json_add_string_or_null(o, "symbol", k->symbol);
    cJSON_AddStringToObject(o, "ops", k->ops);
    cJSON_AddNumberToObject(o, "calls", (double)k->calls);
    rl_json_add_number_or_null(o, "ms", k->ms);
    rl_json_add_number_or_null(o, "busy_ms", k->busy_ms);
    rl_json_add_number_or_null(o, "roof_ms", k->roof_ms);
    rl_json_add_number_or_null(o, "flops", k->flops);
    rl_json_add_number_or_null(o, "bytes", k->bytes);
    rl_json_add_number_or_null(o, "intensity", k->intensity);
    rl_json_add_number_or_null(o, "achieved_gbps", k->achieved_gbps);
    rl_json_add_number_or_null(o, "achieved_tflops", k->achieved_tflops);
    rl_json_add_number_or_null(o, "roof_pct", k->roof_pct);
    rl_json_add_string_or_null(o, "bound", k->bound);
    return o;
}

static cJSON *transition_json(const rl_report_transition *t)
{
    cJSON *o = cJSON_CreateObject();
    rl_json_add_number_or_null(o, "measured", t->measured);
    cJSON_AddStringToObject(o, "measured_source", "report fit"); /* the report fits every row itself */
    rl_json_add_string_or_null(o, "method", t->method);
    rl_json_add_number_or_null(o, "fit_floor_ms", t->floor_ms);
    rl_json_add_number_or_null(o, "fit_slope_ms", t->slope_ms);
    cJSON_AddBoolToObject(o, "beyond_measured_range", t->max_x > 0 && t->measured > t->max_x);
    /* 0 = never compute-bound within the search limit */
    rl_json_add_number_or_null(o, "predicted_measured_roofs", t->predicted_measured);
    rl_json_add_number_or_null(o, "predicted_datasheet", t->predicted_datasheet);
    return o;
}

static cJSON *stat_json(const rl_report_stat *s)
{
    cJSON *o = cJSON_CreateObject();
    rl_json_add_number_or_null(o, "min", s->min);
    rl_json_add_number_or_null(o, "median", s->median);
    rl_json_add_number_or_null(o, "max", s->max);
    return o;
}

static cJSON *run_json(const rl_report_run *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "label", r->label);
    cJSON_AddStringToObject(o, "gpu", r->gpu);
    cJSON_AddBoolToObject(o, "in_gpu_table", r->gpu_idx >= 0);
    cJSON_AddStringToObject(o, "source", source_name(r->source));
    cJSON_AddStringToObject(o, "engine", r->engine);
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON *dev = cJSON_AddObjectToObject(o, "device");
    rl_json_add_string_or_null(dev, "name", r->device_name);
    rl_json_add_string_or_null(dev, "backend", r->backend);
    rl_json_add_string_or_null(dev, "driver", r->driver);
    rl_json_add_string_or_null(dev, "cuda_runtime", r->cuda_runtime);
    cJSON *tool = cJSON_AddObjectToObject(o, "tool");
    rl_json_add_string_or_null(tool, "version", r->version);
    rl_json_add_string_or_null(tool, "commit", r->commit);
    rl_json_add_string_or_null(tool, "command", r->command);
    rl_json_add_string_or_null(tool, "date", r->date);
    if (r->csv_comment[0]) cJSON_AddStringToObject(o, "csv_comment", r->csv_comment);
    cJSON *model = cJSON_AddObjectToObject(o, "model");
    cJSON_AddStringToObject(model, "name", r->model_name);
    cJSON_AddStringToObject(model, "dtype", rl_dtype_names[r->dtype]);
    cJSON *roofs = cJSON_AddObjectToObject(o, "roofs");
    if (isnan(r->read_gbps)) cJSON_AddNullToObject(roofs, "measured");
    else {
        cJSON *m = cJSON_AddObjectToObject(roofs, "measured");
        rl_json_add_number_or_null(m, "read_gbps", r->read_gbps);
        rl_json_add_number_or_null(m, "gemm_tflops", r->gemm_tflops);
        rl_json_add_number_or_null(m, "kernel_min_us", r->kernel_min_us);
    }
    if (isnan(r->ds_bandwidth_gbps)) cJSON_AddNullToObject(roofs, "datasheet");
    else {
        cJSON *ds = cJSON_AddObjectToObject(roofs, "datasheet");
        cJSON_AddNumberToObject(ds, "bandwidth_gbps", r->ds_bandwidth_gbps);
        cJSON_AddNumberToObject(ds, "peak_tflops", r->ds_peak_tflops);
        cJSON_AddNumberToObject(ds, "ridge", rl_roofs_ridge(&(rl_roofs){.bandwidth_gbps = r->ds_bandwidth_gbps, .peak_tflops = r->ds_peak_tflops}));
    }
    if (r->have_telemetry) {
        cJSON *t = cJSON_AddObjectToObject(o, "telemetry");
        cJSON_AddItemToObject(t, "sm_clock_mhz", stat_json(&r->sm_clock_mhz));
        cJSON_AddItemToObject(t, "mem_clock_mhz", stat_json(&r->mem_clock_mhz));
        cJSON_AddItemToObject(t, "power_w", stat_json(&r->power_w));
        cJSON_AddItemToObject(t, "temp_c", stat_json(&r->temp_c));
    } else {
        cJSON_AddNullToObject(o, "telemetry");
    }
    cJSON *pts = cJSON_AddArrayToObject(o, "points");
    for (int i = 0; i < r->n_points; i++) cJSON_AddItemToArray(pts, point_json(r, &r->points[i]));
    cJSON *ks = cJSON_AddArrayToObject(o, "kernels");
    for (int i = 0; i < r->n_kernels; i++) cJSON_AddItemToArray(ks, kernel_json(&r->kernels[i]));
    cJSON *pr = cJSON_AddArrayToObject(o, "profiles");
    for (int i = 0; i < r->res.n_profiles; i++) {
        const rl_profile *p = &r->res.profiles[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "phase", rl_phase_name(p->phase));
        cJSON_AddNumberToObject(e, "x", (double)p->x);
        cJSON_AddStringToObject(e, "timing", rl_timing_name(p->timing));
        cJSON_AddNumberToObject(e, "kernels_ms", p->kernels_ms);
        rl_json_add_number_or_null(e, "step_ms", p->step_ms > 0 ? p->step_ms : NAN);
        cJSON_AddItemToArray(pr, e);
    }
    cJSON *kc = cJSON_AddArrayToObject(o, "kernel_choices");
    for (int i = 0; i < r->res.n_choices; i++) {
        cJSON *e = cJSON_CreateObject();
        rl_fields_write(e, &rl_choice_fields, &r->res.choices[i], 0);
        cJSON_AddItemToArray(kc, e);
    }
    cJSON *tr = cJSON_AddObjectToObject(o, "transitions");
    cJSON_AddItemToObject(tr, "decode", transition_json(&r->decode));
    cJSON_AddItemToObject(tr, "prefill", transition_json(&r->prefill));
    return o;
}

/* Tensor-parallel scaling (tp_scaling.c): one object per workload, its points by GPU count. */
static cJSON *tp_json(const rl_report_data *d)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < d->n_tp; i++) {
        const rl_report_tp_series *s = &d->tp[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gpu", s->gpu);
        cJSON_AddStringToObject(o, "model", s->model);
        cJSON_AddStringToObject(o, "sweep", rl_phase_name(s->phase));
        cJSON_AddNumberToObject(o, "x", (double)s->x);
        cJSON *pts = cJSON_AddArrayToObject(o, "points");
        for (int j = 0; j < s->n; j++) {
            const rl_report_tp_point *t = &s->pts[j];
            cJSON *p = cJSON_CreateObject();
            cJSON_AddNumberToObject(p, "gpus", t->gpus);
            cJSON_AddStringToObject(p, "row", d->runs[t->run].label);
            rl_json_add_number_or_null(p, "ms", t->ms);
            rl_json_add_number_or_null(p, "predicted_ms", t->predicted_ms);
            rl_json_add_number_or_null(p, "compute_ms", t->compute_ms);
            rl_json_add_number_or_null(p, "memory_ms", t->memory_ms);
            rl_json_add_number_or_null(p, "comm_ms", t->comm_ms);
            if (isnan(t->predicted_ms)) cJSON_AddNullToObject(p, "bound");
            else cJSON_AddStringToObject(p, "bound", rl_bound_names[t->bound]);
            cJSON_AddItemToArray(pts, p);
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

int rl_report_write_json(const rl_report_data *d, const char *path, rl_err *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return rl_fail(err, "%s: out of memory", path);
    cJSON_AddStringToObject(root, "schema", "ridgeline-report/1");
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "version", rl_version());
    cJSON_AddStringToObject(tool, "commit", rl_build_commit());
    cJSON *rule = cJSON_AddObjectToObject(root, "violation_rule");
    cJSON_AddStringToObject(rule, "floor_ms", "max(flops / datasheet peak, bytes / datasheet bandwidth)");
    cJSON_AddStringToObject(rule, "decode", "one step at batch x and the point's context (160 for the batch sweep); "
                                            "imported whole-run/output_len values are held to the per-step floor "
                                            "(they are never below one step)");
    cJSON_AddStringToObject(rule, "prefill", "the whole prefill at length x, batch 1");
    cJSON_AddStringToObject(rule, "violation", "ms < floor_ms (a point exactly at the floor is possible)");
    cJSON *rows = cJSON_AddArrayToObject(root, "rows");
    for (int i = 0; i < d->n_runs; i++) cJSON_AddItemToArray(rows, run_json(&d->runs[i]));
    cJSON *vs = cJSON_AddArrayToObject(root, "violations");
    for (int i = 0; i < d->n_violations; i++) {
        const rl_report_violation *v = &d->violations[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gpu", v->gpu);
        cJSON_AddStringToObject(o, "sweep", rl_phase_name(v->sweep));
        cJSON_AddNumberToObject(o, "x", (double)v->x);
        cJSON_AddNumberToObject(o, "ms", v->ms);
        cJSON_AddNumberToObject(o, "floor_ms", v->floor_ms);
        cJSON_AddStringToObject(o, "reason", v->reason);
        cJSON_AddStringToObject(o, "row", v->label);
        cJSON_AddStringToObject(o, "source", source_name(v->source));
        cJSON_AddItemToArray(vs, o);
    }
    cJSON *nc = cJSON_AddArrayToObject(root, "ncu_check");
    for (int i = 0; i < d->n_ncu; i++) {
        const rl_report_ncu_case *c = &d->ncu[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gpu", c->gpu);
        cJSON_AddStringToObject(o, "phase", rl_phase_name(c->phase));
        cJSON_AddNumberToObject(o, "x", (double)c->x);
        cJSON_AddNumberToObject(o, "model_bytes", c->model_bytes);
        cJSON_AddNumberToObject(o, "dram_bytes", c->dram_bytes);
        cJSON_AddItemToArray(nc, o);
    }
    cJSON_AddItemToObject(root, "tp_scaling", tp_json(d));
    cJSON *notes = cJSON_AddArrayToObject(root, "notes");
    for (int i = 0; i < d->n_notes; i++) cJSON_AddItemToArray(notes, cJSON_CreateString(d->notes[i]));
    int rc = rl_json_save(path, root, err);
    cJSON_Delete(root);
    return rc;
}
