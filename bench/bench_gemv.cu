// bench_gemv.cu: the decode projections of Llama-3.1-8B at batch 1..64 (and short prefills up to
// 128 tokens), every kernel the engine can pick for them: gemm_stream (Hopper: TMA ring + wgmma,
// stream-K), the mma.sync GEMV (the sm_80 path) and cuBLASLt (best of its heuristic candidates,
// + silu_mul for the gate/up epilogue). Each is first checked against a CPU reference (fp64 over
// sampled rows, every epilogue, output poisoned first), then timed
//  - isolated: one launch between two events (median of 30), weights rotated over copies >= 256 MB
//    so every launch streams from HBM;
//  - chained: 24 launches back to back with PDL over the rotating copies, per launch;
//  - layer: the 4 projections of a layer (qkv, o+res, gate/up+SiLU, down+res) back to back with
//    PDL over 8 layers of distinct weights, as a decode step runs them: per layer, and % of the
//    read roof for the layer's bytes. That row is the one that predicts the decode step.
// Prints time, GB/s and % of the measured read roof. Usage: bench_gemv [TRACE.tsv] (every CTA's
// timestamps of the traced launches, with its SM).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "engine/cuda/blas.h"
#include "engine/cuda/kernels.h"
extern "C" {
#include "engine/code_path.h"
}
#include "engine/cuda/tma.h"
#include "gemm_stream_v1.h"
#include "roofs.h"

