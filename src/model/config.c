/* config.c: Hugging Face config.json parsing (via cJSON), as transformers 4 and 5 write it, for
 * every family the model-spec table knows (spec.c). Presets are config.json texts (presets.c). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/util.h"
#include "spec.h"

static int parse_rope_block(const cJSON *blk, const char *path, const char *field, rl_model_config *c, rl_err *err)
{
    if (!blk || cJSON_IsNull(blk)) return 0;
    if (!cJSON_IsObject(blk)) return rl_fail(err, "%s: field '%s' must be an object or null", path, field);
    char where[600];
    snprintf(where, sizeof where, "%s: %s", path, field);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(blk, "rope_type");
    if (!type) type = cJSON_GetObjectItemCaseSensitive(blk, "type");
    if (cJSON_GetObjectItemCaseSensitive(blk, "rope_theta")) {
        if (rl_json_get_f64(blk, where, "rope_theta", 1, 0, &c->rope_theta, err)) return -1;
    }
    if (!type || cJSON_IsNull(type)) return 0;
    if (!cJSON_IsString(type)) return rl_fail(err, "%s: field 'rope_type' must be a string", where);
    if (!strcmp(type->valuestring, "default")) return 0;
    if (strcmp(type->valuestring, "llama3") != 0)
        return rl_fail(err, "%s: rope_type '%s' is not supported (supported: default, llama3)", where,
                       type->valuestring);
    c->rope_llama3 = 1;
    if (rl_json_get_f64(blk, where, "factor", 1, 0, &c->rope_factor, err)) return -1;
    if (rl_json_get_f64(blk, where, "low_freq_factor", 1, 0, &c->rope_low_freq_factor, err)) return -1;
    if (rl_json_get_f64(blk, where, "high_freq_factor", 1, 0, &c->rope_high_freq_factor, err)) return -1;
    if (rl_json_get_i64(blk, where, "original_max_position_embeddings", 1, 0, &c->rope_original_max_positions, err))
        return -1;
    if (c->rope_factor <= 0 || c->rope_low_freq_factor <= 0 || c->rope_high_freq_factor <= c->rope_low_freq_factor ||
        c->rope_original_max_positions <= 0)
        return rl_fail(err, "%s: llama3 rope parameters out of range (factor > 0, high_freq_factor > low_freq_factor > 0)",
                       where);
    return 0;
}

/* The first layer of `field` (an array of layer indices) outside 0..layers-1, or marks them. */
static int parse_layer_list(const cJSON *root, const char *path, const char *field, rl_model_config *c,
                            uint8_t *marks, rl_err *err)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, field);
    if (!arr || cJSON_IsNull(arr)) return 0;
    if (!cJSON_IsArray(arr)) return rl_fail(err, "%s: field '%s' must be an array of layer indices", path, field);
    for (const cJSON *it = arr->child; it; it = it->next) {
        if (!cJSON_IsNumber(it) || it->valuedouble < 0 || it->valuedouble >= (double)c->layers ||
            it->valuedouble != (double)(int64_t)it->valuedouble)
            return rl_fail(err, "%s: field '%s' must list layer indices 0..%lld", path, field, (long long)c->layers - 1);
        marks[(int64_t)it->valuedouble] = 1;
    }
    return 0;
}

/* Which layers attend within sliding_window: transformers >= 4.53 writes `layer_types`; before, Mistral
 * and Mixtral windowed every layer, Qwen2/Qwen3 the layers from max_window_layers on when
 * use_sliding_window is true. A window no layer uses is dropped (sliding_window = 0). */
