/* test_analyse.c: the break-point fit on synthetic curves, percentiles, prediction error, and
 * the lab analysis on a synthetic results document (transition, floor, utilisation, TFLOP/s). */
#include <math.h>
#include <string.h>

#include "analyse/analyse.h"
#include "analyse/lab_analysis.h"
#include "check.h"

/* Deterministic multiplicative noise in [1 - amp, 1 + amp]. */
static double noise(unsigned *s, double amp)
{
    *s = *s * 1103515245u + 12345u;
    return 1 + amp * (2.0 * ((*s >> 8) & 0xffff) / 65535.0 - 1);
}

static void test_fit_exact(void)
{
    /* ms = max(5, 0.02 x): the break is 250. */
    double x[] = {1, 4, 16, 64, 128, 256, 512, 1024}, y[8];
    for (int i = 0; i < 8; i++) y[i] = fmax(5.0, 0.02 * x[i]);
    rl_break_fit f;
    CHECK(rl_fit_break(x, y, 8, &f) == 0 && f.ok, "fit runs");
    CHECK(f.has_break, "a break exists");
    CHECK_REL(f.brk, 250, 0.02, "break of max(5, 0.02x)");
    CHECK_REL(f.flat, 5, 0.01, "flat level");
    CHECK_REL(f.slope, 0.02, 0.03, "slope");
    CHECK(f.rss < 1e-3, "exact data fits: rss %g", f.rss);
    CHECK(f.rss_flat > 1, "a flat line does not: %g", f.rss_flat);

    /* The prefill grid 64..4096 with a break at 400. */
    double L[] = {64, 128, 256, 512, 1024, 2048, 4096}, yl[7];
    for (int i = 0; i < 7; i++) yl[i] = fmax(4.5, 4.5 / 400 * L[i]);
    CHECK(rl_fit_break(L, yl, 7, &f) == 0 && f.has_break, "prefill-like break");
    CHECK_REL(f.brk, 400, 0.02, "prefill break");
}

static void test_fit_noisy(void)
{
    unsigned s = 7;
    double x[32], y[32];
    int n = 0;
    for (double b = 1; b <= 2048; b *= 1.5) {
        x[n] = b;
        y[n] = fmax(8.0, 8.0 / 120 * b) * noise(&s, 0.03);
        n++;
    }
    rl_break_fit f;
    CHECK(rl_fit_break(x, y, n, &f) == 0 && f.has_break, "noisy break found");
    CHECK_REL(f.brk, 120, 0.15, "noisy break within 15%");
}

static void test_fit_none(void)
{
    rl_break_fit f;
    double x[] = {1, 4, 16, 64, 128}, flat[] = {7.0, 7.1, 7.05, 7.2, 7.3}, prop[5];
    CHECK(rl_fit_break(x, flat, 5, &f) == 0 && f.ok && !f.has_break, "flat curve: no break (brk %g)", f.brk);
    for (int i = 0; i < 5; i++) prop[i] = 0.5 * x[i];
    CHECK(rl_fit_break(x, prop, 5, &f) == 0 && !f.has_break, "proportional from the start: no break (brk %g)", f.brk);
    CHECK(rl_fit_break(x, flat, 2, &f) == -1 && !f.ok, "two points are too few");
    double bad[] = {1, -2, 3, 4, 5};
    CHECK(rl_fit_break(x, bad, 5, &f) == -1, "negative latency rejected");
    double same[] = {4, 4, 4, 4, 4};
    CHECK(rl_fit_break(same, flat, 5, &f) == -1, "one x value rejected");
}

static void test_stats(void)
{
    double v[] = {5, 1, 4, 2, 3};
    CHECK(fabs(rl_percentile(v, 5, 50) - 3) < 1e-12, "median");
    CHECK(fabs(rl_percentile(v, 5, 10) - 1.4) < 1e-12, "p10 interpolated: %g", rl_percentile(v, 5, 10));
    CHECK(fabs(rl_percentile(v, 5, 100) - 5) < 1e-12, "p100");
    CHECK(isnan(rl_percentile(v, 0, 50)), "empty set");

    double pred[] = {1, 2, 3, -1, 5}, meas[] = {1, 1, 4, 2, 0};
    double med, mx;
    int worst;
    int n = rl_prediction_error(pred, meas, 5, &med, &mx, &worst);
    CHECK(n == 3, "unmeasured and unpredicted entries skipped: %d", n);
    CHECK(fabs(med - 25) < 1e-9 && fabs(mx - 100) < 1e-9 && worst == 1, "median %g max %g worst %d", med, mx, worst);
}

static void add(rl_results *r, rl_phase ph, int64_t x, double ms)
{
    rl_point p;
    rl_err err;
    rl_point_init(&p, ph, x);
    p.ok = 1, p.ms = p.p10 = p.p90 = ms;
    p.predicted_ms = ms * (x == 1 ? 0.5 : 0.9); /* errors: 50% at x = 1, 10% elsewhere */
    if (ph == RL_PHASE_DECODE) p.estimated_ms = ms * (x == 512 ? 1.2 : 1.04); /* 4%, 20% at B = 512 */
    CHECK(rl_results_add_point(r, &p, &err) == 0, "%s", err.msg);
}

