// bench_attention.cu: the engine's attention kernels against a plain fp32 reference kernel on
// the GPU (one block per query row, full softmax), then timed.
//  - decode, split-KV (flash-decoding): Llama-3.1-8B heads (32 q, 8 kv, dim 128) at batch
//    1..512, context 191 and 4095; bytes = K and V read once per kv head; % of the read roof.
//    and at long context (1024..32768 keys; the lab's context sweep);
//  - prefill, causal flash attention: the Hopper kernel (attn_prefill_sm90.cu: wgmma, TMA,
//    producer/consumer warpgroups) and the mma.sync kernel of the sm_80 path, L = 64..4096, a
//    second pass over a cache that already holds p0 tokens (chunked prefill), a ragged case and
//    several sequences in one pass; FLOPs = 4*H*D*(visible pairs); % of the GEMM roof.
// KV caches rotate over copies >= 256 MB so timed decode reads come from HBM.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vector>

#include "roofs.h"
#include "engine/cuda/kernels.h"
extern "C" {
#include "engine/code_path.h"
}
#include "engine/cuda/tma.h"

#define CK(call)                                                                                           \
    do {                                                                                                   \
        cudaError_t e_ = (call);                                                                           \
        if (e_ != cudaSuccess) {                                                                           \
            fprintf(stderr, "bench_attention: %s failed: %s (%s:%d)\n", #call, cudaGetErrorString(e_), __FILE__, \
                    __LINE__);                                                                             \
            exit(1);                                                                                       \
        }                                                                                                  \
    } while (0)

enum { NH = 32, KVH = 8, D = 128, QKV = (NH + 2 * KVH) * D };

// Reference: query row (token t of sequence b, head h) at position pos attends to keys 0..pos of
// cache slot b. One block per (t, h); the scores go to sc (a row of max_ctx floats per block).
__global__ void ref_attention(const bf16 *qkv, const bf16 *kc, const bf16 *vc, float *out, int n_per_seq,
                              const int *pos_dev, int p0, int max_ctx, float *sc_all)
{
    __shared__ float red[32];
    const int t = blockIdx.x, h = blockIdx.y;
    float *sc = sc_all + ((size_t)t * NH + h) * max_ctx;
    const int b = t / n_per_seq, pos = (pos_dev ? *pos_dev : p0) + t % n_per_seq;
    const int kvh = h / (NH / KVH);
    const bf16 *q = qkv + (size_t)t * QKV + h * D;
    const bf16 *K = kc + ((size_t)b * KVH + kvh) * max_ctx * D, *V = vc + ((size_t)b * KVH + kvh) * max_ctx * D;
    const float scale = 1.f / sqrtf((float)D);
    for (int j = threadIdx.x; j <= pos; j += blockDim.x) {
        float s = 0.f;
        for (int d = 0; d < D; d++) s += __bfloat162float(q[d]) * __bfloat162float(K[(size_t)j * D + d]);
        sc[j] = s * scale;
    }
    __syncthreads();
    float m = -INFINITY;
    for (int j = threadIdx.x; j <= pos; j += blockDim.x) m = fmaxf(m, sc[j]);
    m = warp_max(m);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = m;
    __syncthreads();
    m = -INFINITY;
    for (int i = 0; i < (int)blockDim.x / 32; i++) m = fmaxf(m, red[i]);
    __syncthreads();
    float l = 0.f;
    for (int j = threadIdx.x; j <= pos; j += blockDim.x) {
        sc[j] = expf(sc[j] - m);
        l += sc[j];
    }
    l = warp_sum(l);
    if ((threadIdx.x & 31) == 0) red[threadIdx.x >> 5] = l;
    __syncthreads();
    l = 0.f;
    for (int i = 0; i < (int)blockDim.x / 32; i++) l += red[i];
    __syncthreads();
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        float a = 0.f;
        for (int j = 0; j <= pos; j++) a += sc[j] * __bfloat162float(V[(size_t)j * D + d]);
        out[((size_t)t * NH + h) * D + d] = a / l;
    }
}

__global__ void to_float(const bf16 *in, float *out, size_t n)
{
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        out[i] = __bfloat162float(in[i]);
}

