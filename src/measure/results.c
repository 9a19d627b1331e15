/* results.c: the rl_results document and its JSON form (docs/results-schema.md). Values that were
 * not measured are written as null, never as 0, so a reader cannot mistake them for data. */
#include "results.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../analyse/analyse.h"
#include "../common/util.h"

void rl_results_init(rl_results *r, int argc, char **argv)
{
    memset(r, 0, sizeof *r);
    snprintf(r->engine, sizeof r->engine, "ridgeline");
    /* argv is the subcommand's ("lab", "--out", ...): the program name goes in front. */
    size_t len = (size_t)snprintf(r->command, sizeof r->command, "ridgeline");
    for (int i = 0; i < argc && len + 2 < sizeof r->command; i++) {
        int n = snprintf(r->command + len, sizeof r->command - len, " %s", argv[i]);
        if (n < 0) break;
        len += (size_t)n;
    }
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(r->date, sizeof r->date, "%Y-%m-%dT%H:%M:%SZ", &tm);
    r->elem_bytes = 2;
    snprintf(r->dtype, sizeof r->dtype, "bf16");
}

void rl_results_free(rl_results *r)
{
    free(r->samples);
    free(r->points);
    free(r->kernels);
    free(r->ncu);
    r->samples = NULL, r->points = NULL, r->kernels = NULL, r->ncu = NULL;
    r->n_samples = r->n_points = r->n_kernels = r->n_ncu = 0;
}

/* Grows an array of elem-sized items to hold one more. */
static int grow(void **arr, int n, int *cap, size_t elem, rl_err *err)
{
    if (n < *cap) return 0;
    int c = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, elem * (size_t)c);
    if (!p) return rl_fail(err, "results: out of host memory");
    *arr = p;
    *cap = c;
    return 0;
}

int rl_results_add_point(rl_results *r, const rl_point *p, rl_err *err)
{
    if (grow((void **)&r->points, r->n_points, &r->cap_points, sizeof *p, err)) return -1;
    r->points[r->n_points++] = *p;
    return 0;
}

int rl_results_add_kernel(rl_results *r, const rl_kernel_row *k, rl_err *err)
{
    if (grow((void **)&r->kernels, r->n_kernels, &r->cap_kernels, sizeof *k, err)) return -1;
    r->kernels[r->n_kernels++] = *k;
    return 0;
}

int rl_results_add_ncu(rl_results *r, const rl_ncu_row *n, rl_err *err)
{
    if (grow((void **)&r->ncu, r->n_ncu, &r->cap_ncu, sizeof *n, err)) return -1;
    r->ncu[r->n_ncu++] = *n;
    return 0;
}

void rl_results_add_sample(rl_results *r, const rl_nvml_sample *s)
{
    rl_err err;
    if (!s->valid) return;
    if (grow((void **)&r->samples, r->n_samples, &r->cap_samples, sizeof *s, &err)) return; /* best effort */
    r->samples[r->n_samples++] = *s;
}

