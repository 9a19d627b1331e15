/* derive.c: what the report computes from the loaded runs. Every row is a results document
 * (rl_results: read from its file, or built from imported points, or empty for the seed's GPUs
 * nobody measured) put through the lab's own functions: rl_point_predict for the cost model's FLOPs,
 * bytes and predictions the file lacks, and THE analysis (rl_analyse_results) for transitions and
 * crossings; then row labels and order, and the three-roof figures of every kernel row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../analyse/lab_analysis.h"
#include "../common/util.h"
#include "../measure/sweep.h"
#include "report_model.h"

/* The four GPUs of the seed's lab: each gets a row even when nobody measured it. */
static const char *const seed_gpus[] = {"H200", "H100", "A100-PCIe", "L40S"};

void rl_report_cost(const rl_report_run *r, rl_phase sweep, int64_t x, int64_t context, rl_cost *out)
{
    rl_workload w = sweep == RL_PHASE_DECODE ? rl_workload_decode(x, context) : rl_workload_prefill(1, x);
    rl_workload_set_dtype(&w, r->dtype);
    w.tp = r->res.tp;
    rl_cost_step(&r->model, &w, out);
}

const rl_profile *rl_report_profile(const rl_report_run *r, rl_phase phase, int64_t x)
{
    return rl_results_profile(&r->res, phase, x);
}

/* The cost model's prediction of one workload on r's roofs (the lab's rl_point_predict): the
 * datasheet roofs where the GPU is in the table, else the measured ones. NAN without roofs. */
static double predicted(const rl_report_run *r, rl_phase phase, int64_t batch, int64_t x, int64_t context)
{
    rl_point p;
    rl_point_init(&p, phase, x);
    p.batch = batch, p.context = context;
    rl_point_predict(&r->res, &p);
    return p.predicted_datasheet_ms >= 0 ? p.predicted_datasheet_ms : p.predicted_ms >= 0 ? p.predicted_ms : NAN;
}

/* Seed-style ms/token of a decode run: (prefill of B prompts + output_len steps) / output_len,
 * every step taken at the mean context; the quantity the seed's table reports. */
static double predict_seed_style(const rl_report_run *r, const rl_report_point *p)
{
    int64_t out_len = p->output_len > 0 ? p->output_len : RL_SEED_OUTPUT_LEN;
    int64_t in_len = p->input_len > 0 ? p->input_len : RL_SEED_INPUT_LEN;
    double pre = predicted(r, RL_PHASE_PREFILL, p->x, in_len, 0);
    double step = predicted(r, RL_PHASE_DECODE, p->x, p->x, p->context);
    return (pre + (double)out_len * step) / (double)out_len;
}

/* How the report shows a fit: the break inside the range; without one, a value past the largest x
 * for a flat curve ("still flat") and the smallest x for a curve rising from the start. */
static double shown_transition(const rl_break_fit *f, double lo, double hi)
{
    if (!f->ok) return NAN;
    if (f->has_break) return f->brk;
    return f->slope * hi > 1.1 * f->flat ? lo : 4 * hi;
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
    return shown_transition(&f, lo, hi);
}

int rl_report_in_sweep(const rl_report_point *p, rl_phase ph) { return p->sweep == ph && !p->context_sweep; }

double rl_report_point_value(const rl_report_point *p)
{
    if (!p->ok) return NAN;
    return isnan(p->ms) ? p->seed_ms_per_token : p->ms;
}

/* The run's results document as the lab would analyse it: model, datasheet row, precision, and the
 * cost model's figures on every point (the file's own predictions kept where it has them). */