static void test_lab_analysis(void)
{
    rl_results r;
    char *argv[] = {"lab", "--out", "x"};
    rl_err err;
    rl_results_init(&r, 3, argv);
    CHECK(!strcmp(r.command, "ridgeline lab --out x"), "command stamped: %s", r.command);
    CHECK(rl_model_preset("llama-3.1-8b", &r.model, &err) == 0, "%s", err.msg);
    r.input_len = 128, r.output_len = 64;
    r.have_probe = 1;
    r.probe.read_gbps = 3000, r.probe.gemm_tflops = 750;
    rl_gpu_table t;
    CHECK(rl_gpu_table_load(NULL, &t, &err) == 0, "%s", err.msg);
    const rl_gpu *h100 = rl_gpu_find(&t, "H100", &err);
    r.have_datasheet = 1, r.datasheet = *h100;
    double bs[] = {1, 4, 16, 64, 128, 256, 512};
    for (int i = 0; i < 7; i++) add(&r, RL_PHASE_DECODE, (int64_t)bs[i], fmax(6.0, 6.0 / 200 * bs[i]));
    double ls[] = {64, 128, 256, 512, 1024, 2048, 4096};
    for (int i = 0; i < 7; i++) add(&r, RL_PHASE_PREFILL, (int64_t)ls[i], fmax(6.0, 6.0 / 500 * ls[i]));
    rl_analysis an;
    rl_analyse_results(&r, &an);
    const rl_analysis *a = &an;
    CHECK(a->decode_fit.has_break && fabs(a->decode_fit.brk - 200) < 10, "decode transition %g", a->decode_fit.brk);
    CHECK(a->prefill_fit.has_break && fabs(a->prefill_fit.brk - 500) < 25, "prefill transition %g", a->prefill_fit.brk);
    rl_roofs meas = {.bandwidth_gbps = 3000, .peak_tflops = 750, .origin = "m"};
    CHECK(a->decode_predicted == rl_predict_crossing(&r.model, RL_PHASE_DECODE, 160, &meas, 1 << 20),
          "decode predicted crossing at context 160 with measured roofs");
    CHECK(a->prefill_predicted > 0 && a->prefill_predicted_datasheet > 0, "prefill crossings exist");
    /* Floor: batch-1 bytes (~15.04 GB) over the bandwidths. */
    CHECK(a->decode_bytes_b1 > 15.0e9 && a->decode_bytes_b1 < 15.1e9, "batch-1 bytes %g", a->decode_bytes_b1);
    CHECK_REL(a->decode_floor_measured_ms, a->decode_bytes_b1 / 3000e9 * 1e3, 1e-12, "measured floor");
    CHECK_REL(a->decode_floor_datasheet_ms, a->decode_bytes_b1 / 3350e9 * 1e3, 1e-12, "datasheet floor");
    CHECK_REL(a->util_measured_pct, 100 * a->decode_floor_measured_ms / 6.0, 1e-12, "utilisation = floor / batch-1 ms");
    CHECK(a->prefill_longest == 4096, "longest prefill");
    rl_workload w = rl_workload_prefill(1, 4096);
    rl_cost c;
    rl_cost_step(&r.model, &w, &c);
    double tf = c.total_flops / (6.0 / 500 * 4096 * 1e-3) / 1e12;
    CHECK_REL(a->prefill_achieved_tflops, tf, 1e-9, "achieved TFLOP/s at L=4096");
    CHECK_REL(a->achieved_pct_nominal, 100 * tf / 989, 1e-9, "% of nominal");
    CHECK_REL(a->achieved_pct_measured, 100 * tf / 750, 1e-9, "% of measured");
    CHECK(a->err_n == 14 && fabs(a->err_median_pct - 10) < 1e-9 && fabs(a->err_max_pct - 50) < 1e-9,
          "error stats n %d median %g max %g", a->err_n, a->err_median_pct, a->err_max_pct);
    CHECK(a->err_worst_x == 1, "worst point is x = 1");
    CHECK(a->est_n == 7 && fabs(a->est_median_pct - 4) < 1e-9 && fabs(a->est_max_pct - 20) < 1e-9 &&
              a->est_worst_x == 512,
          "estimate error over the points that have one: n %d median %g max %g", a->est_n, a->est_median_pct,
          a->est_max_pct);

    /* A failed point is data, not an error: skipped by the fit and the error stats. */
    rl_point p;
    memset(&p, 0, sizeof p);
    p.sweep = RL_PHASE_DECODE, p.x = 1024, p.ok = 0, p.predicted_ms = 10;
    snprintf(p.error, sizeof p.error, "out of GPU memory");
    CHECK(rl_results_add_point(&r, &p, &err) == 0, "%s", err.msg);
    rl_analyse_results(&r, &an);
    CHECK(an.err_n == 14, "failed point skipped");
    rl_results_free(&r);
    rl_gpu_table_free(&t);
}

int main(int argc, char **argv)
{
    (void)argc, (void)argv;
    test_fit_exact();
    test_fit_noisy();
    test_fit_none();
    test_stats();
    test_lab_analysis();
    return CHECK_DONE();
}
