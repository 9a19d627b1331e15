/* analyse.h: what the measurements say: where each sweep leaves its flat regime (a two-segment
 * fit), where the cost model says it should, how close batch-1 decode comes to the bandwidth
 * floor, how much of the FLOPs roof the longest prefill reaches, and how far predictions miss. */
#ifndef RL_ANALYSE_H
#define RL_ANALYSE_H
#include <stdint.h>

#include "../common/stats.h"

/* Where a latency curve leaves its flat regime: the roofline-shaped two-segment model
 * ms = max(flat, slope * x), flat and then linear in x (proportional, as compute-bound time is to
 * the work), continuous at the break brk = flat / slope. Least squares on log ms (relative
 * residuals, so a 5 ms point weighs as much as a 50 ms one) over break candidates on a geometric
 * grid between the smallest and largest x plus every measured x; for a fixed break the flat level
 * has a closed form. */
typedef struct {
    int ok;                /* 0: too few points (< 3) or bad values */
    int has_break;         /* 0: stays within 10%, or the break falls on the first or last x */
    double brk;            /* the break point, in x units */
    double flat;           /* latency of the flat segment */
    double slope;          /* latency per unit x of the linear segment (flat / brk) */
    double rss;            /* residual sum of squares of log ms */
    double rss_flat;       /* the same for a flat line alone */
} rl_break_fit;

#define RL_BREAK_GRID 1024
#define RL_BREAK_METHOD                                                                                     \
    "two-segment fit ms = max(flat, slope * x): flat, then linear in x, continuous at the break "          \
    "x = flat / slope; least squares on log(ms) over 1024 break candidates evenly spaced in log(x) "        \
    "between the smallest and largest x plus every measured x; no break is reported when all points "      \
    "lie within 10% of each other or the best break is the first or last x"

/* Fits n points (x > 0, y > 0). Returns 0, or -1 when the fit is not possible (out->ok = 0). */
int rl_fit_break(const double *x, const double *y, int n, rl_break_fit *out);

/* Relative errors |pred - meas| / meas over n pairs (entries with meas <= 0 or pred < 0 are skipped):
 * median and max in percent and the index of the worst. Returns the number of pairs used. */
int rl_prediction_error(const double *pred, const double *meas, int n, double *median_pct, double *max_pct,
                        int *worst);


typedef struct {
    /* decode */
    rl_break_fit decode_fit;
    int64_t decode_predicted;        /* rl_predict_crossing with measured roofs; 0 = none within the limit */
    int64_t decode_predicted_datasheet;
    double decode_bytes_b1;          /* predicted HBM bytes of a batch-1 step at the mean context */
    double decode_floor_datasheet_ms; /* bytes / datasheet bandwidth; < 0 without a table row */
    double decode_floor_measured_ms;  /* bytes / measured read bandwidth */
    double batch1_ms;                /* measured batch-1 step; < 0 when not measured */
    double util_datasheet_pct, util_measured_pct; /* floor / measured * 100 */
    /* prefill */
    rl_break_fit prefill_fit;
    int64_t prefill_predicted;
    int64_t prefill_predicted_datasheet;
    int64_t prefill_longest;         /* the longest L measured, 0 = none */
    double prefill_achieved_tflops;  /* predicted FLOPs / measured ms at prefill_longest */
    double nominal_tflops;           /* datasheet peak; < 0 without a table row */
    double measured_tflops;          /* the probe's GEMM roof */
    double achieved_pct_nominal, achieved_pct_measured;
    /* predictions */
    int err_n;
    double err_median_pct, err_max_pct;
    int err_worst_sweep;             /* rl_phase of the worst point */
    int64_t err_worst_x;
    double err_worst_pct;
    /* the latency-aware estimate (estimated_ms) */
    int est_n;
    double est_median_pct, est_max_pct;
    int est_worst_sweep;
    int64_t est_worst_x;
} rl_analysis;

#endif
