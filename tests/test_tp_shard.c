/* test_tp_shard.c: the tensor-parallel sharding arithmetic (src/model/tp.h) the CUDA engine carves,
 * initialises and uploads its shards with, on Llama-3.1-8B and -70B geometry at N = 1, 2, 4, 8 (and
 * 16, where their 8 KV heads are replicated), and on `tiny` (2 KV heads: replicated from N = 4):
 *  - the ranks' blocks of every row- or column-parallel tensor tile it exactly, in rank order;
 *    replicated tensors are whole on every rank;
 *  - each rank's KV heads serve exactly its query heads (GQA group of every local query head);
 *  - the vocabulary splits in ceil(V / N) rows, the last rank taking the rest;
 *  - one rank's stored elements are the predictor's weight_resident_bytes per GPU (same rules);
 *  - the local geometry (heads, KV heads, MLP, vocabulary) and the one-line errors of --tp. */
#include <string.h>

#include "check.h"
#include "model/config.h"
#include "model/spec.h"
#include "model/tp.h"
#include "predict/predict.h"

static void check_tiling(const rl_model_config *m, int n, int64_t layer)
{
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    const int nt = rl_spec_tensors(m, layer, t);
    for (int i = 0; i < nt; i++) {
        int64_t next_row = 0, next_col = 0;
        for (int r = 0; r < n; r++) {
            rl_tp_slice s;
            rl_tp_slice_of(&t[i], m, n, r, &s);
            CHECK(s.full_rows == t[i].rows && s.full_cols == t[i].cols, "%s: the whole shape", rl_tensor_role_names[t[i].role]);
            if (n == 1 || t[i].tp == RL_TP_REPLICATED) {
                CHECK(s.row0 == 0 && s.rows == t[i].rows && s.col0 == 0 && s.cols == t[i].cols, "N=%d %s rank %d: whole",
                      n, rl_tensor_role_names[t[i].role], r);
                continue;
            }
            const int kv_replicated = t[i].tp == RL_TP_KV_ROWS && m->kv_heads < n;
            if (t[i].tp == RL_TP_COLS) {
                CHECK(s.col0 == next_col && s.rows == t[i].rows && s.row0 == 0, "N=%d %s rank %d: columns from %lld",
                      n, rl_tensor_role_names[t[i].role], r, (long long)next_col);
                next_col += s.cols;
            } else if (!kv_replicated) {
                CHECK(s.row0 == next_row && s.cols == t[i].cols && s.col0 == 0, "N=%d %s rank %d: rows from %lld", n,
                      rl_tensor_role_names[t[i].role], r, (long long)next_row);
                next_row += s.rows;
            } else {
                const int64_t head = t[i].rows / m->kv_heads; /* one replicated KV head per rank */
                CHECK(s.rows == head && s.row0 == (r / (n / m->kv_heads)) * head, "N=%d %s rank %d: KV head %lld",
                      n, rl_tensor_role_names[t[i].role], r, (long long)(s.row0 / head));
            }
        }
        if (n > 1 && t[i].tp == RL_TP_COLS)
            CHECK(next_col == t[i].cols, "N=%d %s: the column blocks add up (%lld of %lld)", n,
                  rl_tensor_role_names[t[i].role], (long long)next_col, (long long)t[i].cols);
        if (n > 1 && (t[i].tp == RL_TP_ROWS || (t[i].tp == RL_TP_KV_ROWS && m->kv_heads >= n)))
            CHECK(next_row == t[i].rows, "N=%d %s: the row blocks add up (%lld of %lld)", n,
                  rl_tensor_role_names[t[i].role], (long long)next_row, (long long)t[i].rows);
    }
}