#define CK(call)                                                                                                 \
    do {                                                                                                         \
        cudaError_t e_ = (call);                                                                                 \
        if (e_ != cudaSuccess) {                                                                                 \
            fprintf(stderr, "bench_gemv: %s failed: %s (%s:%d)\n", #call, cudaGetErrorString(e_), __FILE__, __LINE__); \
            exit(1);                                                                                             \
        }                                                                                                        \
    } while (0)

struct shape {
    const char *name;
    int N, K, mode; // N = output features (SILU: intermediate; the weight holds 2N rows)
};

static const shape shapes[] = {
    {"qkv_proj", 6144, 4096, GEMV_STORE_BF16},     {"o_proj(+res)", 4096, 4096, GEMV_ADD_F32},
    {"gate_up+silu", 14336, 4096, GEMV_SILU_BF16}, {"down(+res)", 4096, 14336, GEMV_ADD_F32},
    {"lm_head", 128256, 4096, GEMV_STORE_F32},
};
static const int batches[] = {1, 4, 8, 16, 32, 64, 128};
enum { IMPL_STREAM, IMPL_LT, IMPL_GEMV, IMPL_STREAM_V1, N_IMPL };
static const char *impl_names[N_IMPL] = {"stream", "lt", "gemv", "stream_v1"};

struct ctx {
    rl_lt *lt;
    cuda_tma_encode_fn enc;
    int sm90, sm_count, pdl;
    rl_gs_work gs;
    bf16 *gu;
};

struct operand { // one weight copy with its TMA map
    bf16 *W;
    CUtensorMap tw;
};

static float bf2f(uint16_t u)
{
    uint32_t x = (uint32_t)u << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static int out_bytes(int mode) { return mode == GEMV_STORE_F32 ? 4 : mode == GEMV_ADD_F32 ? 8 : 2; }

static int impl_applies(const ctx &c, int impl, const shape &s, int B)
{
    if (impl == IMPL_STREAM || impl == IMPL_STREAM_V1) return c.sm90 && rl_gs_supported(s.N, s.K, B, s.mode);
    if (impl == IMPL_GEMV) return rl_gemv_supported(s.N, s.K, B);
    return 1;
}

static void run(const ctx &c, int impl, const shape &s, int B, const operand &w, const CUtensorMap &tx, const bf16 *X,
                void *Y, int pdl = 0)
{
    rl_err err;
    if (impl == IMPL_STREAM) {
        CK(rl_gemm_stream(0, pdl, s.mode, &w.tw, &tx, Y, s.N, s.K, B, s.N, s.N, &c.gs));
        return;
    }
    if (impl == IMPL_GEMV) {
        CK(rl_gemv(0, pdl, s.mode, w.W, X, Y, s.N, s.K, B, s.N, s.N));
        return;
    }
    if (impl == IMPL_STREAM_V1) {
        CK(rl_gemm_stream_v1(0, pdl, s.mode, &w.tw, &tx, Y, s.N, s.K, B, s.N, s.N, c.gs.ws, c.gs.tickets, c.sm_count));
        return;
    }
    int rc;
    if (s.mode == GEMV_SILU_BF16) {
        rc = rl_lt_matmul(c.lt, 0, B, 2 * s.N, s.K, X, w.W, c.gu, 0, 0, 1, NULL, NULL, &err);
        if (!rc) CK(rl_silu_mul(0, 0, c.gu, (bf16 *)Y, B, s.N));
    } else {
        rc = rl_lt_matmul(c.lt, 0, B, s.N, s.K, X, w.W, Y, s.mode != GEMV_STORE_BF16, s.mode == GEMV_ADD_F32, 1, c.gu,
                          NULL, &err);
    }
    if (rc) {
        fprintf(stderr, "bench_gemv: %s\n", err.msg);
        exit(1);
    }
}

// ||got - ref|| / ||ref|| over sampled rows; fp64 reference from the same bf16 inputs. Also fails
// (returns NaN) if a sampled output was left unwritten (still the poison pattern).
static double check(const ctx &c, int impl, const shape &s, int B, const operand &w, const CUtensorMap &tx, const bf16 *X,
                    void *Y)
{
    std::vector<uint16_t> hx((size_t)B * s.K);
    CK(cudaMemcpy(hx.data(), X, hx.size() * 2, cudaMemcpyDeviceToHost));
    const size_t ybytes = (size_t)B * s.N * (s.mode == GEMV_STORE_F32 || s.mode == GEMV_ADD_F32 ? 4 : 2);
    std::vector<unsigned char> before(ybytes), after(ybytes);
    CK(cudaMemset(Y, 0x3c, ybytes)); // poison (and a known base for the accumulating epilogue)
    CK(cudaMemcpy(before.data(), Y, ybytes, cudaMemcpyDeviceToHost));
    run(c, impl, s, B, w, tx, X, Y);
    CK(cudaDeviceSynchronize());
    CK(cudaMemcpy(after.data(), Y, ybytes, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    int shown = 0;
    std::vector<uint16_t> wrow(s.K), urow(s.K);
    for (int i = 0; i < 48; i++) {
        const int n = i == 47 ? s.N - 1 : (int)((long long)i * 7919 % s.N); // the last row too (partial tiles)
        CK(cudaMemcpy(wrow.data(), w.W + (size_t)n * s.K, (size_t)s.K * 2, cudaMemcpyDeviceToHost));
        if (s.mode == GEMV_SILU_BF16)
            CK(cudaMemcpy(urow.data(), w.W + (size_t)(n + s.N) * s.K, (size_t)s.K * 2, cudaMemcpyDeviceToHost));
        for (int b = 0; b < B; b++) {
            double g = 0, u = 0;
            for (int k = 0; k < s.K; k++) {
                const double x = bf2f(hx[(size_t)b * s.K + k]);
                g += x * bf2f(wrow[k]);
                if (s.mode == GEMV_SILU_BF16) u += x * bf2f(urow[k]);
            }
            const double ref = s.mode == GEMV_SILU_BF16 ? g / (1 + exp(-g)) * u : g;
            const size_t o = (size_t)b * s.N + n;
            double got;
            if (s.mode == GEMV_STORE_F32 || s.mode == GEMV_ADD_F32) {
                float a, z;
                memcpy(&a, &after[o * 4], 4);
                memcpy(&z, &before[o * 4], 4);
                if (s.mode == GEMV_STORE_F32 && !memcmp(&after[o * 4], &before[o * 4], 4) && fabs(ref - z) > 1e-3)
                    return NAN; // still the poison, and the answer is not the poison
                got = s.mode == GEMV_ADD_F32 ? (double)a - z : a;
            } else {
                uint16_t a;
                memcpy(&a, &after[o * 2], 2);
                if (a == 0x3c3c && fabs(ref - bf2f(0x3c3c)) > 1e-2) return NAN;
                got = bf2f(a);
            }
            num += (got - ref) * (got - ref);
            den += ref * ref;
            if (fabs(got - ref) > 0.05 * (fabs(ref) + 0.05) && shown < 6) { // a few samples of a failure
                fprintf(stderr, "  mismatch %s impl %d B=%d row %d seq %d: got %.5g want %.5g\n", s.name, impl, B, n, b,
                        got, ref);
                shown++;
            }
        }
    }
    return sqrt(num / den);
}

static double time_us(cudaEvent_t e0, cudaEvent_t e1, int reps, int per, void (*body)(void *, int), void *arg)
{
    std::vector<double> t(reps);
    for (int r = 0; r < reps; r++) {
        CK(cudaEventRecord(e0));
        body(arg, r);
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        t[r] = ms * 1e3 / per;
    }
    return bench_median(t.data(), reps);
}

struct one_arg {
    const ctx *c;
    int impl, B, copies, pdl, n;
    const shape *s;
    const std::vector<operand> *w;
    const CUtensorMap *tx;
    const bf16 *X;
    void *Y;
};
static void body_one(void *p, int r)
{
    one_arg *a = (one_arg *)p;
    for (int j = 0; j < a->n; j++)
        run(*a->c, a->impl, *a->s, a->B, (*a->w)[(r * a->n + j) % a->copies], *a->tx, a->X, a->Y, a->pdl);
}

int main(int argc, char **argv)
{
    bench_roofs roofs;
    if (bench_measure_roofs(&roofs)) return 1;
    printf("device: %s (%d SMs)\n", roofs.device, roofs.sm_count);
    printf("roofs: HBM read %.0f GB/s, copy %.0f GB/s (read+write), bf16 GEMM %.0f TFLOP/s (cuBLASLt 8192^3)\n\n",
           roofs.read_gbps, roofs.copy_gbps, roofs.gemm_tflops);

    ctx c = {};
    rl_err err;
    void *ltws;
    CK(cudaMalloc(&ltws, 32 << 20));
    if (rl_lt_create(&c.lt, 32 << 20, ltws, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    c.sm_count = prop.multiProcessorCount;
    int sm90a = 0;
    {
        rl_code_path path;
        rl_err perr;
        if (rl_cuda_code_path(0, &path, &perr)) return fprintf(stderr, "%s\n", perr.msg), 1;
        sm90a = path.hopper_kernels;
        c.pdl = path.pdl; // PDL only where the kernels were compiled with griddepcontrol
    }
    c.sm90 = sm90a;
    if (c.sm90 && cuda_tma_encoder(&c.enc, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    c.gs.sm_count = c.sm_count;
    CK(cudaMalloc(&c.gs.ws, rl_gs_workspace_floats(c.sm_count) * 4));
    CK(cudaMalloc(&c.gs.tickets, RL_GS_MAX_TILES * 4));
    CK(cudaMemset(c.gs.tickets, 0, RL_GS_MAX_TILES * 4));
    const int maxB = 128;
    bf16 *X;
    void *Y, *Y2;
    CK(cudaMalloc(&X, (size_t)maxB * 14336 * 2));
    CK(cudaMalloc(&c.gu, (size_t)maxB * 2 * 14336 * 2 + ((size_t)maxB * 128256 * 4)));
    CK(cudaMalloc(&Y, (size_t)maxB * 128256 * 4));
    CK(cudaMalloc(&Y2, (size_t)maxB * 14336 * 4));
    CK(rl_init_uniform(0, X, (size_t)maxB * 14336, 99, 0.f, 1.f));
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    printf("code path: %s\n", c.sm90 ? "sm90a (gemm_stream, cuBLASLt)" : "portable (gemv, cuBLASLt)");
    printf("per kernel: isolated us | chained us (24 launches with PDL, per launch) and %% of the read roof\n");

    int failures = 0;
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]);
    std::vector<std::vector<operand>> ops(n_shapes);
    for (int si = 0; si < n_shapes; si++) {
        const shape &s = shapes[si];
        const int rows_w = s.mode == GEMV_SILU_BF16 ? 2 * s.N : s.N;
        const size_t wbytes = (size_t)rows_w * s.K * 2;
        int copies = (int)((256u << 20) / wbytes) + 1;
        if (copies < 8 && si < 4) copies = 8; // the layer chain uses 8 distinct layers
        if (copies < 2) copies = 2;
        ops[si].resize(copies);
        for (int k = 0; k < copies; k++) {
            operand &o = ops[si][k];
            CK(cudaMalloc(&o.W, wbytes));
            CK(rl_init_uniform(0, o.W, wbytes / 2, 1000 + 31 * si + k, 0.f, (float)sqrt(3.0 / s.K)));
            if (c.sm90 && cuda_tma_map_bf16(c.enc, &o.tw, o.W, rows_w, s.K, s.K, 64, "weights", &err))
                return fprintf(stderr, "%s\n", err.msg), 1;
        }
    }
    for (int si = 0; si < n_shapes; si++) {
        const shape &s = shapes[si];
        const int rows_w = s.mode == GEMV_SILU_BF16 ? 2 * s.N : s.N;
        const size_t wbytes = (size_t)rows_w * s.K * 2;
        for (int B : batches) {
            CUtensorMap tx;
            if (c.sm90 && cuda_tma_map_bf16(c.enc, &tx, X, B, s.K, s.K, rl_gs_tok_tile(B), "activations", &err))
                return fprintf(stderr, "%s\n", err.msg), 1;
            const double bytes = (double)wbytes + (double)B * s.K * 2 + (double)B * s.N * out_bytes(s.mode);
            printf("%-13s %3d |", s.name, B);
            for (int impl = 0; impl < N_IMPL; impl++) {
                if (!impl_applies(c, impl, s, B)) continue;
                const double e = check(c, impl, s, B, ops[si][0], tx, X, Y);
                if (!(e < 1e-2)) failures++;
                one_arg a = {&c, impl, B, (int)ops[si].size(), 0, 1, &s, &ops[si], &tx, X, Y};
                body_one(&a, 0);
                const double us = time_us(e0, e1, 30, 1, body_one, &a);
                a.pdl = impl != IMPL_LT && c.pdl, a.n = 24;
                const double ch = time_us(e0, e1, 5, 24, body_one, &a);
                printf(" %s %.1f|%.1f %.0f%% err %.1e;", impl_names[impl], us, ch, 100 * bytes / ch / 1e3 / roofs.read_gbps,
                       e);
            }
            printf("\n");
        }
    }

    // The layer chain: qkv -> o_proj -> gate/up -> down over 8 layers, PDL between our kernels.
    printf("\nlayer chain (qkv, o+res, gate/up+SiLU, down+res; 8 distinct layers, 5 reps): per layer us, %% of read roof\n");
    for (int B : batches) {
        printf("B=%-3d", B);
        for (int impl = 0; impl < N_IMPL; impl++) {
            int ok = 1;
            for (int si = 0; si < 4; si++) ok &= impl_applies(c, impl, shapes[si], B);
            if (!ok) continue;
            CUtensorMap tx[4];
            double bytes = 0;
            for (int si = 0; si < 4; si++) {
                const shape &s = shapes[si];
                bytes += (double)(s.mode == GEMV_SILU_BF16 ? 2 : 1) * s.N * s.K * 2 + (double)B * s.K * 2 +
                         (double)B * s.N * out_bytes(s.mode);
                if (c.sm90 && cuda_tma_map_bf16(c.enc, &tx[si], X, B, s.K, s.K, rl_gs_tok_tile(B), "activations", &err))
                    return fprintf(stderr, "%s\n", err.msg), 1;
            }
            std::vector<double> t(5);
            for (int r = 0; r < 6; r++) {
                if (r) CK(cudaEventRecord(e0));
                for (int l = 0; l < 8; l++)
                    for (int si = 0; si < 4; si++)
                        run(c, impl, shapes[si], B, ops[si][l], tx[si], X, si == 1 || si == 3 ? Y2 : Y,
                            impl != IMPL_LT && c.pdl);
                if (r) {
                    CK(cudaEventRecord(e1));
                    CK(cudaEventSynchronize(e1));
                    float ms;
                    CK(cudaEventElapsedTime(&ms, e0, e1));
                    t[r - 1] = ms * 1e3 / 8;
                }
            }
            const double us = bench_median(t.data(), 5);
            printf("  %s %.1f us %.1f%%", impl_names[impl], us, 100 * bytes / us / 1e3 / roofs.read_gbps);
        }
        printf("  (floor %.1f us)\n", (6144.0 * 4096 + 4096.0 * 4096 + 28672.0 * 4096 + 4096.0 * 14336) * 2 / roofs.read_gbps / 1e3);
    }
    if (c.sm90) { // where the time goes: per-CTA timestamps of 8 chained qkv launches at B = 1
        const int n_launch = 8;
        unsigned long long *tr;
        const size_t per = (size_t)c.sm_count * 8;
        CK(cudaMalloc(&tr, n_launch * per * 8));
        CK(cudaMemset(tr, 0, n_launch * per * 8));
        CUtensorMap tx;
        if (cuda_tma_map_bf16(c.enc, &tx, X, 1, 4096, 4096, 8, "activations", &err)) return fprintf(stderr, "%s\n", err.msg), 1;
        for (int l = 0; l < n_launch; l++) {
            rl_gs_work w = c.gs;
            w.trace = tr + l * per;
            CK(rl_gemm_stream(0, c.pdl, GEMV_STORE_BF16, &ops[0][l % ops[0].size()].tw, &tx, Y, 6144, 4096, 1, 6144, 6144, &w));
        }
        CK(cudaDeviceSynchronize());
        std::vector<unsigned long long> h(n_launch * per);
        CK(cudaMemcpy(h.data(), tr, h.size() * 8, cudaMemcpyDeviceToHost));
        const unsigned long long t0 = h[0];
        printf("\ntrace: 8 qkv launches (B=1, PDL), us from the first CTA's start, min/max over CTAs:\n"
               "  entry | activations requested (PDL wait done) | first stage consumed | exit\n");
        for (int l = 0; l < n_launch; l++) {
            printf("  launch %d:", l);
            for (int k = 0; k < 4; k++) {
                double mn = 1e30, mx = -1e30;
                for (int ct = 0; ct < c.sm_count; ct++) {
                    const unsigned long long v = h[l * per + (size_t)ct * 8 + k];
                    if (!v) continue;
                    const double u = ((double)v - (double)t0) / 1e3;
                    mn = u < mn ? u : mn, mx = u > mx ? u : mx;
                }
                if (mn < 1e29) printf(" %.1f/%.1f", mn, mx);
                else printf(" -");
            }
            int per_sm[1024] = {0}, most = 0;
            for (int ct = 0; ct < c.sm_count; ct++) {
                const unsigned sm = (unsigned)h[l * per + (size_t)ct * 8 + 4] % 1024;
                if (++per_sm[sm] > most) most = per_sm[sm];
            }
            printf(" | most CTAs on one SM: %d\n", most);
        }
        // Every CTA's stamps, for telling SMs that are always slow from a tail that moves around:
        // launch, smid, entry, activations requested, first stage, exit (us from the first entry).
        if (const char *path = argc > 1 ? argv[1] : NULL) {
            FILE *f = fopen(path, "w");
            if (!f) return fprintf(stderr, "bench_gemv: cannot write %s\n", path), 1;
            fprintf(f, "launch\tsmid\tentry_us\tx_us\tfirst_us\texit_us\n");
            for (int l = 0; l < n_launch; l++)
                for (int ct = 0; ct < c.sm_count; ct++) {
                    const unsigned long long *v = &h[l * per + (size_t)ct * 8];
                    fprintf(f, "%d\t%llu", l, v[4]);
                    for (int k = 0; k < 4; k++) fprintf(f, "\t%.3f", v[k] ? ((double)v[k] - (double)t0) / 1e3 : -1.0);
                    fprintf(f, "\n");
                }
            if (fclose(f)) return fprintf(stderr, "bench_gemv: writing %s failed\n", path), 1;
        }
        CK(cudaFree(tr));
    }
    printf("\n%s: every result within 1e-2 relative L2 of the fp64 CPU reference%s\n", failures ? "FAIL" : "ok",
           failures ? " (see the err columns)" : "");
    return failures ? 1 : 0;
}
