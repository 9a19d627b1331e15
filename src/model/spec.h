/* spec.h: the model-spec table: what tensors a model has and which op of a step reads each one,
 * derived from its config (config.h). The one place that knows Hugging Face tensor names and
 * shapes: the checkpoint check (weights.c), both engines' loaders, random init and memory plans,
 * the predictor's weight bytes and `models` all read it.
 *
 * A layer's tensors, in storage order (the engines stack adjacent tensors of one op: q|k|v into one
 * matrix, their biases into one vector, q_norm|k_norm, gate|up):
 *   input_layernorm, q/k/v_proj, [q/k/v_proj.bias], [q_norm, k_norm], o_proj,
 *   post_attention_layernorm, then the MLP: gate/up/down_proj (dense) or router + E experts (MoE).
 * Global tensors: embed_tokens, model.norm, lm_head (tied: no storage, the embedding serves). */
#ifndef RL_SPEC_H
#define RL_SPEC_H
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "ops.h"

/* Tensor roles. The first twelve keep the numbers the seeded random weights use for their streams
 * (random_init.h), so adding roles changes no existing model's random weights. */
typedef enum {
    RL_T_EMBED,
    RL_T_LM_HEAD,
    RL_T_FINAL_NORM,
    RL_T_ATTN_NORM,
    RL_T_WQ,
    RL_T_WK,
    RL_T_WV,
    RL_T_WO,
    RL_T_FFN_NORM,
    RL_T_W_GATE,
    RL_T_W_UP,
    RL_T_W_DOWN,
    RL_T_BQ,          /* q/k/v projection biases (qwen2) */
    RL_T_BK,
    RL_T_BV,
    RL_T_Q_NORM,      /* per-head RMSNorm weights [head_dim] (qwen3) */
    RL_T_K_NORM,
    RL_T_ROUTER,      /* MoE router [experts, hidden] */
    RL_T_EXPERT_GATE, /* per expert [moe_intermediate, hidden] */
    RL_T_EXPERT_UP,
    RL_T_EXPERT_DOWN, /* per expert [hidden, moe_intermediate] */
    RL_T_COUNT
} rl_tensor_role;

extern const char *const rl_tensor_role_names[RL_T_COUNT];

/* How tensor parallelism splits a tensor over the GPUs of a group (Megatron layout). */
typedef enum {
    RL_TP_REPLICATED, /* every GPU holds it all (norms, the embedding, the router) */
    RL_TP_ROWS,       /* output rows split: column-parallel q, gate, up, lm_head and their biases */
    RL_TP_COLS,       /* input columns split: row-parallel o_proj, down_proj */
    RL_TP_KV_ROWS,    /* k, v rows split by KV head; replicated when there are fewer KV heads than GPUs */
} rl_tp_split;

typedef struct {
    rl_tensor_role role;
    const char *hf;     /* HF name as a printf pattern: the layer (long long), then the expert (int) */
    rl_op_id op;        /* the op that reads it */
    int64_t rows, cols; /* shape [rows, cols]; cols 0: a vector of rows elements */
    int64_t experts;    /* 1, or E for per-expert tensors (one tensor per expert) */
    int optional;       /* a checkpoint may omit it (or carry it, ignored) */
    int tied;           /* no storage of its own: the lm_head of a tied model reads the embedding */
    rl_tp_split tp;
} rl_tensor_spec;

#define RL_SPEC_MAX_TENSORS 24
#define RL_SPEC_GLOBAL (-1)

/* The tensors of layer `layer` (0 .. layers-1), or the global ones (RL_SPEC_GLOBAL), in storage
 * order. Returns how many were written to out. */
int rl_spec_tensors(const rl_model_config *m, int64_t layer, rl_tensor_spec out[RL_SPEC_MAX_TENSORS]);

/* Writes tensor t's HF name for layer (and expert, for per-expert tensors) into buf. */
void rl_spec_name(const rl_tensor_spec *t, int64_t layer, int64_t expert, char *buf, size_t n);

/* Elements of one tensor (one expert's, for per-expert tensors). */
static inline int64_t rl_spec_elems(const rl_tensor_spec *t) { return t->rows * (t->cols > 0 ? t->cols : 1); }

/* Elements the tensor stores in all (every expert; 0 when tied). */
static inline int64_t rl_spec_stored_elems(const rl_tensor_spec *t)
{
    return t->tied ? 0 : rl_spec_elems(t) * t->experts;
}

/* 1 when t continues the stack of prev (same op, both matrices with equal cols or both vectors):
 * the engines store the two back to back and read them as one. */
int rl_spec_stacks_on(const rl_tensor_spec *prev, const rl_tensor_spec *t);

/* Finds role in a list from rl_spec_tensors; NULL when the model has no such tensor there. */
const rl_tensor_spec *rl_spec_find(const rl_tensor_spec *list, int n, rl_tensor_role role);

/* The ops of one step of this model (RL_OPMASK bits), in rl_op_id order. */
unsigned rl_spec_step_ops(const rl_model_config *m);

/* Checkpoint names every family may carry that no op reads (HF's rotary_emb.inv_freq buffers). */
int rl_spec_ignorable(const char *name);

/* The family a config.json model_type names, or -1 (the message then lists the supported ones). */
typedef struct {
    const char *model_type;
    rl_family family;
    int qkv_bias, qk_norm, moe;
    /* MoE tensor names (NULL for dense families): router, then the expert's gate, up, down. */
    const char *router, *expert_gate, *expert_up, *expert_down;
} rl_family_info;

const rl_family_info *rl_family_find(const char *model_type);
const rl_family_info *rl_family_of(rl_family f);
/* "llama, mistral, qwen2, qwen3, mixtral, qwen3_moe" */
const char *rl_family_list(void);

#endif
