/* test_report_tp.c: the report's tensor-parallel scaling (src/report/tp_scaling.c) on synthetic
 * results of llama-3.1-8b on an H200 at TP 1, 2 and 4 (tests/data/fixtures/tp): the series use the
 * workloads every degree measured (decode B = 1 and 64, since TP4 lacks 512; prefill L = 4096), their
 * points go by GPU count, the cost model's roofs per GPU shrink with the GPUs while the
 * communication roof appears from two, the rows are labelled by degree and not merged, the
 * all-reduce kernel row is judged on the link, and report.md, report.json and the chart carry it.
 * One TP degree alone makes no series. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/util.h"
#include "report/report.h"
#include "report/report_model.h"

static char paths[3][1024];

static int build(rl_report_data *d, int n, rl_err *err)
{
    if (rl_report_data_init(d, NULL, err)) return -1;
    for (int i = 0; i < n; i++)
        if (rl_report_load_results(d, paths[i], err)) return -1;
    return rl_report_derive(d, err);
}

static const rl_report_tp_series *series(const rl_report_data *d, rl_phase ph, int64_t x)
{
    for (int i = 0; i < d->n_tp; i++)
        if (d->tp[i].phase == ph && d->tp[i].x == x) return &d->tp[i];
    return NULL;
}

static void test_series(void)
{
    rl_report_data d;
    rl_err err;
    CHECK(build(&d, 3, &err) == 0, "%s", err.msg);
    CHECK(d.n_tp == 3, "decode B=1, B=64 and prefill L=4096: %d series", d.n_tp);
    CHECK(series(&d, RL_PHASE_DECODE, 512) == NULL, "B=512 is not measured at TP4: no series");
    const rl_report_tp_series *s = series(&d, RL_PHASE_DECODE, 1);
    CHECK(s && s->n == 3, "B=1 at three degrees");
    if (s && s->n == 3) {
        CHECK(s->pts[0].gpus == 1 && s->pts[1].gpus == 2 && s->pts[2].gpus == 4, "ascending GPU count");
        CHECK(fabs(s->pts[1].ms - (4.166 / 2 + 0.9)) < 1e-3, "TP2 measured %g", s->pts[1].ms);
        CHECK(s->pts[0].comm_ms == 0 && s->pts[1].comm_ms > 0 && s->pts[2].comm_ms > s->pts[1].comm_ms,
              "no all-reduces on one GPU, more time for them at four (%g, %g, %g)", s->pts[0].comm_ms,
              s->pts[1].comm_ms, s->pts[2].comm_ms);
        /* 64 all-reduces at the fixture's measured 11.5 us plus their bytes over 360 GB/s. */
        CHECK(fabs(s->pts[1].comm_ms - (64 * 11.5e-3 + 1e3 * 64 * 4096 * 2.0 / 360e9)) < 1e-9, "TP2 comm %g",
              s->pts[1].comm_ms);
        CHECK(s->pts[1].memory_ms < 0.6 * s->pts[0].memory_ms && s->pts[2].memory_ms < 0.6 * s->pts[1].memory_ms,
              "the weight read splits with the GPUs (%g, %g, %g)", s->pts[0].memory_ms, s->pts[1].memory_ms,
              s->pts[2].memory_ms);
        for (int i = 0; i < 3; i++)
            CHECK(s->pts[i].predicted_ms >= s->pts[i].memory_ms + s->pts[i].comm_ms - 1e-9 &&
                      s->pts[i].predicted_ms >= s->pts[i].compute_ms,
                  "predicted %g holds every roof", s->pts[i].predicted_ms);
        CHECK(s->pts[2].bound == RL_BOUND_MEMORY, "B=1 at TP4 still memory-bound on the fixture's link");
        CHECK(!strcmp(d.runs[s->pts[1].run].label, "H200 TP2"), "the row of TP2 is '%s'", d.runs[s->pts[1].run].label);
    }
    int tp_rows = 0;
    for (int i = 0; i < d.n_runs; i++) tp_rows += d.runs[i].source == RL_SRC_RESULTS;
    CHECK(tp_rows == 3, "three measured rows, one per degree (not merged): %d", tp_rows);
    /* The all-reduce kernel row: bound by the link, not by HBM. */
    int found = 0;
    for (int i = 0; i < d.n_runs; i++)
        for (int k = 0; k < d.runs[i].n_kernels; k++) {
            const rl_report_kernel *kr = &d.runs[i].kernels[k];
            if (strcmp(kr->kernel, "nccl_allreduce")) continue;
            found++;
            CHECK(!strcmp(kr->bound, "communication") && kr->roof_ms > 64 * 11.5e-3 - 1e-9,
                  "%s: allreduce row bound %s, roof %g ms", d.runs[i].label, kr->bound, kr->roof_ms);
            CHECK(!strcmp(kr->ops, "allreduce"), "its operator is allreduce (%s)", kr->ops);
        }
    CHECK(found == 2, "the TP2 and TP4 rows have an all-reduce kernel (%d)", found);
    char *md = rl_report_markdown(&d, NULL, 0);
    CHECK(md && strstr(md, "## Tensor parallel: step time vs GPUs"), "the markdown section");
    CHECK(md && strstr(md, "**H200, llama-3.1-8b, decode B=1**"), "its B=1 table");
    CHECK(md && strstr(md, "| 1 | 4.17 |"), "TP1 measured in the table");
    free(md);
    rl_report_data_free(&d);

    CHECK(build(&d, 1, &err) == 0, "%s", err.msg);
    CHECK(d.n_tp == 0, "one degree: no scaling series");
    rl_report_data_free(&d);
}

