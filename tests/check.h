/* check.h: minimal assertions for the C unit tests. Each failed CHECK prints file:line and the
 * message; CHECK_DONE() returns the exit status (0 only if every check passed). */
#ifndef RL_CHECK_H
#define RL_CHECK_H
#include <math.h>
#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond, ...)                                                      \
    do {                                                                      \
        check_count++;                                                        \
        if (!(cond)) {                                                        \
            check_failures++;                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
        }                                                                     \
    } while (0)

/* |got - want| <= rel * |want| */
#define CHECK_REL(got, want, rel, what)                                                          \
    CHECK(fabs((double)(got) - (double)(want)) <= (rel) * fabs((double)(want)), "%s: got %.6g want %.6g (rel %.3g)", \
          what, (double)(got), (double)(want), (double)(rel))

#define CHECK_DONE()                                                                     \
    (printf("%d checks, %d failed\n", check_count, check_failures), check_failures ? 1 : 0)

#endif
