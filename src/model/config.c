/* config.c: model presets and Hugging Face config.json parsing (via cJSON). */
#define _POSIX_C_SOURCE 200809L
#include "config.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/util.h"

const char *const rl_model_preset_names[] = {"llama-3.1-8b", "llama-3.1-70b", "llama-3.2-1b", "tiny", NULL};

static void set_llama3_rope(rl_model_config *c, double factor, int64_t orig)
{
    c->rope_llama3 = 1;
    c->rope_factor = factor;
    c->rope_low_freq_factor = 1.0;
    c->rope_high_freq_factor = 4.0;
    c->rope_original_max_positions = orig;
}

int rl_model_preset(const char *name, rl_model_config *c, rl_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->model_type, sizeof c->model_type, "llama");
    snprintf(c->dtype, sizeof c->dtype, "bfloat16");
    c->norm_eps = 1e-5;
    c->rope_theta = 500000.0;
    if (rl_name_eq(name, "llama-3.1-8b")) {
        c->vocab = 128256, c->hidden = 4096, c->intermediate = 14336, c->layers = 32;
        c->heads = 32, c->kv_heads = 8, c->head_dim = 128, c->max_positions = 131072;
        set_llama3_rope(c, 8.0, 8192);
    } else if (rl_name_eq(name, "llama-3.1-70b")) {
        c->vocab = 128256, c->hidden = 8192, c->intermediate = 28672, c->layers = 80;
        c->heads = 64, c->kv_heads = 8, c->head_dim = 128, c->max_positions = 131072;
        set_llama3_rope(c, 8.0, 8192);
    } else if (rl_name_eq(name, "llama-3.2-1b")) {
        c->vocab = 128256, c->hidden = 2048, c->intermediate = 8192, c->layers = 16;
        c->heads = 32, c->kv_heads = 8, c->head_dim = 64, c->max_positions = 131072;
        c->tied_embeddings = 1;
        set_llama3_rope(c, 32.0, 8192);
    } else if (rl_name_eq(name, "tiny")) {
        /* Small enough that the CPU lab runs in seconds, shaped like Llama-3 (GQA 4, llama3 RoPE). */
        c->vocab = 8192, c->hidden = 256, c->intermediate = 768, c->layers = 4;
        c->heads = 8, c->kv_heads = 2, c->head_dim = 32, c->max_positions = 4096;
        c->rope_theta = 10000.0;
        set_llama3_rope(c, 8.0, 1024);
        snprintf(c->dtype, sizeof c->dtype, "float32");
    } else {
        char known[256] = "";
        for (int i = 0; rl_model_preset_names[i]; i++) {
            strncat(known, rl_model_preset_names[i], sizeof known - strlen(known) - 1);
            if (rl_model_preset_names[i + 1]) strncat(known, ", ", sizeof known - strlen(known) - 1);
        }
        return rl_fail(err, "unknown model '%s' (known presets: %s; or pass a path to a Hugging Face config.json)",
                       name, known);
    }
    snprintf(c->name, sizeof c->name, "%s", name);
    return 0;
}

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

static int parse_config(const cJSON *root, const char *path, rl_model_config *c, rl_err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", path);
    if (!cJSON_IsObject(root)) return rl_fail(err, "%s: expected a JSON object", path);
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(root, "model_type");
    if (!cJSON_IsString(mt)) return rl_fail(err, "%s: required field 'model_type' is missing or not a string", path);
    if (strcmp(mt->valuestring, "llama") != 0 && strcmp(mt->valuestring, "mistral") != 0)
        return rl_fail(err, "%s: field 'model_type' is '%s'; only the Llama family (llama, mistral) is supported", path,
                       mt->valuestring);
    snprintf(c->model_type, sizeof c->model_type, "%s", mt->valuestring);
    if (rl_json_get_i64(root, path, "vocab_size", 1, 0, &c->vocab, err)) return -1;
    if (rl_json_get_i64(root, path, "hidden_size", 1, 0, &c->hidden, err)) return -1;
    if (rl_json_get_i64(root, path, "intermediate_size", 1, 0, &c->intermediate, err)) return -1;
    if (rl_json_get_i64(root, path, "num_hidden_layers", 1, 0, &c->layers, err)) return -1;
    if (rl_json_get_i64(root, path, "num_attention_heads", 1, 0, &c->heads, err)) return -1;
    if (rl_json_get_i64(root, path, "num_key_value_heads", 0, c->heads, &c->kv_heads, err)) return -1;
    if (c->heads <= 0) return rl_fail(err, "%s: field 'num_attention_heads' must be > 0", path);
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
    if (rl_json_get_i64(root, path, "sliding_window", 0, 0, &c->sliding_window, err)) return -1;
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(root, "torch_dtype");
    if (!cJSON_IsString(dt)) dt = cJSON_GetObjectItemCaseSensitive(root, "dtype");
    if (cJSON_IsString(dt)) snprintf(c->dtype, sizeof c->dtype, "%s", dt->valuestring);
    return rl_model_validate(c, path, err);
}

int rl_model_validate(const rl_model_config *c, const char *where, rl_err *err)
{
    struct { const char *field; int64_t v; int64_t max; } checks[] = {
        {"vocab_size", c->vocab, 1 << 24},          {"hidden_size", c->hidden, 1 << 17},
        {"intermediate_size", c->intermediate, 1 << 19}, {"num_hidden_layers", c->layers, 1024},
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

int64_t rl_model_layer_linear_params(const rl_model_config *c)
{
    int64_t q = c->hidden * c->heads * c->head_dim;
    int64_t kv = 2 * c->hidden * c->kv_heads * c->head_dim;
    int64_t o = c->heads * c->head_dim * c->hidden;
    int64_t mlp = 3 * c->hidden * c->intermediate;
    return q + kv + o + mlp;
}

int64_t rl_model_param_count(const rl_model_config *c)
{
    int64_t per_layer = rl_model_layer_linear_params(c) + 2 * c->hidden; /* + two RMSNorm weights */
    int64_t emb = rl_model_embedding_params(c);
    return emb * (c->tied_embeddings ? 1 : 2) + c->layers * per_layer + c->hidden;
}

int64_t rl_model_kv_bytes_per_token(const rl_model_config *c, int elem_bytes)
{
    return 2 * c->layers * c->kv_heads * c->head_dim * (int64_t)elem_bytes;
}