int rl_results_roofs(const rl_results *r, rl_roofs *out)
{
    if (!r->have_probe || !(r->probe.read_gbps > 0) || !(r->probe.gemm_tflops > 0)) return -1;
    memset(out, 0, sizeof *out);
    out->bandwidth_gbps = r->probe.read_gbps;
    out->peak_tflops = r->probe.gemm_tflops;
    snprintf(out->origin, sizeof out->origin, "measured");
    return 0;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* A number, or null when v is negative or not finite (our "not measured" marker). */
static void add_num(cJSON *o, const char *k, double v) { rl_json_add_number_or_null(o, k, v >= 0 ? v : NAN); }

cJSON *rl_device_to_json(const rl_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", d->name);
    cJSON_AddStringToObject(o, "backend", d->backend);
    rl_json_add_string_or_null(o, "table_name", d->table_name);
    rl_json_add_string_or_null(o, "driver", d->driver);
    rl_json_add_string_or_null(o, "cuda_runtime", d->cuda_runtime);
    rl_json_add_string_or_null(o, "pci_bus_id", d->pci_bus_id);
    rl_json_add_string_or_null(o, "code_path", d->code_path);
    if (d->sm_count > 0) cJSON_AddNumberToObject(o, "sm_count", d->sm_count);
    if (d->threads > 0) cJSON_AddNumberToObject(o, "threads", d->threads);
    add_num(o, "memory_gb", d->memory_gb > 0 ? d->memory_gb : -1);
    add_num(o, "l2_mb", d->l2_mb > 0 ? d->l2_mb : -1);
    return o;
}

cJSON *rl_probe_to_json(const rl_probe *p)
{
    cJSON *o = cJSON_CreateObject();
    add_num(o, "read_gbps", p->read_gbps);
    add_num(o, "gemm_tflops", p->gemm_tflops);
    add_num(o, "write_gbps", p->write_gbps);
    add_num(o, "copy_gbps", p->copy_gbps);
    cJSON_AddStringToObject(o, "bandwidth_note",
                            "read_gbps: read-only stream; write_gbps: write-only; copy_gbps: read + write bytes "
                            "both counted; GB = 1e9 bytes");
    add_num(o, "buffer_bytes", p->buffer_bytes);
    add_num(o, "gemm_square_tflops", p->gemm_square_tflops);
    if (p->gemm_square_n > 0) cJSON_AddNumberToObject(o, "gemm_square_n", (double)p->gemm_square_n);
    cJSON *sh = cJSON_AddArrayToObject(o, "gemm_shapes");
    for (int i = 0; i < p->n_shapes; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", p->shapes[i].name);
        cJSON_AddNumberToObject(s, "m", (double)p->shapes[i].m);
        cJSON_AddNumberToObject(s, "n", (double)p->shapes[i].n);
        cJSON_AddNumberToObject(s, "k", (double)p->shapes[i].k);
        add_num(s, "tflops", p->shapes[i].tflops);
        cJSON_AddItemToArray(sh, s);
    }
    add_num(o, "launch_us", p->launch_us);
    add_num(o, "graph_node_us", p->graph_node_us);
    cJSON_AddStringToObject(o, "dtype", p->dtype);
    if (p->reps > 0) cJSON_AddNumberToObject(o, "reps", p->reps);
    if (p->method[0]) cJSON_AddStringToObject(o, "method", p->method);
    return o;
}

static cJSON *nvml_json(const rl_nvml_sample *s)
{
    if (!s->valid) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    add_num(o, "sm_clock_mhz", s->sm_clock_mhz);
    add_num(o, "mem_clock_mhz", s->mem_clock_mhz);
    add_num(o, "power_w", s->power_w);
    add_num(o, "temp_c", s->temp_c);
    cJSON_AddNumberToObject(o, "clock_event_reasons", (double)s->clock_event_reasons);
    return o;
}

/* {"min","median","max"} of one telemetry field over every sample (skipping refused readings). */
static cJSON *summary_json(const rl_results *r, size_t offset)
{
    double *v = malloc(sizeof *v * (size_t)(r->n_samples + 1));
    int n = 0;
    for (int i = 0; v && i < r->n_samples; i++) {
        double x = *(const double *)((const char *)&r->samples[i] + offset);
        if (x >= 0) v[n++] = x;
    }
    if (!n) {
        free(v);
        return cJSON_CreateNull();
    }
    cJSON *o = cJSON_CreateObject();
    double med = rl_percentile(v, n, 50); /* sorts v */
    cJSON_AddNumberToObject(o, "min", v[0]);
    cJSON_AddNumberToObject(o, "median", med);
    cJSON_AddNumberToObject(o, "max", v[n - 1]);
    free(v);
    return o;
}

static cJSON *telemetry_json(const rl_results *r)
{
    if (!r->n_samples) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "sm_clock_mhz", summary_json(r, offsetof(rl_nvml_sample, sm_clock_mhz)));
    cJSON_AddItemToObject(o, "mem_clock_mhz", summary_json(r, offsetof(rl_nvml_sample, mem_clock_mhz)));
    cJSON_AddItemToObject(o, "power_w", summary_json(r, offsetof(rl_nvml_sample, power_w)));
    cJSON_AddItemToObject(o, "temp_c", summary_json(r, offsetof(rl_nvml_sample, temp_c)));
    cJSON_AddNumberToObject(o, "samples", r->n_samples);
    unsigned long long any = 0;
    for (int i = 0; i < r->n_samples; i++) any |= r->samples[i].clock_event_reasons;
    cJSON_AddNumberToObject(o, "clock_event_reasons_any", (double)any);
    return o;
}

