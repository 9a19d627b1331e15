/* matmul.c: blocked fp32 matmul over rows of activations, with an AVX2+FMA build of the same code
 * chosen at run time (the default build targets baseline x86-64, which has neither). */
#include "matmul.h"

#include <string.h>

/* GNU C vector of 8 floats: compiles to two SSE registers by default, one AVX register under
 * target("avx2,fma"). */
typedef float v8 __attribute__((vector_size(32)));

#define ROW_BLOCK 64 /* rows of x per pass over a slice of W */

/* Unaligned load (a macro: passing vectors by value between functions trips -Wpsabi). */
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))

/* Fixed reduction order of the 8 lanes. */
static inline __attribute__((always_inline)) float lanes_sum(const v8 *v)
{
    const float *a = (const float *)v;
    return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

/* Output (a, b) of a tile: the lanes, then the columns past the last multiple of 8. Every tile
 * shape ends here, so an element's rounding never depends on the tile it fell in. */
static inline __attribute__((always_inline)) void finish(float *out, int64_t ldo, const float *x, int64_t ldx,
                                                          const float *w, int64_t ldw, int64_t in, int64_t i, int a,
                                                          int b, const v8 *acc, int accumulate)
{
    float s = lanes_sum(acc);
    for (int64_t j = i; j < in; j++) s += x[a * ldx + j] * w[b * ldw + j];
    float *o = out + a * ldo + b;
    *o = accumulate ? *o + s : s;
}

/* 4 rows of x by 4 rows of W: 16 named accumulators, so they live in registers (an array of
 * vectors ends up on the stack). Each W vector is loaded once and used by all four x rows. */
static inline __attribute__((always_inline)) void tile_4x4(float *out, int64_t ldo, const float *x, int64_t ldx,
                                                            const float *w, int64_t ldw, int64_t in, int accumulate)
{
    v8 c00 = {0}, c01 = {0}, c02 = {0}, c03 = {0}, c10 = {0}, c11 = {0}, c12 = {0}, c13 = {0};
    v8 c20 = {0}, c21 = {0}, c22 = {0}, c23 = {0}, c30 = {0}, c31 = {0}, c32 = {0}, c33 = {0};
    int64_t i = 0;
    for (; i + 8 <= in; i += 8) {
        v8 x0, x1, x2, x3, wb;
        LOAD8(x0, x + i);
        LOAD8(x1, x + ldx + i);
        LOAD8(x2, x + 2 * ldx + i);
        LOAD8(x3, x + 3 * ldx + i);
        LOAD8(wb, w + i);
        c00 += x0 * wb, c10 += x1 * wb, c20 += x2 * wb, c30 += x3 * wb;
        LOAD8(wb, w + ldw + i);
        c01 += x0 * wb, c11 += x1 * wb, c21 += x2 * wb, c31 += x3 * wb;
        LOAD8(wb, w + 2 * ldw + i);
        c02 += x0 * wb, c12 += x1 * wb, c22 += x2 * wb, c32 += x3 * wb;
        LOAD8(wb, w + 3 * ldw + i);
        c03 += x0 * wb, c13 += x1 * wb, c23 += x2 * wb, c33 += x3 * wb;
    }
    const v8 *c[4][4] = {{&c00, &c01, &c02, &c03}, {&c10, &c11, &c12, &c13}, {&c20, &c21, &c22, &c23},
                         {&c30, &c31, &c32, &c33}};
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) finish(out, ldo, x, ldx, w, ldw, in, i, a, b, c[a][b], accumulate);
}

/* 1 row of x by 4 rows of W (rows left over from the 4x4 tiles; all of batch-1 decode). */
static inline __attribute__((always_inline)) void tile_1x4(float *out, int64_t ldo, const float *x, int64_t ldx,
                                                            const float *w, int64_t ldw, int64_t in, int accumulate)
{
    v8 c0 = {0}, c1 = {0}, c2 = {0}, c3 = {0};
    int64_t i = 0;
    for (; i + 8 <= in; i += 8) {
        v8 x0, w0, w1, w2, w3;
        LOAD8(x0, x + i);
        LOAD8(w0, w + i);
        LOAD8(w1, w + ldw + i);
        LOAD8(w2, w + 2 * ldw + i);
        LOAD8(w3, w + 3 * ldw + i);
        c0 += x0 * w0, c1 += x0 * w1, c2 += x0 * w2, c3 += x0 * w3;
    }
    finish(out, ldo, x, ldx, w, ldw, in, i, 0, 0, &c0, accumulate);
    finish(out, ldo, x, ldx, w, ldw, in, i, 0, 1, &c1, accumulate);
    finish(out, ldo, x, ldx, w, ldw, in, i, 0, 2, &c2, accumulate);
    finish(out, ldo, x, ldx, w, ldw, in, i, 0, 3, &c3, accumulate);
}