static void test_render(void)
{
    char dir[] = "/tmp/rl_test_report_tp_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    const char *p[3] = {paths[0], paths[1], paths[2]};
    rl_report_opts o = {p, 3, NULL, 0, dir, NULL, 1, .holds_dir_lock = 0};
    rl_err err;
    CHECK(rl_report_render(&o, &err) == 0, "%s", err.msg);
    char f[1200];
    snprintf(f, sizeof f, "%s/report.json", dir);
    cJSON *j = rl_json_load(f, &err);
    CHECK(j != NULL, "%s", err.msg);
    const cJSON *tp = j ? cJSON_GetObjectItemCaseSensitive(j, "tp_scaling") : NULL;
    CHECK(cJSON_GetArraySize(tp) == 3, "report.json: 3 tp_scaling series");
    const cJSON *first = cJSON_GetArrayItem(tp, 0);
    const cJSON *pts = first ? cJSON_GetObjectItemCaseSensitive(first, "points") : NULL;
    CHECK(cJSON_GetArraySize(pts) == 3, "its points by GPU count");
    const cJSON *two = cJSON_GetArrayItem(pts, 1);
    CHECK(two && cJSON_GetObjectItemCaseSensitive(two, "gpus")->valuedouble == 2 &&
              cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(two, "comm_ms")),
          "the TP2 point has comm_ms");
    cJSON_Delete(j);
    /* The chart's script is written wherever gnuplot is installed (the report skips charts without it). */
    snprintf(f, sizeof f, "%s/scaling.gp", dir);
    struct stat st;
    char gp[64];
    const int have_gnuplot = system("command -v gnuplot >/dev/null 2>&1") == 0;
    if (have_gnuplot) {
        CHECK(stat(f, &st) == 0 && st.st_size > 0, "scaling.gp written");
        size_t len = 0;
        char *text = rl_read_file(f, &len, &err);
        CHECK(text && strstr(text, "communication roof") && strstr(text, "set multiplot layout 1,3"),
              "three panels with the communication roof");
        free(text);
        snprintf(gp, sizeof gp, "scaling.png");
        snprintf(f, sizeof f, "%s/%s", dir, gp);
        CHECK(stat(f, &st) == 0 && st.st_size > 1000, "scaling.png rendered");
    } else {
        printf("gnuplot not installed: the chart is not checked\n");
    }
    DIR *dd = opendir(dir);
    for (struct dirent *e; dd && (e = readdir(dd));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(f, sizeof f, "%s/%s", dir, e->d_name);
            remove(f);
        }
    if (dd) closedir(dd);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    const char *data = argc > 1 ? argv[1] : "tests/data";
    for (int i = 0; i < 3; i++) snprintf(paths[i], sizeof paths[i], "%s/fixtures/tp/h200_tp%d.json", data, 1 << i);
    test_series();
    test_render();
    return CHECK_DONE();
}
