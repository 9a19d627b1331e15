// kernels.h: launchers of the engine's own kernels (one family per file in kernels/).
// Every launcher returns the launch status; the caller names the kernel in the error.
// Activations are row-major [tokens, features]; weights row-major [out_features, in_features].
#pragma once
#include "common.cuh"

// ---- gemv.cu: decode projections for small batch on tensor cores (weights streamed once) ----
enum { GEMV_STORE_BF16, GEMV_STORE_F32, GEMV_ADD_F32, GEMV_SILU_BF16 };
#define RL_GEMV_MAX_BATCH 64
int rl_gemv_supported(int N, int K, int B);
// Fused RMSNorm of the GEMV input: x fp32 [B, K] (the residual stream), gamma [K], and
// rs[b] = rsqrt(mean(x[b]^2) + eps) as the producer of x left it.
typedef struct {
    const float *x;
    const bf16 *gamma;
    const float *rs;
} gemv_norm;
// What an accumulating GEMV leaves for the next fused norm: part [B][N/16] scratch, rs [B], a
// ticket counter (zero before the first launch, left at zero), eps.
typedef struct {
    float *part;
    float *rs;
    int *ticket;
    float eps;
} gemv_ss;
// Y[b, n] (=, +=) sum_k W[n, k] X[b, k] for b < B, n < N. ldy: Y's row stride in elements.
// GEMV_SILU_BF16: W holds 2 blocks of rows (gate rows 0..N-1, up rows up_off..up_off+N-1) and
// Y[b, n] = silu(gate) * up, so the gate/up output never goes to memory.
// norm (not with GEMV_ADD_F32): X is ignored, the input is bf16(norm->x * rs * gamma).
// ss (GEMV_ADD_F32 only, may be NULL): computes ss->rs of the updated Y for the next norm.
cudaError_t rl_gemv(cudaStream_t st, int pdl, int mode, const bf16 *W, const bf16 *X, void *Y, int N, int K, int B,
                    int ldy, int up_off, const gemv_norm *norm, const gemv_ss *ss);
// The same with the weights streamed through shared memory by cp.async, `stages` chunks in
// flight per lane (0 = the register path above; 4 or 8 for B <= 16 without a fused norm).
// pdl: 0 plain launch, 1 programmatic dependent launch, 2 the same and each warp prefetches its
// weights into L2 while the previous kernel finishes (register path).
// ksplit > 1 (GEMV_ADD_F32 without ss only): K is also split over ksplit blocks per row tile,
// which add their partial sums into Y with atomics (summation order not fixed).
int rl_gemv_stages_supported(int stages, int B, int fused_norm);
int rl_gemv_ksplit_supported(int ksplit, int mode, int K, int has_ss);
cudaError_t rl_gemv_st(cudaStream_t st, int pdl, int stages, int ksplit, int mode, const bf16 *W, const bf16 *X,
                       void *Y, int N, int K, int B, int ldy, int up_off, const gemv_norm *norm, const gemv_ss *ss);

// ---- rmsnorm.cu ----
// y[r] = bf16(x[in_first + r * in_step] * rsqrt(mean(x^2) + eps) * w), r < rows.
cudaError_t rl_rmsnorm(cudaStream_t st, int pdl, const float *x, const bf16 *w, bf16 *y, int rows, int H, float eps,
                       int in_first, int in_step);

// ---- embed.cu ----
// rs_out (may be NULL): rs_out[t] = rsqrt(mean(x[t]^2) + eps), for a fused norm downstream.
cudaError_t rl_embed(cudaStream_t st, int pdl, const int *tokens, const bf16 *table, float *x, int T, int H,
                     float *rs_out, float eps);

// ---- rope_kv.cu ----
// Token t (t < T) belongs to sequence t / n_per_seq (cache slot slot0 + that) at position
// (pos_dev ? *pos_dev : pos_base) + t % n_per_seq. Rotates its Q in place in qkv and writes its
// rotated K and its V into the layer's cache [slot][kv_head][max_ctx][D]. rope_cs: [max_ctx][D/2] (cos, sin).
cudaError_t rl_rope_kv(cudaStream_t st, int pdl, bf16 *qkv, int T, int n_per_seq, const int *pos_dev, int pos_base,
                       int slot0, const float2 *rope_cs, bf16 *kc, bf16 *vc, int H, int KVH, int D, int max_ctx);