/* 1 x 1: the last outs % 4 columns. */
static inline __attribute__((always_inline)) void tile_1x1(float *out, int64_t ldo, const float *x, int64_t ldx,
                                                            const float *w, int64_t ldw, int64_t in, int accumulate)
{
    v8 c0 = {0};
    int64_t i = 0;
    for (; i + 8 <= in; i += 8) {
        v8 x0, w0;
        LOAD8(x0, x + i);
        LOAD8(w0, w + i);
        c0 += x0 * w0;
    }
    finish(out, ldo, x, ldx, w, ldw, in, i, 0, 0, &c0, accumulate);
}

typedef struct {
    float *out;
    int64_t ldo;
    const float *x;
    int64_t ldx;
    const float *w;
    int64_t ldw, rows, in;
    int accumulate;
} mm_args;

/* Output columns [o0, o1) for every row. */
static inline __attribute__((always_inline)) void mm_range(const mm_args *m, int64_t o0, int64_t o1)
{
    const int64_t in = m->in, ldo = m->ldo, ldx = m->ldx, ldw = m->ldw;
    for (int64_t r0 = 0; r0 < m->rows; r0 += ROW_BLOCK) {
        int64_t r1 = r0 + ROW_BLOCK < m->rows ? r0 + ROW_BLOCK : m->rows;
        int64_t o = o0;
        for (; o + 4 <= o1; o += 4) {
            const float *w = m->w + o * ldw;
            int64_t r = r0;
            for (; r + 4 <= r1; r += 4)
                tile_4x4(m->out + r * ldo + o, ldo, m->x + r * ldx, ldx, w, ldw, in, m->accumulate);
            for (; r < r1; r++) tile_1x4(m->out + r * ldo + o, ldo, m->x + r * ldx, ldx, w, ldw, in, m->accumulate);
        }
        for (; o < o1; o++)
            for (int64_t r = r0; r < r1; r++)
                tile_1x1(m->out + r * ldo + o, ldo, m->x + r * ldx, ldx, m->w + o * ldw, ldw, in, m->accumulate);
    }
}

/* out[r][c] = sum_k a[r][k] * b[k][c]: rows of b are scaled and added, so the inner loop is
 * element-wise over c and the compiler vectorises it (no reduction to reorder). */
static inline __attribute__((always_inline)) void nn_rows(float *out, int64_t ldo, const float *a, int64_t lda,
                                                           const float *b, int64_t ldb, int64_t rows, int64_t inner,
                                                           int64_t cols)
{
    for (int64_t r = 0; r < rows; r++) {
        float *o = out + r * ldo;
        for (int64_t c = 0; c < cols; c++) o[c] = 0.0f;
        for (int64_t k = 0; k < inner; k++) {
            const float ak = a[r * lda + k], *bk = b + k * ldb;
            for (int64_t c = 0; c < cols; c++) o[c] += ak * bk[c];
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#define RL_HAVE_AVX2_PATH 1
__attribute__((target("avx2,fma"))) static void nn_avx2(float *out, int64_t ldo, const float *a, int64_t lda,
                                                        const float *b, int64_t ldb, int64_t rows, int64_t inner,
                                                        int64_t cols)
{
    nn_rows(out, ldo, a, lda, b, ldb, rows, inner, cols);
}

__attribute__((target("avx2,fma"))) static void mm_task_avx2(void *ctx, int64_t o0, int64_t o1, int part)
{
    (void)part;
    mm_range(ctx, o0, o1);
}

static int cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
#endif

static void mm_task_generic(void *ctx, int64_t o0, int64_t o1, int part)
{
    (void)part;
    mm_range(ctx, o0, o1);
}

static rl_pool_fn pick_task(void)
{
#ifdef RL_HAVE_AVX2_PATH
    if (cpu_has_avx2()) return mm_task_avx2;
#endif
    return mm_task_generic;
}

const char *rl_matmul_isa(void) { return pick_task() == mm_task_generic ? "generic" : "avx2+fma"; }

void rl_matmul(rl_pool *pool, float *out, int64_t ldo, const float *x, int64_t ldx, const float *w, int64_t rows,
               int64_t in, int64_t outs, int accumulate)
{
    mm_args m = {out, ldo, x, ldx, w, in, rows, in, accumulate};
    /* Below ~256K multiply-adds (tens of microseconds) waking threads costs more than it saves;
     * above, ranges of at least 16 columns (4 tiles) per thread. */
    int64_t grain = rows * in * outs < (1 << 18) ? outs : 16;
    rl_pool_for(pool, outs, grain, pick_task(), &m);
}

void rl_matmul_serial(float *out, int64_t ldo, const float *x, int64_t ldx, const float *w, int64_t ldw, int64_t rows,
                      int64_t in, int64_t outs, int accumulate)
{
    mm_args m = {out, ldo, x, ldx, w, ldw, rows, in, accumulate};
    pick_task()(&m, 0, outs, 0);
}

void rl_matmul_nn_serial(float *out, int64_t ldo, const float *a, int64_t lda, const float *b, int64_t ldb,
                         int64_t rows, int64_t inner, int64_t cols)
{
#ifdef RL_HAVE_AVX2_PATH
    if (pick_task() == mm_task_avx2) {
        nn_avx2(out, ldo, a, lda, b, ldb, rows, inner, cols);
        return;
    }
#endif
    nn_rows(out, ldo, a, lda, b, ldb, rows, inner, cols);
}
