/* test_report.c: the report from committed fixtures: the violation rule on hand-computed cases,
 * the seed CSV's impossible points (exactly those), merging rows from several files, predicted
 * rows, failed points, error messages naming file and line, the transition fit, the files
 * rl_report_render writes (PNG decoded down to its pixel rows where zlib can be loaded), the decode
 * context sweep's table and the kernel choices. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/util.h"
#include "report/report.h"
#include "report/report_model.h"

static const char *data_dir;

static void path_of(char *out, size_t n, const char *rel) { snprintf(out, n, "%s/%s", data_dir, rel); }

static void make_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/rl_test_report_XXXXXX");
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(1);
    }
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[4200];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            remove(p);
        }
    closedir(d);
    rmdir(dir);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputs(text, f);
    fclose(f);
}

/* Loads results files and CSVs, derives and checks; returns 0 or -1 with err. */
static int build(rl_report_data *d, const char *const *results, int nr, const char *const *csvs, int nc, rl_err *err)
{
    if (rl_report_data_init(d, NULL, err)) return -1;
    for (int i = 0; i < nr; i++)
        if (rl_report_load_results(d, results[i], err)) return -1;
    for (int i = 0; i < nc; i++)
        if (rl_report_load_csv(d, csvs[i], err)) return -1;
    if (rl_report_derive(d, err)) return -1;
    return rl_report_find_violations(d, err);
}

static const rl_report_run *find_run(const rl_report_data *d, const char *label)
{
    for (int i = 0; i < d->n_runs; i++)
        if (!strcmp(d->runs[i].label, label)) return &d->runs[i];
    return NULL;
}

/* ---- the rule ------------------------------------------------------------------------------ */

static void test_floor_rule(void)
{
    /* 1e12 FLOPs at 100 TFLOP/s = 10 ms; 1e9 bytes at 1000 GB/s = 1 ms: compute-limited, 10 ms. */
    CHECK_REL(rl_report_floor_ms(1e12, 1e9, 100, 1000), 10.0, 1e-12, "compute floor");
    /* 1e10 bytes at 1000 GB/s = 10 ms beats 1e11 FLOPs at 100 TFLOP/s = 1 ms. */
    CHECK_REL(rl_report_floor_ms(1e11, 1e10, 100, 1000), 10.0, 1e-12, "memory floor");
    /* H100 datasheet, Llama-3.1-8B prefill L=4096: 6.163e13 FLOPs / 989e12 = 62.32 ms. */
    CHECK_REL(rl_report_floor_ms(6.1634e13, 5.749e10, 989, 3350), 62.32, 1e-3, "seed-size prefill floor");
    CHECK(!rl_report_is_violation(10.0, 10.0), "a point exactly at the floor is possible");
    double f = rl_report_floor_ms(1.2345e13, 4.2e10, 989, 3350);
    CHECK(!rl_report_is_violation(f, f), "exactly at a computed floor is possible");
    CHECK(rl_report_is_violation(0.99 * f, f), "1%% under the floor is a violation");
    CHECK(!rl_report_is_violation(1.01 * f, f), "1%% over the floor is fine");
}

/* A CSV whose points sit exactly at, and 1% under, their floors on H100 (datasheet). */
static void test_fake_points_at_floor(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);
    rl_cost pre, dec;
    rl_workload wp = rl_workload_prefill(1, 4096), wd = rl_workload_decode(64, 160);
    rl_cost_step(&m, &wp, &pre);
    rl_cost_step(&m, &wd, &dec);
    double fp = rl_report_floor_ms(pre.total_flops, pre.total_bytes, 989, 3350);
    double fd = rl_report_floor_ms(dec.total_flops, dec.total_bytes, 989, 3350);
    CHECK_REL(fp, 62.32, 1e-3, "prefill 4096 floor (compute: FLOPs / 989 TFLOP/s)");
    CHECK_REL(fd, 17.08e9 / 3350e9 * 1e3, 1e-3, "decode B=64 floor (memory: 17.08 GB / 3.35 TB/s)");

    char dir[64], csv[128], text[512];
    make_tmpdir(dir, sizeof dir);
    snprintf(csv, sizeof csv, "%s/fake.csv", dir);
    snprintf(text, sizeof text,
             "sweep,gpu,x,ms\nprefill,H100,4096,%.17g\nprefill,H100,2048,1e9\ndecode,H100,64,%.17g\n"
             "prefill,H200,4096,%.17g\ndecode,H200,64,%.17g\n",
             fp, fd, 0.99 * fp, 0.99 * rl_report_floor_ms(dec.total_flops, dec.total_bytes, 989, 4800));
    write_text(csv, text);
    rl_report_data d;
    const char *csvs[] = {csv};
    CHECK(build(&d, NULL, 0, csvs, 1, &err) == 0, "%s", err.msg);
    CHECK(d.n_violations == 2, "exactly the two 1%%-under points: got %d", d.n_violations);
    for (int i = 0; i < d.n_violations; i++) {
        CHECK(!strcmp(d.violations[i].gpu, "H200"), "violation on H200, got %s", d.violations[i].gpu);
        CHECK(d.violations[i].ms < d.violations[i].floor_ms, "ms below floor");
    }
    const rl_report_run *h100 = find_run(&d, "H100 (imported)");
    CHECK(h100 != NULL, "H100 imported row");
    for (int i = 0; h100 && i < h100->n_points; i++) CHECK(!h100->points[i].violation, "H100 at floor is possible");
    rl_report_data_free(&d);
    remove_dir(dir);
}

