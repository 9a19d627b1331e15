/* ncu_csv.c: imports an Nsight Compute CSV export, e.g.
 *   ncu --csv --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum ./ridgeline ...
 * Two layouts are read: the long one (one row per launch and metric: "ID", "Kernel Name", ...,
 * "Metric Name", "Metric Unit", "Metric Value") and the wide raw page (`--page raw`: one row per
 * launch, one column per metric, an optional units row under the header). "==PROF==" lines and
 * anything before the header are skipped. Values may carry thousands separators ("1,234.5").
 * Time: gpu__time_duration.sum (or the details page's "Duration"); bytes: dram__bytes_read.sum +
 * dram__bytes_write.sum, or dram__bytes.sum. Units with SI prefixes (nsecond, usecond, Kbyte, ...).
 * Checked against a real export (ncu 2025.3, H200, `--csv --metrics ...` of a ridgeline sweep). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "kernels.h"
#include "ncu_check.h"

enum { MAX_FIELDS = 256 };

/* "1,234.5" -> 1234.5; returns -1 when the text is not a number. */
static int parse_value(const char *s, double *out)
{
    char buf[64];
    size_t j = 0;
    for (const char *p = s; *p && j + 1 < sizeof buf; p++)
        if (*p != ',' && !isspace((unsigned char)*p)) buf[j++] = *p;
    buf[j] = 0;
    if (!j) return -1;
    char *end;
    *out = strtod(buf, &end);
    return *end ? -1 : 0;
}

/* Scale of a unit to ms (time) or bytes; 0 when unknown. */
static double time_scale_ms(const char *u)
{
    if (!*u || !strcmp(u, "nsecond") || !strcmp(u, "ns")) return 1e-6; /* raw counters are in ns */
    if (!strcmp(u, "usecond") || !strcmp(u, "us")) return 1e-3;
    if (!strcmp(u, "msecond") || !strcmp(u, "ms")) return 1;
    if (!strcmp(u, "second") || !strcmp(u, "s")) return 1e3;
    return 0;
}

static double byte_scale(const char *u)
{
    if (!*u || !strcmp(u, "byte") || !strcmp(u, "B")) return 1;
    if (!strcmp(u, "Kbyte") || !strcmp(u, "KB")) return 1e3;
    if (!strcmp(u, "Mbyte") || !strcmp(u, "MB")) return 1e6;
    if (!strcmp(u, "Gbyte") || !strcmp(u, "GB")) return 1e9;
    if (!strcmp(u, "Tbyte") || !strcmp(u, "TB")) return 1e12;
    return 0;
}

typedef enum { M_NONE, M_TIME, M_READ, M_WRITE, M_TOTAL } metric_kind;

static metric_kind classify(const char *name)
{
    if (!strcmp(name, "gpu__time_duration.sum") || !strcmp(name, "gpu__time_duration.avg") ||
        !strcmp(name, "Duration"))
        return M_TIME;
    if (!strcmp(name, "dram__bytes_read.sum")) return M_READ;
    if (!strcmp(name, "dram__bytes_write.sum")) return M_WRITE;
    if (!strcmp(name, "dram__bytes.sum")) return M_TOTAL;
    return M_NONE;
}

/* One launch being assembled (long layout: rows of the same ID). */
typedef struct {
    char id[32];
    char kernel[160];
    double ms, rd, wr, tot;
    int have_ms, have_rd, have_wr, have_tot;
} launch;

typedef struct {
    rl_ncu_launch *v;
    int n, cap;
} launch_list;

/* Keeps one assembled launch (in file order). */
static int keep_launch(launch_list *a, const launch *l, rl_err *err)
{
    if (!l->kernel[0]) return 0;
    if (a->n == a->cap) {
        int c = a->cap ? 2 * a->cap : 64;
        rl_ncu_launch *v = realloc(a->v, sizeof *v * (size_t)c);
        if (!v) return rl_fail(err, "out of memory");
        a->v = v, a->cap = c;
    }
    rl_ncu_launch *o = &a->v[a->n++];
    memset(o, 0, sizeof *o);
    snprintf(o->id, sizeof o->id, "%s", l->id);
    snprintf(o->kernel, sizeof o->kernel, "%s", l->kernel);
    o->ms = l->have_ms ? l->ms : -1;
    o->dram_bytes = l->have_tot ? l->tot : (l->have_rd || l->have_wr) ? l->rd + l->wr : -1;
    return 0;
}

static void put_metric(launch *l, const char *name, const char *unit, const char *value)
{
    metric_kind k = classify(name);
    double v, s;
    if (k == M_NONE || parse_value(value, &v)) return;
    if (k == M_TIME) {
        if (!(s = time_scale_ms(unit))) return;
        l->ms = v * s, l->have_ms = 1;
        return;
    }
    if (!(s = byte_scale(unit))) return;
    if (k == M_READ) l->rd = v * s, l->have_rd = 1;
    else if (k == M_WRITE) l->wr = v * s, l->have_wr = 1;
    else l->tot = v * s, l->have_tot = 1;
}

