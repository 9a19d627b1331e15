// linear.cu: one projection Y = X W^T, by one of three kernels: gemm_stream (Hopper: weights
// streamed once through a TMA ring, for few tokens), the mma.sync GEMV (the sm_80 path's small
// batches) or cuBLASLt (tiles, compute-bound shapes). The first time a shape (tokens, N, K,
// epilogue, input) is seen outside graph capture, the kernels that apply on this code path are
// timed on the real operands and the fastest is kept for that shape (rl_linear_choice records it).
#include <stdio.h>
#include <string.h>

#include "state.h"

static const char *const lin_names[] = {"gemm_stream", "gemv_tc", "cublaslt"};

// One launch of our own kernels for choice c (cuBLASLt goes through rl_lt_matmul).
static cudaError_t launch_own(cuda_state *s, const cuda_choice *c, int pdl, const bf16 *X, const bf16 *W,
                              const CUtensorMap *w_map, void *Y)
{
    if (c->kernel == LIN_STREAM)
        return rl_gemm_stream(s->st, pdl, c->mode, w_map, &c->tx, Y, c->N, c->K, c->T, c->N, c->N, &s->gs);
    return rl_gemv(s->st, pdl, c->mode, W, X, Y, c->N, c->K, c->T, c->N, c->N);
}

// Median-free quick timing: one warm-up, then reps back to back between two events with the
// launch attribute the decode graph uses, so the pick reflects the kernel as it runs in a step.
static int time_own(cuda_state *s, const cuda_choice *c, const bf16 *X, const bf16 *W, const CUtensorMap *w_map, void *Y,
                    double *ms, rl_err *err)
{
    const int reps = 5;
    for (int r = 0; r <= reps; r++) {
        if (r == 1) CU_CHECK(cudaEventRecord(s->ev0, s->st), "tuning: cudaEventRecord");
        cudaError_t e = launch_own(s, c, s->pdl, X, W, w_map, Y);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: tuning %s (%dx%dx%d) failed to launch: %s", lin_names[c->kernel], c->T,
                           c->N, c->K, cudaGetErrorString(e));
    }
    CU_CHECK(cudaEventRecord(s->ev1, s->st), "tuning: cudaEventRecord");
    CU_CHECK(cudaEventSynchronize(s->ev1), "tuning: own projection kernel");
    float f = 0.f;
    CU_CHECK(cudaEventElapsedTime(&f, s->ev0, s->ev1), "tuning: cudaEventElapsedTime");
    *ms = f / reps;
    return 0;
}

static int time_silu(cuda_state *s, int T, int I, double *ms, rl_err *err)
{
    const int reps = 3;
    CU_CHECK(cudaEventRecord(s->ev0, s->st), "tuning: cudaEventRecord");
    for (int r = 0; r < reps; r++) CU_CHECK(rl_silu_mul(s->st, 0, s->gu, s->h, T, I), "tuning: silu_mul launch");
    CU_CHECK(cudaEventRecord(s->ev1, s->st), "tuning: cudaEventRecord");
    CU_CHECK(cudaEventSynchronize(s->ev1), "tuning: silu_mul");
    float f = 0.f;
    CU_CHECK(cudaEventElapsedTime(&f, s->ev0, s->ev1), "tuning: cudaEventElapsedTime");
    *ms = f / reps;
    return 0;
}

// Our kernel that applies to the shape on this code path (LIN_LT when none does).
static cuda_lin own_kernel(const cuda_state *s, const cuda_choice *c, const CUtensorMap *w_map)
{
    if (s->sm90) return w_map && rl_gs_supported(c->N, c->K, c->T, c->mode) ? LIN_STREAM : LIN_LT;
    return rl_gemv_supported(c->N, c->K, c->T) ? LIN_GEMV : LIN_LT;
}

// Decides the kernel for one shape. Timing writes only to buffers that are dead or about to be
// overwritten by the real call: accumulating shapes time into s->scratch.
static int choose(cuda_state *s, cuda_choice *c, const bf16 *X, const bf16 *W, const CUtensorMap *w_map, void *Y,
                  rl_err *err)
{
    const int T = c->T, N = c->N, K = c->K, mode = c->mode;
    const int out_f32 = mode == GEMV_STORE_F32 || mode == GEMV_ADD_F32, acc = mode == GEMV_ADD_F32;
    const int lt_N = mode == GEMV_SILU_BF16 ? 2 * N : N;
    void *lt_Y = mode == GEMV_SILU_BF16 ? (void *)s->gu : Y;
    const cuda_lin own = own_kernel(s, c, w_map);
    if (own == LIN_STREAM &&
        cuda_tma_map_bf16(s->tma_encode, &c->tx, X, T, K, K, rl_gs_tok_tile(T), "a projection's activations", err))
        return -1;
    c->ms = c->alt_ms = -1;
    if (s->o.cuda.linear != RL_LINEAR_TIMED) { // a fixed rule (tests, A/B runs)
        c->kernel = s->o.cuda.linear == RL_LINEAR_CUBLASLT ? LIN_LT : own;
        if (c->kernel == LIN_LT) return rl_lt_plan(s->lt, s->st, T, lt_N, K, X, W, lt_Y, out_f32, acc, 0, s->scratch, NULL, err);
        return 0;
    }
    double lt_ms = -1;
    if (rl_lt_plan(s->lt, s->st, T, lt_N, K, X, W, lt_Y, out_f32, acc, 1, s->scratch, &lt_ms, err)) return -1;
    if (mode == GEMV_SILU_BF16) {
        double silu_ms;
        if (time_silu(s, T, N, &silu_ms, err)) return -1;
        lt_ms += silu_ms;
    }
    c->kernel = LIN_LT, c->ms = lt_ms;
    if (own != LIN_LT) {
        cuda_choice trial = *c;
        trial.kernel = own;
        double own_ms;
        // Accumulating shapes are timed accumulating into the scratch buffer (its values do not matter).
        if (time_own(s, &trial, X, W, w_map, mode == GEMV_ADD_F32 ? s->scratch : Y, &own_ms, err)) return -1;
        if (own_ms <= lt_ms) c->kernel = own, c->ms = own_ms, c->alt_ms = lt_ms;
        else c->alt_ms = own_ms;
    }
    return 0;
}