static int parse_windows(const cJSON *root, const char *path, rl_model_config *c, rl_err *err)
{
    if (rl_json_get_i64(root, path, "sliding_window", 0, 0, &c->sliding_window, err)) return -1;
    if (c->sliding_window < 0) return rl_fail(err, "%s: field 'sliding_window' must be >= 0 or null", path);
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(root, "layer_types");
    if (types && !cJSON_IsNull(types)) {
        if (!cJSON_IsArray(types) || cJSON_GetArraySize(types) != c->layers)
            return rl_fail(err, "%s: field 'layer_types' must be an array of num_hidden_layers (%lld) strings", path,
                           (long long)c->layers);
        int64_t l = 0;
        for (const cJSON *it = types->child; it; it = it->next, l++) {
            if (cJSON_IsString(it) && !strcmp(it->valuestring, "sliding_attention")) c->window_layer[l] = 1;
            else if (!cJSON_IsString(it) || strcmp(it->valuestring, "full_attention"))
                return rl_fail(err, "%s: field 'layer_types'[%lld] must be \"full_attention\" or \"sliding_attention\"",
                               path, (long long)l);
        }
    } else if (c->family == RL_FAMILY_QWEN2 || c->family == RL_FAMILY_QWEN3 || c->family == RL_FAMILY_QWEN3_MOE) {
        const cJSON *use = cJSON_GetObjectItemCaseSensitive(root, "use_sliding_window");
        if (use && !cJSON_IsNull(use) && !cJSON_IsBool(use))
            return rl_fail(err, "%s: field 'use_sliding_window' must be true or false", path);
        int64_t from = 0;
        if (rl_json_get_i64(root, path, "max_window_layers", 0, c->layers, &from, err)) return -1;
        for (int64_t l = from < 0 ? 0 : from; cJSON_IsTrue(use) && l < c->layers; l++) c->window_layer[l] = 1;
    } else {
        for (int64_t l = 0; l < c->layers; l++) c->window_layer[l] = 1;
    }
    int any = 0;
    for (int64_t l = 0; l < c->layers; l++) any |= c->window_layer[l];
    if (!any || !c->sliding_window) {
        c->sliding_window = 0;
        memset(c->window_layer, 0, sizeof c->window_layer);
    }
    return 0;
}

/* Mixtral: num_local_experts, every layer MoE, experts as wide as intermediate_size. Qwen3-MoE:
 * num_experts of moe_intermediate_size in every decoder_sparse_step-th layer outside mlp_only_layers. */
static int parse_moe(const cJSON *root, const char *path, rl_model_config *c, rl_err *err)
{
    const int mixtral = c->family == RL_FAMILY_MIXTRAL;
    const char *experts = mixtral ? "num_local_experts" : "num_experts";
    if (rl_json_get_i64(root, path, experts, 1, 0, &c->experts, err)) return -1;
    if (rl_json_get_i64(root, path, "num_experts_per_tok", 1, 0, &c->experts_per_token, err)) return -1;
    if (c->experts < 1 || c->experts > 4096)
        return rl_fail(err, "%s: field '%s' = %lld is out of range (1..4096)", path, experts, (long long)c->experts);
    if (c->experts_per_token < 1 || c->experts_per_token > c->experts)
        return rl_fail(err, "%s: field 'num_experts_per_tok' = %lld must be within 1..%s (%lld)", path,
                       (long long)c->experts_per_token, experts, (long long)c->experts);
    if (mixtral) c->moe_intermediate = c->intermediate;
    else if (rl_json_get_i64(root, path, "moe_intermediate_size", 1, 0, &c->moe_intermediate, err)) return -1;
    if (c->moe_intermediate < 1 || c->moe_intermediate > (1 << 19))
        return rl_fail(err, "%s: field '%s' out of range (1..%d)", path,
                       mixtral ? "intermediate_size" : "moe_intermediate_size", 1 << 19);
    /* Bounds every parameter count far below 2^63 (the largest MoE models: 2^19). */
    if (c->experts * c->moe_intermediate > (1 << 24))
        return rl_fail(err, "%s: fields '%s' x the experts' intermediate size (%lld x %lld) exceed 2^24", path, experts,
                       (long long)c->experts, (long long)c->moe_intermediate);
    if (mixtral) {
        memset(c->moe_layer, 1, (size_t)c->layers);
        return 0;
    }
    int64_t step = 1;
    if (rl_json_get_i64(root, path, "decoder_sparse_step", 0, 1, &step, err)) return -1;
    if (step < 1 || step > c->layers)
        return rl_fail(err, "%s: field 'decoder_sparse_step' must be within 1..num_hidden_layers", path);
    uint8_t dense[RL_MAX_LAYERS] = {0};
    if (parse_layer_list(root, path, "mlp_only_layers", c, dense, err)) return -1;
    for (int64_t l = 0; l < c->layers; l++) c->moe_layer[l] = !dense[l] && (l + 1) % step == 0;
    return 0;
}