/* ---- the seed's table ---------------------------------------------------------------------- */

static void test_seed_violations(void)
{
    /* Hand-checked: prefill FLOPs (cost model, batch 1) 7.219e12 (L=512), 1.458e13 (1024),
     * 2.971e13 (2048), 6.163e13 (4096); floors = FLOPs / peak where compute-limited. Decode
     * points all sit above their per-step floors (L40S B=512: 36.6 ms floor vs 81.53). L40S L=512
     * is close but possible (bytes floor 23.52 ms vs 25.06), H200 L=512 too (7.30 vs 7.47). */
    struct { const char *gpu; int64_t x; double ms, floor_ms; } want[] = {
        {"H200", 1024, 8.56, 14.739},     {"H200", 2048, 9.72, 30.038},      {"H200", 4096, 12.14, 62.320},
        {"H100", 1024, 10.40, 14.739},    {"H100", 2048, 12.29, 30.038},     {"H100", 4096, 14.86, 62.320},
        {"A100-PCIe", 512, 14.05, 23.139}, {"A100-PCIe", 1024, 14.88, 46.720}, {"A100-PCIe", 2048, 16.40, 95.216},
        {"A100-PCIe", 4096, 19.88, 197.547}, {"L40S", 1024, 26.09, 40.267},    {"L40S", 2048, 27.74, 82.065},
        {"L40S", 4096, 30.34, 170.261},
    };
    const int n_want = (int)(sizeof want / sizeof want[0]);
    char csv[1024];
    path_of(csv, sizeof csv, "seed_measurements.csv");
    const char *csvs[] = {csv};
    rl_report_data d;
    rl_err err;
    CHECK(build(&d, NULL, 0, csvs, 1, &err) == 0, "%s", err.msg);
    CHECK(d.n_violations == n_want, "seed CSV: %d violations, want %d", d.n_violations, n_want);
    for (int i = 0; i < n_want; i++) {
        int found = 0;
        for (int j = 0; j < d.n_violations; j++) {
            const rl_report_violation *v = &d.violations[j];
            if (strcmp(v->gpu, want[i].gpu) || v->x != want[i].x || v->sweep != RL_PHASE_PREFILL) continue;
            found = 1;
            CHECK_REL(v->ms, want[i].ms, 1e-9, "violation ms");
            CHECK_REL(v->floor_ms, want[i].floor_ms, 1e-3, "violation floor");
            CHECK(strstr(v->reason, "FLOPs need") && strstr(v->reason, "TFLOP/s") && strstr(v->reason, "prefix"),
                  "reason names FLOPs, the peak and the likely cause: %s", v->reason);
        }
        CHECK(found, "expected violation %s prefill L=%lld", want[i].gpu, (long long)want[i].x);
    }
    for (int j = 0; j < d.n_violations; j++)
        CHECK(d.violations[j].sweep == RL_PHASE_PREFILL, "no seed decode point is impossible (got %s B=%lld)",
              d.violations[j].gpu, (long long)d.violations[j].x);
    /* Imported decode values stay seed-style: never presented as a per-step time. */
    const rl_report_run *h100 = find_run(&d, "H100 (imported)");
    CHECK(h100 && h100->n_points == 14, "14 H100 seed points");
    for (int i = 0; h100 && i < h100->n_points; i++)
        if (h100->points[i].sweep == RL_PHASE_DECODE)
            CHECK(isnan(h100->points[i].ms) && h100->points[i].seed_ms_per_token > 0, "imported decode is seed-style");
    /* Without any results file, each seed GPU also gets a predicted row. */
    const char *pred[] = {"H200 (predicted)", "H100 (predicted)", "A100-PCIe (predicted)", "L40S (predicted)"};
    for (int i = 0; i < 4; i++) CHECK(find_run(&d, pred[i]) != NULL, "row %s", pred[i]);
    rl_report_data_free(&d);
}

/* ---- merging ------------------------------------------------------------------------------- */

