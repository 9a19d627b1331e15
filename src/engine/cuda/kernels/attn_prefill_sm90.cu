// attn_prefill_sm90.cu: causal prefill attention on Hopper (sm_90a), flash style with wgmma.
// FLOPs 4*H*D*(causal pairs); bytes Q, K, V read once per query tile's key range + O written.
//
// A CTA owns 128 query rows of one head: warpgroup 0 is the producer (one thread issues every
// TMA load: the Q tile once, then K and V tiles of 128 keys into a 2-stage ring, each stage
// completing on its own mbarrier so S = Q K^T starts before V has landed); warpgroups 1 and 2
// each multiply 64 of the rows. S comes from wgmma m64n128k16 with Q and K in shared memory;
// the online softmax runs on the accumulators in registers; P is packed to bf16 straight from the
// S accumulator layout into wgmma's register A operand, and O += P V reads V from shared memory
// as an MN-major operand (no transpose pass). The producer gives its registers to the consumers
// (setmaxnreg). CTAs run longest-first over all (query tile, head) pairs, heads of one GQA group
// side by side so their K/V tiles are shared through L2.
#include "../kernels.h"
#include "sm90.cuh"

#define FA_BM RL_FA_SM90_ROWS // query rows per CTA (2 consumer warpgroups x 64)
#define FA_BN RL_FA_SM90_ROWS // keys per tile (the K/V maps' box rows)
#define FA_THREADS 384

template <int D> struct fa_cfg {
    static constexpr int HALVES = D / 64;                // 64-element column blocks of a row (TMA boxes)
    static constexpr int Q_BYTES = HALVES * FA_BM * 128; // Q tile
    static constexpr int KV_BYTES = HALVES * FA_BN * 128; // one K (or V) tile
    static constexpr int STAGES = 2;
    static constexpr int SMEM_BYTES = Q_BYTES + STAGES * 2 * KV_BYTES + 1024;
};

struct fa_params {
    bf16 *out;
    int n, p0, slot0, H, KVH, max_ctx, qkv_rows;
    float scale_log2;
};

