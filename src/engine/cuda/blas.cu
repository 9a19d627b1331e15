// blas.cu: the cuBLASLt wrapper (see blas.h). Row-major Y = X W^T is column-major
// Y^T(N x T) = W(N x K, op T of a K x N col-major view) * X^T(K x T).
#include "blas.h"

#include <stdlib.h>
#include <string.h>

#define LT_CHECK(call, what)                                                                                   \
    do {                                                                                                       \
        cublasStatus_t s_ = (call);                                                                            \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                                       \
            return rl_fail(err, "cuBLASLt %s: %s failed: %s (%s:%d)", what, #call, cublasLtGetStatusString(s_), \
                           __FILE__, __LINE__);                                                                \
    } while (0)

#define LT_MAX_PLANS 128
#define LT_CANDIDATES 32

typedef struct {
    int T, N, K, out_f32, accumulate;
    cublasLtMatmulDesc_t op;
    cublasLtMatrixLayout_t a, b, c;
    cublasLtMatmulAlgo_t algo;
} lt_plan;

struct rl_lt {
    cublasLtHandle_t h;
    void *ws;
    size_t ws_bytes;
    lt_plan plans[LT_MAX_PLANS];
    int n_plans;
    int next_evict;
};

int rl_lt_create(rl_lt **out, size_t workspace_bytes, void *workspace, rl_err *err)
{
    *out = NULL;
    rl_lt *lt = (rl_lt *)calloc(1, sizeof *lt);
    if (!lt) return rl_fail(err, "cuBLASLt: out of host memory");
    cublasStatus_t s = cublasLtCreate(&lt->h);
    if (s != CUBLAS_STATUS_SUCCESS) {
        free(lt);
        return rl_fail(err, "cuBLASLt: cublasLtCreate failed: %s", cublasLtGetStatusString(s));
    }
    lt->ws = workspace;
    lt->ws_bytes = workspace_bytes;
    *out = lt;
    return 0;
}

static void plan_free(lt_plan *p)
{
    if (p->op) cublasLtMatmulDescDestroy(p->op);
    if (p->a) cublasLtMatrixLayoutDestroy(p->a);
    if (p->b) cublasLtMatrixLayoutDestroy(p->b);
    if (p->c) cublasLtMatrixLayoutDestroy(p->c);
    memset(p, 0, sizeof *p);
}

void rl_lt_destroy(rl_lt *lt)
{
    if (!lt) return;
    for (int i = 0; i < lt->n_plans; i++) plan_free(&lt->plans[i]);
    cublasLtDestroy(lt->h);
    free(lt);
}

static int run(rl_lt *lt, const lt_plan *p, const cublasLtMatmulAlgo_t *algo, cudaStream_t st, const bf16 *X,
               const bf16 *W, const void *C, void *D, rl_err *err)
{
    const float alpha = 1.f, beta = p->accumulate ? 1.f : 0.f;
    LT_CHECK(cublasLtMatmul(lt->h, p->op, &alpha, W, p->a, X, p->b, &beta, C, p->c, D, p->c, algo, lt->ws, lt->ws_bytes,
                            st),
             "matmul");
    return 0;
}