int cuda_linear(cuda_state *s, rl_op_id op, int layer, int T, const bf16 *X, const bf16 *W, const CUtensorMap *w_map,
                int N, int K, void *Y, int mode, const bf16 *norm_w, rl_op_id norm_op, rl_err *err)
{
    const bf16 *in = norm_w ? s->xn : X; // the projection's input once the norm (if any) ran
    cuda_choice *c = NULL;
    for (int i = 0; i < s->n_choices && !c; i++) {
        cuda_choice *q = &s->choices[i];
        if (q->T == T && q->N == N && q->K == K && q->mode == mode && q->op == op) c = q;
    }
    if (norm_w) { // the norm runs on its own, into s->xn
        // Tensor parallel: the all-reduced partial sum waiting in s->tp.part joins the residual first.
        const int add = s->tp.pending;
        const char *name = add ? "add_rmsnorm" : "rmsnorm";
        if (cuda_prof_begin(s, err)) return -1;
        const float eps = (float)s->m.norm_eps;
        cudaError_t e = add ? rl_add_rmsnorm(s->st, cuda_pdl_on(s), s->x, s->tp.part, norm_w, s->xn, T, K, eps)
                            : rl_rmsnorm(s->st, cuda_pdl_on(s), s->x, norm_w, s->xn, T, K, eps, 0, 1);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel %s (layer %d) failed to launch: %s", name, layer,
                           cudaGetErrorString(e));
        s->after_lt = 0;
        s->tp.pending = 0;
        if (cuda_prof_end(s, name, RL_OPMASK(norm_op), layer, err)) return -1;
    }
    if (!c) {
        if (s->capturing)
            return rl_fail(err, "cuda engine: projection %dx%dx%d was not planned before graph capture", T, N, K);
        if (s->n_choices == CUDA_MAX_CHOICES) s->n_choices = 0; // many prefill lengths: start over
        c = &s->choices[s->n_choices++];
        memset(c, 0, sizeof *c);
        c->T = T, c->N = N, c->K = K, c->mode = mode, c->op = op;
        if (choose(s, c, in, W, w_map, Y, err)) {
            s->n_choices--;
            return -1;
        }
    }
    unsigned mask = RL_OPMASK(op);
    if (mode == GEMV_SILU_BF16 && c->kernel != LIN_LT) mask |= RL_OPMASK(RL_OP_SILU_MUL);
    if (c->kernel != LIN_LT) {
        if (cuda_prof_begin(s, err)) return -1;
        cudaError_t e = launch_own(s, c, cuda_pdl_on(s), in, W, w_map, Y);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel %s (%s, layer %d) failed to launch: %s", lin_names[c->kernel],
                           rl_op_names[op], layer, cudaGetErrorString(e));
        s->after_lt = 0;
        return cuda_prof_end(s, lin_names[c->kernel], mask, layer, err);
    }
    const int out_f32 = mode == GEMV_STORE_F32 || mode == GEMV_ADD_F32, acc = mode == GEMV_ADD_F32;
    if (cuda_prof_begin(s, err)) return -1;
    if (mode == GEMV_SILU_BF16) {
        if (rl_lt_matmul(s->lt, s->st, T, 2 * N, K, in, W, s->gu, 0, 0, 0, NULL, NULL, err)) return -1;
        s->after_lt = 1;
        if (cuda_prof_end(s, "cublaslt_gemm", mask, layer, err)) return -1;
        if (cuda_prof_begin(s, err)) return -1;
        cudaError_t e = rl_silu_mul(s->st, cuda_pdl_on(s), s->gu, (bf16 *)Y, T, N);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel silu_mul (layer %d) failed to launch: %s", layer,
                           cudaGetErrorString(e));
        s->after_lt = 0;
        return cuda_prof_end(s, "silu_mul", RL_OPMASK(RL_OP_SILU_MUL), layer, err);
    }
    if (rl_lt_matmul(s->lt, s->st, T, N, K, in, W, Y, out_f32, acc, 0, NULL, NULL, err)) return -1;
    s->after_lt = 1;
    return cuda_prof_end(s, "cublaslt_gemm", mask, layer, err);
}

int cuda_linear_choices(void *state, rl_linear_choice *out, int max)
{
    const cuda_state *s = (const cuda_state *)state;
    int n = 0;
    for (int i = 0; i < s->n_choices && n < max; i++, n++) {
        const cuda_choice *c = &s->choices[i];
        rl_linear_choice *o = &out[n];
        memset(o, 0, sizeof *o);
        snprintf(o->op, sizeof o->op, "%s", rl_op_names[c->op]);
        o->tokens = c->T, o->n = c->N, o->k = c->K;
        snprintf(o->kernel, sizeof o->kernel, "%s", lin_names[c->kernel]);
        o->ms = c->ms, o->alt_ms = c->alt_ms;
    }
    return n;
}
