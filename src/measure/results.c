/* results.c: the rl_results document and its JSON writer (docs/results-schema.md), through the
 * field table of results_fields.c. Values that were not measured are written as null, never as 0,
 * so a reader cannot mistake them for data. */
#include "results.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/stats.h"
#include "../common/util.h"
#include "results_fields.h"

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
    snprintf(r->version, sizeof r->version, "%s", rl_version());
    snprintf(r->commit, sizeof r->commit, "%s", rl_build_commit());
    r->elem_bytes = 2;
    snprintf(r->dtype, sizeof r->dtype, "bf16");
}

void rl_results_free(rl_results *r)
{
    free(r->samples);
    free(r->points);
    free(r->kernels);
    free(r->ncu);
    free(r->profiles);
    free(r->choices);
    r->samples = NULL, r->points = NULL, r->kernels = NULL, r->ncu = NULL, r->profiles = NULL, r->choices = NULL;
    r->n_samples = r->n_points = r->n_kernels = r->n_ncu = r->n_profiles = r->n_choices = 0;
    r->cap_samples = r->cap_points = r->cap_kernels = r->cap_ncu = r->cap_profiles = r->cap_choices = 0;
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

void rl_point_init(rl_point *p, rl_phase sweep, int64_t x)
{
    memset(p, 0, sizeof *p);
    p->sweep = sweep;
    p->x = x;
    p->batch = sweep == RL_PHASE_DECODE ? x : 1;
    p->ms = p->p10 = p->p90 = p->min_ms = p->max_ms = -1;
    p->predicted_ms = p->predicted_datasheet_ms = p->estimated_ms = p->estimated_latency_ms = -1;
    p->flops = p->bytes = p->intensity = -1;
    p->tokens_per_s = p->prefill_ms = p->seed_ms_per_token = -1;
    p->input_len = p->output_len = p->context = -1;
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

int rl_results_add_profile(rl_results *r, const rl_profile *p, rl_err *err)
{
    if (grow((void **)&r->profiles, r->n_profiles, &r->cap_profiles, sizeof *p, err)) return -1;
    r->profiles[r->n_profiles++] = *p;
    return 0;
}

const rl_profile *rl_results_profile(const rl_results *r, rl_phase phase, int64_t x)
{
    for (int i = 0; i < r->n_profiles; i++)
        if (r->profiles[i].phase == phase && r->profiles[i].x == x) return &r->profiles[i];
    return NULL;
}

int rl_results_add_choices(rl_results *r, const rl_linear_choice *c, int n, rl_err *err)
{
    for (int i = 0; i < n; i++) {
        int seen = 0;
        for (int j = 0; j < r->n_choices && !seen; j++) {
            const rl_linear_choice *q = &r->choices[j];
            seen = !strcmp(q->op, c[i].op) && q->tokens == c[i].tokens && q->n == c[i].n && q->k == c[i].k;
        }
        if (seen) continue;
        if (grow((void **)&r->choices, r->n_choices, &r->cap_choices, sizeof *c, err)) return -1;
        r->choices[r->n_choices++] = c[i];
    }
    return 0;
}

int rl_point_in_sweep(const rl_point *p, rl_phase phase) { return p->sweep == phase && !p->context_sweep; }

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
    out->kernel_min_us = rl_results_kernel_min_us(r);
    /* The interconnect where the probe measured it, else the GPU table's (tensor parallel only). */
    out->link_gbps = r->probe.interconnect_gbps > 0 ? r->probe.interconnect_gbps : r->have_datasheet ? r->datasheet.link_gbps : 0;
    out->allreduce_us = r->probe.allreduce_latency_us > 0 ? r->probe.allreduce_latency_us
                        : r->have_datasheet                ? r->datasheet.allreduce_us
                                                           : 0;
    snprintf(out->origin, sizeof out->origin, "measured");
    return 0;
}

double rl_results_kernel_min_us(const rl_results *r)
{
    return r->have_probe && r->probe.kernel_min_us > 0 ? r->probe.kernel_min_us : 0;
}

const char *rl_timing_name(rl_timing t)
{
    return t == RL_TIMING_CUPTI ? "cupti" : t == RL_TIMING_EVENTS ? "events" : "none";
}

int rl_timing_from_name(const char *s)
{
    if (!strcmp(s, "cupti")) return RL_TIMING_CUPTI;
    if (!strcmp(s, "events")) return RL_TIMING_EVENTS;
    if (!strcmp(s, "none")) return RL_TIMING_NONE;
    return -1;
}

/* ---- JSON ---------------------------------------------------------------------------------- */

/* A number, or null when v is negative or not finite (our "not measured" marker). */
static void add_num(cJSON *o, const char *k, double v) { rl_json_add_number_or_null(o, k, v >= 0 ? v : NAN); }

cJSON *rl_device_to_json(const rl_device_info *d)
{
    cJSON *o = cJSON_CreateObject();
    rl_fields_write(o, &rl_device_fields, d, 0);
    return o;
}

cJSON *rl_probe_to_json(const rl_probe *p)
{
    cJSON *o = cJSON_CreateObject();
    rl_fields_write(o, &rl_probe_fields, p, 0);
    cJSON_AddStringToObject(o, "bandwidth_note",
                            "read_gbps: read-only stream; write_gbps: write-only; copy_gbps: read + write bytes "
                            "both counted; GB = 1e9 bytes");
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
    if (p->n_allreduce) {
        cJSON *ar = cJSON_AddArrayToObject(o, "allreduce");
        for (int i = 0; i < p->n_allreduce; i++) {
            cJSON *a = cJSON_CreateObject();
            cJSON_AddNumberToObject(a, "bytes", p->allreduce[i].bytes);
            add_num(a, "us", p->allreduce[i].us);
            add_num(a, "busbw_gbps", p->allreduce[i].busbw_gbps);
            cJSON_AddItemToArray(ar, a);
        }
    }
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

static cJSON *point_json(const rl_point *p)
{
    cJSON *o = cJSON_CreateObject();
    rl_fields_write(o, &rl_point_fields, p, rl_point_context(p));
    add_num(o, "roof_pct", p->ok && p->predicted_ms >= 0 && p->ms > 0 ? 100 * p->predicted_ms / p->ms : -1);
    cJSON_AddItemToObject(o, "nvml", nvml_json(&p->nvml));
    return o;
}

/* Roofline figures of a kernel row against the roofs: achieved rates, the three roofs (bytes, FLOPs,
 * t_min per kernel) and the % of the binding one. */
static cJSON *kernel_json(const rl_kernel_row *k, const rl_roofs *roofs, double kernel_min_us)
{
    cJSON *o = cJSON_CreateObject();
    rl_fields_write(o, &rl_kernel_fields, k, 0);
    cJSON_AddNumberToObject(o, "intensity", k->bytes > 0 ? k->flops / k->bytes : 0);
    double s = k->ms * 1e-3;
    add_num(o, "achieved_gbps", s > 0 ? k->bytes / s / 1e9 : -1);
    add_num(o, "achieved_tflops", s > 0 ? k->flops / s / 1e12 : -1);
    if (roofs) {
        rl_bound bound;
        double roof_ms = rl_kernel_roof_ms(k->flops, k->bytes, k->calls, k->link_bytes, roofs, kernel_min_us, &bound);
        add_num(o, "latency_floor_ms", kernel_min_us > 0 ? 1e-3 * kernel_min_us * k->calls : -1);
        add_num(o, "roof_ms", roof_ms);
        add_num(o, "roof_pct", k->ms > 0 ? 100 * roof_ms / k->ms : -1);
        cJSON_AddStringToObject(o, "bound", rl_bound_names[bound]);
    } else {
        cJSON_AddNullToObject(o, "roof_pct");
    }
    return o;
}

static cJSON *profile_json(const rl_profile *p)
{
    cJSON *o = cJSON_CreateObject();
    rl_fields_write(o, &rl_profile_fields, p, 0);
    rl_json_add_number_or_null(o, "kernels_vs_step_pct",
                               p->step_ms > 0 ? 100 * (p->kernels_ms - p->step_ms) / p->step_ms : NAN);
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

cJSON *rl_results_to_json(const rl_results *r)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "ridgeline-results/1");
    cJSON_AddStringToObject(root, "engine", r->engine);
    rl_fields_write(cJSON_AddObjectToObject(root, "tool"), &rl_tool_fields, r, 0);
    cJSON_AddItemToObject(root, "device", rl_device_to_json(&r->device));

    cJSON *m = cJSON_AddObjectToObject(root, "model");
    rl_fields_write(m, &rl_model_fields, r, 0);
    cJSON_AddNumberToObject(m, "params", (double)rl_model_param_count(&r->model));
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
    if (have_roofs) cJSON_AddNumberToObject(ro, "ridge", rl_roofs_ridge(&roofs));
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
    cJSON_AddStringToObject(sw, "estimated_ms", "sum over the kernels the engine launched for the step of "
                                                "max(FLOPs / peak, bytes / bandwidth, t_min), measured roofs and "
                                                "roofs.kernel_min_us");
    cJSON_AddBoolToObject(sw, "interrupted", r->interrupted);

    cJSON *pts = cJSON_AddArrayToObject(root, "points");
    for (int i = 0; i < r->n_points; i++) cJSON_AddItemToArray(pts, point_json(&r->points[i]));
    cJSON *ks = cJSON_AddArrayToObject(root, "kernels");
    const double t_min = rl_results_kernel_min_us(r);
    for (int i = 0; i < r->n_kernels; i++)
        cJSON_AddItemToArray(ks, kernel_json(&r->kernels[i], have_roofs ? &roofs : NULL, t_min));
    cJSON *pr = cJSON_AddArrayToObject(root, "profiles");
    for (int i = 0; i < r->n_profiles; i++) cJSON_AddItemToArray(pr, profile_json(&r->profiles[i]));
    cJSON *kc = cJSON_AddArrayToObject(root, "kernel_choices");
    for (int i = 0; i < r->n_choices; i++) {
        cJSON *o = cJSON_CreateObject();
        rl_fields_write(o, &rl_choice_fields, &r->choices[i], 0);
        cJSON_AddItemToArray(kc, o);
    }
    if (r->n_ncu) {
        cJSON *nc = cJSON_AddArrayToObject(root, "ncu");
        for (int i = 0; i < r->n_ncu; i++) cJSON_AddItemToArray(nc, ncu_json(&r->ncu[i]));
    }
    return root;
}

int rl_results_save(const rl_results *r, const cJSON *extra, const char *path, rl_err *err)
{
    cJSON *root = rl_results_to_json(r);
    if (!root) return rl_fail(err, "results: out of host memory building %s", path);
    for (const cJSON *it = extra ? extra->child : NULL; it; it = it->next)
        cJSON_AddItemToObject(root, it->string, cJSON_Duplicate(it, 1));
    int rc = rl_json_save(path, root, err);
    cJSON_Delete(root);
    return rc;
}
