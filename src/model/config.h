/* config.h: Llama-family model geometry, from a built-in preset or a Hugging Face config.json. */
#ifndef RL_CONFIG_H
#define RL_CONFIG_H
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

typedef struct {
    char name[128];           /* preset name or config path */
    char model_type[32];      /* "llama", "mistral" */
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
    int64_t sliding_window;   /* 0 = none (noted only: our contexts stay inside it) */
    char dtype[16];           /* torch_dtype / dtype as written ("bfloat16"), "" if absent */
} rl_model_config;

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

/* Parameter counts. Embedding counted once when tied. */
int64_t rl_model_param_count(const rl_model_config *c);
int64_t rl_model_embedding_params(const rl_model_config *c); /* vocab * hidden */
int64_t rl_model_layer_linear_params(const rl_model_config *c); /* q,k,v,o,gate,up,down of one layer */
/* Bytes of K and V for one token across all layers at elem_bytes per element. */
int64_t rl_model_kv_bytes_per_token(const rl_model_config *c, int elem_bytes);

#endif