static void test_merge(void)
{
    char h100[1024], h200[1024], tf[1024], cpu[1024], csv[1024];
    path_of(h100, sizeof h100, "fixtures/h100_results.json");
    path_of(h200, sizeof h200, "fixtures/h200_results.json");
    path_of(tf, sizeof tf, "fixtures/h100_transformers_failed.json");
    path_of(cpu, sizeof cpu, "fixtures/cpu_tiny_results.json");
    path_of(csv, sizeof csv, "seed_measurements.csv");
    const char *results[] = {h100, h200};
    const char *csvs[] = {csv};
    rl_report_data d;
    rl_err err;
    CHECK(build(&d, results, 2, csvs, 1, &err) == 0, "%s", err.msg);
    const char *rows[] = {"H200", "H100", "H200 (imported)", "H100 (imported)", "A100-PCIe (imported)",
                          "L40S (imported)", "A100-PCIe (predicted)", "L40S (predicted)"};
    for (int i = 0; i < 8; i++) CHECK(find_run(&d, rows[i]) != NULL, "merged report has row '%s'", rows[i]);
    CHECK(d.n_runs == 8, "8 rows (2 results, 4 imported, 2 predicted), got %d", d.n_runs);
    CHECK(find_run(&d, "H100 (predicted)") == NULL, "a measured GPU gets no predicted row");
    CHECK(!strcmp(d.runs[0].gpu, "H200") && !strcmp(d.runs[d.n_runs - 1].gpu, "L40S"), "rows in GPU table order");
    CHECK(d.n_violations == 13, "our fixtures are possible, the seed's 13 are not: got %d", d.n_violations);

    char *md = rl_report_markdown(&d, NULL, 0);
    CHECK(md != NULL, "markdown");
    if (md) {
        /* The per-step decode table: our two GPUs measured, the other two predicted (italic). */
        const char *step = strstr(md, "## Decode: ms per step (batch B)");
        const char *seed = strstr(md, "## Decode: seed-style");
        CHECK(step && seed && seed > step, "both decode tables, per-step first");
        if (step && seed) {
            char *t = strndup(step, (size_t)(seed - step));
            CHECK(strstr(t, "| H200 | 4.17 |") != NULL, "H200 measured per-step row");
            CHECK(strstr(t, "| H100 | 5.76 |") != NULL, "H100 measured per-step row");
            CHECK(strstr(t, "| A100-PCIe (predicted) | *7.77* |") != NULL, "A100-PCIe predicted row, marked");
            CHECK(strstr(t, "| L40S (predicted) | *17.41* |") != NULL, "L40S predicted row, marked");
            CHECK(strstr(t, "(imported)") == NULL, "imported seed-style values stay out of the per-step table");
            free(t);
        }
        CHECK(strstr(md, "| H100 (imported) | 8.51 | 8.76 | 9.10 | 9.77 | 10.40 ⚠ | 12.29 ⚠ | 14.86 ⚠ |") != NULL,
              "prefill row of the seed's H100 with its violations marked");
        CHECK(strstr(md, "| L40S (imported) | 22.06 |") != NULL, "seed-style table holds imported decode values");
        CHECK(strstr(md, "## Violations") && strstr(md, "## Provenance") && strstr(md, "## Telemetry") &&
                  strstr(md, "## Per-kernel roofline") && strstr(md, "## Transitions") &&
                  strstr(md, "## Theoretical vs measured decode at batch 1") &&
                  strstr(md, "## Predicted vs measured"),
              "every section");
        CHECK(strstr(md, "gemv_bf16_gate_up") != NULL, "per-kernel table lists kernels");
        CHECK(strstr(md, "570.124.06") && strstr(md, "ridgeline lab --out results/h100"), "provenance");
        free(md);
    }
    rl_report_data_free(&d);

    /* Same GPU from two engines: two rows labelled by engine; a failed point stays visible;
     * a GPU outside the table is reported but cannot be checked. */
    const char *four[] = {h100, tf, cpu, h200};
    CHECK(build(&d, four, 4, NULL, 0, &err) == 0, "%s", err.msg);
    const rl_report_run *ours = find_run(&d, "H100 (ridgeline)"), *peer = find_run(&d, "H100 (transformers)");
    CHECK(ours && peer, "H100 rows labelled by engine");
    int failed = 0;
    for (int i = 0; peer && i < peer->n_points; i++)
        if (!peer->points[i].ok) {
            failed++;
            CHECK(peer->points[i].x == 512 && strstr(peer->points[i].error, "out of GPU memory"), "failed point");
        }
    CHECK(failed == 1, "one failed point, got %d", failed);
    const rl_report_run *c = find_run(&d, "AMD EPYC 7B13 (2 threads)");
    CHECK(c && c->gpu_idx < 0 && c->have_model && c->model.hidden == 256, "CPU run with the tiny model");
    int noted = 0;
    for (int i = 0; i < d.n_notes; i++) noted |= strstr(d.notes[i], "AMD EPYC") && strstr(d.notes[i], "cannot be checked");
    CHECK(noted, "a GPU outside the table is noted as unchecked");
    md = rl_report_markdown(&d, NULL, 0);
    CHECK(md && strstr(md, "| H100 (transformers) | 16.98 | – | 17.23 | 18.00 | – | 21.09 | failed |"),
          "failed point in the per-step table");
    free(md);
    rl_report_data_free(&d);
}