// ---- qkv_post.cu ----
// In place on qkv [T, ld] (q heads, k heads, v heads of D each): + bias [(H+2*KVH)*D] when bias is
// set (qwen2), then each q and k head RMSNorm'd over D with norm_w [2, D] (q_norm, k_norm) when
// norm_w is set (qwen3). At least one of the two; D <= 128.
cudaError_t rl_qkv_post(cudaStream_t st, int pdl, bf16 *qkv, int T, int ld, const bf16 *bias, const bf16 *norm_w, int H,
                        int KVH, int D, float eps);

// ---- attn_decode.cu: split-KV flash-decoding on tensor cores, the GQA group shares each K/V load ----
int rl_attn_decode_splits(int B, int KVH, int max_ctx, int sm_count);
size_t rl_attn_decode_partial_floats(int B, int H, int D, int splits);
// Sequence b attends to cache positions 0..*pos_dev of slot b (the last `window` of them when
// window > 0: sliding-window attention, keys below pos - window + 1 masked); out: [B, H*D]. With
// rope_cs the kernel first rotates the new token's Q and K (qkv holds them unrotated) and appends
// K and V to the cache at *pos_dev; with rope_cs NULL, qkv's Q is already rotated and the cache
// complete. tickets: B*KVH ints, zero before the first call (the kernel leaves them zero).
cudaError_t rl_attn_decode(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, bf16 *kc, bf16 *vc,
                           const int *pos_dev, const float2 *rope_cs, bf16 *out, float *partial, int *tickets, int B,
                           int H, int KVH, int D, int max_ctx, int splits, int window);

// ---- attn_prefill.cu: causal flash attention on tensor cores (mma.sync bf16) ----
// nseq sequences of n new tokens at positions p0..p0+n-1 (keys 0..p0+n-1 already in the cache).
// window > 0: the query at position p sees keys p - window + 1 .. p only (sliding window); 0 = all.
cudaError_t rl_attn_prefill(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx,
                            int window);
// The same with the block shape forced (bq = 64: 4 warps x 16 rows; 128: 8 warps x 16 rows;
// 129: 4 warps x 32 rows; 200 + v: attn_prefill_v2.cu variant v), for the benchmark.
cudaError_t rl_attn_prefill_bq(cudaStream_t st, int pdl, int bq, const bf16 *qkv, int qkv_ld, const bf16 *kc,
                               const bf16 *vc, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D,
                               int max_ctx, int window);
// attn_prefill_v2.cu: longest-first order over all heads, Q staged through the K/V slots.
// variant 0: 64-key tiles, 2 stages (64 KB, 3 blocks/SM); 1: 64 keys, 3 stages; 2: 32 keys,
// 2 stages (4 blocks/SM); 3: 32 keys, 3 stages; 4: as 0 with registers budgeted for 2 blocks/SM
// (the engine's default). A pipelined form (next tile's S before this tile's softmax) measured 5%
// slower in run 12b and was removed.
cudaError_t rl_attn_prefill_v2(cudaStream_t st, int pdl, int variant, const bf16 *qkv, int qkv_ld, const bf16 *kc,
                               const bf16 *vc, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D,
                               int max_ctx, int window);

// ---- silu_mul.cu ----  h[t, i] = silu(gu[t, i]) * gu[t, I + i]
cudaError_t rl_silu_mul(cudaStream_t st, int pdl, const bf16 *gu, bf16 *h, int T, int I);

// ---- argmax.cu ----  out[b] = argmax_v logits[b, v] (lowest index on ties)
cudaError_t rl_argmax(cudaStream_t st, int pdl, const float *logits, int *out, int B, int V);

// ---- init.cu: deterministic random weights generated on the device ----
// p[i] = center + half_width * u, u uniform in [-1, 1) from a hash of (seed, i).
cudaError_t rl_init_uniform(cudaStream_t st, bf16 *p, size_t n, uint64_t seed, float center, float half_width);
