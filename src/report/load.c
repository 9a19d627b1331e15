/* load.c: results.json files (docs/results-schema.md, read through the results field table of
 * src/measure), imported CSV measurements (sweep,gpu,x,ms with # comments) and the counters check
 * beside a results file (ncu-check.json) into one in-memory model (report_model.h).
 * Errors name the file and the line (JSON syntax, CSV rows) or the field path (JSON values). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"
#include "report_model.h"

int rl_report_data_init(rl_report_data *d, const char *gpu_file, rl_err *err)
{
    memset(d, 0, sizeof *d);
    return rl_gpu_table_load(gpu_file, &d->table, err);
}

static void run_free(rl_report_run *r)
{
    free(r->points);
    free(r->kernels);
    rl_results_free(&r->res);
    r->points = NULL, r->kernels = NULL;
    r->n_points = r->n_kernels = 0;
}

void rl_report_data_free(rl_report_data *d)
{
    for (int i = 0; i < d->n_runs; i++) run_free(&d->runs[i]);
    free(d->runs);
    free(d->ncu);
    free(d->violations);
    rl_gpu_table_free(&d->table);
    memset(d, 0, sizeof *d);
}

void rl_report_note(rl_report_data *d, const char *fmt, ...)
{
    if (d->n_notes >= RL_REPORT_MAX_NOTES) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->notes[d->n_notes], sizeof d->notes[0], fmt, ap);
    va_end(ap);
    for (int i = 0; i < d->n_notes; i++) /* the same note from several files is said once */
        if (!strcmp(d->notes[i], d->notes[d->n_notes])) return;
    d->n_notes++;
}

static rl_report_run *new_run(rl_report_data *d, rl_err *err)
{
    rl_report_run *grown = realloc(d->runs, sizeof *grown * (size_t)(d->n_runs + 1));
    if (!grown) {
        rl_fail(err, "out of memory");
        return NULL;
    }
    d->runs = grown;
    rl_report_run *r = &d->runs[d->n_runs++];
    memset(r, 0, sizeof *r);
    r->gpu_idx = -1;
    r->read_gbps = r->gemm_tflops = r->kernel_min_us = NAN;
    rl_results_init(&r->res, 0, NULL);
    r->ds_bandwidth_gbps = r->ds_peak_tflops = NAN;
    r->dtype = RL_DT_BF16;
    r->decode = r->prefill = rl_report_no_transition();
    return r;
}

static void point_init(rl_report_point *p)
{
    memset(p, 0, sizeof *p);
    p->ok = 1;
    p->ms = p->p10_ms = p->p90_ms = p->seed_ms_per_token = NAN;
    p->flops = p->bytes = p->intensity = NAN;
    p->predicted_ms = p->predicted_datasheet_ms = p->predicted_seed_ms_per_token = NAN;
    p->estimated_ms = p->estimated_latency_ms = NAN;
    p->attention_share = NAN;
    p->floor_ms = NAN;
}

static rl_report_point *new_point(rl_report_run *r, rl_err *err)
{
    rl_report_point *grown = realloc(r->points, sizeof *grown * (size_t)(r->n_points + 1));
    if (!grown) {
        rl_fail(err, "out of memory");
        return NULL;
    }
    r->points = grown;
    rl_report_point *p = &r->points[r->n_points++];
    point_init(p);
    return p;
}

/* ---- JSON helpers ------------------------------------------------------------------------ */

static int get_num(const cJSON *obj, const char *where, const char *field, double *out, rl_err *err)
{
    if (!obj) {
        *out = NAN;
        return 0;
    }
    return rl_json_get_f64(obj, where, field, 0, NAN, out, err);
}

/* Optional object; wrong type is an error. */
static int get_obj(const cJSON *parent, const char *where, const char *field, const cJSON **out, rl_err *err)
{
    const cJSON *it = parent ? cJSON_GetObjectItemCaseSensitive(parent, field) : NULL;
    *out = NULL;
    if (!it || cJSON_IsNull(it)) return 0;
    if (!cJSON_IsObject(it)) return rl_fail(err, "%s: field '%s' must be an object", where, field);
    *out = it;
    return 0;
}

