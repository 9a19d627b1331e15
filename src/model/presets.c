/* presets.c: the built-in models, each as the config.json its Hugging Face repository ships
 * (trimmed to the fields we read), parsed by the same code as a user's config.json. */
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "config.h"

typedef struct {
    const char *name;
    const char *json;
} preset;

#define LLAMA3_ROPE(f, orig)                                                                                          \
    "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": " #f ", \"low_freq_factor\": 1.0, "                  \
    "\"high_freq_factor\": 4.0, \"original_max_position_embeddings\": " #orig "}"

static const preset presets[] = {
    {"llama-3.1-8b", "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 4096, "
                     "\"intermediate_size\": 14336, \"num_hidden_layers\": 32, \"num_attention_heads\": 32, "
                     "\"num_key_value_heads\": 8, \"head_dim\": 128, \"max_position_embeddings\": 131072, "
                     "\"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"tie_word_embeddings\": false, "
                     "\"torch_dtype\": \"bfloat16\", " LLAMA3_ROPE(8.0, 8192) "}"},
    {"llama-3.1-70b", "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 8192, "
                      "\"intermediate_size\": 28672, \"num_hidden_layers\": 80, \"num_attention_heads\": 64, "
                      "\"num_key_value_heads\": 8, \"head_dim\": 128, \"max_position_embeddings\": 131072, "
                      "\"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"tie_word_embeddings\": false, "
                      "\"torch_dtype\": \"bfloat16\", " LLAMA3_ROPE(8.0, 8192) "}"},
    {"llama-3.2-1b", "{\"model_type\": \"llama\", \"vocab_size\": 128256, \"hidden_size\": 2048, "
                     "\"intermediate_size\": 8192, \"num_hidden_layers\": 16, \"num_attention_heads\": 32, "
                     "\"num_key_value_heads\": 8, \"head_dim\": 64, \"max_position_embeddings\": 131072, "
                     "\"rms_norm_eps\": 1e-05, \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, "
                     "\"torch_dtype\": \"bfloat16\", " LLAMA3_ROPE(32.0, 8192) "}"},
    /* Small enough that the CPU lab runs in seconds, shaped like Llama-3 (GQA 4, llama3 RoPE). */
    {"tiny", "{\"model_type\": \"llama\", \"vocab_size\": 8192, \"hidden_size\": 256, \"intermediate_size\": 768, "
             "\"num_hidden_layers\": 4, \"num_attention_heads\": 8, \"num_key_value_heads\": 2, \"head_dim\": 32, "
             "\"max_position_embeddings\": 4096, \"rms_norm_eps\": 1e-05, \"rope_theta\": 10000.0, "
             "\"tie_word_embeddings\": false, \"torch_dtype\": \"float32\", " LLAMA3_ROPE(8.0, 1024) "}"},
    {"mistral-7b", "{\"model_type\": \"mistral\", \"vocab_size\": 32000, \"hidden_size\": 4096, "
                   "\"intermediate_size\": 14336, \"num_hidden_layers\": 32, \"num_attention_heads\": 32, "
                   "\"num_key_value_heads\": 8, \"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-05, "
                   "\"rope_theta\": 10000.0, \"sliding_window\": 4096, \"tie_word_embeddings\": false, "
                   "\"torch_dtype\": \"bfloat16\"}"},
    {"qwen2.5-7b", "{\"model_type\": \"qwen2\", \"vocab_size\": 152064, \"hidden_size\": 3584, "
                   "\"intermediate_size\": 18944, \"num_hidden_layers\": 28, \"num_attention_heads\": 28, "
                   "\"num_key_value_heads\": 4, \"max_position_embeddings\": 131072, \"rms_norm_eps\": 1e-06, "
                   "\"rope_theta\": 1000000.0, \"sliding_window\": 131072, \"use_sliding_window\": false, "
                   "\"max_window_layers\": 28, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"},
    {"qwen3-8b", "{\"model_type\": \"qwen3\", \"vocab_size\": 151936, \"hidden_size\": 4096, "
                 "\"intermediate_size\": 12288, \"num_hidden_layers\": 36, \"num_attention_heads\": 32, "
                 "\"num_key_value_heads\": 8, \"head_dim\": 128, \"max_position_embeddings\": 40960, "
                 "\"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000, \"sliding_window\": null, "
                 "\"use_sliding_window\": false, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"},
    {"mixtral-8x7b", "{\"model_type\": \"mixtral\", \"vocab_size\": 32000, \"hidden_size\": 4096, "
                     "\"intermediate_size\": 14336, \"num_hidden_layers\": 32, \"num_attention_heads\": 32, "
                     "\"num_key_value_heads\": 8, \"num_local_experts\": 8, \"num_experts_per_tok\": 2, "
                     "\"max_position_embeddings\": 32768, \"rms_norm_eps\": 1e-05, \"rope_theta\": 1000000.0, "
                     "\"sliding_window\": null, \"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"},
    {"qwen3-30b-a3b", "{\"model_type\": \"qwen3_moe\", \"vocab_size\": 151936, \"hidden_size\": 2048, "
                      "\"intermediate_size\": 6144, \"moe_intermediate_size\": 768, \"num_hidden_layers\": 48, "
                      "\"num_attention_heads\": 32, \"num_key_value_heads\": 4, \"head_dim\": 128, "
                      "\"num_experts\": 128, \"num_experts_per_tok\": 8, \"decoder_sparse_step\": 1, "
                      "\"mlp_only_layers\": [], \"max_position_embeddings\": 40960, \"rms_norm_eps\": 1e-06, "
                      "\"rope_theta\": 1000000.0, \"sliding_window\": null, \"use_sliding_window\": false, "
                      "\"tie_word_embeddings\": false, \"torch_dtype\": \"bfloat16\"}"},
};
#define N_PRESETS (sizeof presets / sizeof presets[0])

const char *const rl_model_preset_names[] = {"llama-3.1-8b", "llama-3.1-70b", "llama-3.2-1b", "tiny",
                                             "mistral-7b",   "qwen2.5-7b",    "qwen3-8b",     "mixtral-8x7b",
                                             "qwen3-30b-a3b", NULL};

int rl_model_preset(const char *name, rl_model_config *c, rl_err *err)
{
    for (size_t i = 0; i < N_PRESETS; i++) {
        if (!rl_name_eq(name, presets[i].name)) continue;
        char what[160];
        snprintf(what, sizeof what, "preset %s", presets[i].name);
        if (rl_model_from_config_text(presets[i].json, strlen(presets[i].json), what, c, err)) return -1;
        snprintf(c->name, sizeof c->name, "%s", name);
        return 0;
    }
    memset(c, 0, sizeof *c);
    char known[512] = "";
    for (int i = 0; rl_model_preset_names[i]; i++) {
        strncat(known, rl_model_preset_names[i], sizeof known - strlen(known) - 1);
        if (rl_model_preset_names[i + 1]) strncat(known, ", ", sizeof known - strlen(known) - 1);
    }
    return rl_fail(err, "unknown model '%s' (known presets: %s; or pass a path to a Hugging Face config.json)", name,
                   known);
}
