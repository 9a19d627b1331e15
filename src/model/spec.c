/* spec.c: the model-spec table (spec.h) and the operator vocabulary (ops.h). */
#include "spec.h"

#include <stdio.h>
#include <string.h>

const char *const rl_op_names[RL_OP_COUNT] = {
    "embed",    "attn_norm",    "qkv_proj", "qkv_bias",  "qk_norm",    "rope",    "kv_write", "attention", "o_proj",
    "ffn_norm", "router",       "gate_up_proj", "silu_mul", "down_proj", "final_norm", "lm_head", "sample",
    "allreduce",
};

int rl_op_is_per_layer(rl_op_id op) { return (op >= RL_OP_ATTN_NORM && op <= RL_OP_DOWN) || op == RL_OP_ALLREDUCE; }

int rl_op_is_linear(rl_op_id op)
{
    return op == RL_OP_QKV || op == RL_OP_O_PROJ || op == RL_OP_ROUTER || op == RL_OP_GATE_UP || op == RL_OP_DOWN ||
           op == RL_OP_LM_HEAD;
}

const char *const rl_tensor_role_names[RL_T_COUNT] = {
    "embed",  "lm_head", "final_norm", "attn_norm", "q_proj", "k_proj", "v_proj", "o_proj", "ffn_norm", "gate_proj",
    "up_proj", "down_proj", "q_bias", "k_bias", "v_bias", "q_norm", "k_norm", "router", "expert_gate", "expert_up",
    "expert_down",
};

static const rl_family_info families[] = {
    {"llama", RL_FAMILY_LLAMA, 0, 0, 0, NULL, NULL, NULL, NULL},
    {"mistral", RL_FAMILY_MISTRAL, 0, 0, 0, NULL, NULL, NULL, NULL},
    {"qwen2", RL_FAMILY_QWEN2, 1, 0, 0, NULL, NULL, NULL, NULL},
    {"qwen3", RL_FAMILY_QWEN3, 0, 1, 0, NULL, NULL, NULL, NULL},
    {"mixtral", RL_FAMILY_MIXTRAL, 0, 0, 1, "model.layers.%lld.block_sparse_moe.gate.weight",
     "model.layers.%lld.block_sparse_moe.experts.%d.w1.weight", "model.layers.%lld.block_sparse_moe.experts.%d.w3.weight",
     "model.layers.%lld.block_sparse_moe.experts.%d.w2.weight"},
    {"qwen3_moe", RL_FAMILY_QWEN3_MOE, 0, 1, 1, "model.layers.%lld.mlp.gate.weight",
     "model.layers.%lld.mlp.experts.%d.gate_proj.weight", "model.layers.%lld.mlp.experts.%d.up_proj.weight",
     "model.layers.%lld.mlp.experts.%d.down_proj.weight"},
};
#define N_FAMILIES (sizeof families / sizeof families[0])

const rl_family_info *rl_family_find(const char *model_type)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (!strcmp(families[i].model_type, model_type)) return &families[i];
    return NULL;
}

const rl_family_info *rl_family_of(rl_family f)
{
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i].family == f) return &families[i];
    return &families[0];
}

const char *rl_family_list(void) { return "llama, mistral, qwen2, qwen3, mixtral, qwen3_moe"; }

typedef struct {
    rl_tensor_spec *out;
    int n;
} spec_list;

static void add(spec_list *l, rl_tensor_role role, const char *hf, rl_op_id op, int64_t rows, int64_t cols,
                rl_tp_split tp)
{
    rl_tensor_spec *t = &l->out[l->n++];
    memset(t, 0, sizeof *t);
    t->role = role, t->hf = hf, t->op = op, t->rows = rows, t->cols = cols, t->experts = 1, t->tp = tp;
}