static const char *sweep_name(rl_phase p) { return p == RL_PHASE_DECODE ? "decode" : "prefill"; }

static cJSON *point_json(const rl_point *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "sweep", sweep_name(p->sweep));
    cJSON_AddNumberToObject(o, "x", (double)p->x);
    cJSON_AddStringToObject(o, "status", p->ok ? "ok" : "failed");
    if (p->ok) {
        cJSON_AddNumberToObject(o, "ms", p->ms);
        cJSON_AddNumberToObject(o, "p10", p->p10);
        cJSON_AddNumberToObject(o, "p90", p->p90);
        add_num(o, "min_ms", p->min_ms);
        add_num(o, "max_ms", p->max_ms);
    } else {
        cJSON_AddStringToObject(o, "error", p->error);
    }
    add_num(o, "predicted_ms", p->predicted_ms);
    add_num(o, "predicted_datasheet_ms", p->predicted_datasheet_ms);
    add_num(o, "roof_pct", p->ok && p->predicted_ms >= 0 && p->ms > 0 ? 100 * p->predicted_ms / p->ms : -1);
    cJSON_AddStringToObject(o, "bound", p->compute_bound ? "compute" : "memory");
    cJSON_AddNumberToObject(o, "intensity", p->intensity);
    cJSON_AddNumberToObject(o, "flops", p->flops);
    cJSON_AddNumberToObject(o, "bytes", p->bytes);
    if (p->ok) add_num(o, "tokens_per_s", p->tokens_per_s);
    if (p->sweep == RL_PHASE_DECODE) {
        if (p->ok) {
            add_num(o, "prefill_ms", p->prefill_ms);
            add_num(o, "seed_ms_per_token", p->seed_ms_per_token);
        }
        cJSON_AddNumberToObject(o, "input_len", (double)p->input_len);
        cJSON_AddNumberToObject(o, "output_len", (double)p->output_len);
        cJSON_AddNumberToObject(o, "context", (double)p->context);
    }
    cJSON_AddNumberToObject(o, "batch", (double)p->batch);
    if (p->ok) cJSON_AddNumberToObject(o, "reps", p->reps);
    cJSON_AddItemToObject(o, "nvml", nvml_json(&p->nvml));
    return o;
}

/* Roofline figures of a kernel row against the roofs: achieved rates, % of the binding roof. */
static cJSON *kernel_json(const rl_kernel_row *k, const rl_roofs *roofs)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", sweep_name(k->phase));
    cJSON_AddNumberToObject(o, "x", (double)k->x);
    cJSON_AddStringToObject(o, "kernel", k->kernel);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int op = 0; op < RL_OP_COUNT; op++)
        if (k->op_mask & RL_OPMASK(op)) cJSON_AddItemToArray(ops, cJSON_CreateString(rl_op_names[op]));
    cJSON_AddNumberToObject(o, "calls", k->calls);
    cJSON_AddNumberToObject(o, "ms", k->ms);
    cJSON_AddNumberToObject(o, "flops", k->flops);
    cJSON_AddNumberToObject(o, "bytes", k->bytes);
    double ai = k->bytes > 0 ? k->flops / k->bytes : 0;
    cJSON_AddNumberToObject(o, "intensity", ai);
    double s = k->ms * 1e-3;
    add_num(o, "achieved_gbps", s > 0 ? k->bytes / s / 1e9 : -1);
    add_num(o, "achieved_tflops", s > 0 ? k->flops / s / 1e12 : -1);
    if (roofs) {
        double roof_ms = rl_roof_time_ms(k->flops, k->bytes, roofs);
        double ridge = roofs->peak_tflops * 1e12 / (roofs->bandwidth_gbps * 1e9);
        add_num(o, "roof_ms", roof_ms);
        add_num(o, "roof_pct", k->ms > 0 ? 100 * roof_ms / k->ms : -1);
        cJSON_AddStringToObject(o, "bound", ai >= ridge ? "compute" : "memory");
    } else {
        cJSON_AddNullToObject(o, "roof_pct");
    }
    if (k->shared) cJSON_AddBoolToObject(o, "shared", 1);
    return o;
}

