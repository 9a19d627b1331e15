/* derive.c: what the report computes from the loaded runs: the cost model's FLOPs and bytes of
 * every point, predictions on measured and datasheet roofs, transitions (the file's analysis, or
 * our fit), row labels and order, and predicted rows for the seed's GPUs nobody measured. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../analyse/analyse.h"
#include "report_model.h"

const int64_t rl_report_decode_grid[RL_REPORT_N_GRID] = {1, 4, 16, 64, 128, 256, 512};
const int64_t rl_report_prefill_grid[RL_REPORT_N_GRID] = {64, 128, 256, 512, 1024, 2048, 4096};

/* The four GPUs of the seed's lab: each gets a row even when nobody measured it. */
static const char *const seed_gpus[] = {"H200", "H100", "A100-PCIe", "L40S"};

#define DECODE_CROSSING_LIMIT 65536

const char *rl_report_sweep_name(rl_phase p) { return p == RL_PHASE_DECODE ? "decode" : "prefill"; }

static void elem_bytes(rl_workload *w, rl_dtype dt)
{
    int wb = dt == RL_DT_FP8 ? 1 : (dt == RL_DT_FP32 || dt == RL_DT_TF32) ? 4 : 2;
    w->weight_bytes = wb;
    w->kv_bytes = wb;
    w->act_bytes = wb < 2 ? 2 : wb;
}

void rl_report_cost(const rl_report_run *r, rl_phase sweep, int64_t x, int64_t context, rl_cost *out)
{
    rl_workload w = sweep == RL_PHASE_DECODE ? rl_workload_decode(x, context) : rl_workload_prefill(1, x);
    elem_bytes(&w, r->dtype);
    rl_cost_step(&r->model, &w, out);
}

static double predict_ms(const rl_report_run *r, rl_phase sweep, int64_t batch, int64_t x, int64_t context,
                         double bw_gbps, double peak_tflops)
{
    if (!(bw_gbps > 0) || !(peak_tflops > 0)) return NAN;
    rl_workload w = sweep == RL_PHASE_DECODE ? rl_workload_decode(batch, context) : rl_workload_prefill(batch, x);
    elem_bytes(&w, r->dtype);
    rl_cost c;
    rl_cost_step(&r->model, &w, &c);
    rl_roofs roofs = {.bandwidth_gbps = bw_gbps, .peak_tflops = peak_tflops};
    rl_prediction p;
    rl_predict(&c, &roofs, &p);
    return p.total_ms;
}

/* Seed-style ms/token of a decode run: (prefill of B prompts + output_len steps) / output_len,
 * every step taken at the mean context; the quantity the seed's table reports. */
static double predict_seed_style(const rl_report_run *r, const rl_report_point *p, double bw, double peak)
{
    int64_t out_len = p->output_len > 0 ? p->output_len : RL_REPORT_OUTPUT_LEN;
    int64_t in_len = p->input_len > 0 ? p->input_len : RL_REPORT_INPUT_LEN;
    double pre = predict_ms(r, RL_PHASE_PREFILL, p->x, in_len, 0, bw, peak);
    double step = predict_ms(r, RL_PHASE_DECODE, p->x, 0, p->context, bw, peak);
    return (pre + (double)out_len * step) / (double)out_len;
}

/* The transition fit is the analysis stage's (rl_fit_break, src/analyse): one method for the lab's
 * results and the report's own fits. Without a break inside the range, a flat curve returns a value
 * past the largest x ("still flat") and a curve rising from the start returns the smallest x. */
double rl_report_fit_transition(const double *x, const double *ms, int n, double *floor_ms, double *slope_ms)
{
    *floor_ms = *slope_ms = NAN;
    rl_break_fit f;
    if (n < 3) return NAN;
    if (rl_fit_break(x, ms, n, &f) != 0 || !f.ok) return NAN;
    double lo = x[0], hi = x[0];
    for (int i = 1; i < n; i++) lo = x[i] < lo ? x[i] : lo, hi = x[i] > hi ? x[i] : hi;
    *floor_ms = f.flat;
    *slope_ms = f.slope;
    if (f.has_break) return f.brk;
    return f.slope * hi > 1.1 * f.flat ? lo : 4 * hi;
}

double rl_report_point_value(const rl_report_point *p)
{
    if (!p->ok) return NAN;
    return isnan(p->ms) ? p->seed_ms_per_token : p->ms;
}