int rl_spec_tensors(const rl_model_config *m, int64_t layer, rl_tensor_spec out[RL_SPEC_MAX_TENSORS])
{
    spec_list l = {out, 0};
    const int64_t H = m->hidden, V = m->vocab, D = m->head_dim;
    const int64_t Q = m->heads * D, K = m->kv_heads * D;
    if (layer == RL_SPEC_GLOBAL) {
        add(&l, RL_T_EMBED, "model.embed_tokens.weight", RL_OP_EMBED, V, H, RL_TP_REPLICATED);
        add(&l, RL_T_FINAL_NORM, "model.norm.weight", RL_OP_FINAL_NORM, H, 0, RL_TP_REPLICATED);
        add(&l, RL_T_LM_HEAD, "lm_head.weight", RL_OP_LM_HEAD, V, H, RL_TP_ROWS);
        /* Tied: the embedding is read as lm_head; an lm_head.weight the checkpoint carries anyway
         * is ignored. */
        l.out[l.n - 1].tied = l.out[l.n - 1].optional = m->tied_embeddings;
        return l.n;
    }
    add(&l, RL_T_ATTN_NORM, "model.layers.%lld.input_layernorm.weight", RL_OP_ATTN_NORM, H, 0, RL_TP_REPLICATED);
    add(&l, RL_T_WQ, "model.layers.%lld.self_attn.q_proj.weight", RL_OP_QKV, Q, H, RL_TP_ROWS);
    add(&l, RL_T_WK, "model.layers.%lld.self_attn.k_proj.weight", RL_OP_QKV, K, H, RL_TP_KV_ROWS);
    add(&l, RL_T_WV, "model.layers.%lld.self_attn.v_proj.weight", RL_OP_QKV, K, H, RL_TP_KV_ROWS);
    if (m->qkv_bias) {
        add(&l, RL_T_BQ, "model.layers.%lld.self_attn.q_proj.bias", RL_OP_QKV_BIAS, Q, 0, RL_TP_ROWS);
        add(&l, RL_T_BK, "model.layers.%lld.self_attn.k_proj.bias", RL_OP_QKV_BIAS, K, 0, RL_TP_KV_ROWS);
        add(&l, RL_T_BV, "model.layers.%lld.self_attn.v_proj.bias", RL_OP_QKV_BIAS, K, 0, RL_TP_KV_ROWS);
    }
    if (m->qk_norm) {
        add(&l, RL_T_Q_NORM, "model.layers.%lld.self_attn.q_norm.weight", RL_OP_QK_NORM, D, 0, RL_TP_REPLICATED);
        add(&l, RL_T_K_NORM, "model.layers.%lld.self_attn.k_norm.weight", RL_OP_QK_NORM, D, 0, RL_TP_REPLICATED);
    }
    add(&l, RL_T_WO, "model.layers.%lld.self_attn.o_proj.weight", RL_OP_O_PROJ, H, Q, RL_TP_COLS);
    add(&l, RL_T_FFN_NORM, "model.layers.%lld.post_attention_layernorm.weight", RL_OP_FFN_NORM, H, 0,
        RL_TP_REPLICATED);
    if (layer < RL_MAX_LAYERS && m->moe_layer[layer]) {
        const rl_family_info *f = rl_family_of(m->family);
        const int64_t E = m->experts, Ie = m->moe_intermediate;
        add(&l, RL_T_ROUTER, f->router, RL_OP_ROUTER, E, H, RL_TP_REPLICATED);
        add(&l, RL_T_EXPERT_GATE, f->expert_gate, RL_OP_GATE_UP, Ie, H, RL_TP_ROWS);
        add(&l, RL_T_EXPERT_UP, f->expert_up, RL_OP_GATE_UP, Ie, H, RL_TP_ROWS);
        add(&l, RL_T_EXPERT_DOWN, f->expert_down, RL_OP_DOWN, H, Ie, RL_TP_COLS);
        for (int i = l.n - 3; i < l.n; i++) l.out[i].experts = E;
    } else {
        const int64_t I = m->intermediate;
        add(&l, RL_T_W_GATE, "model.layers.%lld.mlp.gate_proj.weight", RL_OP_GATE_UP, I, H, RL_TP_ROWS);
        add(&l, RL_T_W_UP, "model.layers.%lld.mlp.up_proj.weight", RL_OP_GATE_UP, I, H, RL_TP_ROWS);
        add(&l, RL_T_W_DOWN, "model.layers.%lld.mlp.down_proj.weight", RL_OP_DOWN, H, I, RL_TP_COLS);
    }
    return l.n;
}

void rl_spec_name(const rl_tensor_spec *t, int64_t layer, int64_t expert, char *buf, size_t n)
{
    /* The patterns are this file's literals; globals have no conversion and ignore the arguments. */
    snprintf(buf, n, t->hf, (long long)layer, (int)expert);
}

int rl_spec_stacks_on(const rl_tensor_spec *prev, const rl_tensor_spec *t)
{
    return prev && prev->op == t->op && prev->experts == 1 && t->experts == 1 && !prev->tied && !t->tied &&
           prev->cols == t->cols;
}

const rl_tensor_spec *rl_spec_find(const rl_tensor_spec *list, int n, rl_tensor_role role)
{
    for (int i = 0; i < n; i++)
        if (list[i].role == role) return &list[i];
    return NULL;
}

unsigned rl_spec_step_ops(const rl_model_config *m)
{
    unsigned mask = RL_OPMASK(RL_OP_ROPE) | RL_OPMASK(RL_OP_KV_WRITE) | RL_OPMASK(RL_OP_ATTENTION) |
                    RL_OPMASK(RL_OP_SILU_MUL) | RL_OPMASK(RL_OP_SAMPLE);
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    for (int64_t l = RL_SPEC_GLOBAL; l < m->layers; l++) {
        const int n = rl_spec_tensors(m, l, t);
        for (int i = 0; i < n; i++) mask |= RL_OPMASK(t[i].op);
    }
    return mask;
}

int rl_spec_ignorable(const char *name)
{
    static const char suffix[] = ".rotary_emb.inv_freq";
    const size_t n = strlen(name), s = sizeof suffix - 1;
    return n > s && !strcmp(name + n - s, suffix);
}
