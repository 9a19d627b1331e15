/* progress.c: progress lines on stderr. The ETA scales the elapsed time by the expected cost still
 * to run over the expected cost already run, so a sweep whose last points are the slow ones does
 * not promise an early finish. */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>

#include "../common/util.h"

void rl_progress_init(rl_progress *p, int total, double weight_total, int quiet)
{
    p->quiet = quiet;
    p->total = total;
    p->done = 0;
    p->start_ms = rl_now_ms();
    p->weight_total = weight_total > 0 ? weight_total : total;
    p->weight_done = 0;
}

double rl_progress_eta_s(const rl_progress *p, double now_ms)
{
    if (p->weight_done <= 0) return -1;
    double left = p->weight_total - p->weight_done;
    if (left < 0) left = 0;
    return (now_ms - p->start_ms) / 1e3 * left / p->weight_done;
}

void rl_progress_step(rl_progress *p, double weight, const char *fmt, ...)
{
    p->done++;
    p->weight_done += weight > 0 ? weight : 0;
    if (p->quiet) return;
    double now = rl_now_ms();
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "[%d/%d] ", p->done, p->total);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    double eta = rl_progress_eta_s(p, now);
    if (eta >= 0 && p->done < p->total)
        fprintf(stderr, " (elapsed %.0f s, ETA %.0f s)\n", (now - p->start_ms) / 1e3, eta);
    else fprintf(stderr, " (elapsed %.0f s)\n", (now - p->start_ms) / 1e3);
}

void rl_progress_note(const rl_progress *p, const char *fmt, ...)
{
    if (p && p->quiet) return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
