/* tp.h: tensor-parallel sharding arithmetic (Megatron layout, spec.h's rl_tp_split per tensor):
 * which heads, KV heads, rows and columns rank r of a group of N GPUs owns. The CUDA engine
 * carves, initialises and uploads its shard with it; the predictor's per-GPU bytes follow the same
 * rules; tests/test_tp_shard.c checks it on Llama-3.1-8B and -70B geometry.
 *
 *   query heads      heads / N each, rank r: [r * heads/N, (r+1) * heads/N)
 *   KV heads         kv_heads >= N: kv_heads / N each; kv_heads < N (N a multiple of kv_heads): one
 *                    each, replicated: rank r holds KV head r / (N / kv_heads), which serves exactly
 *                    its query heads (their GQA group)
 *   MLP              intermediate / N rows of gate and up, the same columns of down
 *   vocabulary       ceil(vocab / N) rows of lm_head each (the last rank may hold fewer)
 *   RL_TP_ROWS       rows split in N contiguous blocks of ceil(rows / N)
 *   RL_TP_COLS       columns split the same way (o_proj: heads * head_dim, down: intermediate)
 *   replicated       norms, the embedding (every rank gathers its tokens' rows)
 * N = 1 is the identity: rank 0 owns every tensor whole. */
#ifndef RL_MODEL_TP_H
#define RL_MODEL_TP_H
#include <stdint.h>

#include "../common/err.h"
#include "config.h"
#include "spec.h"

/* GPUs of one host a group may span. */
#define RL_TP_MAX 8

/* The block of a tensor [rows, cols] (cols 0: a vector) one rank holds: rows row0 .. row0+rows-1
 * and columns col0 .. col0+cols-1 of the whole tensor, whose rows are full_cols long. */
typedef struct {
    int64_t row0, rows;
    int64_t col0, cols;
    int64_t full_rows, full_cols;
} rl_tp_slice;

/* Checks that a group of n GPUs splits m evenly: heads, KV heads (dividing n or divided by it), the
 * MLP widths. Errors are one line naming --tp and the field. n <= 1 always passes. */
int rl_tp_check(const rl_model_config *m, int64_t n, rl_err *err);

/* KV heads one rank holds (kv_heads / n, or 1 when replicated) and the first of them. */
int64_t rl_tp_kv_heads(const rl_model_config *m, int n);
int64_t rl_tp_kv_first(const rl_model_config *m, int n, int rank);

/* The rank's vocabulary rows of lm_head: [*v0, *v0 + *nv). */
void rl_tp_vocab(const rl_model_config *m, int n, int rank, int64_t *v0, int64_t *nv);

/* The rank's block of tensor t (spec of the whole model m). */
void rl_tp_slice_of(const rl_tensor_spec *t, const rl_model_config *m, int n, int rank, rl_tp_slice *out);

/* The geometry one rank computes with: heads, kv_heads, intermediate and vocab its own (the
 * embedding and hidden size stay whole). What the single-GPU code of an engine runs on. */
void rl_tp_local_config(const rl_model_config *m, int n, int rank, rl_model_config *out);

#endif
