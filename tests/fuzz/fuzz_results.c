/* fuzz_results.c: libFuzzer target for the report's results.json reader. Any input is loaded or
 * refused with a message naming the file; a loaded run has finite, bounded measured times (they
 * reach the charts' scales). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_report_data d;
    if (fuzz_report_load(data, size, rl_report_load_results, &d) == 0) {
        if (d.n_runs != 1) __builtin_trap();
        const rl_report_run *r = &d.runs[0];
        if (r->source != RL_SRC_RESULTS || !r->device_name[0]) __builtin_trap();
        for (int k = 0; k < r->n_points; k++) {
            const rl_report_point *p = &r->points[k];
            if (p->x < 1) __builtin_trap();
            if (p->ok && !(p->ms > 0 && p->ms <= 1e9)) __builtin_trap();
        }
        for (int k = 0; k < r->n_kernels; k++)
            if (!(r->kernels[k].ms >= 0) || !isfinite(r->kernels[k].ms)) __builtin_trap();
    }
    rl_report_data_free(&d);
    return 0;
}
