/* report.c: `rl_report_render`: load every input, derive predictions and floors, find the
 * violations, then write report.json, the charts and report.md (in that order, so a gnuplot
 * failure still leaves the JSON and the markdown behind). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "report.h"
#include "report_model.h"

static int load_all(rl_report_data *d, const rl_report_opts *o, rl_err *err)
{
    for (int i = 0; i < o->n_results; i++)
        if (rl_report_load_results(d, o->results_paths[i], err)) return -1;
    for (int i = 0; i < o->n_csv; i++)
        if (rl_report_load_csv(d, o->csv_paths[i], err)) return -1;
    if (rl_report_derive(d, err)) return -1;
    return rl_report_find_violations(d, err);
}

static int write_markdown(const rl_report_data *d, const char *out_dir, const char *const *names, int n, rl_err *err)
{
    char *md = rl_report_markdown(d, names, n);
    if (!md) return rl_fail(err, "%s/report.md: out of memory", out_dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/report.md", out_dir);
    int rc = rl_write_file_atomic(path, md, err);
    free(md);
    return rc;
}

int rl_report_render(const rl_report_opts *o, rl_err *err)
{
    if (!o->out_dir || !o->out_dir[0]) return rl_fail(err, "report: --out DIR is required");
    if (o->n_results + o->n_csv == 0)
        return rl_fail(err, "report: give at least one results.json or --import-csv FILE");
    rl_report_data d;
    if (rl_report_data_init(&d, o->gpu_file, err)) return -1;
    int rc = load_all(&d, o, err);
    if (!rc) rc = rl_mkdirs(o->out_dir, err);
    int lock = -1;
    if (!rc && !o->holds_dir_lock && (lock = rl_dir_lock(o->out_dir, err)) < 0) rc = -1;
    char path[4200];
    snprintf(path, sizeof path, "%s/report.json", o->out_dir);
    if (!rc) rc = rl_report_write_json(&d, path, err);
    int charts = 0;
    rl_err chart_err = {""};
    int chart_rc = rc ? 0 : rl_report_charts(&d, o->out_dir, o->quiet, &charts, &chart_err);
    const char *names[8];
    const int n_charts = charts ? rl_report_chart_names(&d, names, 8) : 0;
    if (!rc) rc = write_markdown(&d, o->out_dir, names, n_charts, err);
    if (!rc && chart_rc) {
        *err = chart_err;
        rc = -1;
    }
    if (!rc && !o->quiet) {
        char list[256] = "";
        for (int i = 0; i < n_charts; i++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, ", %.*s.svg/png", (int)(strlen(names[i]) - 4), names[i]);
        }
        fprintf(stderr, "report: wrote %s/report.md, report.json%s; %d row(s), %d violation(s)\n", o->out_dir, list,
                d.n_runs, d.n_violations);
    }
    rl_report_data_free(&d);
    rl_dir_unlock(lock);
    return rc;
}