template <int D>
__global__ void __launch_bounds__(FA_THREADS, 1)
    attn_prefill_sm90_kernel(const __grid_constant__ CUtensorMap tq, const __grid_constant__ CUtensorMap tk,
                             const __grid_constant__ CUtensorMap tv, const fa_params p)
{
#if RL_SM90A
    using C = fa_cfg<D>;
    __shared__ __align__(8) uint64_t bar_q, full_k[C::STAGES], full_v[C::STAGES], empty[C::STAGES];
    extern __shared__ unsigned char fa_smem_raw[];
    unsigned char *sm = reinterpret_cast<unsigned char *>((reinterpret_cast<uintptr_t>(fa_smem_raw) + 1023) & ~(uintptr_t)1023);
    unsigned char *sq = sm;
    auto sk = [&](int s) { return sm + C::Q_BYTES + s * 2 * C::KV_BYTES; };
    auto sv = [&](int s) { return sm + C::Q_BYTES + s * 2 * C::KV_BYTES + C::KV_BYTES; };

    pdl_trigger();
    const int nq = (p.n + FA_BM - 1) / FA_BM;
    const int qt = nq - 1 - (int)blockIdx.x / p.H; // longest tiles of every head first
    const int h = (int)blockIdx.x % p.H;
    const int seq = blockIdx.y;
    const int kvh = h / (p.H / p.KVH);
    const int q_first = qt * FA_BM;
    const int q_last = min(p.n, q_first + FA_BM) - 1;
    const int n_kt = (p.p0 + q_last + 1 + FA_BN - 1) / FA_BN;
    const int kv_row0 = ((p.slot0 + seq) * p.KVH + kvh) * p.max_ctx;
    const int wg = threadIdx.x / 128, tid = threadIdx.x % 128;

    if (threadIdx.x == 0) {
        mbar_init(&bar_q, 1);
        for (int s = 0; s < C::STAGES; s++) mbar_init(&full_k[s], 1), mbar_init(&full_v[s], 1), mbar_init(&empty[s], 2);
        mbar_init_fence();
    }
    __syncthreads();

    if (wg == 0) { // ---- producer ----
        asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n" ::: "memory");
        if (tid != 0) return;
        tma_prefetch_desc(&tq);
        tma_prefetch_desc(&tk);
        tma_prefetch_desc(&tv);
        pdl_wait(); // Q, K and V were written by the previous kernel (RoPE + cache append)
        mbar_arrive_expect_tx(&bar_q, C::Q_BYTES);
        for (int hf = 0; hf < C::HALVES; hf++)
            tma_load_2d(sq + hf * FA_BM * 128, &tq, h * D + hf * 64, seq * p.n + q_first, &bar_q);
        for (int kt = 0; kt < n_kt; kt++) {
            const int s = kt % C::STAGES, use = kt / C::STAGES;
            if (use > 0) mbar_wait(&empty[s], (use - 1) & 1);
            mbar_arrive_expect_tx(&full_k[s], C::KV_BYTES);
            for (int hf = 0; hf < C::HALVES; hf++)
                tma_load_2d(sk(s) + hf * FA_BN * 128, &tk, hf * 64, kv_row0 + kt * FA_BN, &full_k[s]);
            mbar_arrive_expect_tx(&full_v[s], C::KV_BYTES);
            for (int hf = 0; hf < C::HALVES; hf++)
                tma_load_2d(sv(s) + hf * FA_BN * 128, &tv, hf * 64, kv_row0 + kt * FA_BN, &full_v[s]);
        }
        return;
    }

    // ---- consumers: warpgroup w = wg - 1 owns query rows [64w, 64w + 64) of the tile ----
    asm volatile("setmaxnreg.inc.sync.aligned.u32 240;\n" ::: "memory");
    const int w = wg - 1, warp = tid >> 5, lane = tid & 31;
    const int r0 = 16 * warp + (lane >> 2); // this thread's rows: r0 and r0 + 8 of the warpgroup's 64
    const int pos0 = p.p0 + q_first + 64 * w + r0, pos1 = pos0 + 8;
    const int wg_first = p.p0 + q_first + 64 * w, wg_last = wg_first + 63;
    float o[D / 2];
#pragma unroll
    for (int i = 0; i < D / 2; i++) o[i] = 0.f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.f, l1 = 0.f;
    mbar_wait(&bar_q, 0);

    for (int kt = 0; kt < n_kt; kt++) {
        const int s = kt % C::STAGES, ph = (kt / C::STAGES) & 1;
        if (kt * FA_BN > wg_last) { // the whole tile is in this warpgroup's future
            if (tid == 0) mbar_arrive(&empty[s]);
            continue;
        }
        float sc[FA_BN / 2];
        mbar_wait(&full_k[s], ph);
        wgmma_fence();
#pragma unroll
        for (int j = 0; j < D / 16; j++) {
            const uint64_t dq = wgmma_desc(sq + (j / 4) * FA_BM * 128 + w * 64 * 128 + (j % 4) * 32, 16, 1024);
            const uint64_t dk = wgmma_desc(sk(s) + (j / 4) * FA_BN * 128 + (j % 4) * 32, 16, 1024);
            wgmma_op<FA_BN>::template ss<0>(sc, dq, dk, j > 0);
        }
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(sc);

        // Accumulator layout: sc[4c + e] is row r0 (+8 for e >= 2), key kt*BN + 8c + 2(lane%4) + (e&1).
        if (kt * FA_BN + FA_BN - 1 > wg_first) { // only tiles crossing the diagonal need the mask
#pragma unroll
            for (int i = 0; i < FA_BN / 2; i++) {
                const int key = kt * FA_BN + (i >> 2) * 8 + (lane & 3) * 2 + (i & 1);
                if (key > ((i & 2) ? pos1 : pos0)) sc[i] = -INFINITY;
            }
        }
        float mx0 = m0, mx1 = m1;
#pragma unroll
        for (int c = 0; c < FA_BN / 8; c++) {
            mx0 = fmaxf(mx0, fmaxf(sc[4 * c], sc[4 * c + 1]));
            mx1 = fmaxf(mx1, fmaxf(sc[4 * c + 2], sc[4 * c + 3]));
        }
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 1));
        mx0 = fmaxf(mx0, __shfl_xor_sync(0xffffffffu, mx0, 2));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 1));
        mx1 = fmaxf(mx1, __shfl_xor_sync(0xffffffffu, mx1, 2));
        // Finite after tile 0: key 0 is visible to every row.
        const float a0 = exp2f((m0 - mx0) * p.scale_log2), a1 = exp2f((m1 - mx1) * p.scale_log2);
        m0 = mx0, m1 = mx1;
        const float ms0 = mx0 * p.scale_log2, ms1 = mx1 * p.scale_log2;
        float rs0 = 0.f, rs1 = 0.f;
        uint32_t pa[FA_BN / 16][4];