static void line_col(const char *text, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < off && text[i]; i++) {
        if (text[i] == '\n') {
            ++*line;
            *col = 1;
        } else {
            ++*col;
        }
    }
}

/* Parses with line:column in the message, since "near byte N" sends people counting. */
static cJSON *load_json(const char *path, rl_err *err)
{
    size_t len = 0;
    char *text = rl_read_file(path, &len, err);
    if (!text) return NULL;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t off = at && at >= text && at <= text + len ? (size_t)(at - text) : 0;
        int line, col;
        line_col(text, off, &line, &col);
        if (len == 0)
            rl_fail(err, "%s:1: empty file, expected a results.json object", path);
        else
            rl_fail(err, "%s:%d:%d: malformed JSON (truncated or invalid here); regenerate the file with ridgeline lab",
                    path, line, col);
    } else if (!cJSON_IsObject(root)) {
        rl_fail(err, "%s:1: expected a JSON object (results.json), got another JSON value", path);
        cJSON_Delete(root);
        root = NULL;
    }
    free(text);
    return root;
}

/* "not measured" (< 0) in the results document is NAN in the report. */
static double nan_if_neg(double v) { return v >= 0 ? v : NAN; }

static int add_point(rl_report_run *r, const rl_point *q, const char *path, rl_err *err)
{
    rl_report_point *p = new_point(r, err);
    if (!p) return -1;
    p->sweep = q->sweep, p->x = q->x, p->ok = q->ok;
    snprintf(p->error, sizeof p->error, "%s", q->error);
    if (q->ok) p->ms = nan_if_neg(q->ms);
    p->p10_ms = nan_if_neg(q->p10), p->p90_ms = nan_if_neg(q->p90);
    p->seed_ms_per_token = nan_if_neg(q->seed_ms_per_token);
    p->predicted_ms = nan_if_neg(q->predicted_ms);
    p->predicted_datasheet_ms = nan_if_neg(q->predicted_datasheet_ms);
    p->estimated_ms = nan_if_neg(q->estimated_ms);
    p->estimated_latency_ms = nan_if_neg(q->estimated_latency_ms);
    p->flops = nan_if_neg(q->flops), p->bytes = nan_if_neg(q->bytes);
    p->input_len = q->input_len, p->output_len = q->output_len, p->context = q->context;
    p->context_sweep = q->context_sweep;
    /* Above 1e9 ms (11 days per step) a number is corrupt, and it would overflow the charts' scales. */
    if (q->ok && !(q->ms > 0 && q->ms <= 1e9))
        return rl_fail(err, "%s: point %s x=%lld: field 'ms' must be in (0, 1e9] (got %g)", path,
                       rl_phase_name(q->sweep), (long long)q->x, q->ms);
    if (q->seed_ms_per_token > 1e9 || q->p10 > 1e9 || q->p90 > 1e9)
        return rl_fail(err, "%s: point %s x=%lld: fields 'p10', 'p90' and 'seed_ms_per_token' must be at most 1e9 ms",
                       path, rl_phase_name(q->sweep), (long long)q->x);
    return 0;
}

static int add_kernel(rl_report_run *r, const rl_kernel_row *q, rl_err *err)
{
    rl_report_kernel *grown = realloc(r->kernels, sizeof *grown * (size_t)(r->n_kernels + 1));
    if (!grown) return rl_fail(err, "out of memory");
    r->kernels = grown;
    rl_report_kernel *k = &r->kernels[r->n_kernels++];
    memset(k, 0, sizeof *k);
    k->phase = q->phase, k->x = q->x, k->calls = q->calls;
    snprintf(k->kernel, sizeof k->kernel, "%s", q->kernel);
    snprintf(k->symbol, sizeof k->symbol, "%s", q->symbol);
    rl_ops_text(q->op_mask, k->ops, sizeof k->ops);
    k->ms = q->ms, k->busy_ms = nan_if_neg(q->busy_ms), k->flops = q->flops, k->bytes = q->bytes;
    k->intensity = q->bytes > 0 ? q->flops / q->bytes : NAN;
    k->link_bytes = q->link_bytes;
    k->achieved_gbps = q->ms > 0 ? q->bytes / (q->ms * 1e-3) * 1e-9 : NAN;
    k->achieved_tflops = q->ms > 0 ? q->flops / (q->ms * 1e-3) * 1e-12 : NAN;
    k->roof_ms = k->roof_pct = NAN; /* derive.c: against the run's three roofs */
    return 0;
}