static cJSON *ncu_json(const rl_ncu_row *n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "kernel", n->kernel);
    cJSON_AddNumberToObject(o, "calls", n->calls);
    cJSON_AddNumberToObject(o, "ms", n->ms);
    add_num(o, "dram_bytes", n->dram_bytes);
    add_num(o, "achieved_gbps", n->dram_bytes >= 0 && n->ms > 0 ? n->dram_bytes / (n->ms * 1e-3) / 1e9 : -1);
    rl_json_add_string_or_null(o, "ours", n->ours);
    return o;
}

static cJSON *fit_json(const rl_break_fit *f, int64_t predicted, int64_t predicted_ds, int have_ds)
{
    cJSON *o = cJSON_CreateObject();
    if (f->ok && f->has_break) cJSON_AddNumberToObject(o, "measured_transition", f->brk);
    else cJSON_AddNullToObject(o, "measured_transition");
    if (predicted > 0) cJSON_AddNumberToObject(o, "predicted_transition", (double)predicted);
    else cJSON_AddNullToObject(o, "predicted_transition");
    if (have_ds && predicted_ds > 0) cJSON_AddNumberToObject(o, "predicted_transition_datasheet", (double)predicted_ds);
    else cJSON_AddNullToObject(o, "predicted_transition_datasheet");
    cJSON_AddStringToObject(o, "method", RL_BREAK_METHOD);
    cJSON *fit = cJSON_AddObjectToObject(o, "fit");
    if (f->ok) {
        cJSON_AddNumberToObject(fit, "break", f->brk);
        cJSON_AddNumberToObject(fit, "flat_ms", f->flat);
        cJSON_AddNumberToObject(fit, "slope_ms_per_x", f->slope);
        cJSON_AddNumberToObject(fit, "rss_log", f->rss);
        cJSON_AddNumberToObject(fit, "rss_log_flat_only", f->rss_flat);
    }
    return o;
}

static cJSON *analysis_json(const rl_results *r)
{
    const rl_analysis *a = &r->analysis;
    cJSON *o = cJSON_CreateObject();
    cJSON *d = fit_json(&a->decode_fit, a->decode_predicted, a->decode_predicted_datasheet, r->have_datasheet);
    cJSON_AddNumberToObject(d, "context", (double)(r->input_len + r->output_len / 2));
    add_num(d, "bytes_batch1", a->decode_bytes_b1);
    add_num(d, "floor_ms", a->decode_floor_measured_ms);
    add_num(d, "floor_datasheet_ms", a->decode_floor_datasheet_ms);
    add_num(d, "batch1_ms", a->batch1_ms);
    add_num(d, "utilisation_measured_pct", a->util_measured_pct);
    add_num(d, "utilisation_datasheet_pct", a->util_datasheet_pct);
    cJSON_AddItemToObject(o, "decode", d);
    cJSON *p = fit_json(&a->prefill_fit, a->prefill_predicted, a->prefill_predicted_datasheet, r->have_datasheet);
    if (a->prefill_longest > 0) cJSON_AddNumberToObject(p, "longest", (double)a->prefill_longest);
    add_num(p, "achieved_tflops", a->prefill_achieved_tflops);
    add_num(p, "nominal_tflops", a->nominal_tflops);
    add_num(p, "measured_tflops", a->measured_tflops);
    add_num(p, "achieved_pct_of_nominal", a->achieved_pct_nominal);
    add_num(p, "achieved_pct_of_measured", a->achieved_pct_measured);
    cJSON_AddItemToObject(o, "prefill", p);
    cJSON *e = cJSON_AddObjectToObject(o, "prediction_error");
    cJSON_AddNumberToObject(e, "points", a->err_n);
    add_num(e, "median_pct", a->err_n ? a->err_median_pct : -1);
    add_num(e, "max_pct", a->err_n ? a->err_max_pct : -1);
    if (a->err_n) {
        cJSON *w = cJSON_AddObjectToObject(e, "worst");
        cJSON_AddStringToObject(w, "sweep", sweep_name((rl_phase)a->err_worst_sweep));
        cJSON_AddNumberToObject(w, "x", (double)a->err_worst_x);
        cJSON_AddNumberToObject(w, "pct", a->err_worst_pct);
    } else {
        cJSON_AddNullToObject(e, "worst");
    }
    cJSON_AddStringToObject(e, "definition", "|predicted_ms - ms| / ms over every ok point, measured roofs");
    return o;
}