/* Fields the engines and the cost model do not implement must not be silently ignored. */
static int refuse_unsupported(const cJSON *root, const char *path, const rl_model_config *c, rl_err *err)
{
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(root, "hidden_act");
    if (act && !cJSON_IsNull(act) && (!cJSON_IsString(act) || strcmp(act->valuestring, "silu")))
        return rl_fail(err, "%s: field 'hidden_act' must be \"silu\" (the SwiGLU MLP every supported family uses)", path);
    /* Qwen2 always has q/k/v biases (no flag); elsewhere attention_bias adds biases to o_proj too. */
    static const char *const flags[] = {"attention_bias", "mlp_bias"};
    for (int i = 0; i < 2; i++) {
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(root, flags[i]);
        if (f && !cJSON_IsNull(f) && !cJSON_IsBool(f))
            return rl_fail(err, "%s: field '%s' must be true or false", path, flags[i]);
        if (cJSON_IsTrue(f) && c->family != RL_FAMILY_QWEN2)
            return rl_fail(err, "%s: field '%s' is true: projection biases of model_type '%s' are not supported", path,
                           flags[i], c->model_type);
    }
    return 0;
}

static int parse_config(const cJSON *root, const char *path, rl_model_config *c, rl_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", path);
    if (!cJSON_IsObject(root)) return rl_fail(err, "%s: expected a JSON object", path);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) return rl_fail(err, "%s: required field 'model_type' is missing or not a string", path);
    const rl_family_info *fam = rl_family_find(mt->valuestring);
    if (!fam)
        return rl_fail(err, "%s: field 'model_type' is '%s'; supported: %s", path, mt->valuestring, rl_family_list());
    snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    c->family = fam->family;
    c->qkv_bias = fam->qkv_bias;
    c->qk_norm = fam->qk_norm;
    if (rl_json_get_i64(root, path, "vocab_size", 1, 0, &c->vocab, err)) return -1;
    if (rl_json_get_i64(root, path, "hidden_size", 1, 0, &c->hidden, err)) return -1;
    if (rl_json_get_i64(root, path, "intermediate_size", 1, 0, &c->intermediate, err)) return -1;
    if (rl_json_get_i64(root, path, "num_hidden_layers", 1, 0, &c->layers, err)) return -1;
    if (rl_json_get_i64(root, path, "num_attention_heads", 1, 0, &c->heads, err)) return -1;
    if (rl_json_get_i64(root, path, "num_key_value_heads", 0, c->heads, &c->kv_heads, err)) return -1;
    if (c->heads <= 0) return rl_fail(err, "%s: field 'num_attention_heads' must be > 0", path);
    if (c->layers <= 0 || c->layers > RL_MAX_LAYERS)
        return rl_fail(err, "%s: field 'num_hidden_layers' = %lld is out of range (1..%d)", path, (long long)c->layers,
                       RL_MAX_LAYERS);
    if (rl_json_get_i64(root, path, "head_dim", 0, c->hidden / c->heads, &c->head_dim, err)) return -1;
    if (rl_json_get_i64(root, path, "max_position_embeddings", 0, 8192, &c->max_positions, err)) return -1;
    if (rl_json_get_f64(root, path, "rms_norm_eps", 0, 1e-5, &c->norm_eps, err)) return -1;
    if (rl_json_get_f64(root, path, "rope_theta", 0, 10000.0, &c->rope_theta, err)) return -1;
    const cJSON *tie = cJSON_GetObjectItemCaseSensitive(root, "tie_word_embeddings");
    if (tie && !cJSON_IsNull(tie) && !cJSON_IsBool(tie))
        return rl_fail(err, "%s: field 'tie_word_embeddings' must be true or false", path);
    c->tied_embeddings = tie && cJSON_IsTrue(tie);
    if (parse_rope_block(cJSON_GetObjectItemCaseSensitive(root, "rope_scaling"), path, "rope_scaling", c, err))
        return -1;
    if (parse_rope_block(cJSON_GetObjectItemCaseSensitive(root, "rope_parameters"), path, "rope_parameters", c, err))
        return -1;
    if (parse_windows(root, path, c, err)) return -1;
    if (fam->moe && parse_moe(root, path, c, err)) return -1;
    if (refuse_unsupported(root, path, c, err)) return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "torch_dtype");
    if (!cJSON_IsString(dt)) dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (cJSON_IsString(dt)) snprintf(c->dtype, sizeof c->dtype, "%s", dt->valuestring);
    return rl_model_validate(c, path, err);
}

