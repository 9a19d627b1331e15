// linear.cu: one projection Y = X W^T, by our tensor-core GEMV (small batch, weights streamed
// once) or by cuBLASLt (tiles, compute-bound shapes). The first time a shape (tokens, N, K,
// epilogue) is seen outside graph capture, both are timed on the real operands and the faster
// one is kept for that shape.
#include <stdio.h>
#include <string.h>

#include "state.h"

static int pdl_on(const cuda_state *s) { return s->pdl && !cuda_prof_serial(s) && !s->after_lt; }

// Quick timing: one warm-up, then reps back to back between two events, with programmatic
// dependent launch as in the decode graph (each launch prefetches weights under the previous
// one's tail), so the pick reflects the GEMV as it runs in a step.
static int time_gemv(cuda_state *s, int stages, int ksplit, int mode, const bf16 *X, const bf16 *W, void *Y, int N, int K, int T,
                     double *ms, rl_err *err)
{
    const int reps = 5;
    for (int r = 0; r <= reps; r++) {
        if (r == 1) CU_CHECK(cudaEventRecord(s->ev0, s->st), "tuning: cudaEventRecord");
        CU_CHECK(rl_gemv_st(s->st, s->pdl, stages, ksplit, mode, W, X, Y, N, K, T, N, N, NULL, NULL),
                 "tuning: gemv_tc launch");
    }
    CU_CHECK(cudaEventRecord(s->ev1, s->st), "tuning: cudaEventRecord");
    CU_CHECK(cudaEventSynchronize(s->ev1), "tuning: gemv_tc");
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

// Decides GEMV or cuBLASLt for one shape. Timing writes only to buffers that are dead or about
// to be overwritten by the real call: accumulating shapes time into s->scratch.
static int choose(cuda_state *s, cuda_choice *c, const bf16 *X, const bf16 *W, void *Y, rl_err *err)
{
    const int T = c->T, N = c->N, K = c->K, mode = c->mode;
    const int gemv_ok = rl_gemv_supported(N, K, T);
    const int out_f32 = mode == GEMV_STORE_F32 || mode == GEMV_ADD_F32, acc = mode == GEMV_ADD_F32;
    const int lt_N = mode == GEMV_SILU_BF16 ? 2 * N : N;
    void *lt_Y = mode == GEMV_SILU_BF16 ? (void *)s->gu : Y;
    c->gemv_ms = c->lt_ms = -1;
    if (!s->tune) { // untimed rule: GEMV wherever it applies
        c->use_gemv = gemv_ok;
        c->stages = rl_gemv_stages_supported(s->gemv_stages, T, s->fuse_norm) ? s->gemv_stages : 0;
        c->ksplit = rl_gemv_ksplit_supported(s->gemv_ksplit, mode, K, s->fuse_norm) ? s->gemv_ksplit : 1;
        if (!gemv_ok) return rl_lt_plan(s->lt, s->st, T, lt_N, K, X, W, lt_Y, out_f32, acc, 0, s->scratch, NULL, err);
        return 0;
    }
    double lt_ms = -1;
    if (rl_lt_plan(s->lt, s->st, T, lt_N, K, X, W, lt_Y, out_f32, acc, 1, s->scratch, &lt_ms, err)) return -1;
    if (mode == GEMV_SILU_BF16) {
        double silu_ms;
        if (time_silu(s, T, N, &silu_ms, err)) return -1;
        lt_ms += silu_ms;
    }
    c->lt_ms = lt_ms;
    c->use_gemv = 0;
    if (gemv_ok) {
        // Accumulating shapes are timed accumulating into the scratch buffer (its values do not matter).
        void *tY = mode == GEMV_ADD_F32 ? s->scratch : Y;
        if (time_gemv(s, 0, 1, mode, X, W, tY, N, K, T, &c->gemv_ms, err)) return -1;
        c->stages = 0, c->ksplit = 1;
        // K split over 2-4 blocks (accumulating, no sums of squares to leave behind). The cp.async
        // variants are not timed here: slower than the register path on every shape (run 8).
        for (int ks = 2; ks <= 4 && !s->fuse_norm && s->gemv_ksplit == 0; ks++) {
            if (!rl_gemv_ksplit_supported(ks, mode, K, 0)) continue;
            double ms;
            if (time_gemv(s, 0, ks, mode, X, W, tY, N, K, T, &ms, err)) return -1;
            if (ms < c->gemv_ms) c->gemv_ms = ms, c->ksplit = ks;
        }
        c->use_gemv = c->gemv_ms <= c->lt_ms;
    }
    return 0;
}

int cuda_linear(cuda_state *s, rl_op_id op, int layer, int T, const bf16 *X, const bf16 *W, int N, int K, void *Y,
                int mode, const bf16 *norm_w, rl_op_id norm_op, rl_err *err)
{
    cuda_choice *c = NULL;
    for (int i = 0; i < s->n_choices && !c; i++) {
        cuda_choice *q = &s->choices[i];
        if (q->T == T && q->N == N && q->K == K && q->mode == mode) c = q;
    }
    if (!c) {
        if (s->capturing)
            return rl_fail(err, "cuda engine: projection %dx%dx%d was not planned before graph capture", T, N, K);
        if (s->n_choices == CUDA_MAX_CHOICES) s->n_choices = 0; // many prefill lengths: start over
        c = &s->choices[s->n_choices++];
        memset(c, 0, sizeof *c);
        c->T = T, c->N = N, c->K = K, c->mode = mode;
        if (choose(s, c, norm_w ? s->xn : X, W, Y, err)) {
            s->n_choices--;
            return -1;
        }
    }
    unsigned mask = RL_OPMASK(op);
    if (mode == GEMV_SILU_BF16 && c->use_gemv) mask |= RL_OPMASK(RL_OP_SILU_MUL);
    const int fused = norm_w && c->use_gemv && s->fuse_norm && s->rs_valid;
    if (norm_w && !fused) { // the norm runs on its own, into s->xn
        if (cuda_prof_begin(s, err)) return -1;
        cudaError_t e = rl_rmsnorm(s->st, pdl_on(s), s->x, norm_w, s->xn, T, K, (float)s->m.norm_eps, 0, 1);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel rmsnorm (layer %d) failed to launch: %s", layer,
                           cudaGetErrorString(e));
        s->after_lt = 0;
        if (cuda_prof_end(s, "rmsnorm", RL_OPMASK(norm_op), layer, err)) return -1;
        X = s->xn;
    }
    if (c->use_gemv) {
        const gemv_norm nm = {s->x, norm_w, s->rs};
        const gemv_ss ss = {s->ss, s->rs, s->ss_ticket, (float)s->m.norm_eps};
        const int leave_rs = mode == GEMV_ADD_F32 && s->fuse_norm;
        if (fused) mask |= RL_OPMASK(norm_op);
        if (cuda_prof_begin(s, err)) return -1;
        const int launch = pdl_on(s) ? 1 + (s->gemv_l2pf != 0) : 0;
        cudaError_t e = rl_gemv_st(s->st, launch, fused ? 0 : c->stages, leave_rs ? 1 : c->ksplit, mode, W, X, Y, N, K,
                                   T, N, N, fused ? &nm : NULL, leave_rs ? &ss : NULL);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel gemv_tc (%s, layer %d) failed to launch: %s", rl_op_names[op],
                           layer, cudaGetErrorString(e));
        if (mode == GEMV_ADD_F32) s->rs_valid = leave_rs;
        s->after_lt = 0;
        return cuda_prof_end(s, "gemv_tc", mask, layer, err);
    }
    if (mode == GEMV_ADD_F32) s->rs_valid = 0; // cuBLASLt leaves no sums of squares behind
    const int out_f32 = mode == GEMV_STORE_F32 || mode == GEMV_ADD_F32, acc = mode == GEMV_ADD_F32;
    if (cuda_prof_begin(s, err)) return -1;
    if (mode == GEMV_SILU_BF16) {
        if (rl_lt_matmul(s->lt, s->st, T, 2 * N, K, X, W, s->gu, 0, 0, 0, NULL, NULL, err)) return -1;
        s->after_lt = 1;
        if (cuda_prof_end(s, "cublaslt_gemm", mask, layer, err)) return -1;
        if (cuda_prof_begin(s, err)) return -1;
        cudaError_t e = rl_silu_mul(s->st, pdl_on(s), s->gu, (bf16 *)Y, T, N);
        if (e != cudaSuccess)
            return rl_fail(err, "cuda engine: kernel silu_mul (layer %d) failed to launch: %s", layer,
                           cudaGetErrorString(e));
        s->after_lt = 0;
        return cuda_prof_end(s, "silu_mul", RL_OPMASK(RL_OP_SILU_MUL), layer, err);
    }
    if (rl_lt_matmul(s->lt, s->st, T, N, K, X, W, Y, out_f32, acc, 0, NULL, NULL, err)) return -1;
    s->after_lt = 1;
    return cuda_prof_end(s, "cublaslt_gemm", mask, layer, err);
}