#pragma unroll
        for (int c = 0; c < FA_BN / 8; c++) {
            const float e0 = exp2f(fmaf(sc[4 * c], p.scale_log2, -ms0)), e1 = exp2f(fmaf(sc[4 * c + 1], p.scale_log2, -ms0));
            const float e2 = exp2f(fmaf(sc[4 * c + 2], p.scale_log2, -ms1)), e3 = exp2f(fmaf(sc[4 * c + 3], p.scale_log2, -ms1));
            rs0 += e0 + e1, rs1 += e2 + e3;
            // A fragment of keys [16kk, 16kk+16): regs 0/1 from chunk 2kk, 2/3 from chunk 2kk + 1.
            pa[c >> 1][(c & 1) * 2 + 0] = f2_to_bf2(e0, e1);
            pa[c >> 1][(c & 1) * 2 + 1] = f2_to_bf2(e2, e3);
        }
        l0 = l0 * a0 + rs0, l1 = l1 * a1 + rs1; // per-thread partial row sums, reduced at the end
#pragma unroll
        for (int c = 0; c < D / 8; c++) o[4 * c] *= a0, o[4 * c + 1] *= a0, o[4 * c + 2] *= a1, o[4 * c + 3] *= a1;

        mbar_wait(&full_v[s], ph);
        reg_fence(o);
        wgmma_fence();
#pragma unroll
        for (int kk = 0; kk < FA_BN / 16; kk++) {
            // V is MN-major: LBO = the bytes between its two 64-column halves, SBO = 1 KB per 8 keys.
            const uint64_t dv = wgmma_desc(sv(s) + kk * 16 * 128, FA_BN * 128, 1024);
            wgmma_op<D>::template rs<1>(o, pa[kk], dv, 1);
        }
        wgmma_commit();
        wgmma_wait<0>();
        reg_fence(o);
        if (tid == 0) mbar_arrive(&empty[s]);
    }

    l0 += __shfl_xor_sync(0xffffffffu, l0, 1);
    l0 += __shfl_xor_sync(0xffffffffu, l0, 2);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 1);
    l1 += __shfl_xor_sync(0xffffffffu, l1, 2);
    const float inv0 = 1.f / l0, inv1 = 1.f / l1;
    const int q0 = q_first + 64 * w + r0, q1 = q0 + 8;
    const size_t ld = (size_t)p.H * D;
    bf16 *o0 = p.out + ((size_t)seq * p.n + q0) * ld + (size_t)h * D;
    bf16 *o1 = o0 + 8 * ld;
#pragma unroll
    for (int c = 0; c < D / 8; c++) {
        const int d = 8 * c + (lane & 3) * 2;
        if (q0 < p.n) *reinterpret_cast<uint32_t *>(o0 + d) = f2_to_bf2(o[4 * c] * inv0, o[4 * c + 1] * inv0);
        if (q1 < p.n) *reinterpret_cast<uint32_t *>(o1 + d) = f2_to_bf2(o[4 * c + 2] * inv1, o[4 * c + 3] * inv1);
    }
#endif
}

int rl_attn_prefill_sm90_supported(int D, int H, int KVH) { return (D == 64 || D == 128) && H % KVH == 0; }

template <int D>
static cudaError_t launch_d(cudaStream_t st, int pdl, const CUtensorMap *tq, const CUtensorMap *tk, const CUtensorMap *tv,
                            const fa_params &p, int nseq)
{
    auto kern = attn_prefill_sm90_kernel<D>;
    cudaError_t e = cudaFuncSetAttribute(kern, cudaFuncAttributeMaxDynamicSharedMemorySize, fa_cfg<D>::SMEM_BYTES);
    if (e != cudaSuccess) return e;
    const long long blocks = (long long)((p.n + FA_BM - 1) / FA_BM) * p.H;
    if (blocks > 0x7fffffffLL) return cudaErrorInvalidValue;
    return rl_launch(kern, dim3((unsigned)blocks, nseq), dim3(FA_THREADS), (size_t)fa_cfg<D>::SMEM_BYTES, st, pdl, *tq, *tk,
                     *tv, p);
}

cudaError_t rl_attn_prefill_sm90(cudaStream_t st, int pdl, const CUtensorMap *tq, const CUtensorMap *tk,
                                 const CUtensorMap *tv, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH,
                                 int D, int max_ctx)
{
    if (nseq <= 0 || n <= 0 || !rl_attn_prefill_sm90_supported(D, H, KVH)) return cudaErrorInvalidValue;
    fa_params p;
    p.out = out, p.n = n, p.p0 = p0, p.slot0 = slot0, p.H = H, p.KVH = KVH, p.max_ctx = max_ctx, p.qkv_rows = nseq * n;
    p.scale_log2 = 1.4426950408889634f / sqrtf((float)D);
    return D == 64 ? launch_d<64>(st, pdl, tq, tk, tv, p, nseq) : launch_d<128>(st, pdl, tq, tk, tv, p, nseq);
}
