/* config.h: decoder model geometry, from a built-in preset or a Hugging Face config.json.
 * Families (model_type): llama, mistral (sliding window), qwen2 (q/k/v biases), qwen3 (per-head
 * q/k RMSNorm, explicit head_dim), mixtral and qwen3_moe (mixture of experts). What tensors and
 * ops a model has follows from these fields through the model-spec table (spec.h). */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define RL_MAX_LAYERS 1024

typedef enum {
    RL_FAMILY_LLAMA,
    RL_FAMILY_MISTRAL,
    RL_FAMILY_QWEN2,
    RL_FAMILY_QWEN3,
    RL_FAMILY_MIXTRAL,
    RL_FAMILY_QWEN3_MOE,
} rl_family;

typedef struct {
    char name[128];           /* preset name or config path */
    char model_type[32];      /* as config.json spells it: "llama", "qwen3_moe", ... */
    rl_family family;
    int64_t vocab;            /* vocab_size */
    int64_t hidden;           /* hidden_size */
    int64_t intermediate;     /* intermediate_size */
    int64_t layers;           /* num_hidden_layers */
    int64_t heads;            /* num_attention_heads */
    int64_t kv_heads;         /* num_key_value_heads (GQA) */
    int64_t head_dim;         /* head_dim (explicit or hidden / heads) */
    int64_t max_positions;    /* max_position_embeddings */
    double rope_theta;
    double norm_eps;          /* rms_norm_eps */
    int tied_embeddings;      /* tie_word_embeddings */
    /* rope_scaling / rope_parameters with rope_type "llama3"; rope_llama3 = 0 means plain RoPE */
    int rope_llama3;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int64_t rope_original_max_positions;
    int64_t sliding_window;   /* keys per query in the layers that use it (window_layer); 0 = none */
    char dtype[16];           /* torch_dtype / dtype as written ("bfloat16"), "" if absent */
    int qkv_bias;             /* q/k/v projections carry biases (qwen2) */
    int qk_norm;              /* per-head RMSNorm of q and k before RoPE (qwen3, qwen3_moe) */
    int64_t experts;           /* routed experts of an MoE layer (num_local_experts / num_experts); 0 = dense */
    int64_t experts_per_token; /* k of E (num_experts_per_tok) */
    int64_t moe_intermediate;  /* an expert's MLP width (moe_intermediate_size, mixtral: intermediate_size) */
    uint8_t moe_layer[RL_MAX_LAYERS];    /* 1: the layer's MLP is the MoE block (else dense, intermediate) */
    uint8_t window_layer[RL_MAX_LAYERS]; /* 1: the layer attends within sliding_window keys */
} rl_model_config;

/* Keys a query of layer l sees at most (sliding window), 0 = all before it. */
static inline int64_t rl_model_window(const rl_model_config *m, int64_t layer)
{
    return m->sliding_window > 0 && layer >= 0 && layer < RL_MAX_LAYERS && m->window_layer[layer] ? m->sliding_window
                                                                                                   : 0;
}

/* 1 when any layer is a mixture of experts (the engines refuse those). */
static inline int rl_model_is_moe(const rl_model_config *m) { return m->experts > 0; }

/* Known preset names, NULL-terminated. */
extern const char *const rl_model_preset_names[];

int rl_model_preset(const char *name, rl_model_config *out, rl_err *err);

/* Parses a Hugging Face config.json (transformers 4: rope_theta/rope_scaling; 5: rope_parameters).
 * path may be the file or the directory holding it. */
int rl_model_from_config_json(const char *path, rl_model_config *out, rl_err *err);

/* The same from JSON text already in memory (len bytes, no NUL needed); what names it in messages.
 * Used by the config fuzz target. */
int rl_model_from_config_text(const char *text, size_t len, const char *what, rl_model_config *out, rl_err *err);

/* A config.json path or a directory with config.json when the argument contains '/' or ends in
 * .json; otherwise a preset name (even where a file of that name exists: the message then says
 * to write ./NAME). Unknown names list the presets. */
int rl_model_resolve(const char *name_or_path, rl_model_config *out, rl_err *err);

/* Checks geometry invariants (positive sizes, heads divisible by kv_heads, ...). */
int rl_model_validate(const rl_model_config *c, const char *where, rl_err *err);

/* Parameter counts, summed over the model-spec table (spec.h). Embedding counted once when tied;
 * every expert counted. */
int64_t rl_model_param_count(const rl_model_config *c);
/* Parameters one token uses: the k chosen experts of each MoE layer instead of all E. */
int64_t rl_model_active_param_count(const rl_model_config *c);
int64_t rl_model_embedding_params(const rl_model_config *c); /* vocab * hidden */
/* Bytes of K and V for one token across all layers at elem_bytes per element. */
int64_t rl_model_kv_bytes_per_token(const rl_model_config *c, int elem_bytes);

#endif
