/* roofs.h: the two ceilings every benchmark compares against, measured on this GPU:
 * HBM read bandwidth (a streaming read kernel over 4 GiB; copy is also reported) and the bf16
 * tensor-core rate (an 8192^3 cuBLASLt product, fp32 compute, on random data).
 * GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s. */
#ifndef RL_BENCH_ROOFS_H
#define RL_BENCH_ROOFS_H
#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char device[256];
    int sm_count;
    double read_gbps;   /* bytes read / time, median of 10 */
    double copy_gbps;   /* (read + written) / time of a device-to-device copy, median of 10 */
    double gemm_tflops; /* 2*8192^3 / time, median of 10 */
} bench_roofs;

/* Returns 0, or -1 after printing the failing call to stderr. */
int bench_measure_roofs(bench_roofs *r);

/* Median of n values (sorts in place). */
double bench_median(double *v, int n);
double bench_percentile(double *v, int n, double p);

#ifdef __cplusplus
}
#endif
#endif
