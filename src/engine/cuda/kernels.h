// kernels.h: launchers of the engine's own kernels (one family per file in kernels/).
// Every launcher returns the launch status; the caller names the kernel in the error.
// Activations are row-major [tokens, features]; weights row-major [out_features, in_features].
#pragma once
#include <cuda.h> // CUtensorMap

#include "common.cuh"

// ---- gemv.cu: decode projections for small batch on tensor cores, mma.sync (the sm_80 path) ----
enum { GEMV_STORE_BF16, GEMV_STORE_F32, GEMV_ADD_F32, GEMV_SILU_BF16 };
#define RL_GEMV_MAX_BATCH 64
int rl_gemv_supported(int N, int K, int B);
// Y[b, n] (=, +=) sum_k W[n, k] X[b, k] for b < B, n < N. ldy: Y's row stride in elements.
// GEMV_SILU_BF16: W holds 2 blocks of rows (gate rows 0..N-1, up rows up_off..up_off+N-1) and
// Y[b, n] = silu(gate) * up, so the gate/up output never goes to memory.
cudaError_t rl_gemv(cudaStream_t st, int pdl, int mode, const bf16 *W, const bf16 *X, void *Y, int N, int K, int B,
                    int ldy, int up_off);

// ---- gemm_stream.cu: the Hopper projection kernel for few tokens (decode, short prefill) ----
// Y[t, n] (mode as rl_gemv) for t < T: the weights stream once through a TMA ring, wgmma
// multiplies, the persistent grid is split stream-K. tw: W's map ([N or 2 * up_off rows][K],
// boxes of 64 rows); tx: X's map ([T][K], boxes of rl_gs_tok_tile(T) rows).
#define RL_GS_MAX_TILES 8192
// Device scratch of the launches on one stream: ws >= rl_gs_workspace_floats(sm_count) floats;
// tickets: RL_GS_MAX_TILES ints, zero before the first launch (the kernel leaves them zero);
// trace: NULL, or 8 slots per CTA (globaltimer at entry, activations requested, first stage
// consumed, exit; the SM id; benchmarks only).
typedef struct {
    float *ws;
    int *tickets;
    unsigned long long *trace;
    int sm_count;
} rl_gs_work;
int rl_gs_supported(int N, int K, int T, int mode);
int rl_gs_tok_tile(int T);
size_t rl_gs_workspace_floats(int sm_count);
cudaError_t rl_gemm_stream(cudaStream_t st, int pdl, int mode, const CUtensorMap *tw, const CUtensorMap *tx, void *Y, int N,
                           int K, int T, int ldy, int up_off, const rl_gs_work *w);

// ---- rmsnorm.cu ----
// y[r] = bf16(x[in_first + r * in_step] * rsqrt(mean(x^2) + eps) * w), r < rows.
cudaError_t rl_rmsnorm(cudaStream_t st, int pdl, const float *x, const bf16 *w, bf16 *y, int rows, int H, float eps,
                       int in_first, int in_step);
// Tensor parallel: x[r] += add[r] (the all-reduced partial sums, bf16) first, then the same norm of
// rows 0..rows-1 (x is written back: the residual stream takes the sum).
cudaError_t rl_add_rmsnorm(cudaStream_t st, int pdl, float *x, const bf16 *add, const bf16 *w, bf16 *y, int rows,
                           int H, float eps);

// ---- residual.cu ----  x[i] += add[i], i < n (the last layer's all-reduced down_proj sum)
cudaError_t rl_residual_add(cudaStream_t st, int pdl, float *x, const bf16 *add, size_t n);

// ---- embed.cu ----
cudaError_t rl_embed(cudaStream_t st, int pdl, const int *tokens, const bf16 *table, float *x, int T, int H);

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

// ---- attn_prefill.cu: causal flash attention on tensor cores, mma.sync (the sm_80 path) ----
// nseq sequences of n new tokens at positions p0..p0+n-1 (keys 0..p0+n-1 already in the cache).
// Longest-first over all heads, 64-key tiles double buffered with cp.async, 4 warps x 16 rows.
// window > 0: the query at position p sees keys p - window + 1 .. p only (sliding window); 0 = all.
cudaError_t rl_attn_prefill(cudaStream_t st, int pdl, const bf16 *qkv, int qkv_ld, const bf16 *kc, const bf16 *vc,
                            bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH, int D, int max_ctx,
                            int window);

// ---- attn_prefill_sm90.cu: the same on Hopper (wgmma, TMA, producer/consumer warpgroups) ----
// Full causal attention (no sliding window: those layers run rl_attn_prefill). tq: map of qkv
// ([nseq * n][qkv_ld], boxes of RL_FA_SM90_ROWS rows); tk, tv: maps of the layer's K and V cache
// ([max_batch * KVH * max_ctx][D], boxes of RL_FA_SM90_ROWS rows).
#define RL_FA_SM90_ROWS 128
int rl_attn_prefill_sm90_supported(int D, int H, int KVH);
cudaError_t rl_attn_prefill_sm90(cudaStream_t st, int pdl, const CUtensorMap *tq, const CUtensorMap *tk,
                                 const CUtensorMap *tv, bf16 *out, int nseq, int n, int p0, int slot0, int H, int KVH,
                                 int D, int max_ctx);

// ---- silu_mul.cu ----  h[t, i] = silu(gu[t, i]) * gu[t, I + i]
cudaError_t rl_silu_mul(cudaStream_t st, int pdl, const bf16 *gu, bf16 *h, int T, int I);

// ---- argmax.cu ----  out[b] = argmax_v logits[b, v] (lowest index on ties)
cudaError_t rl_argmax(cudaStream_t st, int pdl, const float *logits, int *out, int B, int V);
// Tensor parallel: the best of a vocabulary slice and the best of the slices' bests.
typedef struct {
    float v; // the logit (-inf for an all-NaN slice)
    int i;   // its token (the slice's first row v0 added); INT_MAX for none
} rl_token_cand;
// cand[b] = the best (logit, v0 + v) of logits[b, 0..V) (this rank's columns v0..v0+V-1).
cudaError_t rl_argmax_cand(cudaStream_t st, int pdl, const float *logits, rl_token_cand *cand, int B, int V, int v0);
// out[b] = the token of the best of cand[r * B + b] over r < ranks (lowest token on ties; 0 when none).
cudaError_t rl_argmax_pick(cudaStream_t st, int pdl, const rl_token_cand *cand, int ranks, int B, int *out);

// ---- init.cu: deterministic random weights generated on the device ----
// p[i] = center + half_width * u, u uniform in [-1, 1) from a hash of (seed, i).
cudaError_t rl_init_uniform(cudaStream_t st, bf16 *p, size_t n, uint64_t seed, float center, float half_width);
// The block [row0, row0 + rows) x [col0, col0 + cols) of the tensor rl_init_uniform would fill with
// full_cols columns, into p [rows][cols]: a tensor-parallel shard holds the values of the whole.
cudaError_t rl_init_uniform_block(cudaStream_t st, bf16 *p, int64_t rows, int64_t cols, int64_t full_cols,
                                  int64_t row0, int64_t col0, uint64_t seed, float center, float half_width);
