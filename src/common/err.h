/* err.h: one-line error messages carried up to the CLI.
 * Every fallible function takes an rl_err* and returns 0 on success, -1 on failure
 * after writing a message that names the problem (file, field, call) and what to do. */
#ifndef RL_ERR_H
#define RL_ERR_H
#include <stddef.h>

typedef struct {
    char msg[1024];
} rl_err;

/* Formats the message into err (if non-NULL) and returns -1, so callers can `return rl_fail(...)`. */
int rl_fail(rl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes an existing message with context ("loading X: <old message>"). Returns -1. */
int rl_wrap(rl_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
