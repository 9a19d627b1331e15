/* report.h: renders report.md, report.json and charts (gnuplot SVG + PNG) from results files
 * (docs/results-schema.md) and imported CSV measurements (seed_measurements.csv format).
 * The report never runs the engine: it reads files only. */
#ifndef RL_REPORT_H
#define RL_REPORT_H
#include "../common/err.h"

typedef struct {
    const char *const *results_paths; /* results.json files, one per GPU (or engine) */
    int n_results;
    const char *const *csv_paths;     /* --import-csv files */
    int n_csv;
    const char *out_dir;
    const char *gpu_file;             /* extra GPU table rows, or NULL */
    int quiet;                        /* no progress/info lines on stderr */
    int holds_dir_lock;               /* the caller (the lab) already holds out_dir's lock */
} rl_report_opts;

/* Writes out_dir/report.md, out_dir/report.json (with "violations"), and charts where gnuplot
 * exists (a one-line note on stderr otherwise). Refuses an out_dir another run is writing
 * (rl_dir_lock), unless holds_dir_lock. */
int rl_report_render(const rl_report_opts *o, rl_err *err);

#endif
