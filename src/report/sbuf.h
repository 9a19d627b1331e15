/* sbuf.h: a growable string for building markdown and gnuplot scripts. On out-of-memory the
 * buffer sets a flag and keeps what it had, so writers check once at the end, not per line. */
#ifndef RL_SBUF_H
#define RL_SBUF_H
#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} rl_sbuf;

void rl_sbuf_printf(rl_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rl_sbuf_puts(rl_sbuf *b, const char *text);
/* Hands the string to the caller (NULL after out-of-memory) and resets the buffer. */
char *rl_sbuf_take(rl_sbuf *b);
void rl_sbuf_free(rl_sbuf *b);

#endif
