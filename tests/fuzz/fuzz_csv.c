/* fuzz_csv.c: libFuzzer target for the report's CSV importer (sweep,gpu,x,ms rows, # comments,
 * quoted fields, a byte-order mark). Any input is imported or refused with a message naming the
 * file; what is imported keeps the invariants the report relies on. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_report_data d;
    if (fuzz_report_load(data, size, rl_report_load_csv, &d) == 0) {
        if (d.n_runs < 1 || d.n_runs > 64) __builtin_trap();
        for (int i = 0; i < d.n_runs; i++) {
            const rl_report_run *r = &d.runs[i];
            if (r->source != RL_SRC_CSV || !r->gpu[0] || r->n_points < 1) __builtin_trap();
            for (int k = 0; k < r->n_points; k++) {
                const rl_report_point *p = &r->points[k];
                double v = p->sweep == RL_PHASE_DECODE ? p->seed_ms_per_token : p->ms;
                if (p->x < 1 || !(v >= 1e-9 && v <= 1e9)) __builtin_trap();
                for (int j = 0; j < k; j++)
                    if (r->points[j].sweep == p->sweep && r->points[j].x == p->x) __builtin_trap();
            }
        }
    }
    rl_report_data_free(&d);
    return 0;
}