/* Every local query head of every rank reads a KV head the rank holds. */
static void check_gqa(const rl_model_config *m, int n)
{
    const int64_t group = m->heads / m->kv_heads, local_heads = m->heads / n;
    for (int r = 0; r < n; r++) {
        const int64_t first = rl_tp_kv_first(m, n, r), held = rl_tp_kv_heads(m, n);
        rl_model_config loc;
        rl_tp_local_config(m, n, r, &loc);
        const int64_t local_group = loc.heads / loc.kv_heads;
        for (int64_t h = 0; h < local_heads; h++) {
            const int64_t global_q = r * local_heads + h, kv = global_q / group;
            CHECK(kv >= first && kv < first + held && kv - first == h / local_group,
                  "N=%d rank %d: query head %lld reads KV head %lld, local %lld of %lld held from %lld", n, r,
                  (long long)global_q, (long long)kv, (long long)(h / local_group), (long long)held, (long long)first);
        }
    }
}

/* Elements rank r stores (tied lm_head: none of its own). */
static int64_t rank_elems(const rl_model_config *m, int n, int r)
{
    int64_t e = 0;
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    for (int64_t l = RL_SPEC_GLOBAL; l < m->layers; l++) {
        const int nt = rl_spec_tensors(m, l, t);
        for (int i = 0; i < nt; i++) {
            if (t[i].tied) continue;
            rl_tp_slice s;
            rl_tp_slice_of(&t[i], m, n, r, &s);
            e += s.rows * (t[i].cols > 0 ? s.cols : 1) * t[i].experts;
        }
    }
    return e;
}

static void check_model(const char *preset, const int *ns, int count)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset(preset, &m, &err) == 0, "%s", err.msg);
    for (int k = 0; k < count; k++) {
        const int n = ns[k];
        CHECK(rl_tp_check(&m, n, &err) == 0, "%s N=%d: %s", preset, n, err.msg);
        check_tiling(&m, n, RL_SPEC_GLOBAL);
        check_tiling(&m, n, 0);
        check_gqa(&m, n);
        int64_t vocab = 0;
        for (int r = 0; r < n; r++) {
            rl_model_config loc;
            int64_t v0, nv;
            rl_tp_local_config(&m, n, r, &loc);
            rl_tp_vocab(&m, n, r, &v0, &nv);
            CHECK(v0 == vocab && nv == loc.vocab && nv <= (m.vocab + n - 1) / n, "%s N=%d rank %d: vocab [%lld, +%lld)",
                  preset, n, r, (long long)v0, (long long)nv);
            vocab += nv;
            CHECK(loc.heads * n == m.heads && loc.intermediate * n == m.intermediate && loc.hidden == m.hidden &&
                      loc.layers == m.layers && loc.head_dim == m.head_dim,
                  "%s N=%d: local heads %lld, MLP %lld", preset, n, (long long)loc.heads, (long long)loc.intermediate);
            CHECK(loc.kv_heads == (m.kv_heads >= n ? m.kv_heads / n : 1), "%s N=%d: local KV heads %lld", preset, n,
                  (long long)loc.kv_heads);
        }
        CHECK(vocab == m.vocab, "%s N=%d: the vocabulary slices add up (%lld)", preset, n, (long long)vocab);
        /* The predictor's per-GPU resident weights are rank 0's shard (the vocabulary divides here). */
        rl_workload w = rl_workload_decode(1, 160);
        w.tp = n;
        rl_cost c;
        rl_cost_step(&m, &w, &c);
        if (m.vocab % n == 0)
            CHECK_REL(c.weight_resident_bytes, 2.0 * (double)rank_elems(&m, n, 0), 1e-12, "predictor = engine shard");
    }
}