int rl_model_validate(const rl_model_config *c, const char *where, rl_err *err)
{
    struct { const char *field; int64_t v; int64_t max; } checks[] = {
        {"vocab_size", c->vocab, 1 << 24},          {"hidden_size", c->hidden, 1 << 17},
        {"intermediate_size", c->intermediate, 1 << 19}, {"num_hidden_layers", c->layers, RL_MAX_LAYERS},
        {"num_attention_heads", c->heads, 1024},    {"num_key_value_heads", c->kv_heads, 1024},
        {"head_dim", c->head_dim, 4096},            {"max_position_embeddings", c->max_positions, 1 << 24},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++)
        if (checks[i].v <= 0 || checks[i].v > checks[i].max)
            return rl_fail(err, "%s: field '%s' = %lld is out of range (1..%lld)", where, checks[i].field,
                           (long long)checks[i].v, (long long)checks[i].max);
    if (c->heads % c->kv_heads)
        return rl_fail(err, "%s: num_attention_heads (%lld) must be a multiple of num_key_value_heads (%lld)", where,
                       (long long)c->heads, (long long)c->kv_heads);
    if (c->head_dim % 2) return rl_fail(err, "%s: field 'head_dim' must be even for RoPE", where);
    if (c->norm_eps <= 0 || c->norm_eps > 1) return rl_fail(err, "%s: field 'rms_norm_eps' out of range", where);
    if (c->rope_theta <= 1) return rl_fail(err, "%s: field 'rope_theta' must be > 1", where);
    if (c->sliding_window < 0) return rl_fail(err, "%s: field 'sliding_window' must be >= 0 or null", where);
    return 0;
}

int rl_model_from_config_json(const char *path, rl_model_config *out, rl_err *err)
{
    char file[4096];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(file, sizeof file, "%s/config.json", path);
    else
        snprintf(file, sizeof file, "%s", path);
    cJSON *root = rl_json_load_max(file, RL_CONFIG_MAX_BYTES, err);
    if (!root) return -1;
    int rc = parse_config(root, file, out, err);
    cJSON_Delete(root);
    return rc;
}

int rl_model_from_config_text(const char *text, size_t len, const char *what, rl_model_config *out, rl_err *err)
{
    cJSON *root = cJSON_ParseWithLength(text, len);
    if (!root) return rl_fail(err, "%s: malformed JSON", what);
    int rc = parse_config(root, what, out, err);
    cJSON_Delete(root);
    return rc;
}

int rl_model_resolve(const char *name_or_path, rl_model_config *out, rl_err *err)
{
    /* Only the argument says it is a path ('/' or a .json ending): a file or directory named like a
     * preset in the working directory (`lab --out tiny`) must not turn the preset into a config. */
    size_t n = strlen(name_or_path);
    if (strchr(name_or_path, '/') || (n >= 5 && !strcmp(name_or_path + n - 5, ".json")))
        return rl_model_from_config_json(name_or_path, out, err);
    if (!rl_model_preset(name_or_path, out, err)) return 0;
    struct stat st;
    if (err && stat(name_or_path, &st) == 0) {
        char msg[sizeof err->msg];
        snprintf(msg, sizeof msg, "%s", err->msg);
        rl_fail(err, "%s; '%s' was taken as a preset name (no '/', no .json): write ./%s to read the file here", msg,
                name_or_path, name_or_path);
    }
    return -1;
}

int64_t rl_model_embedding_params(const rl_model_config *c) { return c->vocab * c->hidden; }

/* Sum over the spec table; active: k of each per-expert tensor's E copies. */
static int64_t count_params(const rl_model_config *c, int active)
{
    int64_t n = 0;
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    for (int64_t l = RL_SPEC_GLOBAL; l < c->layers; l++) {
        const int k = rl_spec_tensors(c, l, t);
        for (int i = 0; i < k; i++)
            n += active && t[i].experts > 1 && !t[i].tied ? rl_spec_elems(&t[i]) * c->experts_per_token
                                                          : rl_spec_stored_elems(&t[i]);
    }
    return n;
}

int64_t rl_model_param_count(const rl_model_config *c) { return count_params(c, 0); }

int64_t rl_model_active_param_count(const rl_model_config *c) { return count_params(c, 1); }

int64_t rl_model_kv_bytes_per_token(const rl_model_config *c, int elem_bytes)
{
    return 2 * c->layers * c->kv_heads * c->head_dim * (int64_t)elem_bytes;
}