static int col_of(char **f, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(f[i], name)) return i;
    return -1;
}

/* Case-insensitive substring test. */
static int contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n < 3) return 0;
    for (const char *h = hay; *h; h++)
        if (!strncasecmp(h, needle, n)) return 1;
    return 0;
}

/* The function name of a demangled kernel: "void rope_kv_kernel<32>(...)" -> "rope_kv" (the return
 * type, template arguments, parameters and a "_kernel" suffix dropped). */
static void base_name(const char *full, char *out, size_t n)
{
    const char *p = full;
    if (!strncmp(p, "void ", 5)) p += 5;
    size_t len = strcspn(p, "<(");
    if (len >= n) len = n - 1;
    memcpy(out, p, len);
    out[len] = 0;
    size_t l = strlen(out);
    if (l > 7 && !strcmp(out + l - 7, "_kernel")) out[l - 7] = 0;
}

/* cuBLAS / CUTLASS kernels carry the library's names (nvjet_..., ..._gemm_..., cutlass_...). */
static int library_gemm(const char *full)
{
    return !strncmp(full, "nvjet", 5) || contains_ci(full, "gemm") || contains_ci(full, "cutlass") ||
           contains_ci(full, "xmma");
}

/* Our kernel that an ncu kernel is: the longest of our names it contains; else ours that starts
 * with its function name ("rope_kv_kernel" -> "rope_kv_write"); else, for a library GEMM, ours
 * that wraps the library ("cublaslt_gemm"). "" when none. */
static void match_ours(const rl_results *res, const char *full, char *ours, size_t n)
{
    size_t best = 0;
    ours[0] = 0;
    for (int k = 0; k < res->n_kernels; k++) {
        size_t l = strlen(res->kernels[k].kernel);
        if (l > best && contains_ci(full, res->kernels[k].kernel)) {
            snprintf(ours, n, "%s", res->kernels[k].kernel);
            best = l;
        }
    }
    if (ours[0]) return;
    char base[160];
    base_name(full, base, sizeof base);
    for (int k = 0; k < res->n_kernels && strlen(base) >= 3; k++)
        if (!strncasecmp(res->kernels[k].kernel, base, strlen(base))) {
            snprintf(ours, n, "%s", res->kernels[k].kernel);
            return;
        }
    if (!library_gemm(full)) return;
    for (int k = 0; k < res->n_kernels; k++)
        if (contains_ci(res->kernels[k].kernel, "cublas") || contains_ci(res->kernels[k].kernel, "gemm")) {
            snprintf(ours, n, "%s", res->kernels[k].kernel);
            return;
        }
}