static void fit_run(rl_report_run *r, rl_phase phase, rl_report_transition *t)
{
    if (t->measured_from_file) return;
    double xs[256] = {0}, ys[256] = {0};
    int n = 0;
    for (int i = 0; i < r->n_points && n < 256; i++) {
        const rl_report_point *p = &r->points[i];
        double v = rl_report_point_value(p);
        if (p->sweep != phase || isnan(v)) continue;
        xs[n] = (double)p->x, ys[n] = v, n++;
    }
    t->measured = rl_report_fit_transition(xs, ys, n, &t->floor_ms, &t->slope_ms);
    t->max_x = 0;
    for (int i = 0; i < n; i++) t->max_x = xs[i] > t->max_x ? xs[i] : t->max_x;
    const char *what = phase == RL_PHASE_DECODE
                           ? (r->source == RL_SRC_CSV ? "seed-style ms/token vs batch" : "ms per step vs batch")
                           : "prefill ms vs length";
    if (n < 3)
        snprintf(t->method, sizeof t->method, "fewer than 3 measured points: no fit");
    else
        snprintf(t->method, sizeof t->method,
                 "report's fit of %s: %s (beyond the largest x: still flat)", what, RL_BREAK_METHOD);
}

static void crossings(rl_report_run *r, rl_phase phase, rl_report_transition *t)
{
    if (!r->have_model) return;
    int64_t limit = phase == RL_PHASE_DECODE ? DECODE_CROSSING_LIMIT : r->model.max_positions;
    rl_roofs ds = {.bandwidth_gbps = r->ds_bandwidth_gbps, .peak_tflops = r->ds_peak_tflops, .origin = "datasheet"};
    rl_roofs me = {.bandwidth_gbps = r->read_gbps, .peak_tflops = r->gemm_tflops, .origin = "measured"};
    if (r->ds_bandwidth_gbps > 0 && r->ds_peak_tflops > 0)
        t->predicted_datasheet = (double)rl_predict_crossing(&r->model, phase, RL_REPORT_CONTEXT, &ds, limit);
    if (isnan(t->predicted_measured) && r->read_gbps > 0 && r->gemm_tflops > 0)
        t->predicted_measured = (double)rl_predict_crossing(&r->model, phase, RL_REPORT_CONTEXT, &me, limit);
}

static void derive_point(rl_report_run *r, rl_report_point *p)
{
    if (r->have_model) {
        rl_cost c;
        rl_report_cost(r, p->sweep, p->x, p->context, &c);
        p->flops = c.total_flops;
        p->bytes = c.total_bytes;
    }
    if (p->flops > 0 && p->bytes > 0) p->intensity = p->flops / p->bytes;
    if (!r->have_model) return; /* the file's own predictions are all we have */
    int64_t batch = p->sweep == RL_PHASE_DECODE ? p->x : 1; /* prefill sweeps run batch 1 */
    if (isnan(p->predicted_ms))
        p->predicted_ms = predict_ms(r, p->sweep, batch, p->x, p->context, r->read_gbps, r->gemm_tflops);
    if (isnan(p->predicted_datasheet_ms))
        p->predicted_datasheet_ms =
            predict_ms(r, p->sweep, batch, p->x, p->context, r->ds_bandwidth_gbps, r->ds_peak_tflops);
    if (p->sweep == RL_PHASE_DECODE) {
        int ds = r->ds_bandwidth_gbps > 0;
        p->predicted_seed_ms_per_token = predict_seed_style(r, p, ds ? r->ds_bandwidth_gbps : r->read_gbps,
                                                            ds ? r->ds_peak_tflops : r->gemm_tflops);
    }
}

static void resolve_model(rl_report_data *d, rl_report_run *r)
{
    rl_err err;
    r->have_model = rl_model_resolve(r->model_name, &r->model, &err) == 0;
    if (!r->have_model)
        rl_report_note(d, "%s: model '%s' cannot be resolved here (%s); its predictions are the file's own",
                       r->path, r->model_name, err.msg);
    if (r->gpu_idx >= 0) {
        const rl_gpu *g = &d->table.gpus[r->gpu_idx];
        if (g->peak_tflops[r->dtype] > 0) {
            r->ds_bandwidth_gbps = g->bandwidth_gbps;
            r->ds_peak_tflops = g->peak_tflops[r->dtype];
        } else {
            rl_report_note(d, "%s has no %s peak in the GPU table: no datasheet predictions for %s", g->name,
                           rl_dtype_names[r->dtype], r->path);
        }
    }
}

static int has_run(const rl_report_data *d, const char *gpu, rl_report_source src)
{
    for (int i = 0; i < d->n_runs; i++)
        if (d->runs[i].source == src && rl_name_eq(d->runs[i].gpu, gpu)) return 1;
    return 0;
}