static void complete_results(rl_report_run *r)
{
    rl_results *res = &r->res;
    res->model = r->model;
    snprintf(res->dtype, sizeof res->dtype, "%s", rl_dtype_names[r->dtype]);
    res->have_datasheet = r->gpu_idx >= 0 && r->ds_peak_tflops > 0;
    if (!(res->have_probe = r->read_gbps > 0 && r->gemm_tflops > 0)) {
        res->probe.read_gbps = res->probe.gemm_tflops = -1;
    } else {
        res->probe.read_gbps = r->read_gbps, res->probe.gemm_tflops = r->gemm_tflops;
    }
    if (!res->input_len) res->input_len = RL_SEED_INPUT_LEN, res->output_len = RL_SEED_OUTPUT_LEN;
    for (int i = 0; i < res->n_points && r->have_model; i++) {
        rl_point *p = &res->points[i], q = *p;
        rl_point_predict(res, &q);
        p->flops = q.flops, p->bytes = q.bytes, p->intensity = q.intensity;
        if (p->predicted_ms < 0) p->predicted_ms = q.predicted_ms;
        if (p->predicted_datasheet_ms < 0) p->predicted_datasheet_ms = q.predicted_datasheet_ms;
    }
}

static void transition_of(const rl_report_run *r, rl_phase phase, const rl_analysis *a, rl_report_transition *t)
{
    const rl_break_fit *f = phase == RL_PHASE_DECODE ? &a->decode_fit : &a->prefill_fit;
    double lo = INFINITY, hi = 0;
    int n = 0;
    for (int i = 0; i < r->res.n_points; i++) {
        const rl_point *p = &r->res.points[i];
        if (!rl_point_in_sweep(p, phase) || rl_point_measured_ms(p) <= 0) continue;
        lo = fmin(lo, (double)p->x), hi = fmax(hi, (double)p->x), n++;
    }
    t->measured = n >= 3 ? shown_transition(f, lo, hi) : NAN;
    t->floor_ms = f->ok ? f->flat : NAN;
    t->slope_ms = f->ok ? f->slope : NAN;
    t->max_x = hi;
    const char *what = phase == RL_PHASE_DECODE
                           ? (r->source == RL_SRC_CSV ? "seed-style ms/token vs batch" : "ms per step vs batch")
                           : "prefill ms vs length";
    if (n < 3) snprintf(t->method, sizeof t->method, "fewer than 3 measured points: no fit");
    else snprintf(t->method, sizeof t->method, "%s: %s (beyond the largest x: still flat)", what, RL_BREAK_METHOD);
    if (!r->have_model) return;
    const int64_t meas = phase == RL_PHASE_DECODE ? a->decode_predicted : a->prefill_predicted;
    const int64_t ds = phase == RL_PHASE_DECODE ? a->decode_predicted_datasheet : a->prefill_predicted_datasheet;
    if (r->res.have_probe) t->predicted_measured = (double)meas;
    if (r->res.have_datasheet && !strcmp(r->res.dtype, "bf16")) t->predicted_datasheet = (double)ds;
}

/* The report's view of a point after the analysis: the cost model's figures, the seed-style
 * prediction for the decode batch sweep, the attention share for the context sweep. */
static void derive_point(rl_report_run *r, rl_report_point *p, const rl_point *q)
{
    if (q->flops > 0) p->flops = q->flops;
    if (q->bytes > 0) p->bytes = q->bytes;
    if (p->flops > 0 && p->bytes > 0) p->intensity = p->flops / p->bytes;
    if (q->predicted_ms >= 0) p->predicted_ms = q->predicted_ms;
    if (q->predicted_datasheet_ms >= 0) p->predicted_datasheet_ms = q->predicted_datasheet_ms;
    if (r->have_model && rl_report_in_sweep(p, RL_PHASE_DECODE))
        p->predicted_seed_ms_per_token = predict_seed_style(r, p);
    if (r->have_model && p->context_sweep) {
        const double share = rl_point_attention_share(&r->res, q);
        p->attention_share = share >= 0 ? share : NAN;
    }
}

