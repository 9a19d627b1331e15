/* lab_analysis.h: THE analysis of a results document, for the lab (after every point) and the
 * report (every row it renders): transitions, the decode bandwidth floor, prefill FLOP/s, the
 * errors of the roofline prediction and of the latency-aware estimate (analyse.h for each
 * quantity). It depends on measure (the document), never the other way. */
#ifndef RL_LAB_ANALYSIS_H
#define RL_LAB_ANALYSIS_H
#include <stdio.h>

#include "../measure/results.h"
#include "analyse.h"

struct cJSON;

/* Computes a from what r holds now (any subset of points; imported rows whose decode points carry
 * only seed_ms_per_token are fitted on it), over the batch and length sweeps: the decode context
 * sweep's points (rl_point_in_sweep) are not part of any fit, floor or error here. Never fails on
 * missing data: quantities it cannot compute stay negative / 0 and are written as null. */
void rl_analyse_results(const rl_results *r, rl_analysis *a);

/* The "analysis" object of results.json. */
struct cJSON *rl_analysis_to_json(const rl_results *r, const rl_analysis *a);

/* Human-readable summary, a few lines, to f. */
void rl_analysis_print(const rl_results *r, const rl_analysis *a, FILE *f);

/* The value a point's curve is fitted on: its ms, else (imported seed rows) its seed_ms_per_token; < 0 none. */
double rl_point_measured_ms(const rl_point *p);

#endif