static int add_predicted_runs(rl_report_data *d, rl_err *err)
{
    /* Predicted rows use the model of our GPU measurements, so rows compare like with like. */
    const char *model = "llama-3.1-8b";
    for (int i = 0; i < d->n_runs; i++)
        if (d->runs[i].source == RL_SRC_RESULTS && d->runs[i].gpu_idx >= 0 && d->runs[i].have_model) {
            model = d->runs[i].model_name;
            break;
        }
    char model_copy[128];
    snprintf(model_copy, sizeof model_copy, "%s", model);
    for (size_t s = 0; s < sizeof seed_gpus / sizeof seed_gpus[0]; s++) {
        rl_err ignored;
        const rl_gpu *g = rl_gpu_find(&d->table, seed_gpus[s], &ignored);
        if (!g || has_run(d, g->name, RL_SRC_RESULTS)) continue;
        rl_report_run *grown = realloc(d->runs, sizeof *grown * (size_t)(d->n_runs + 1));
        if (!grown) return rl_fail(err, "out of memory");
        d->runs = grown;
        rl_report_run *r = &d->runs[d->n_runs++];
        memset(r, 0, sizeof *r);
        r->source = RL_SRC_PREDICTED;
        r->gpu_idx = (int)(g - d->table.gpus);
        snprintf(r->gpu, sizeof r->gpu, "%s", g->name);
        snprintf(r->engine, sizeof r->engine, "cost model");
        snprintf(r->path, sizeof r->path, "(predicted)");
        snprintf(r->model_name, sizeof r->model_name, "%s", model_copy);
        r->dtype = RL_DT_BF16;
        r->read_gbps = r->gemm_tflops = NAN;
        r->ds_bandwidth_gbps = r->ds_peak_tflops = NAN;
        rl_report_transition none = {NAN, 0, "", NAN, NAN, NAN, NAN, NAN};
        r->decode = r->prefill = none;
        resolve_model(d, r);
        r->points = calloc(2 * RL_REPORT_N_GRID, sizeof *r->points);
        if (!r->points) return rl_fail(err, "out of memory");
        for (int k = 0; k < 2 * RL_REPORT_N_GRID; k++) {
            rl_report_point *p = &r->points[k];
            p->sweep = k < RL_REPORT_N_GRID ? RL_PHASE_DECODE : RL_PHASE_PREFILL;
            p->x = k < RL_REPORT_N_GRID ? rl_report_decode_grid[k] : rl_report_prefill_grid[k - RL_REPORT_N_GRID];
            p->ok = 0; /* nothing measured */
            p->ms = p->p10_ms = p->p90_ms = p->seed_ms_per_token = NAN;
            p->predicted_ms = p->predicted_datasheet_ms = p->predicted_seed_ms_per_token = NAN;
            p->floor_ms = NAN;
            p->input_len = RL_REPORT_INPUT_LEN, p->output_len = RL_REPORT_OUTPUT_LEN;
            p->context = RL_REPORT_CONTEXT;
            snprintf(p->error, sizeof p->error, "not measured");
            derive_point(r, p);
        }
        r->n_points = 2 * RL_REPORT_N_GRID;
        crossings(r, RL_PHASE_DECODE, &r->decode);
        crossings(r, RL_PHASE_PREFILL, &r->prefill);
    }
    return 0;
}