/* A decode sweep and a prefill sweep of one GPU, engine and model, in two files, make one row. */
static void test_split_runs(void)
{
    char dir[64], a[128], b[128];
    make_tmpdir(dir, sizeof dir);
    snprintf(a, sizeof a, "%s/decode.json", dir);
    snprintf(b, sizeof b, "%s/prefill.json", dir);
    const char *head = "{\"schema\": \"ridgeline-results/1\", \"engine\": \"ridgeline\",\n"
                       " \"device\": {\"name\": \"NVIDIA H100 80GB HBM3\", \"backend\": \"cuda\"},\n"
                       " \"model\": {\"name\": \"llama-3.1-8b\", \"dtype\": \"bf16\"},\n";
    char text[1024];
    snprintf(text, sizeof text, "%s \"tool\": {\"command\": \"sweep --decode\"},\n \"points\": [\n"
             "  {\"sweep\": \"decode\", \"x\": 1, \"ms\": 5.8}, {\"sweep\": \"decode\", \"x\": 64, \"ms\": 6.6}]}\n", head);
    write_text(a, text);
    snprintf(text, sizeof text, "%s \"tool\": {\"command\": \"sweep --prefill\"},\n \"points\": [\n"
             "  {\"sweep\": \"prefill\", \"x\": 512, \"ms\": 9.0}]}\n", head);
    write_text(b, text);
    const char *results[] = {a, b};
    rl_report_data d;
    rl_err err;
    CHECK(build(&d, results, 2, NULL, 0, &err) == 0, "%s", err.msg);
    const rl_report_run *r = find_run(&d, "H100");
    CHECK(r && r->n_points == 3, "one H100 row with both sweeps (%d points)", r ? r->n_points : -1);
    CHECK(r && strstr(r->path, "decode.json + ") && strstr(r->command, "sweep --decode; sweep --prefill"),
          "both files in its provenance");
    CHECK(find_run(&d, "H100 (ridgeline #2)") == NULL, "no second row");
    rl_report_data_free(&d);
    /* The same point twice is two measurements: two rows. */
    const char *twice[] = {a, a};
    CHECK(build(&d, twice, 2, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(find_run(&d, "H100 (ridgeline #1)") && find_run(&d, "H100 (ridgeline #2)"), "overlapping files stay apart");
    rl_report_data_free(&d);
    remove_dir(dir);
}

/* ---- errors -------------------------------------------------------------------------------- */

static void expect_error(const char *rel, int is_csv, const char *needle)
{
    char p[1024];
    path_of(p, sizeof p, rel);
    rl_report_data d;
    rl_err err = {""};
    CHECK(rl_report_data_init(&d, NULL, &err) == 0, "%s", err.msg);
    int rc = is_csv ? rl_report_load_csv(&d, p, &err) : rl_report_load_results(&d, p, &err);
    CHECK(rc == -1, "%s must fail", rel);
    CHECK(strstr(err.msg, needle) != NULL, "%s: message '%s' should contain '%s'", rel, err.msg, needle);
    CHECK(strchr(err.msg, '\n') == NULL, "one line: %s", err.msg);
    CHECK(d.n_runs == 0, "a failed load leaves no partial row");
    rl_report_data_free(&d);
}

static void test_errors(void)
{
    expect_error("fixtures/missing.json", 0, "fixtures/missing.json: cannot open");
    expect_error("fixtures/bad_truncated.json", 0, "bad_truncated.json:36:3: malformed JSON");
    expect_error("fixtures/bad_no_points.json", 0, "field 'points'");
    expect_error("fixtures/bad_point_type.json", 0, "points[1]: field 'x' must be a number");
    expect_error("fixtures/bad_row.csv", 1, "bad_row.csv:5: ms");
    expect_error("fixtures/bad_fields.csv", 1, "bad_fields.csv:3: expected 4 comma-separated fields");
    expect_error("fixtures/missing.csv", 1, "fixtures/missing.csv: cannot open");
    expect_error("fixtures/h100_results.json", 1, "h100_results.json:1: expected the header");
}

/* ---- transition fit ------------------------------------------------------------------------ */

static void test_fit(void)
{
    double x[] = {1, 4, 16, 64, 128, 256, 512}, y[7], a, s;
    for (int i = 0; i < 7; i++) y[i] = 5.0 * (x[i] > 100 ? x[i] / 100 : 1); /* roofline turning at 100 */
    double k = rl_report_fit_transition(x, y, 7, &a, &s);
    CHECK(fabs(k - 100) < 2, "transition of max(5, 0.05 x): %g", k);
    CHECK(fabs(a - 5) < 0.05, "floor %g", a);
    for (int i = 0; i < 7; i++) y[i] = 7.0 * (1 + (i % 2 ? 0.004 : -0.004)); /* flat, with 0.4% noise */
    k = rl_report_fit_transition(x, y, 7, &a, &s);
    CHECK(k > 512, "a flat curve has no transition inside the range: %g", k);
    CHECK(isnan(rl_report_fit_transition(x, y, 2, &a, &s)), "two points are not a fit");
}

/* ---- files and the PNG --------------------------------------------------------------------- */

static uint32_t be32(const unsigned char *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static uint32_t crc32_png(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xffffffffu;
}

/* Signature, IHDR size, every chunk's CRC, IEND; then the image data inflated with the system's
 * zlib (loaded at run time so the test links nothing new) must hold exactly height rows. */
static void check_png(const char *path, int want_w, int want_h)
{
    size_t n = 0;
    rl_err err;
    unsigned char *b = (unsigned char *)rl_read_file(path, &n, &err);
    CHECK(b != NULL, "%s", err.msg);
    if (!b) return;
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    CHECK(n > 33 && !memcmp(b, sig, 8), "%s: PNG signature", path);
    CHECK(n > 33 && !memcmp(b + 12, "IHDR", 4), "%s: IHDR first", path);
    uint32_t w = n > 33 ? be32(b + 16) : 0, h = n > 33 ? be32(b + 20) : 0;
    CHECK(w > 0 && h > 0, "%s: IHDR %ux%u", path, w, h);
    CHECK((int)w == want_w && (int)h == want_h, "%s: %ux%u, want %dx%d", path, w, h, want_w, want_h);
    int depth = b[24], ctype = b[25];
    unsigned char *idat = malloc(n);
    size_t idat_n = 0, off = 8;
    int iend = 0, crc_ok = 1;
    while (off + 12 <= n && idat) {
        uint32_t len = be32(b + off);
        if (off + 12 + len > n) break;
        if (crc32_png(b + off + 4, len + 4) != be32(b + off + 8 + len)) crc_ok = 0;
        if (!memcmp(b + off + 4, "IDAT", 4)) {
            memcpy(idat + idat_n, b + off + 8, len);
            idat_n += len;
        }
        if (!memcmp(b + off + 4, "IEND", 4)) iend = 1;
        off += 12 + len;
    }
    CHECK(crc_ok, "%s: every chunk CRC matches", path);
    CHECK(iend && off == n, "%s: ends with IEND", path);
    void *z = dlopen("libz.so.1", RTLD_NOW);
    if (!z) {
        printf("note: libz.so.1 not found; %s checked to chunk level only\n", path);
    } else {
        int (*uncompress_fn)(unsigned char *, unsigned long *, const unsigned char *, unsigned long) =
            (int (*)(unsigned char *, unsigned long *, const unsigned char *, unsigned long))dlsym(z, "uncompress");
        int channels = ctype == 2 ? 3 : ctype == 6 ? 4 : ctype == 4 ? 2 : 1;
        unsigned long bits = (unsigned long)w * (unsigned long)channels * (unsigned long)depth;
        unsigned long want = (unsigned long)h * (1 + (bits + 7) / 8); /* a filter byte per row */
        unsigned long got = want + 16;
        unsigned char *pix = malloc(got);
        int zrc = uncompress_fn && pix ? uncompress_fn(pix, &got, idat, idat_n) : -99;
        CHECK(zrc == 0 && got == want, "%s: image data inflates to %lu bytes (got %lu, zlib %d)", path, want, got, zrc);
        int filters_ok = 1;
        for (unsigned long r = 0; zrc == 0 && r < h; r++) filters_ok &= pix[r * (want / h)] <= 4;
        CHECK(filters_ok, "%s: every row has a valid filter type", path);
        free(pix);
        dlclose(z);
    }
    free(idat);
    free(b);
}

static long file_size(const char *dir, const char *name)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static int have_gnuplot(void)
{
    const char *path = getenv("PATH");
    char buf[4096], exe[4200];
    snprintf(buf, sizeof buf, "%s", path ? path : "");
    for (char *dir = strtok(buf, ":"); dir; dir = strtok(NULL, ":")) {
        snprintf(exe, sizeof exe, "%s/gnuplot", dir);
        if (access(exe, X_OK) == 0) return 1;
    }
    return 0;
}

static void test_render(void)
{
    char h100[1024], h200[1024], csv[1024], dir[64], out[128];
    path_of(h100, sizeof h100, "fixtures/h100_results.json");
    path_of(h200, sizeof h200, "fixtures/h200_results.json");
    path_of(csv, sizeof csv, "seed_measurements.csv");
    make_tmpdir(dir, sizeof dir);
    snprintf(out, sizeof out, "%s/out", dir); /* render creates it */
    const char *results[] = {h100, h200};
    const char *csvs[] = {csv};
    rl_report_opts o = {results, 2, csvs, 1, out, NULL, 1, 0};
    rl_err err;
    CHECK(rl_report_render(&o, &err) == 0, "%s", err.msg);
    CHECK(file_size(out, "report.md") > 1000, "report.md written");
    CHECK(file_size(out, "report.json") > 1000, "report.json written");
    char p[4200];
    snprintf(p, sizeof p, "%s/report.json", out);
    cJSON *j = rl_json_load(p, &err);
    CHECK(j != NULL, "%s", err.msg);
    const cJSON *v = j ? cJSON_GetObjectItemCaseSensitive(j, "violations") : NULL;
    CHECK(cJSON_GetArraySize(v) == 13, "report.json holds 13 violations");
    const cJSON *first = cJSON_GetArrayItem(v, 0);
    const char *keys[] = {"gpu", "sweep", "x", "ms", "floor_ms", "reason"};
    for (int i = 0; i < 6; i++) CHECK(cJSON_GetObjectItemCaseSensitive(first, keys[i]), "violation has '%s'", keys[i]);
    cJSON_Delete(j);
    if (have_gnuplot()) {
        const char *charts[] = {"figure1.svg", "figure1.png", "figure1.gp", "roofline.svg", "roofline.png", "roofline.gp"};
        for (int i = 0; i < 6; i++) CHECK(file_size(out, charts[i]) > 1000, "%s written", charts[i]);
        snprintf(p, sizeof p, "%s/figure1.png", out);
        check_png(p, 1280, 540);
        snprintf(p, sizeof p, "%s/roofline.png", out);
        check_png(p, 1280, 720);
        snprintf(p, sizeof p, "%s/report.md", out);
        char *md = rl_read_file(p, NULL, &err);
        CHECK(md && strstr(md, "![figure1.png](figure1.png)"), "report.md embeds the charts");
        free(md);
    } else {
        printf("note: gnuplot not on PATH; chart checks skipped (cli_report.sh checks the message)\n");
        CHECK(file_size(out, "figure1.png") < 0, "no chart without gnuplot");
    }
    remove_dir(out);
    remove_dir(dir);
}

/* The lab's new figures in the report: a profile's timing and its rows against the step, the
 * latency roof in the per-kernel table and on the roofline, estimated_ms and the gap split, the
 * counters check beside the results, the seed rows in their own chart. */
static void test_latency_profile_ncu(void)
{
    char src[1024], dir[64], res[128], ncu[128], out[160], csv[1024], p[4200];
    rl_err err;
    path_of(src, sizeof src, "fixtures/h200_results.json");
    path_of(csv, sizeof csv, "seed_measurements.csv");
    make_tmpdir(dir, sizeof dir);
    snprintf(res, sizeof res, "%s/results.json", dir);
    snprintf(ncu, sizeof ncu, "%s/ncu-check.json", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    cJSON *j = rl_json_load(src, &err);
    CHECK(j != NULL, "%s", err.msg);
    if (!j) return;
    cJSON_AddNumberToObject(cJSON_GetObjectItem(j, "roofs"), "kernel_min_us", 1.9);
    cJSON *pr = cJSON_AddArrayToObject(j, "profiles"), *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "phase", "decode");
    cJSON_AddNumberToObject(e, "x", 1);
    cJSON_AddStringToObject(e, "timing", "cupti");
    cJSON_AddNumberToObject(e, "kernels_ms", 4.39);
    cJSON_AddNumberToObject(e, "step_ms", 4.42);
    cJSON_AddNumberToObject(e, "steps", 4);
    cJSON_AddItemToArray(pr, e);
    cJSON *p0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "points"), 0); /* decode B=1, 4.17 ms */
    cJSON_AddNumberToObject(p0, "estimated_ms", 3.90);
    CHECK(rl_json_save(res, j, &err) == 0, "%s", err.msg);
    cJSON_Delete(j);
    write_text(ncu, "{\"device\": \"NVIDIA H200\", \"commit\": \"x\", \"command\": \"ncu --clock-control none ...\",\n"
                    " \"cases\": [{\"phase\": \"decode\", \"x\": 1, \"model_bytes\": 15.04e9, \"dram_bytes\": 15.1e9,\n"
                    "   \"ops\": [{\"op\": \"qkv_proj\", \"model_bytes\": 1.611e9, \"dram_bytes\": 1.62e9}]}]}\n");
    const char *results[] = {res};
    const char *csvs[] = {csv};
    rl_report_opts o = {results, 1, csvs, 1, out, NULL, 1, 0};
    CHECK(rl_report_render(&o, &err) == 0, "%s", err.msg);
    snprintf(p, sizeof p, "%s/report.md", out);
    char *md = rl_read_file(p, NULL, &err);
    CHECK(md != NULL, "%s", err.msg);
    if (md) {
        CHECK(strstr(md, "Timed with CUPTI activity records of the real step") && strstr(md, "(-0.7%)"),
              "the profile's timing and its rows against the step");
        CHECK(strstr(md, "latency roof t_min = 1.90 us"), "t_min stated");
        CHECK(strstr(md, "| rmsnorm_bf16 | attn_norm+ffn_norm+final_norm | 65 |") &&
                  strstr(md, "(at the latency roof) | latency |"),
              "a 65-call RMSNorm of 1.98 us each reads as at the latency roof");
        CHECK(strstr(md, "| 3.90 | -6.4% | latency 0.41 (61%), kernels 0.266 (39%) |"), "estimated_ms, its error and the gap split");
        CHECK(strstr(md, "## Bytes: the cost model against the DRAM counters") &&
                  strstr(md, "| H200 | decode B=1 | 15.040 | 15.100 | 0.4% |") && strstr(md, "| qkv_proj | 1611.00 / 1620.00 |"),
              "the counters check beside the results");
        if (have_gnuplot()) {
            CHECK(strstr(md, "![seed.png](seed.png)") != NULL, "the seed's rows in their own chart");
            snprintf(p, sizeof p, "%s/roofline.gp", out);
            char *gp = rl_read_file(p, NULL, &err);
            CHECK(gp && strstr(gp, "with vectors nohead") && strstr(gp, "\"gate_up_proj\"") &&
                      strstr(gp, "with labels left") && !strstr(gp, "imported"),
                  "roofline: latency bars, kernels labelled by their ops, no imported rows");
            free(gp);
            CHECK(file_size(out, "seed.png") > 1000, "seed.png rendered");
        }
        free(md);
    }
    remove_dir(out);
    remove_dir(dir);
}

/* The decode context sweep: its own table with the model's attention share growing with the context,
 * a skipped point with its reason, none of it in the batch sweep's table, fit or batch-1 floor; the
 * kernel choices table; and the text when a file has neither. */
static void add_context_point(cJSON *pts, int64_t B, int64_t C, double ms, const char *error)
{
    cJSON *p = cJSON_CreateObject();
    cJSON_AddStringToObject(p, "sweep", "decode");
    cJSON_AddNumberToObject(p, "x", (double)B);
    cJSON_AddNumberToObject(p, "context", (double)C);
    cJSON_AddNumberToObject(p, "input_len", (double)(C - 32));
    cJSON_AddNumberToObject(p, "output_len", 64);
    cJSON_AddBoolToObject(p, "context_sweep", 1);
    if (error) {
        cJSON_AddStringToObject(p, "status", "failed");
        cJSON_AddStringToObject(p, "error", error);
    } else {
        cJSON_AddStringToObject(p, "status", "ok");
        cJSON_AddNumberToObject(p, "ms", ms);
        cJSON_AddNumberToObject(p, "p10", ms * 0.99);
        cJSON_AddNumberToObject(p, "p90", ms * 1.01);
    }
    cJSON_AddItemToArray(pts, p);
}

static void add_choice(cJSON *a, const char *op, int tokens, int n, int k, const char *kernel, double ms, double alt)
{
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "op", op);
    cJSON_AddNumberToObject(c, "tokens", tokens);
    cJSON_AddNumberToObject(c, "n", n);
    cJSON_AddNumberToObject(c, "k", k);
    cJSON_AddStringToObject(c, "kernel", kernel);
    cJSON_AddNumberToObject(c, "ms", ms);
    cJSON_AddNumberToObject(c, "alt_ms", alt);
    cJSON_AddItemToArray(a, c);
}