/* Each kernel row on the run's three roofs: bytes, FLOPs and calls x t_min. */
static void kernel_roofs(rl_report_run *r)
{
    const double bw = r->read_gbps > 0 ? r->read_gbps : r->ds_bandwidth_gbps;
    const double peak = r->gemm_tflops > 0 ? r->gemm_tflops : r->ds_peak_tflops;
    if (!(bw > 0 && peak > 0)) return;
    rl_roofs roofs = {.bandwidth_gbps = bw, .peak_tflops = peak, .kernel_min_us = r->kernel_min_us > 0 ? r->kernel_min_us : 0};
    /* The interconnect of the all-reduce rows: measured by the run's probe, else the GPU table's. */
    const rl_probe *pr = &r->res.probe;
    roofs.link_gbps = pr->interconnect_gbps > 0 ? pr->interconnect_gbps : r->gpu_idx >= 0 ? r->res.datasheet.link_gbps : 0;
    roofs.allreduce_us = pr->allreduce_latency_us > 0 ? pr->allreduce_latency_us
                         : r->gpu_idx >= 0             ? r->res.datasheet.allreduce_us
                                                       : 0;
    for (int i = 0; i < r->n_kernels; i++) {
        rl_report_kernel *k = &r->kernels[i];
        rl_bound b;
        k->roof_ms = rl_kernel_roof_ms(k->flops, k->bytes, (int)k->calls, k->link_bytes, &roofs, roofs.kernel_min_us, &b);
        k->roof_pct = k->ms > 0 ? 100 * k->roof_ms / k->ms : NAN;
        snprintf(k->bound, sizeof k->bound, "%s", rl_bound_names[b]);
    }
}

/* THE analysis of the run, and what the report shows of it. */
static void analyse_run(rl_report_run *r)
{
    complete_results(r);
    rl_analysis a;
    rl_analyse_results(&r->res, &a);
    transition_of(r, RL_PHASE_DECODE, &a, &r->decode);
    transition_of(r, RL_PHASE_PREFILL, &a, &r->prefill);
    for (int k = 0; k < r->n_points && k < r->res.n_points; k++) derive_point(r, &r->points[k], &r->res.points[k]);
    kernel_roofs(r);
}

/* Imported rows carry their points only: the results document of the row is built from them. */
static int results_of_points(rl_report_run *r, rl_err *err)
{
    if (r->res.n_points == r->n_points) return 0;
    for (int i = 0; i < r->n_points; i++) {
        const rl_report_point *p = &r->points[i];
        rl_point q;
        rl_point_init(&q, p->sweep, p->x);
        q.ok = p->ok;
        snprintf(q.error, sizeof q.error, "%s", p->error);
        q.ms = isnan(p->ms) ? -1 : p->ms;
        q.seed_ms_per_token = isnan(p->seed_ms_per_token) ? -1 : p->seed_ms_per_token;
        q.input_len = p->input_len, q.output_len = p->output_len, q.context = p->context;
        q.context_sweep = p->context_sweep;
        if (rl_results_add_point(&r->res, &q, err)) return -1;
    }
    return 0;
}