// Times each candidate (1 warm-up + 3 runs) and keeps the fastest in p->algo.
static int tune(rl_lt *lt, lt_plan *p, const cublasLtMatmulHeuristicResult_t *cand, int n_cand, cudaStream_t st,
                const bf16 *X, const bf16 *W, void *Y, void *scratch, double *best_ms, rl_err *err)
{
    cudaEvent_t e0, e1;
    CU_CHECK(cudaEventCreate(&e0), "cuBLASLt tuning");
    CU_CHECK(cudaEventCreate(&e1), "cuBLASLt tuning");
    void *D = p->accumulate ? scratch : Y; // never disturb an accumulating output while timing
    double best = 1e30;
    int best_i = 0, rc = 0;
    for (int i = 0; i < n_cand && !rc; i++) {
        rl_err e_try;
        if (run(lt, p, &cand[i].algo, st, X, W, Y, D, &e_try)) continue; // a candidate may refuse: skip it
        cudaError_t ce = cudaEventRecord(e0, st);
        for (int r = 0; r < 3 && !rc && ce == cudaSuccess; r++) rc = run(lt, p, &cand[i].algo, st, X, W, Y, D, err);
        if (ce == cudaSuccess) ce = cudaEventRecord(e1, st);
        if (ce == cudaSuccess) ce = cudaEventSynchronize(e1);
        if (ce != cudaSuccess) {
            rc = rl_fail(err, "cuBLASLt tuning: cudaEventRecord/Synchronize failed: %s", cudaGetErrorString(ce));
            break;
        }
        float ms = 0.f;
        ce = cudaEventElapsedTime(&ms, e0, e1);
        if (ce != cudaSuccess) {
            rc = rl_fail(err, "cuBLASLt tuning: cudaEventElapsedTime failed: %s", cudaGetErrorString(ce));
            break;
        }
        if (ms / 3 < best) best = ms / 3, best_i = i;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    if (rc) return -1;
    p->algo = cand[best_i].algo;
    if (best_ms) *best_ms = best;
    return 0;
}

static lt_plan *find_or_plan(rl_lt *lt, cudaStream_t st, int T, int N, int K, const bf16 *X, const bf16 *W, void *Y,
                             int out_f32, int accumulate, int tune_new, void *scratch, double *tuned_ms, rl_err *err)
{
    if (tuned_ms) *tuned_ms = -1;
    if (accumulate && !out_f32) {
        rl_fail(err, "cuBLASLt: accumulate needs an fp32 output");
        return NULL;
    }
    lt_plan *p = NULL;
    int added = 0;
    for (int i = 0; i < lt->n_plans; i++) {
        lt_plan *q = &lt->plans[i];
        if (q->T == T && q->N == N && q->K == K && q->out_f32 == out_f32 && q->accumulate == accumulate) p = q;
    }
    if (!p) {
        if (lt->n_plans < LT_MAX_PLANS) {
            p = &lt->plans[lt->n_plans++];
            added = 1;
        } else { // many prefill lengths: recycle the oldest plan
            p = &lt->plans[lt->next_evict];
            lt->next_evict = (lt->next_evict + 1) % LT_MAX_PLANS;
            plan_free(p);
        }
        memset(p, 0, sizeof *p);
        p->T = T, p->N = N, p->K = K, p->out_f32 = out_f32, p->accumulate = accumulate;
        const cudaDataType_t yt = out_f32 ? CUDA_R_32F : CUDA_R_16BF;
        const cublasOperation_t tr = CUBLAS_OP_T, nt = CUBLAS_OP_N;
        int rc = 0;
        cublasLtMatmulPreference_t pref = NULL;
        cublasLtMatmulHeuristicResult_t cand[LT_CANDIDATES];
        int n_cand = 0;
        do {
            cublasStatus_t s;
#define TRY(call)                                                                                              \
    if ((s = (call)) != CUBLAS_STATUS_SUCCESS) {                                                               \
        rc = rl_fail(err, "cuBLASLt plan %dx%dx%d: %s failed: %s", T, N, K, #call, cublasLtGetStatusString(s)); \
        break;                                                                                                 \
    }
            TRY(cublasLtMatmulDescCreate(&p->op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
            TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSA, &tr, sizeof tr));
            TRY(cublasLtMatmulDescSetAttribute(p->op, CUBLASLT_MATMUL_DESC_TRANSB, &nt, sizeof nt));
            TRY(cublasLtMatrixLayoutCreate(&p->a, CUDA_R_16BF, K, N, K));
            TRY(cublasLtMatrixLayoutCreate(&p->b, CUDA_R_16BF, K, T, K));
            TRY(cublasLtMatrixLayoutCreate(&p->c, yt, N, T, N));
            TRY(cublasLtMatmulPreferenceCreate(&pref));
            TRY(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &lt->ws_bytes,
                                                     sizeof lt->ws_bytes));
            TRY(cublasLtMatmulAlgoGetHeuristic(lt->h, p->op, p->a, p->b, p->c, p->c, pref, LT_CANDIDATES, cand, &n_cand));
#undef TRY
            if (n_cand == 0) rc = rl_fail(err, "cuBLASLt: no algorithm for %dx%dx%d (bf16 in, fp32 compute)", T, N, K);
        } while (0);
        if (pref) cublasLtMatmulPreferenceDestroy(pref);
        if (!rc) {
            p->algo = cand[0].algo;
            if (tune_new) rc = tune(lt, p, cand, n_cand, st, X, W, Y, scratch, tuned_ms, err);
        }
        if (rc) {
            plan_free(p); // leaves T = 0, which matches no request
            if (added) lt->n_plans--;
            return NULL;
        }
    }
    return p;
}

int rl_lt_plan(rl_lt *lt, cudaStream_t st, int T, int N, int K, const bf16 *X, const bf16 *W, void *Y, int out_f32,
               int accumulate, int tune, void *scratch, double *tuned_ms, rl_err *err)
{
    return find_or_plan(lt, st, T, N, K, X, W, Y, out_f32, accumulate, tune, scratch, tuned_ms, err) ? 0 : -1;
}

int rl_lt_matmul(rl_lt *lt, cudaStream_t st, int T, int N, int K, const bf16 *X, const bf16 *W, void *Y, int out_f32,
                 int accumulate, int tune, void *scratch, double *tuned_ms, rl_err *err)
{
    lt_plan *p = find_or_plan(lt, st, T, N, K, X, W, Y, out_f32, accumulate, tune, scratch, tuned_ms, err);
    if (!p) return -1;
    return run(lt, p, &p->algo, st, X, W, Y, Y, err);
}
