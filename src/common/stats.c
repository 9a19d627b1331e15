/* stats.c: order statistics (stats.h). */
#include "stats.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

double rl_percentile(double *v, int n, double pct)
{
    if (n <= 0) return NAN;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = pct / 100.0 * (n - 1);
    int lo = (int)floor(pos);
    if (lo < 0) lo = 0;
    if (lo >= n - 1) return v[n - 1];
    double f = pos - lo;
    return v[lo] * (1 - f) + v[lo + 1] * f;
}