cJSON *rl_results_to_json(const rl_results *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "ridgeline-results/1");
    cJSON_AddStringToObject(root, "engine", r->engine);
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "version", rl_version());
    cJSON_AddStringToObject(tool, "commit", rl_build_commit());
    cJSON_AddStringToObject(tool, "command", r->command);
    cJSON_AddStringToObject(tool, "date", r->date);
    cJSON_AddItemToObject(root, "device", rl_device_to_json(&r->device));

    cJSON *m = cJSON_AddObjectToObject(root, "model");
    cJSON_AddStringToObject(m, "name", r->model.name);
    cJSON_AddNumberToObject(m, "params", (double)rl_model_param_count(&r->model));
    cJSON_AddStringToObject(m, "dtype", r->dtype);
    cJSON_AddStringToObject(m, "weights", r->weights);
    cJSON_AddNumberToObject(m, "layers", (double)r->model.layers);
    cJSON_AddNumberToObject(m, "hidden", (double)r->model.hidden);
    cJSON_AddNumberToObject(m, "kv_bytes_per_token", (double)rl_model_kv_bytes_per_token(&r->model, r->elem_bytes));

    rl_roofs roofs;
    int have_roofs = rl_results_roofs(r, &roofs) == 0;
    cJSON *ro = r->have_probe ? rl_probe_to_json(&r->probe) : cJSON_CreateObject();
    if (r->have_datasheet) {
        cJSON *ds = cJSON_AddObjectToObject(ro, "datasheet");
        cJSON_AddStringToObject(ds, "name", r->datasheet.name);
        cJSON_AddNumberToObject(ds, "bandwidth_gbps", r->datasheet.bandwidth_gbps);
        cJSON_AddNumberToObject(ds, "peak_tflops", r->datasheet.peak_tflops[RL_DT_BF16]);
        cJSON_AddNumberToObject(ds, "ridge", rl_gpu_ridge(&r->datasheet, RL_DT_BF16));
    } else {
        cJSON_AddNullToObject(ro, "datasheet");
    }
    if (have_roofs) cJSON_AddNumberToObject(ro, "ridge", roofs.peak_tflops * 1e12 / (roofs.bandwidth_gbps * 1e9));
    cJSON_AddItemToObject(root, "roofs", ro);

    cJSON_AddItemToObject(root, "telemetry", telemetry_json(r));
    if (r->telemetry_note[0]) cJSON_AddStringToObject(root, "telemetry_note", r->telemetry_note);

    cJSON *sw = cJSON_AddObjectToObject(root, "sweeps");
    cJSON_AddNumberToObject(sw, "input_len", (double)r->input_len);
    cJSON_AddNumberToObject(sw, "output_len", (double)r->output_len);
    cJSON_AddStringToObject(sw, "decode_ms", "median of the timed decode steps of one run (output_len - 1 steps "
                                             "after the prefill), host clock after a device sync per step");
    cJSON_AddStringToObject(sw, "prefill_ms", "median over repetitions of one whole prefill forward (batch 1), "
                                              "each into a freshly reset KV cache");
    cJSON_AddBoolToObject(sw, "interrupted", r->interrupted);

    cJSON *pts = cJSON_AddArrayToObject(root, "points");
    for (int i = 0; i < r->n_points; i++) cJSON_AddItemToArray(pts, point_json(&r->points[i]));
    cJSON *ks = cJSON_AddArrayToObject(root, "kernels");
    for (int i = 0; i < r->n_kernels; i++) cJSON_AddItemToArray(ks, kernel_json(&r->kernels[i], have_roofs ? &roofs : NULL));
    if (r->n_ncu) {
        cJSON *nc = cJSON_AddArrayToObject(root, "ncu");
        for (int i = 0; i < r->n_ncu; i++) cJSON_AddItemToArray(nc, ncu_json(&r->ncu[i]));
    }
    if (r->have_analysis) cJSON_AddItemToObject(root, "analysis", analysis_json(r));
    else cJSON_AddNullToObject(root, "analysis");
    return root;
}

int rl_results_save(const rl_results *r, const char *path, rl_err *err)
{
    cJSON *root = rl_results_to_json(r);
    if (!root) return rl_fail(err, "results: out of host memory building %s", path);
    int rc = rl_json_save(path, root, err);
    cJSON_Delete(root);
    return rc;
}