static int parse_stat(const cJSON *tel, const char *where, const char *field, rl_report_stat *s, rl_err *err)
{
    const cJSON *o;
    s->min = s->median = s->max = NAN;
    char w[600];
    snprintf(w, sizeof w, "%s.%s", where, field);
    if (get_obj(tel, where, field, &o, err)) return -1;
    if (!o) return 0;
    if (get_num(o, w, "min", &s->min, err) || get_num(o, w, "median", &s->median, err) ||
        get_num(o, w, "max", &s->max, err))
        return -1;
    return 0;
}

static int dtype_from_label(const char *s)
{
    if (!s[0]) return -1;
    if (rl_name_eq(s, "bfloat16")) return RL_DT_BF16;
    if (rl_name_eq(s, "float16") || rl_name_eq(s, "half")) return RL_DT_FP16;
    if (rl_name_eq(s, "float32") || rl_name_eq(s, "float")) return RL_DT_FP32;
    return rl_dtype_from_name(s);
}

/* The GPU table row: device.table_name if given, else the driver's name (never for CPU runs). */
static void resolve_gpu(rl_report_data *d, rl_report_run *r, const char *table_name)
{
    const rl_gpu *g = NULL;
    rl_err ignored;
    if (table_name[0]) g = rl_gpu_find(&d->table, table_name, &ignored);
    if (!g && strcmp(r->backend, "cpu") != 0) g = rl_gpu_match_device(&d->table, r->device_name);
    if (g) {
        r->gpu_idx = (int)(g - d->table.gpus);
        snprintf(r->gpu, sizeof r->gpu, "%s", g->name);
    } else {
        snprintf(r->gpu, sizeof r->gpu, "%s", r->device_name);
    }
}

static int parse_results(rl_report_data *d, const cJSON *root, const char *path, rl_report_run *r, rl_err *err)
{
    rl_results *res = &r->res;
    if (rl_results_from_json(root, path, res, err)) return -1;
    snprintf(r->engine, sizeof r->engine, "%s", res->engine);
    snprintf(r->version, sizeof r->version, "%s", res->version);
    snprintf(r->commit, sizeof r->commit, "%s", res->commit);
    snprintf(r->command, sizeof r->command, "%s", res->command);
    snprintf(r->date, sizeof r->date, "%s", res->date);
    snprintf(r->device_name, sizeof r->device_name, "%s", res->device.name);
    snprintf(r->backend, sizeof r->backend, "%s", res->device.backend);
    snprintf(r->driver, sizeof r->driver, "%s", res->device.driver);
    snprintf(r->cuda_runtime, sizeof r->cuda_runtime, "%s", res->device.cuda_runtime);
    snprintf(r->weights, sizeof r->weights, "%s", res->weights);
    resolve_gpu(d, r, res->device.table_name);
    snprintf(r->model_name, sizeof r->model_name, "%s", res->model.name[0] ? res->model.name : "llama-3.1-8b");
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "model")))
        rl_report_note(d, "%s has no 'model': predictions assume llama-3.1-8b", path);
    const char *dtype = res->dtype[0] ? res->dtype : res->probe.dtype;
    int dt = dtype_from_label(dtype);
    if (dtype[0] && dt < 0)
        return rl_fail(err, "%s: model dtype '%s' is not one of fp32, tf32, bf16, fp16, fp8", path, dtype);
    r->dtype = dt >= 0 ? (rl_dtype)dt : RL_DT_BF16;
    r->read_gbps = res->have_probe && res->probe.read_gbps > 0 ? res->probe.read_gbps : NAN;
    r->gemm_tflops = res->have_probe && res->probe.gemm_tflops > 0 ? res->probe.gemm_tflops : NAN;
    r->kernel_min_us = res->have_probe && res->probe.kernel_min_us > 0 ? res->probe.kernel_min_us : NAN;

    char w[600];
    const cJSON *tel;
    if (get_obj(root, path, "telemetry", &tel, err)) return -1;
    snprintf(w, sizeof w, "%s: telemetry", path);
    r->have_telemetry = tel != NULL;
    if (parse_stat(tel, w, "sm_clock_mhz", &r->sm_clock_mhz, err) ||
        parse_stat(tel, w, "mem_clock_mhz", &r->mem_clock_mhz, err) ||
        parse_stat(tel, w, "power_w", &r->power_w, err) || parse_stat(tel, w, "temp_c", &r->temp_c, err))
        return -1;
    if (res->interrupted)
        rl_report_note(d, "%s: the run was interrupted (Ctrl-C or SIGTERM) before it finished its plan: only the "
                          "points it finished are shown", path);
    for (int i = 0; i < res->n_points; i++)
        if (add_point(r, &res->points[i], path, err)) return -1;
    for (int i = 0; i < res->n_kernels; i++)
        if (add_kernel(r, &res->kernels[i], err)) return -1;
    return 0;
}

