/* breakpoint.c: the two-segment (flat, then linear) least-squares fit that locates where a
 * latency curve leaves its flat regime, and the small statistics the analysis needs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"

/* Residual of log y = alpha + max(0, log x - beta) for a fixed break beta: alpha is the mean of
 * log y - max(0, log x - beta), the least-squares answer with one free parameter. */
static double fit_at(const double *u, const double *v, int n, double beta, double *alpha)
{
    double sum = 0;
    for (int i = 0; i < n; i++) sum += v[i] - (u[i] > beta ? u[i] - beta : 0);
    double a = sum / n, rss = 0;
    for (int i = 0; i < n; i++) {
        double r = v[i] - a - (u[i] > beta ? u[i] - beta : 0);
        rss += r * r;
    }
    *alpha = a;
    return rss;
}

int rl_fit_break(const double *x, const double *y, int n, rl_break_fit *out)
{
    memset(out, 0, sizeof *out);
    if (n < 3) return -1;
    double ymin = INFINITY, ymax = -INFINITY;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0) || !(y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i])) return -1;
        ymin = fmin(ymin, y[i]), ymax = fmax(ymax, y[i]);
    }
    double *u = malloc(sizeof *u * 2 * (size_t)n);
    if (!u) return -1;
    double *v = u + n;
    double umin = INFINITY, umax = -INFINITY;
    for (int i = 0; i < n; i++) {
        u[i] = log(x[i]), v[i] = log(y[i]);
        umin = fmin(umin, u[i]), umax = fmax(umax, u[i]);
    }
    if (!(umax > umin)) {
        free(u);
        return -1;
    }
    double best = INFINITY, best_b = umin, best_a = 0;
    for (int g = 0; g <= RL_BREAK_GRID + n; g++) {
        /* the grid, then the measured x themselves */
        double b = g <= RL_BREAK_GRID ? umin + (umax - umin) * g / RL_BREAK_GRID : u[g - RL_BREAK_GRID - 1];
        double a, rss = fit_at(u, v, n, b, &a);
        if (rss < best - 1e-15) best = rss, best_b = b, best_a = a;
    }
    double a_flat;
    out->rss_flat = fit_at(u, v, n, umax, &a_flat);
    free(u);
    out->ok = 1;
    out->brk = exp(best_b);
    out->flat = exp(best_a);
    out->slope = out->flat / out->brk;
    out->rss = best;
    /* No transition to report when the curve stays in a 10% band, or when the best break is the
     * first x (proportional from the start) or the last (flat throughout the sweep). */
    out->has_break = ymax > 1.10 * ymin && best_b > umin + 1e-9 && best_b < umax - 1e-9;
    return 0;
}

int rl_prediction_error(const double *pred, const double *meas, int n, double *median_pct, double *max_pct,
                        int *worst)
{
    double *e = malloc(sizeof *e * (size_t)(n > 0 ? n : 1));
    int m = 0;
    *median_pct = *max_pct = NAN;
    *worst = -1;
    if (!e) return 0;
    for (int i = 0; i < n; i++) {
        if (!(meas[i] > 0) || !(pred[i] >= 0)) continue;
        double pct = 100.0 * fabs(pred[i] - meas[i]) / meas[i];
        if (*worst < 0 || pct > *max_pct) *max_pct = pct, *worst = i;
        e[m++] = pct;
    }
    if (m) *median_pct = rl_percentile(e, m, 50);
    free(e);
    return m;
}
