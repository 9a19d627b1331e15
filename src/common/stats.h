/* stats.h: order statistics of measured samples (medians and spreads of timed runs). */
#ifndef RL_STATS_H
#define RL_STATS_H

/* Percentile (0..100) of n values, linear interpolation between order statistics; v is sorted in
 * place. NAN for n <= 0. */
double rl_percentile(double *v, int n, double pct);

#endif