/* An ncu-check.json in the directory of a results file (scripts/ncu-check.sh writes it there). */
static void sibling_ncu_check(rl_report_data *d, const char *results_path, const char *gpu)
{
    char p[4200];
    const char *slash = strrchr(results_path, '/');
    snprintf(p, sizeof p, "%.*sncu-check.json", slash ? (int)(slash - results_path + 1) : 0, results_path);
    if (access(p, R_OK) != 0 || d->n_ncu) return;
    rl_err err;
    if (rl_report_load_ncu_check(d, p, gpu, &err)) rl_report_note(d, "counters check not shown: %s", err.msg);
}

int rl_report_load_results(rl_report_data *d, const char *path, rl_err *err)
{
    cJSON *root = load_json(path, err);
    if (!root) return -1;
    rl_report_run *r = new_run(d, err);
    if (!r) {
        cJSON_Delete(root);
        return -1;
    }
    r->source = RL_SRC_RESULTS;
    snprintf(r->path, sizeof r->path, "%s", path);
    int rc = parse_results(d, root, path, r, err);
    cJSON_Delete(root);
    if (rc) {
        run_free(r);
        d->n_runs--;
        return -1;
    }
    if (!strcmp(r->engine, "ridgeline")) sibling_ncu_check(d, path, r->gpu);
    return 0;
}

static int ncu_case(const cJSON *c, const char *where, const char *gpu, rl_report_ncu_case *o, rl_err *err)
{
    memset(o, 0, sizeof *o);
    snprintf(o->gpu, sizeof o->gpu, "%s", gpu);
    for (int op = 0; op < RL_OP_COUNT; op++) o->op_model_bytes[op] = o->op_dram_bytes[op] = NAN;
    const cJSON *ph = cJSON_GetObjectItemCaseSensitive(c, "phase");
    if (!cJSON_IsString(ph) || (strcmp(ph->valuestring, "decode") && strcmp(ph->valuestring, "prefill")))
        return rl_fail(err, "%s: field 'phase' must be \"decode\" or \"prefill\"", where);
    o->phase = strcmp(ph->valuestring, "decode") ? RL_PHASE_PREFILL : RL_PHASE_DECODE;
    if (rl_json_get_i64(c, where, "x", 1, 0, &o->x, err) ||
        rl_json_get_f64(c, where, "model_bytes", 1, 0, &o->model_bytes, err) ||
        rl_json_get_f64(c, where, "dram_bytes", 1, 0, &o->dram_bytes, err))
        return -1;
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(c, "ops"), *e;
    if (!cJSON_IsArray(ops)) ops = NULL;
    cJSON_ArrayForEach(e, ops)
    {
        const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "op");
        for (int op = 0; cJSON_IsString(name) && op < RL_OP_COUNT; op++)
            if (!strcmp(name->valuestring, rl_op_names[op]) &&
                (rl_json_get_f64(e, where, "model_bytes", 1, 0, &o->op_model_bytes[op], err) ||
                 rl_json_get_f64(e, where, "dram_bytes", 1, 0, &o->op_dram_bytes[op], err)))
                return -1;
    }
    return 0;
}

