/* progress.h: one stderr line per finished step of a long run, with elapsed time and an ETA
 * weighted by each step's expected cost ("[3/17] decode B=64: 6.12 ms/step (elapsed 12 s, ETA 40 s)"). */
#ifndef RL_PROGRESS_H
#define RL_PROGRESS_H

typedef struct {
    int quiet;
    int total, done;          /* steps */
    double start_ms;
    double weight_total;      /* expected cost of every step (any unit: predicted ms, say) */
    double weight_done;
} rl_progress;

void rl_progress_init(rl_progress *p, int total, double weight_total, int quiet);

/* Marks one step of the given expected weight done and prints its line: "[i/N] <msg> (elapsed, ETA)". */
void rl_progress_step(rl_progress *p, double weight, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* A plain information line (unless quiet). */
void rl_progress_note(const rl_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Seconds left by the weights done so far; < 0 when nothing is done yet. */
double rl_progress_eta_s(const rl_progress *p, double now_ms);

#endif