static void resolve_model(rl_report_data *d, rl_report_run *r)
{
    rl_err err;
    r->have_model = rl_model_resolve(r->model_name, &r->model, &err) == 0;
    if (r->gpu_idx >= 0) r->res.datasheet = d->table.gpus[r->gpu_idx];
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
        r->decode = r->prefill = rl_report_no_transition();
        r->kernel_min_us = NAN;
        rl_results_init(&r->res, 0, NULL);
        resolve_model(d, r);
        r->points = calloc(2 * RL_SEED_GRID_N, sizeof *r->points);
        if (!r->points) return rl_fail(err, "out of memory");
        for (int k = 0; k < 2 * RL_SEED_GRID_N; k++) {
            rl_report_point *p = &r->points[k];
            p->sweep = k < RL_SEED_GRID_N ? RL_PHASE_DECODE : RL_PHASE_PREFILL;
            p->x = k < RL_SEED_GRID_N ? rl_seed_decode_grid[k] : rl_seed_prefill_grid[k - RL_SEED_GRID_N];
            p->ok = 0; /* nothing measured */
            p->ms = p->p10_ms = p->p90_ms = p->seed_ms_per_token = NAN;
            p->predicted_ms = p->predicted_datasheet_ms = p->predicted_seed_ms_per_token = NAN;
            p->estimated_ms = p->estimated_latency_ms = p->attention_share = NAN;
            p->flops = p->bytes = p->intensity = NAN;
            p->floor_ms = NAN;
            p->input_len = RL_SEED_INPUT_LEN, p->output_len = RL_SEED_OUTPUT_LEN;
            p->context = rl_decode_context(RL_SEED_INPUT_LEN, RL_SEED_OUTPUT_LEN);
            snprintf(p->error, sizeof p->error, "not measured");
        }
        r->n_points = 2 * RL_SEED_GRID_N;
        if (results_of_points(r, err)) return -1;
        analyse_run(r);
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
        char gpu[96]; /* a tensor-parallel run is its GPU and degree: "H200 TP2" */
        if (r->res.tp > 0) snprintf(gpu, sizeof gpu, "%s TP%d", r->gpu, r->res.tp);
        else snprintf(gpu, sizeof gpu, "%s", r->gpu);
        for (int j = 0; j < d->n_runs; j++) {
            const rl_report_run *o = &d->runs[j];
            if (o->source != r->source || !rl_name_eq(o->gpu, r->gpu) || o->res.tp != r->res.tp) continue;
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
            snprintf(r->label, sizeof r->label, "%s", gpu);
        else if (same_engine == 1)
            snprintf(r->label, sizeof r->label, "%s (%s)", gpu, r->engine);
        else
            snprintf(r->label, sizeof r->label, "%s (%s #%d)", gpu, r->engine, nth + 1);
    }
}

static int has_sweep(const rl_report_run *r, rl_phase ph)
{
    for (int i = 0; i < r->n_points; i++)
        if (rl_report_in_sweep(&r->points[i], ph)) return 1;
    return 0;
}

/* Two results files of one GPU, engine and model whose points do not overlap (a decode sweep and
 * a prefill sweep run separately, say) are one row, not two. */
static int mergeable(const rl_report_run *a, const rl_report_run *b)
{
    if (a->source != RL_SRC_RESULTS || b->source != RL_SRC_RESULTS) return 0;
    if (!rl_name_eq(a->gpu, b->gpu) || strcmp(a->engine, b->engine) || strcmp(a->device_name, b->device_name) ||
        strcmp(a->model_name, b->model_name) || a->dtype != b->dtype || rl_report_tp_of(a) != rl_report_tp_of(b))
        return 0;
    for (int i = 0; i < a->n_points; i++)
        for (int j = 0; j < b->n_points; j++)
            if (a->points[i].sweep == b->points[j].sweep && a->points[i].x == b->points[j].x &&
                a->points[i].context_sweep == b->points[j].context_sweep &&
                (!a->points[i].context_sweep || a->points[i].context == b->points[j].context))
                return 0;
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
    for (int i = 0; i < b->res.n_points; i++)
        if (rl_results_add_point(&a->res, &b->res.points[i], err)) return -1;
    for (int i = 0; i < b->res.n_kernels; i++)
        if (rl_results_add_kernel(&a->res, &b->res.kernels[i], err)) return -1;
    for (int i = 0; i < b->res.n_profiles; i++)
        if (rl_results_add_profile(&a->res, &b->res.profiles[i], err)) return -1;
    if (rl_results_add_choices(&a->res, b->res.choices, b->res.n_choices, err)) return -1;
    if (!a->res.input_len) a->res.input_len = b->res.input_len, a->res.output_len = b->res.output_len;
    if (isnan(a->kernel_min_us)) a->kernel_min_us = b->kernel_min_us;
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
    rl_results_free(&b->res);
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
        if (results_of_points(r, err)) return -1;
        analyse_run(r);
    }
    if (add_predicted_runs(d, err)) return -1;
    qsort(d->runs, (size_t)d->n_runs, sizeof *d->runs, run_order);
    label_runs(d);
    rl_report_tp_scaling(d);
    return 0;
}
