/* tp.c: tensor-parallel sharding arithmetic (tp.h). */
#include "tp.h"

#include <string.h>

int rl_tp_check(const rl_model_config *m, int64_t n, rl_err *err)
{
    if (n <= 1) return 0;
    if (m->heads % n)
        return rl_fail(err, "--tp %lld: num_attention_heads (%lld) must be a multiple of the GPUs", (long long)n,
                       (long long)m->heads);
    if (m->kv_heads % n && n % m->kv_heads)
        return rl_fail(err, "--tp %lld: num_key_value_heads (%lld) must divide, or be a multiple of, the GPUs",
                       (long long)n, (long long)m->kv_heads);
    int dense = 0;
    for (int64_t l = 0; l < m->layers && l < RL_MAX_LAYERS; l++) dense |= !m->moe_layer[l];
    if (dense && m->intermediate % n)
        return rl_fail(err, "--tp %lld: intermediate_size (%lld) must be a multiple of the GPUs", (long long)n,
                       (long long)m->intermediate);
    if (rl_model_is_moe(m) && m->moe_intermediate % n)
        return rl_fail(err, "--tp %lld: the experts' intermediate size (%lld) must be a multiple of the GPUs",
                       (long long)n, (long long)m->moe_intermediate);
    return 0;
}

int64_t rl_tp_kv_heads(const rl_model_config *m, int n)
{
    return n <= 1 ? m->kv_heads : m->kv_heads >= n ? m->kv_heads / n : 1;
}

int64_t rl_tp_kv_first(const rl_model_config *m, int n, int rank)
{
    if (n <= 1) return 0;
    if (m->kv_heads >= n) return (int64_t)rank * (m->kv_heads / n);
    return rank / (n / m->kv_heads); /* replicated: the N / kv_heads ranks of one GQA group share it */
}

/* Block `rank` of `total` split in n blocks of ceil(total / n): [*first, *first + *count). */
static void block(int64_t total, int n, int rank, int64_t *first, int64_t *count)
{
    if (n <= 1) {
        *first = 0, *count = total;
        return;
    }
    const int64_t per = (total + n - 1) / n;
    int64_t f = per * rank;
    if (f > total) f = total;
    *first = f;
    *count = total - f < per ? total - f : per;
}

void rl_tp_vocab(const rl_model_config *m, int n, int rank, int64_t *v0, int64_t *nv)
{
    block(m->vocab, n, rank, v0, nv);
}

void rl_tp_slice_of(const rl_tensor_spec *t, const rl_model_config *m, int n, int rank, rl_tp_slice *out)
{
    memset(out, 0, sizeof *out);
    out->full_rows = out->rows = t->rows;
    out->full_cols = out->cols = t->cols;
    if (n <= 1) return;
    switch (t->tp) {
    case RL_TP_REPLICATED: return;
    case RL_TP_ROWS: block(t->rows, n, rank, &out->row0, &out->rows); return;
    case RL_TP_COLS: block(t->cols, n, rank, &out->col0, &out->cols); return;
    case RL_TP_KV_ROWS: {
        const int64_t per_head = t->rows / m->kv_heads; /* head_dim rows (or bias elements) per KV head */
        out->row0 = rl_tp_kv_first(m, n, rank) * per_head;
        out->rows = rl_tp_kv_heads(m, n) * per_head;
        return;
    }
    }
}

void rl_tp_local_config(const rl_model_config *m, int n, int rank, rl_model_config *out)
{
    *out = *m;
    if (n <= 1) return;
    int64_t v0;
    out->heads = m->heads / n;
    out->kv_heads = rl_tp_kv_heads(m, n);
    out->intermediate = m->intermediate / n;
    out->moe_intermediate = m->moe_intermediate / n;
    rl_tp_vocab(m, n, rank, &v0, &out->vocab);
}