static void check_examples(void)
{
    rl_model_config m8, m70;
    rl_err err;
    CHECK(rl_model_preset("llama-3.1-8b", &m8, &err) == 0 && rl_model_preset("llama-3.1-70b", &m70, &err) == 0, "%s",
          err.msg);
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    const int n = rl_spec_tensors(&m8, 0, t);
    rl_tp_slice s;
    rl_tp_slice_of(rl_spec_find(t, n, RL_T_WQ), &m8, 2, 1, &s);
    CHECK(s.row0 == 2048 && s.rows == 2048 && s.cols == 4096, "8B N=2 rank 1: q rows 2048..4095");
    rl_tp_slice_of(rl_spec_find(t, n, RL_T_WK), &m8, 2, 1, &s);
    CHECK(s.row0 == 512 && s.rows == 512, "8B N=2 rank 1: KV heads 4..7 (k rows 512..1023)");
    rl_tp_slice_of(rl_spec_find(t, n, RL_T_WO), &m8, 2, 1, &s);
    CHECK(s.col0 == 2048 && s.cols == 2048 && s.rows == 4096, "8B N=2 rank 1: o_proj columns 2048..4095");
    rl_tp_slice_of(rl_spec_find(t, n, RL_T_W_DOWN), &m8, 2, 1, &s);
    CHECK(s.col0 == 7168 && s.cols == 7168, "8B N=2 rank 1: down_proj columns 7168..14335");
    const int n70 = rl_spec_tensors(&m70, 0, t);
    rl_tp_slice_of(rl_spec_find(t, n70, RL_T_WV), &m70, 8, 3, &s);
    CHECK(s.row0 == 384 && s.rows == 128, "70B N=8 rank 3: KV head 3 (v rows 384..511)");
    rl_tp_slice_of(rl_spec_find(t, n70, RL_T_W_GATE), &m70, 8, 3, &s);
    CHECK(s.row0 == 10752 && s.rows == 3584, "70B N=8 rank 3: gate rows 10752..14335");
    rl_tp_slice_of(rl_spec_find(t, n70, RL_T_WV), &m70, 16, 5, &s);
    CHECK(s.row0 == 2 * 128 && s.rows == 128, "70B N=16 rank 5: KV head 2, replicated on ranks 4 and 5");
    const int g = rl_spec_tensors(&m8, RL_SPEC_GLOBAL, t);
    rl_tp_slice_of(rl_spec_find(t, g, RL_T_LM_HEAD), &m8, 8, 7, &s);
    CHECK(s.row0 == 7 * 16032 && s.rows == 16032, "8B N=8 rank 7: lm_head rows from 112224");
    rl_tp_slice_of(rl_spec_find(t, g, RL_T_EMBED), &m8, 8, 7, &s);
    CHECK(s.rows == 128256 && s.cols == 4096, "the embedding is whole on every rank");
    /* An uneven vocabulary: ceil blocks, the last rank short. */
    rl_model_config odd = m8;
    odd.vocab = 1001;
    int64_t v0, nv;
    rl_tp_vocab(&odd, 4, 3, &v0, &nv);
    CHECK(v0 == 753 && nv == 248, "vocab 1001 over 4: rank 3 holds 753..1000 (%lld, %lld)", (long long)v0, (long long)nv);
}

static void check_errors(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("qwen2.5-7b", &m, &err) == 0, "%s", err.msg);
    CHECK(rl_tp_check(&m, 8, &err) != 0 && strstr(err.msg, "--tp 8") && strstr(err.msg, "num_attention_heads"),
          "28 heads over 8: %s", err.msg);
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);
    m.kv_heads = 6, m.heads = 36;
    CHECK(rl_tp_check(&m, 4, &err) != 0 && strstr(err.msg, "num_key_value_heads"), "6 KV heads over 4: %s", err.msg);
    CHECK(rl_model_preset("llama-3.1-8b", &m, &err) == 0, "%s", err.msg);
    m.intermediate = 14338;
    CHECK(rl_tp_check(&m, 4, &err) != 0 && strstr(err.msg, "intermediate_size"), "MLP 14338 over 4: %s", err.msg);
    CHECK(rl_tp_check(&m, 1, &err) == 0, "N = 1 always fits");
}

int main(void)
{
    static const int big[] = {1, 2, 4, 8, 16}, small[] = {1, 2, 4, 8};
    check_model("llama-3.1-8b", big, 5);
    check_model("llama-3.1-70b", big, 5);
    check_model("tiny", small, 4);
    check_examples();
    check_errors();
    return CHECK_DONE();
}