static int run_order(const void *a, const void *b)
{
    const rl_report_run *x = a, *y = b;
    int gx = x->gpu_idx < 0 ? 1 << 20 : x->gpu_idx, gy = y->gpu_idx < 0 ? 1 << 20 : y->gpu_idx;
    if (gx != gy) return gx < gy ? -1 : 1;
    if (gx == 1 << 20) {
        int c = strcmp(x->gpu, y->gpu);
        if (c) return c;
    }
    if (x->source != y->source) return x->source < y->source ? -1 : 1;
    int ox = strcmp(x->engine, "ridgeline") != 0, oy = strcmp(y->engine, "ridgeline") != 0;
    if (ox != oy) return ox - oy;
    int c = strcmp(x->engine, y->engine);
    return c ? c : strcmp(x->path, y->path);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static void label_runs(rl_report_data *d)
{
    for (int i = 0; i < d->n_runs; i++) {
        rl_report_run *r = &d->runs[i];
        int same_src = 0, same_engine = 0, nth = 0;
        for (int j = 0; j < d->n_runs; j++) {
            const rl_report_run *o = &d->runs[j];
            if (o->source != r->source || !rl_name_eq(o->gpu, r->gpu)) continue;
            same_src++;
            if (!strcmp(o->engine, r->engine)) {
                same_engine++;
                if (j < i) nth++;
            }
        }
        if (r->source == RL_SRC_PREDICTED)
            snprintf(r->label, sizeof r->label, "%s (predicted)", r->gpu);
        else if (r->source == RL_SRC_CSV)
            snprintf(r->label, sizeof r->label, same_src > 1 ? "%s (imported: %s)" : "%s (imported)", r->gpu,
                     base_name(r->path));
        else if (same_src == 1)
            snprintf(r->label, sizeof r->label, "%s", r->gpu);
        else if (same_engine == 1)
            snprintf(r->label, sizeof r->label, "%s (%s)", r->gpu, r->engine);
        else
            snprintf(r->label, sizeof r->label, "%s (%s #%d)", r->gpu, r->engine, nth + 1);
    }
}

static int has_sweep(const rl_report_run *r, rl_phase ph)
{
    for (int i = 0; i < r->n_points; i++)
        if (r->points[i].sweep == ph) return 1;
    return 0;
}

/* Two results files of one GPU, engine and model whose points do not overlap (a decode sweep and
 * a prefill sweep run separately, say) are one row, not two. */
static int mergeable(const rl_report_run *a, const rl_report_run *b)
{
    if (a->source != RL_SRC_RESULTS || b->source != RL_SRC_RESULTS) return 0;
    if (!rl_name_eq(a->gpu, b->gpu) || strcmp(a->engine, b->engine) || strcmp(a->device_name, b->device_name) ||
        strcmp(a->model_name, b->model_name) || a->dtype != b->dtype)
        return 0;
    for (int i = 0; i < a->n_points; i++)
        for (int j = 0; j < b->n_points; j++)
            if (a->points[i].sweep == b->points[j].sweep && a->points[i].x == b->points[j].x) return 0;
    return 1;
}

static void join_field(char *dst, size_t n, const char *add)
{
    if (!add[0] || strstr(dst, add)) return;
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s%s%s", dst, dst[0] ? "; " : "", add);
    snprintf(dst, n, "%s", tmp);
}

static int merge_into(rl_report_run *a, rl_report_run *b, rl_err *err)
{
    rl_report_point *pts = realloc(a->points, sizeof *pts * (size_t)(a->n_points + b->n_points + 1));
    if (!pts) return rl_fail(err, "out of memory");
    a->points = pts;
    if (b->n_points) memcpy(a->points + a->n_points, b->points, sizeof *pts * (size_t)b->n_points);
    rl_report_kernel *ks = realloc(a->kernels, sizeof *ks * (size_t)(a->n_kernels + b->n_kernels + 1));
    if (!ks) return rl_fail(err, "out of memory");
    a->kernels = ks;
    if (b->n_kernels) memcpy(a->kernels + a->n_kernels, b->kernels, sizeof *ks * (size_t)b->n_kernels);
    if (!has_sweep(a, RL_PHASE_DECODE) && has_sweep(b, RL_PHASE_DECODE)) a->decode = b->decode;
    if (!has_sweep(a, RL_PHASE_PREFILL) && has_sweep(b, RL_PHASE_PREFILL)) a->prefill = b->prefill;
    a->n_points += b->n_points;
    a->n_kernels += b->n_kernels;
    if (isnan(a->read_gbps)) a->read_gbps = b->read_gbps;
    if (isnan(a->gemm_tflops)) a->gemm_tflops = b->gemm_tflops;
    if (!a->have_telemetry && b->have_telemetry) {
        a->have_telemetry = 1;
        a->sm_clock_mhz = b->sm_clock_mhz, a->mem_clock_mhz = b->mem_clock_mhz;
        a->power_w = b->power_w, a->temp_c = b->temp_c;
    }
    char path[1100];
    snprintf(path, sizeof path, "%s + %s", a->path, b->path);
    snprintf(a->path, sizeof a->path, "%s", path);
    join_field(a->command, sizeof a->command, b->command);
    join_field(a->date, sizeof a->date, b->date);
    join_field(a->commit, sizeof a->commit, b->commit);
    free(b->points);
    free(b->kernels);
    return 0;
}

static int merge_split_runs(rl_report_data *d, rl_err *err)
{
    for (int i = 0; i < d->n_runs; i++)
        for (int j = i + 1; j < d->n_runs; j++) {
            if (!mergeable(&d->runs[i], &d->runs[j])) continue;
            if (merge_into(&d->runs[i], &d->runs[j], err)) return -1;
            memmove(&d->runs[j], &d->runs[j + 1], sizeof *d->runs * (size_t)(d->n_runs - j - 1));
            d->n_runs--;
            j--;
        }
    return 0;
}

int rl_report_derive(rl_report_data *d, rl_err *err)
{
    if (merge_split_runs(d, err)) return -1;
    for (int i = 0; i < d->n_runs; i++) {
        rl_report_run *r = &d->runs[i];
        resolve_model(d, r);
        for (int k = 0; k < r->n_points; k++) derive_point(r, &r->points[k]);
        fit_run(r, RL_PHASE_DECODE, &r->decode);
        fit_run(r, RL_PHASE_PREFILL, &r->prefill);
        crossings(r, RL_PHASE_DECODE, &r->decode);
        crossings(r, RL_PHASE_PREFILL, &r->prefill);
    }
    if (add_predicted_runs(d, err)) return -1;
    qsort(d->runs, (size_t)d->n_runs, sizeof *d->runs, run_order);
    label_runs(d);
    return 0;
}