static void test_context_sweep(void)
{
    char src[1024], dir[64], res[128];
    rl_err err;
    path_of(src, sizeof src, "fixtures/h200_results.json");
    make_tmpdir(dir, sizeof dir);
    snprintf(res, sizeof res, "%s/results.json", dir);
    cJSON *j = rl_json_load(src, &err);
    CHECK(j != NULL, "%s", err.msg);
    if (!j) return;
    cJSON *pts = cJSON_GetObjectItem(j, "points");
    add_context_point(pts, 1, 1024, 4.30, NULL);
    add_context_point(pts, 1, 32768, 5.60, NULL);
    add_context_point(pts, 64, 32768, 0, "cuda engine: out of GPU memory: the plan needs 291.00 GB");
    cJSON *kc = cJSON_AddArrayToObject(j, "kernel_choices");
    add_choice(kc, "qkv_proj", 1, 6144, 4096, "gemm_stream", 0.0523, 0.0611);
    add_choice(kc, "lm_head", 64, 128256, 4096, "cublaslt", 0.301, -1);
    CHECK(rl_json_save(res, j, &err) == 0, "%s", err.msg);
    cJSON_Delete(j);

    rl_report_data plain, ctx;
    const char *orig[] = {src}, *with[] = {res};
    CHECK(build(&plain, orig, 1, NULL, 0, &err) == 0, "%s", err.msg);
    CHECK(build(&ctx, with, 1, NULL, 0, &err) == 0, "%s", err.msg);
    const rl_report_run *a = find_run(&plain, "H200"), *b = find_run(&ctx, "H200");
    CHECK(a && b, "H200 rows");
    if (a && b) {
        CHECK(a->decode.measured == b->decode.measured && a->decode.floor_ms == b->decode.floor_ms,
              "the context points leave the batch sweep's transition fit alone (%g vs %g)", a->decode.measured,
              b->decode.measured);
        const rl_report_point *c1 = NULL, *c32 = NULL;
        for (int i = 0; i < b->n_points; i++) {
            const rl_report_point *p = &b->points[i];
            if (p->context_sweep && p->ok && p->context == 1024) c1 = p;
            if (p->context_sweep && p->ok && p->context == 32768) c32 = p;
        }
        CHECK(c1 && c32, "both measured context points loaded");
        if (c1 && c32) {
            /* weights 15.0 GB per step against a KV read of 1024 x 128 KiB = 0.13 GB and 32768 x 128 KiB = 4.3 GB */
            CHECK(c1->attention_share > 0.005 && c1->attention_share < 0.015, "attention share at 1024: %g",
                  c1->attention_share);
            CHECK(c32->attention_share > 0.18 && c32->attention_share < 0.26, "attention share at 32768: %g",
                  c32->attention_share);
            CHECK(c32->predicted_ms > c1->predicted_ms + 0.9, "the prediction grows with the KV read: %g vs %g",
                  c32->predicted_ms, c1->predicted_ms);
        }
        CHECK(b->res.n_choices == 2 && !strcmp(b->res.choices[1].kernel, "cublaslt") && b->res.choices[1].alt_ms < 0,
              "kernel choices read (%d)", b->res.n_choices);
    }
    char *md_a = rl_report_markdown(&plain, NULL, 0), *md_b = rl_report_markdown(&ctx, NULL, 0);
    CHECK(md_a && strstr(md_a, "No decode context sweep in these results"), "absent points: the section says so");
    CHECK(md_a && !strstr(md_a, "## Projection kernels chosen"), "no kernel choices: no section");
    if (md_b) {
        CHECK(strstr(md_b, "| H200 | 1 | 1024 | 4.30 | 4.26–4.34 |"), "the context row at 1024");
        CHECK(strstr(md_b, "| H200 | 64 | 32768 | skipped: cuda engine: out of GPU memory"), "the skipped point's reason");
        CHECK(strstr(md_b, "| decode | 1, context 32768 | 5.60 |"), "every-point table names the context");
        CHECK(strstr(md_b, "| qkv_proj | 1 | 6144 × 4096 | gemm_stream | 0.0523 | 0.0611 |") &&
                  strstr(md_b, "| lm_head | 64 | 128256 × 4096 | cublaslt | 0.301 | – |"),
              "the kernel choices table");
        /* the batch-1 floor row keeps the batch sweep's 4.17 ms, not a context point's */
        CHECK(strstr(md_b, "| ms/step |") && strstr(md_b, "| 4.17 | ms/step |"), "batch-1 row from the batch sweep");
    }
    CHECK(md_b && md_a && strlen(md_b) > strlen(md_a), "more text with the context sweep");
    free(md_a), free(md_b);
    rl_report_data_free(&plain);
    rl_report_data_free(&ctx);
    remove_dir(dir);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_floor_rule();
    test_fake_points_at_floor();
    test_seed_violations();
    test_merge();
    test_split_runs();
    test_errors();
    test_fit();
    test_render();
    test_latency_profile_ncu();
    test_context_sweep();
    return CHECK_DONE();
}
