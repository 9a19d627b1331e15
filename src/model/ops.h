/* ops.h: THE operator vocabulary of one decoder step. Shared by the model spec (which ops a
 * family's step has, which op reads each tensor), the predictor (FLOPs, bytes), the engines'
 * per-kernel timing (each kernel names the ops it covers) and the report. A model's step uses a
 * subset (rl_spec_step_ops): Llama has no qkv_bias, qk_norm or router. */
#ifndef RL_OPS_H
#define RL_OPS_H

typedef enum {
    RL_OP_EMBED,      /* embedding gather */
    RL_OP_ATTN_NORM,  /* RMSNorm before attention */
    RL_OP_QKV,        /* Q/K/V projections */
    RL_OP_QKV_BIAS,   /* q/k/v bias add (qwen2) */
    RL_OP_QK_NORM,    /* per-head RMSNorm of q and k before RoPE (qwen3) */
    RL_OP_ROPE,       /* rotary embedding on Q and K */
    RL_OP_KV_WRITE,   /* append K, V to the cache */
    RL_OP_ATTENTION,  /* scores, softmax, weighted sum (causal in prefill, GQA KV read, sliding window) */
    RL_OP_O_PROJ,     /* output projection + residual add */
    RL_OP_FFN_NORM,   /* RMSNorm before the MLP */
    RL_OP_ROUTER,     /* MoE router: logits over the experts, top-k, softmax */
    RL_OP_GATE_UP,    /* gate and up projections (of the k chosen experts in an MoE layer) */
    RL_OP_SILU_MUL,   /* SiLU(gate) * up */
    RL_OP_DOWN,       /* down projection (+ expert combine) + residual add */
    RL_OP_FINAL_NORM, /* final RMSNorm (rows that need logits) */
    RL_OP_LM_HEAD,    /* vocabulary projection (last position only in prefill) */
    RL_OP_SAMPLE,     /* greedy argmax over the logits */
    RL_OP_ALLREDUCE,  /* tensor parallel: the all-reduces of the o_proj and down_proj partial sums (2 per
                       * layer; in a step only when tp > 1, the engine's world size 1 makes the calls) */
    RL_OP_COUNT
} rl_op_id;

extern const char *const rl_op_names[RL_OP_COUNT];

/* 1 when the op runs once per layer (its cost is summed over the layers; the all-reduces too). */
int rl_op_is_per_layer(rl_op_id op);

/* 1 for the weight matmuls (projections, router, lm_head): they run at the precision of the
 * weights (fp8 / int8 tensor cores for those formats); attention and elementwise ops do not. */
int rl_op_is_linear(rl_op_id op);

/* Bitmask helpers for kernels that fuse several ops. */
#define RL_OPMASK(op) (1u << (op))

#include <stddef.h>
/* The ops of a mask as their names joined with '+' ("rope+kv_write+attention"), into out[n]. */
void rl_ops_text(unsigned mask, char *out, size_t n);

#endif