int rl_report_load_ncu_check(rl_report_data *d, const char *path, const char *gpu, rl_err *err)
{
    cJSON *root = load_json(path, err);
    if (!root) return -1;
    const cJSON *cases = cJSON_GetObjectItemCaseSensitive(root, "cases"), *c;
    const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(root, "command");
    int rc = 0, i = 0;
    if (!cJSON_IsArray(cases)) {
        rc = rl_fail(err, "%s: field 'cases' must be an array", path);
        cases = NULL;
    }
    cJSON_ArrayForEach(c, cases)
    {
        char where[700];
        snprintf(where, sizeof where, "%s: cases[%d]", path, i++);
        rl_report_ncu_case *grown = realloc(d->ncu, sizeof *grown * (size_t)(d->n_ncu + 1));
        if (!grown) {
            rc = rl_fail(err, "out of memory");
            break;
        }
        d->ncu = grown;
        if ((rc = ncu_case(c, where, gpu, &d->ncu[d->n_ncu], err))) break;
        d->n_ncu++;
    }
    if (!rc) {
        snprintf(d->ncu_source, sizeof d->ncu_source, "%s", path);
        snprintf(d->ncu_command, sizeof d->ncu_command, "%s", cJSON_IsString(cmd) ? cmd->valuestring : "");
    }
    cJSON_Delete(root);
    return rc;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

/* At most this many GPUs in one CSV file: each is a row of every table and a colour of every chart. */
#define CSV_MAX_GPUS 64

/* (run, sweep, x) -> the line that first gave it: duplicate rows are found in one pass. */
typedef struct {
    int64_t x;
    int run, sweep, line; /* line 0: an empty slot */
} csv_seen;

typedef struct {
    csv_seen *slots;
    size_t mask;
} csv_seen_set;

static int seen_init(csv_seen_set *s, size_t rows, rl_err *err)
{
    size_t n = 64;
    while (n < 2 * rows) n *= 2;
    s->slots = calloc(n, sizeof *s->slots);
    s->mask = n - 1;
    return s->slots ? 0 : rl_fail(err, "out of memory for %zu CSV rows", rows);
}

/* The line that first gave (run, sweep, x), or 0 after recording this one. */
static int seen_put(csv_seen_set *s, int run, int sweep, int64_t x, int line)
{
    uint64_t h = ((uint64_t)x * 0x9E3779B97F4A7C15ull) ^ ((uint64_t)run << 1 | (uint64_t)sweep) * 0xBF58476D1CE4E5B9ull;
    for (size_t i = (size_t)(h >> 17) & s->mask;; i = (i + 1) & s->mask) {
        csv_seen *e = &s->slots[i];
        if (!e->line) {
            *e = (csv_seen){x, run, sweep, line};
            return 0;
        }
        if (e->x == x && e->run == run && e->sweep == sweep) return e->line;
    }
}

/* One parsed row; the file's rows become its runs' points once they are all read, so every
 * run's array is allocated once (growing it row by row is quadratic where realloc copies). */
typedef struct {
    int64_t x;
    double ms;
    int run, line;
    rl_phase sweep;
} csv_point;

typedef struct {
    const char *path, *comment;
    int first_run;
    char last_gpu[64]; /* the previous row's gpu field and its run: rows of one GPU come together */
    int last_run;
    csv_seen_set seen;
    csv_point *rows;
    size_t n_rows, cap_rows;
} csv_file;

/* The run of this CSV file for a GPU, created on first sight (rows keep the file's order). */
static rl_report_run *csv_run(rl_report_data *d, csv_file *cf, int line, const char *gpu, rl_err *err)
{
    if (cf->last_run >= 0 && !strcmp(cf->last_gpu, gpu)) return &d->runs[cf->last_run];
    rl_err ignored;
    const rl_gpu *g = rl_gpu_find(&d->table, gpu, &ignored);
    const char *name = g ? g->name : gpu;
    snprintf(cf->last_gpu, sizeof cf->last_gpu, "%s", gpu);
    for (int i = cf->first_run; i < d->n_runs; i++)
        if (rl_name_eq(d->runs[i].gpu, name)) {
            cf->last_run = i;
            return &d->runs[i];
        }
    if (d->n_runs - cf->first_run >= CSV_MAX_GPUS) {
        rl_fail(err, "%s:%d: more than %d GPUs in one file; split it into several --import-csv files", cf->path,
                line, CSV_MAX_GPUS);
        return NULL;
    }
    rl_report_run *r = new_run(d, err);
    if (!r) return NULL;
    cf->last_run = d->n_runs - 1;
    r->source = RL_SRC_CSV;
    r->gpu_idx = g ? (int)(g - d->table.gpus) : -1;
    snprintf(r->gpu, sizeof r->gpu, "%s", name);
    snprintf(r->device_name, sizeof r->device_name, "%s", gpu);
    snprintf(r->path, sizeof r->path, "%s", cf->path);
    snprintf(r->engine, sizeof r->engine, "imported");
    /* The seed measured Llama-3.1-8B-Instruct in bf16; CSV rows carry no model of their own. */
    snprintf(r->model_name, sizeof r->model_name, "llama-3.1-8b");
    snprintf(r->csv_comment, sizeof r->csv_comment, "%s", cf->comment);
    return r;
}

static int csv_row(rl_report_data *d, csv_file *cf, int line, char *text, rl_err *err)
{
    const char *path = cf->path;
    char *f[4];
    int nf = rl_csv_split(text, f, 4);
    if (nf != 4)
        return rl_fail(err, "%s:%d: expected 4 comma-separated fields sweep,gpu,x,ms, got %s%d", path, line,
                       nf > 4 ? "more than " : "", nf > 4 ? 4 : nf);
    for (int i = 0; i < 4; i++) f[i] = trim(f[i]);
    rl_phase sweep;
    if (!strcmp(f[0], "decode"))
        sweep = RL_PHASE_DECODE;
    else if (!strcmp(f[0], "prefill"))
        sweep = RL_PHASE_PREFILL;
    else
        return rl_fail(err, "%s:%d: sweep '%.40s' must be decode or prefill", path, line, f[0]);
    if (!f[1][0]) return rl_fail(err, "%s:%d: empty gpu name", path, line);
    if (strlen(f[1]) >= sizeof cf->last_gpu)
        return rl_fail(err, "%s:%d: gpu name longer than %zu characters", path, line, sizeof cf->last_gpu - 1);
    int64_t x;
    double ms;
    char what[600];
    snprintf(what, sizeof what, "%s:%d: x", path, line);
    if (rl_parse_i64(f[2], 1, 100000000, what, &x, err)) return -1;
    snprintf(what, sizeof what, "%s:%d: ms", path, line);
    if (rl_parse_f64(f[3], 1e-9, 1e9, what, &ms, err)) return -1;
    rl_report_run *r = csv_run(d, cf, line, f[1], err);
    if (!r) return -1;
    int first = seen_put(&cf->seen, (int)(r - d->runs), sweep, x, line);
    if (first)
        return rl_fail(err, "%s:%d: duplicate %s point x=%lld for %s (first on line %d)", path, line, f[0],
                       (long long)x, r->gpu, first);
    if (cf->n_rows == cf->cap_rows) {
        size_t cap = cf->cap_rows ? 2 * cf->cap_rows : 256;
        csv_point *grown = realloc(cf->rows, sizeof *grown * cap);
        if (!grown) return rl_fail(err, "%s:%d: out of memory", path, line);
        cf->rows = grown, cf->cap_rows = cap;
    }
    cf->rows[cf->n_rows++] = (csv_point){x, ms, (int)(r - d->runs), line, sweep};
    return 0;
}

/* The rows, in file order, as the points of their runs. */
static int csv_points(rl_report_data *d, csv_file *cf, rl_err *err)
{
    int count[CSV_MAX_GPUS] = {0};
    for (size_t i = 0; i < cf->n_rows; i++) count[cf->rows[i].run - cf->first_run]++;
    for (int k = 0; k < d->n_runs - cf->first_run; k++) {
        rl_report_run *r = &d->runs[cf->first_run + k];
        if (!(r->points = calloc((size_t)count[k], sizeof *r->points))) return rl_fail(err, "%s: out of memory", cf->path);
    }
    for (size_t i = 0; i < cf->n_rows; i++) {
        const csv_point *c = &cf->rows[i];
        rl_report_run *r = &d->runs[c->run];
        rl_report_point *p = &r->points[r->n_points++];
        point_init(p);
        p->sweep = c->sweep;
        p->x = c->x;
        p->line = c->line;
        p->input_len = RL_SEED_INPUT_LEN;
        p->output_len = RL_SEED_OUTPUT_LEN;
        p->context = rl_decode_context(RL_SEED_INPUT_LEN, RL_SEED_OUTPUT_LEN);
        /* Imported decode values are whole run / output_len (seed style), never a per-step time. */
        if (c->sweep == RL_PHASE_DECODE)
            p->seed_ms_per_token = c->ms;
        else
            p->ms = c->ms;
    }
    return 0;
}

int rl_report_load_csv(rl_report_data *d, const char *path, rl_err *err)
{
    size_t len = 0;
    char *text = rl_read_file(path, &len, err);
    if (!text) return -1;
    if (memchr(text, 0, len)) {
        free(text);
        return rl_fail(err, "%s: binary data (NUL byte); expected CSV text sweep,gpu,x,ms", path);
    }
    size_t lines = 1;
    for (const char *c = text; (c = strchr(c, '\n')); c++) lines++;
    char comment[512] = "";
    csv_file cf = {.path = path, .comment = comment, .first_run = d->n_runs, .last_run = -1};
    if (seen_init(&cf.seen, lines, err)) {
        free(text);
        return -1;
    }
    int rows = 0, line = 0, rc = 0, header_seen = 0;
    char *start = text;
    if (!strncmp(start, "\xEF\xBB\xBF", 3)) start += 3; /* a UTF-8 byte-order mark (spreadsheet exports) */
    /* strtok_r would merge empty lines and miscount them: split by hand. */
    for (char *p = start; p && *p && !rc;) {
        char *nl = strchr(p, '\n');
        if (nl) *nl = 0;
        line++;
        char *s = trim(p);
        p = nl ? nl + 1 : NULL;
        if (!*s) continue;
        if (*s == '#') {
            if (!rows && !header_seen) {
                size_t used = strlen(comment);
                snprintf(comment + used, sizeof comment - used, "%s%s", used ? " " : "", trim(s + 1));
            }
            continue;
        }
        if (!header_seen && !rows) {
            header_seen = 1;
            char low[64]; /* lower case, without quotes and blanks: "Sweep", "GPU", ... is a header too */
            size_t j = 0;
            for (const char *c = s; *c && j + 1 < sizeof low; c++)
                if (*c != '"' && *c != ' ') low[j++] = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
            low[j] = 0;
            if (!strcmp(low, "sweep,gpu,x,ms")) continue;
            if (strncmp(low, "decode,", 7) && strncmp(low, "prefill,", 8)) {
                char shown[64];
                size_t j = 0;
                for (const char *c = s; *c && j + 1 < sizeof shown; c++) /* the message shows what is there */
                    shown[j++] = (unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f ? '?' : *c;
                shown[j] = 0;
                rc = rl_fail(err, "%s:%d: expected the header 'sweep,gpu,x,ms' or a data row, got '%s'", path,
                             line, shown);
                break;
            }
        }
        rc = csv_row(d, &cf, line, s, err);
        rows++;
    }
    free(cf.seen.slots);
    free(text);
    if (!rc && rows == 0) rc = rl_fail(err, "%s:%d: no measurements (expected rows sweep,gpu,x,ms)", path, line);
    if (!rc) rc = csv_points(d, &cf, err);
    free(cf.rows);
    if (rc) { /* drop this file's partial runs so a caller that goes on sees a consistent model */
        for (int i = cf.first_run; i < d->n_runs; i++) run_free(&d->runs[i]);
        d->n_runs = cf.first_run;
    }
    return rc;
}