int rl_ncu_read_launches(const char *path, rl_ncu_launch **out, int *n_out, rl_err *err)
{
    char *text = rl_read_file(path, NULL, err);
    if (!text) return -1;
    launch_list a = {0};
    *out = NULL;
    *n_out = 0;
    launch cur;
    memset(&cur, 0, sizeof cur);
    char *fields[MAX_FIELDS];
    int header = 0, longfmt = 0, c_id = -1, c_kernel = -1, c_name = -1, c_unit = -1, c_value = -1, ncols = 0;
    char hdr_names[MAX_FIELDS][64];
    char units[MAX_FIELDS][24];
    memset(units, 0, sizeof units);
    int rc = 0, lineno = 0, rows = 0;
    for (char *line = text; line && *line && !rc; lineno++) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = 0;
        char *next = nl ? nl + 1 : NULL;
        if (!strncmp(line, "==", 2) || !*line || *line == '\r') {
            line = next;
            continue;
        }
        int n = rl_csv_split(line, fields, MAX_FIELDS);
        if (n > MAX_FIELDS) n = MAX_FIELDS; /* columns past the ones we know are ignored */
        if (!header) {
            c_kernel = col_of(fields, n, "Kernel Name");
            if (c_kernel < 0) {
                line = next;
                continue;
            }
            header = 1;
            c_id = col_of(fields, n, "ID");
            c_name = col_of(fields, n, "Metric Name");
            c_unit = col_of(fields, n, "Metric Unit");
            c_value = col_of(fields, n, "Metric Value");
            longfmt = c_name >= 0 && c_value >= 0;
            ncols = n;
            for (int i = 0; i < n; i++) snprintf(hdr_names[i], sizeof hdr_names[i], "%s", fields[i]);
            line = next;
            continue;
        }
        if (longfmt) {
            if (n <= c_kernel || n <= c_name || n <= c_value) {
                rc = rl_fail(err, "%s:%d: %d fields, the header has %d", path, lineno + 1, n, ncols);
                break;
            }
            const char *id = c_id >= 0 ? fields[c_id] : "";
            /* A new launch starts when the ID (or, without IDs, the kernel name) changes. */
            if (strcmp(cur.id, id) || (c_id < 0 && strcmp(cur.kernel, fields[c_kernel]))) {
                rc = keep_launch(&a, &cur, err);
                memset(&cur, 0, sizeof cur);
                snprintf(cur.id, sizeof cur.id, "%s", id);
                snprintf(cur.kernel, sizeof cur.kernel, "%s", fields[c_kernel]);
            }
            put_metric(&cur, fields[c_name], c_unit >= 0 && n > c_unit ? fields[c_unit] : "", fields[c_value]);
            rows++;
        } else {
            if (n < ncols) {
                rc = rl_fail(err, "%s:%d: %d fields, the header has %d", path, lineno + 1, n, ncols);
                break;
            }
            /* The raw page's second row holds units and an empty ID / kernel name. */
            if (rows == 0 && !fields[c_kernel][0]) {
                for (int i = 0; i < n && i < MAX_FIELDS; i++) snprintf(units[i], sizeof units[i], "%s", fields[i]);
                line = next;
                continue;
            }
            launch l;
            memset(&l, 0, sizeof l);
            snprintf(l.id, sizeof l.id, "%s", c_id >= 0 ? fields[c_id] : "");
            snprintf(l.kernel, sizeof l.kernel, "%s", fields[c_kernel]);
            for (int i = 0; i < ncols; i++) put_metric(&l, hdr_names[i], units[i], fields[i]);
            rc = keep_launch(&a, &l, err);
            rows++;
        }
        line = next;
    }
    if (!rc && longfmt) rc = keep_launch(&a, &cur, err);
    if (!rc && !header)
        rc = rl_fail(err, "%s: no CSV header with a \"Kernel Name\" column (export with ncu --csv)", path);
    else if (!rc && a.n == 0) rc = rl_fail(err, "%s: no kernel launches in the CSV", path);
    free(text);
    if (rc) {
        free(a.v);
        return -1;
    }
    *out = a.v;
    *n_out = a.n;
    return 0;
}

/* The per-kernel rows need each launch's time (ncu-check's counters CSV does without). */
static int launch_timed(const rl_ncu_launch *l, rl_err *err)
{
    return l->ms < 0 ? rl_fail(err, "launch %s (%s) has no gpu__time_duration.sum", l->id, l->kernel) : 0;
}

/* Launches summed per kernel name. */
static int add_row(rl_ncu_row **rows, int *n, const rl_ncu_launch *l, rl_err *err)
{
    if (launch_timed(l, err)) return -1;
    int j = 0;
    while (j < *n && strcmp((*rows)[j].kernel, l->kernel)) j++;
    if (j == *n) {
        rl_ncu_row *g = realloc(*rows, sizeof *g * (size_t)(*n + 1));
        if (!g) return rl_fail(err, "out of memory");
        *rows = g;
        memset(&g[j], 0, sizeof g[j]);
        snprintf(g[j].kernel, sizeof g[j].kernel, "%s", l->kernel);
        (*n)++;
    }
    rl_ncu_row *r = &(*rows)[j];
    if (r->calls == 0) r->dram_bytes = l->dram_bytes;
    else if (l->dram_bytes < 0 || r->dram_bytes < 0) r->dram_bytes = -1;
    else r->dram_bytes += l->dram_bytes;
    r->calls++;
    r->ms += l->ms;
    return 0;
}

int rl_ncu_check(const char *path, rl_err *err)
{
    rl_ncu_launch *v = NULL;
    int n = 0;
    int rc = rl_ncu_read_launches(path, &v, &n, err);
    for (int i = 0; !rc && i < n; i++) rc = launch_timed(&v[i], err); /* what rl_ncu_import will need */
    free(v);
    return rc ? rl_wrap(err, "--ncu-csv %s", path) : 0;
}

int rl_ncu_import(const char *path, rl_results *res, rl_err *err)
{
    rl_ncu_launch *v = NULL;
    rl_ncu_row *rows = NULL;
    int n = 0, nr = 0, rc = rl_ncu_read_launches(path, &v, &n, err);
    for (int i = 0; !rc && i < n; i++) rc = add_row(&rows, &nr, &v[i], err);
    if (rc) {
        rl_wrap(err, "--ncu-csv %s", path);
    } else {
        for (int i = 0; i < nr && !rc; i++) {
            match_ours(res, rows[i].kernel, rows[i].ours, sizeof rows[i].ours);
            rc = rl_results_add_ncu(res, &rows[i], err);
        }
    }
    free(rows);
    free(v);
    return rc;
}