static double rel_err(const float *got_d, const float *ref_d, size_t n)
{
    std::vector<float> g(n), r(n);
    CK(cudaMemcpy(g.data(), got_d, n * 4, cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(r.data(), ref_d, n * 4, cudaMemcpyDeviceToHost));
    double num = 0, den = 0;
    for (size_t i = 0; i < n; i++) {
        num += ((double)g[i] - r[i]) * ((double)g[i] - r[i]);
        den += (double)r[i] * r[i];
    }
    return isfinite(num) ? sqrt(num / den) : INFINITY;
}

template <typename F> static double time_us(F f, int reps)
{
    cudaEvent_t e0, e1;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    std::vector<double> t(reps);
    f(0), f(1);
    for (int r = 0; r < reps; r++) {
        CK(cudaEventRecord(e0));
        f(r);
        CK(cudaEventRecord(e1));
        CK(cudaEventSynchronize(e1));
        float ms;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        t[r] = ms * 1e3;
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    return bench_median(t.data(), reps);
}

static int failures;

static void decode_case(const bench_roofs &roofs, int B, int ctx, int sm_count, int force_splits = 0)
{
    const int max_ctx = ctx + 1;
    const size_t cache_elems = (size_t)B * KVH * max_ctx * D;
    const size_t kv_bytes = 2 * cache_elems * 2;
    int copies = (int)((256ull << 20) / kv_bytes) + 1;
    if (copies > 64) copies = 64;
    bf16 *kv, *qkv, *out;
    float *partial, *outf, *reff;
    int *pos;
    CK(cudaMalloc(&kv, kv_bytes * copies));
    CK(cudaMalloc(&qkv, (size_t)B * QKV * 2));
    CK(cudaMalloc(&out, (size_t)B * NH * D * 2));
    CK(cudaMalloc(&outf, (size_t)B * NH * D * 4));
    CK(cudaMalloc(&reff, (size_t)B * NH * D * 4));
    const int splits = force_splits ? force_splits : rl_attn_decode_splits(B, KVH, max_ctx, sm_count);
    CK(cudaMalloc(&partial, (rl_attn_decode_partial_floats(B, NH, D, splits) + 1) * 4));
    CK(cudaMalloc(&pos, 4));
    int *tickets;
    CK(cudaMalloc(&tickets, (size_t)B * KVH * 4));
    CK(cudaMemset(tickets, 0, (size_t)B * KVH * 4));
    const int p = ctx - 1; // the new token's position: keys 0..ctx-1
    CK(cudaMemcpy(pos, &p, 4, cudaMemcpyHostToDevice));
    CK(rl_init_uniform(0, kv, kv_bytes * copies / 2, 7 + B, 0.f, 2.f));
    CK(rl_init_uniform(0, qkv, (size_t)B * QKV, 3 + B, 0.f, 2.f));
    CK(cudaMemset(out, 0xff, (size_t)B * NH * D * 2)); // poison: NaN bf16
    CK(rl_attn_decode(0, 0, qkv, QKV, kv, kv + cache_elems, pos, NULL, out, partial, tickets, B, NH, KVH, D, max_ctx, splits, 0));
    float *sc;
    CK(cudaMalloc(&sc, (size_t)B * NH * max_ctx * 4));
    ref_attention<<<dim3(B, NH), 256>>>(qkv, kv, kv + cache_elems, reff, 1, pos, 0, max_ctx, sc);
    CK(cudaFree(sc));
    to_float<<<256, 256>>>(out, outf, (size_t)B * NH * D);
    CK(cudaGetLastError());
    const double e = rel_err(outf, reff, (size_t)B * NH * D);
    if (!(e < 1e-2)) failures++;
    const double us = time_us(
        [&](int r) {
            bf16 *k = kv + (size_t)(r % copies) * 2 * cache_elems;
            CK(rl_attn_decode(0, 0, qkv, QKV, k, k + cache_elems, pos, NULL, out, partial, tickets, B, NH, KVH, D, max_ctx, splits, 0));
        },
        50);
    const double bytes = (double)B * KVH * ctx * D * 2 * 2 + (double)B * NH * D * 2 * 2;
    const double gbps = bytes / us / 1e3;
    printf("decode  B=%3d ctx=%4d splits=%2d | %8.1f us %7.0f GB/s %5.1f%% of read roof | rel.err %.1e\n", B, ctx,
           splits, us, gbps, 100 * gbps / roofs.read_gbps, e);
    CK(cudaFree(kv));
    CK(cudaFree(qkv));
    CK(cudaFree(out));
    CK(cudaFree(outf));
    CK(cudaFree(reff));
    CK(cudaFree(partial));
    CK(cudaFree(pos));
    CK(cudaFree(tickets));
}

// Prefill of nseq sequences of n new tokens after p0 cached ones (keys 0..p0+n-1 in each
// sequence's cache slot): the reference runs once, then every kernel is checked against it and
// timed (same inputs, same machine).
enum { K_SM80, K_SM90 };
static int have_sm90;
static cuda_tma_encode_fn tma_enc;

static void prefill_case(const bench_roofs &roofs, int n, int p0, int nseq = 1)
{
    const int max_ctx = p0 + n, T = nseq * n;
    const size_t cache_elems = (size_t)nseq * KVH * max_ctx * D;
    bf16 *kv, *qkv, *out;
    float *outf, *reff, *sc;
    CK(cudaMalloc(&kv, 2 * cache_elems * 2));
    CK(cudaMalloc(&qkv, (size_t)T * QKV * 2));
    CK(cudaMalloc(&out, (size_t)T * NH * D * 2));
    CK(cudaMalloc(&outf, (size_t)T * NH * D * 4));
    CK(cudaMalloc(&reff, (size_t)T * NH * D * 4));
    CK(cudaMalloc(&sc, (size_t)T * NH * max_ctx * 4));
    CK(rl_init_uniform(0, kv, 2 * cache_elems, 17 + n, 0.f, 2.f));
    CK(rl_init_uniform(0, qkv, (size_t)T * QKV, 19 + n, 0.f, 2.f));
    ref_attention<<<dim3(T, NH), 256>>>(qkv, kv, kv + cache_elems, reff, n, NULL, p0, max_ctx, sc);
    CK(cudaGetLastError());
    CK(cudaFree(sc));
    CUtensorMap tq, tk, tv;
    rl_err err;
    if (have_sm90 && (cuda_tma_map_bf16(tma_enc, &tq, qkv, T, QKV, QKV, RL_FA_SM90_ROWS, "q", &err) ||
                      cuda_tma_map_bf16(tma_enc, &tk, kv, (int64_t)nseq * KVH * max_ctx, D, D, RL_FA_SM90_ROWS, "k", &err) ||
                      cuda_tma_map_bf16(tma_enc, &tv, kv + cache_elems, (int64_t)nseq * KVH * max_ctx, D, D,
                                        RL_FA_SM90_ROWS, "v", &err))) {
        fprintf(stderr, "bench_attention: %s\n", err.msg);
        exit(1);
    }
    const double pairs = (double)n * p0 + (double)n * (n + 1) / 2; // visible (query, key) pairs per sequence
    const double flops = 4.0 * NH * D * pairs * nseq;
    for (int k : {K_SM90, K_SM80}) {
        if (k == K_SM90 && !have_sm90) continue;
        auto launch = [&]() {
            if (k == K_SM90)
                CK(rl_attn_prefill_sm90(0, 0, &tq, &tk, &tv, out, nseq, n, p0, 0, NH, KVH, D, max_ctx));
            else
                CK(rl_attn_prefill(0, 0, qkv, QKV, kv, kv + cache_elems, out, nseq, n, p0, 0, NH, KVH, D, max_ctx, 0));
        };
        CK(cudaMemset(out, 0xff, (size_t)T * NH * D * 2)); // poison: NaN bf16
        launch();
        to_float<<<256, 256>>>(out, outf, (size_t)T * NH * D);
        CK(cudaGetLastError());
        const double e = rel_err(outf, reff, (size_t)T * NH * D);
        if (!(e < 2e-2)) failures++;
        const double us = time_us([&](int) { launch(); }, 20);
        const double tf = flops / us / 1e6;
        printf("prefill L=%4d p0=%4d seqs=%d %-5s | %8.1f us %7.1f TFLOP/s %5.1f%% of GEMM roof | rel.err %.1e\n", n,
               p0, nseq, k == K_SM90 ? "sm90" : "sm80", us, tf, 100 * tf / roofs.gemm_tflops, e);
    }
    CK(cudaFree(kv));
    CK(cudaFree(qkv));
    CK(cudaFree(out));
    CK(cudaFree(outf));
    CK(cudaFree(reff));
}

int main(int argc, char **argv)
{
    bench_roofs roofs;
    if (bench_measure_roofs(&roofs)) return 1;
    printf("device: %s (%d SMs)\n", roofs.device, roofs.sm_count);
    printf("roofs: HBM read %.0f GB/s, bf16 GEMM %.0f TFLOP/s\n", roofs.read_gbps, roofs.gemm_tflops);
    printf("heads %d q / %d kv, head_dim %d; reference: fp32 softmax on the GPU; pass: rel. L2 < 1e-2 (decode), "
           "2e-2 (prefill: P rounded to bf16)\n\n", NH, KVH, D);
    cudaDeviceProp prop;
    CK(cudaGetDeviceProperties(&prop, 0));
    {
        rl_code_path path;
        rl_err perr;
        if (rl_cuda_code_path(0, &path, &perr)) return fprintf(stderr, "%s\n", perr.msg), 1;
        have_sm90 = path.hopper_kernels;
    }
    rl_err err;
    if (have_sm90 && cuda_tma_encoder(&tma_enc, &err)) return fprintf(stderr, "%s\n", err.msg), 1;
    const bool decode = !(argc > 1 && !strcmp(argv[1], "--prefill-only"));
    if (decode) {
        for (int B : {1, 16, 64, 128, 512}) decode_case(roofs, B, 191, roofs.sm_count);
        // The lab's context sweep: context C keys at B = 1 and 16, B = 64 up to 16384.
        for (int C : {1024, 4096, 16384, 32768})
            for (int B : {1, 16, 64})
                if (B < 64 || C <= 16384) decode_case(roofs, B, C, roofs.sm_count);
        printf("split-KV count forced (heuristic above):\n");
        for (int sp : {1, 2, 4, 8})
            for (int B : {1, 16}) decode_case(roofs, B, 191, roofs.sm_count, sp);
    }
    printf("\n");
    for (int L : {64, 512, 1024, 2048, 4096}) prefill_case(roofs, L, 0);
    prefill_case(roofs, 1000, 3096); // the second pass of a chunked prompt
    prefill_case(roofs, 100, 37);    // ragged: n and p0 not multiples of any tile
    prefill_case(roofs, 300, 0, 3);  // three whole prompts in one pass
    printf("\n%s\n", failures ? "FAIL: some kernel disagrees with the reference" : "ok: every case matches the reference");
    return failures ? 1 : 0;
}
