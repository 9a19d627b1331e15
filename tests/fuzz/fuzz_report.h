/* fuzz_report.h: what the report's fuzz targets share. The loaders read files by path (through
 * rl_open_regular and its size checks, which are part of what is tested), so an input is written
 * to one temporary file per process first; a refusal must name that file and leave nothing
 * half-loaded. */
#ifndef RL_FUZZ_REPORT_H
#define RL_FUZZ_REPORT_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/report_model.h"

static char fuzz_path[64];

static void fuzz_unlink(void) { unlink(fuzz_path); }

/* Loads data with load (rl_report_load_csv or rl_report_load_results) into *d, which the caller
 * frees; returns load's status. I/O errors of the harness abort: they are not the parser's. */
static int fuzz_report_load(const uint8_t *data, size_t size, int (*load)(rl_report_data *, const char *, rl_err *),
                            rl_report_data *d)
{
    static int fd = -1;
    if (fd < 0) {
        strcpy(fuzz_path, "/tmp/rl_fuzz_input.XXXXXX");
        fd = mkstemp(fuzz_path);
        if (fd < 0) abort();
        atexit(fuzz_unlink);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    rl_err err;
    err.msg[0] = 0;
    if (rl_report_data_init(d, NULL, &err)) __builtin_trap();
    int rc = load(d, fuzz_path, &err);
    if (rc && (!strstr(err.msg, fuzz_path) || d->n_runs != 0)) __builtin_trap();
    return rc;
}

#endif
