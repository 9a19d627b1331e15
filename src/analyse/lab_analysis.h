/* lab_analysis.h: fills rl_results.analysis from the measured points, the probe's roofs, the
 * GPU table row and the cost model (see analyse.h for each quantity). */
#ifndef RL_LAB_ANALYSIS_H
#define RL_LAB_ANALYSIS_H
#include "../measure/results.h"

/* Recomputes r->analysis from what r holds now (any subset of points). Never fails on missing
 * data: quantities it cannot compute stay negative/0 and are written as null. */
void rl_analyse_results(rl_results *r);

/* Human-readable summary of the analysis, a few lines, to f. */
void rl_analysis_print(const rl_results *r, void *file);

#endif
