/* pool.h: a fixed set of worker threads for the CPU engine. rl_pool_for splits [0, n) into one
 * contiguous range per thread (the caller runs range 0) and returns when all are done. The split
 * depends only on n, grain and the thread count, and each element's arithmetic is the same in any
 * range, so results do not depend on how many threads ran. */
#ifndef RL_CPU_POOL_H
#define RL_CPU_POOL_H
#include <stdint.h>

#include "../../common/err.h"

typedef struct rl_pool rl_pool;

/* fn handles elements [begin, end); part (0 .. threads-1) tells which range, so a caller can give
 * each range its own scratch buffer. */
typedef void (*rl_pool_fn)(void *ctx, int64_t begin, int64_t end, int part);

/* threads <= 0: one per online core. */
int rl_pool_create(int threads, rl_pool **out, rl_err *err);
void rl_pool_destroy(rl_pool *p);
int rl_pool_threads(const rl_pool *p);

/* Range boundaries are multiples of grain (except n itself); fewer threads take part when
 * n / grain is small, so tiny loops do not pay for waking everyone. */
void rl_pool_for(rl_pool *p, int64_t n, int64_t grain, rl_pool_fn fn, void *ctx);

#endif
