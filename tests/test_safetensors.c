/* test_safetensors.c: the checkpoint reader refuses every malformed input with a message naming
 * the file and the tensor or field: in-memory headers (truncated, oversized header, unknown dtype,
 * shape vs byte span, overlapping or out-of-range offsets, rank, duplicates, bad JSON) and
 * checkpoint directories checked against a config (missing tensor, shape mismatch, truncated file,
 * tied without lm_head, shards). Also the fp16/bf16 conversions. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/util.h"
#include "engine/engine.h"
#include "model/config.h"
#include "model/weights.h"

/* ---- in-memory files ------------------------------------------------------------------------ */

/* header text + data_len bytes of data, with the 8-byte length prefix (hlen overrides it if != 0). */
static uint8_t *make_buf(const char *header, size_t data_len, uint64_t hlen, size_t *len)
{
    size_t h = strlen(header);
    *len = 8 + h + data_len;
    uint8_t *b = calloc(1, *len);
    uint64_t v = hlen ? hlen : h;
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(v >> (8 * i));
    memcpy(b + 8, header, h);
    return b;
}

/* Validates header+data and checks the outcome: want == NULL means success, else the message
 * must contain want and name the file. */
static void expect(const char *header, size_t data_len, uint64_t hlen, const char *want, int line)
{
    size_t len;
    uint8_t *b = make_buf(header, data_len, hlen, &len);
    rl_err err = {{0}};
    int n = -1;
    int rc = rl_safetensors_validate(b, len, "mem.safetensors", &n, &err);
    if (!want) {
        CHECK(rc == 0, "line %d: valid file rejected: %s", line, err.msg);
    } else {
        CHECK(rc != 0, "line %d: accepted a bad file (want '%s')", line, want);
        CHECK(strstr(err.msg, want) != NULL, "line %d: message '%s' lacks '%s'", line, err.msg, want);
        CHECK(strstr(err.msg, "mem.safetensors") != NULL, "line %d: message does not name the file: %s", line, err.msg);
    }
    free(b);
}
#define EXPECT_OK(h, d) expect(h, d, 0, NULL, __LINE__)
#define EXPECT_ERR(h, d, want) expect(h, d, 0, want, __LINE__)

static void test_validate(void)
{
    rl_err err;
    int n = 0;
    size_t len;
    uint8_t *b = make_buf("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                          "\"b\":{\"dtype\":\"BF16\",\"shape\":[4],\"data_offsets\":[24,32]},"
                          "\"__metadata__\":{\"format\":\"pt\"}}   ",
                          32, 0, &len);
    CHECK(rl_safetensors_validate(b, len, "ok", &n, &err) == 0 && n == 2, "valid file: %s (n %d)", err.msg, n);
    free(b);
    /* Truncated: under 8 bytes; header longer than the file; data shorter than the offsets. */
    uint8_t tiny[5] = {1, 0, 0, 0, 0};
    CHECK(rl_safetensors_validate(tiny, sizeof tiny, "t5", &n, &err) != 0 && strstr(err.msg, "truncated"),
          "5-byte file: %s", err.msg);
    expect("{}", 0, 1000, "truncated", __LINE__);
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 16, "past the end");
    /* Oversized header length (corrupt or hostile), checked before anything is read. */
    expect("{}", 0, 200ull * 1000 * 1000, "100 MB", __LINE__);
    expect("{}", 0, ~0ull, "100 MB", __LINE__);
    /* Dtypes. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", 8, "dtype 'I64' is not supported");
    EXPECT_ERR("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype'");
    EXPECT_ERR("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "'dtype'");
    EXPECT_OK("{\"a\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4);
    /* shape x dtype size must equal the span. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", 24, "needs 24 bytes");
    EXPECT_ERR("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", 24, "needs 12 bytes");
    /* Overlap, including a tensor nested inside another; touching spans are fine. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[16,40]}}",
               40, "overlapping");
    EXPECT_ERR("{\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[6],\"data_offsets\":[0,24]}}",
               24, "overlapping");
    EXPECT_OK("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
              "\"b\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[4,4]},"
              "\"c\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
              16);
    /* Offsets: order, type, range. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}", 8, "begin <= end");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,0]}}", 8, "data_offsets");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4.5]}}", 8, "data_offsets");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 8, "data_offsets");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[1e300,1e300]}}", 8, "data_offsets");
    /* Shapes: rank, signs, overflow. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1],\"data_offsets\":[0,4]}}", 4, "at most 4");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "non-negative");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4,
               "too many elements");
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":\"[1]\",\"data_offsets\":[0,4]}}", 4, "'shape'");
    EXPECT_OK("{\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[0,4]}}", 4);
    /* Structure. */
    EXPECT_ERR("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "appears twice");
    EXPECT_ERR("{\"a\": {\"dtype\":", 0, "not valid JSON");
    EXPECT_ERR("[1, 2]", 0, "JSON object");
    EXPECT_ERR("{\"a\": 3}", 0, "must be an object");
    EXPECT_ERR("{\"__metadata__\": 3}", 0, "__metadata__");
    EXPECT_OK("{}", 0);
}

/* ---- checkpoint directories ----------------------------------------------------------------- */

typedef struct {
    char name[96];
    const char *dtype;
    int ndim;
    int64_t shape[2];
} tspec;

static const char *cfg_json =
    "{\"model_type\": \"llama\", \"vocab_size\": 16, \"hidden_size\": 8, \"intermediate_size\": 12,"
    " \"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 4,"
    " \"max_position_embeddings\": 64, \"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"tie_word_embeddings\": %s}";

/* The tensors of the test config (vocab 16, hidden 8, I 12, 2 layers, 2 heads x 4, 1 KV head). */
static int model_tensors(tspec *t, const char *dtype, int with_lm_head)
{
    int n = 0;
    t[n++] = (tspec){"model.embed_tokens.weight", dtype, 2, {16, 8}};
    for (int l = 0; l < 2; l++) {
        struct { const char *s; int nd; int64_t d0, d1; } L[] = {
            {"input_layernorm.weight", 1, 8, 0}, {"self_attn.q_proj.weight", 2, 8, 8},
            {"self_attn.k_proj.weight", 2, 4, 8}, {"self_attn.v_proj.weight", 2, 4, 8},
            {"self_attn.o_proj.weight", 2, 8, 8}, {"post_attention_layernorm.weight", 1, 8, 0},
            {"mlp.gate_proj.weight", 2, 12, 8}, {"mlp.up_proj.weight", 2, 12, 8}, {"mlp.down_proj.weight", 2, 8, 12},
        };
        for (int i = 0; i < 9; i++) {
            t[n] = (tspec){"", dtype, L[i].nd, {L[i].d0, L[i].d1}};
            snprintf(t[n].name, sizeof t[n].name, "model.layers.%d.%s", l, L[i].s);
            n++;
        }
    }
    t[n++] = (tspec){"model.norm.weight", dtype, 1, {8, 0}};
    if (with_lm_head) t[n++] = (tspec){"lm_head.weight", dtype, 2, {16, 8}};
    return n;
}

static int64_t elems(const tspec *t) { return t->ndim == 1 ? t->shape[0] : t->shape[0] * t->shape[1]; }

static size_t dsize(const char *dtype) { return strcmp(dtype, "F32") ? 2 : 4; }

/* Writes a safetensors file of tensors t[0..n); element k of every tensor is 0.25 * (k % 8) - 1. */
static void write_st(const char *path, const tspec *t, int n)
{
    cJSON *h = cJSON_CreateObject();
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        cJSON *e = cJSON_AddObjectToObject(h, t[i].name);
        cJSON_AddStringToObject(e, "dtype", t[i].dtype);
        cJSON *s = cJSON_AddArrayToObject(e, "shape");
        for (int d = 0; d < t[i].ndim; d++) cJSON_AddItemToArray(s, cJSON_CreateNumber((double)t[i].shape[d]));
        size_t nb = (size_t)elems(&t[i]) * dsize(t[i].dtype);
        cJSON *o = cJSON_AddArrayToObject(e, "data_offsets");
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(o, cJSON_CreateNumber((double)(off + nb)));
        off += nb;
    }
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    size_t hl = strlen(text);
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 8; i++) fputc((int)((hl >> (8 * i)) & 0xff), f);
    fwrite(text, 1, hl, f);
    free(text);
    for (int i = 0; i < n; i++)
        for (int64_t k = 0; k < elems(&t[i]); k++) {
            float v = 0.25f * (float)(k % 8) - 1.0f;
            if (!strcmp(t[i].dtype, "F32")) {
                fwrite(&v, 4, 1, f);
            } else {
                /* the values are exact in both 16-bit formats: sign, exponent -2..0, 2 mantissa bits */
                uint16_t b = rl_f32_to_bf16(v);
                if (!strcmp(t[i].dtype, "F16")) {
                    uint32_t u;
                    memcpy(&u, &v, 4);
                    b = v == 0 ? 0 : (uint16_t)(((u >> 16) & 0x8000) | (((u >> 23) & 0xff) - 112) << 10 | ((u >> 13) & 0x3ff));
                }
                fwrite(&b, 2, 1, f);
            }
        }
    fclose(f);
}

static char tmp_root[256];

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

/* A fresh checkpoint directory with config.json (tied or not). */
static void new_dir(char *dir, size_t n, const char *name, int tied)
{
    snprintf(dir, n, "%s/%s", tmp_root, name);
    mkdir(dir, 0755);
    char path[512], cfg[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    snprintf(cfg, sizeof cfg, cfg_json, tied ? "true" : "false");
    write_text(path, cfg);
}

/* Opens dir against its config; want NULL = success, else a message fragment (and `also`). */
static void expect_open(const char *dir, const char *want, const char *also, int line)
{
    rl_model_config m;
    rl_err err = {{0}};
    CHECK(rl_model_from_config_json(dir, &m, &err) == 0, "line %d: %s", line, err.msg);
    rl_weights *w = NULL;
    int rc = rl_weights_open(dir, &m, &w, &err);
    if (!want) {
        CHECK(rc == 0, "line %d: valid checkpoint rejected: %s", line, err.msg);
    } else {
        CHECK(rc != 0, "line %d: accepted a bad checkpoint (want '%s')", line, want);
        CHECK(strstr(err.msg, want) != NULL, "line %d: message '%s' lacks '%s'", line, err.msg, want);
        if (also) CHECK(strstr(err.msg, also) != NULL, "line %d: message '%s' lacks '%s'", line, err.msg, also);
    }
    rl_weights_close(w);
}

/* A checkpoint of the test config's tensors (untied, with lm_head) plus `extra`, opened against
 * the config (tied or not) with expect_open's want / also. */
static void expect_with_extra(const char *name, int tied, tspec extra, const char *want, const char *also, int line)
{
    tspec t[32];
    char dir[300], path[512];
    new_dir(dir, sizeof dir, name, tied);
    int n = model_tensors(t, "BF16", 1);
    t[n++] = extra;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, want, also, line);
}

static void test_checkpoints(void)
{
    tspec t[32];
    char dir[300], path[512];
    rl_err err;

    /* Valid untied BF16, and the same through the engine. */
    new_dir(dir, sizeof dir, "ok", 0);
    int n = model_tensors(t, "BF16", 1);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, NULL, NULL, __LINE__);
    rl_model_config m;
    CHECK(rl_model_from_config_json(dir, &m, &err) == 0, "%s", err.msg);
    rl_weights *w = NULL;
    if (rl_weights_open(dir, &m, &w, &err) == 0) {
        rl_tensor_view v;
        CHECK(rl_weights_count(w) == n, "tensor count %d", rl_weights_count(w));
        CHECK(rl_weights_get(w, "model.layers.1.mlp.down_proj.weight", &v, &err) == 0 && v.ndim == 2 &&
                  v.shape[0] == 8 && v.shape[1] == 12 && v.dtype == RL_ST_BF16 && v.nbytes == 8 * 12 * 2,
              "down_proj view");
        float f[96];
        rl_tensor_to_f32(&v, f);
        CHECK(f[0] == -1.0f && f[3] == -0.25f && f[7] == 0.75f && f[95] == 0.75f, "bf16 values %g %g %g", f[0], f[3], f[7]);
        CHECK(rl_weights_get(w, "nope", &v, &err) != 0 && strstr(err.msg, "nope"), "unknown tensor: %s", err.msg);
        rl_weights_close(w);
    }
    rl_engine_opts o = {.backend = RL_BACKEND_CPU, .weights_dir = dir, .max_batch = 1, .max_context = 4, .threads = 1};
    rl_engine *e = NULL;
    CHECK(rl_engine_create(&m, &o, &e, &err) == 0, "engine from a valid checkpoint: %s", err.msg);
    float logits[16];
    CHECK(e && rl_engine_prefill(e, 1, 2, (int32_t[]){3, 15}, logits, 0, &err) == 0, "prefill: %s", err.msg);
    rl_engine_destroy(e);

    /* F16 and F32 checkpoints convert to the same values. */
    const char *dts[] = {"F16", "F32"};
    for (int k = 0; k < 2; k++) {
        char name[16];
        snprintf(name, sizeof name, "ok_%s", dts[k]);
        new_dir(dir, sizeof dir, name, 0);
        n = model_tensors(t, dts[k], 1);
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        write_st(path, t, n);
        if (rl_weights_open(dir, &m, &w, &err) == 0) {
            rl_tensor_view v;
            float f[8];
            rl_weights_get(w, "model.norm.weight", &v, &err);
            rl_tensor_to_f32(&v, f);
            CHECK(v.dtype == (k ? RL_ST_F32 : RL_ST_F16) && f[0] == -1.0f && f[1] == -0.75f && f[4] == 0.0f &&
                      f[7] == 0.75f,
                  "%s values %g %g %g %g", dts[k], f[0], f[1], f[4], f[7]);
            rl_weights_close(w);
        } else {
            CHECK(0, "%s checkpoint rejected: %s", dts[k], err.msg);
        }
    }

    /* Missing tensor: the final norm; an untied model without lm_head. */
    new_dir(dir, sizeof dir, "no_norm", 0);
    n = model_tensors(t, "BF16", 1);
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, "model.norm.weight")) t[i] = t[--n];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, "missing tensor 'model.norm.weight'", "model.safetensors", __LINE__);
    new_dir(dir, sizeof dir, "no_lm_head", 0);
    n = model_tensors(t, "BF16", 0);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, "missing tensor 'lm_head.weight'", NULL, __LINE__);
    /* ... which is right for a tied model. */
    new_dir(dir, sizeof dir, "tied", 1);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, NULL, NULL, __LINE__);

    /* Shape mismatch between config and checkpoint. */
    new_dir(dir, sizeof dir, "bad_shape", 0);
    n = model_tensors(t, "BF16", 1);
    for (int i = 0; i < n; i++)
        if (!strcmp(t[i].name, "model.layers.1.self_attn.k_proj.weight")) t[i].shape[0] = 8;
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, "shape mismatch", "'model.layers.1.self_attn.k_proj.weight' has shape [8, 8]", __LINE__);
    snprintf(path, sizeof path, "%s/config.json", dir); /* the other direction: config says I = 16 */
    char cfg[1024];
    snprintf(cfg, sizeof cfg, cfg_json, "false");
    char *at = strstr(cfg, "\"intermediate_size\": 12");
    at[sizeof "\"intermediate_size\": 1" - 1] = '6';
    write_text(path, cfg);
    expect_open(dir, "shape mismatch", "mlp.gate_proj.weight' has shape [12, 8]", __LINE__);

    /* Projection biases (attention_bias: true) are refused, not ignored. */
    expect_with_extra("bias", 0, (tspec){"model.layers.0.self_attn.q_proj.bias", "BF16", 1, {8, 0}}, "biases",
                      "'model.layers.0.self_attn.q_proj.bias'", __LINE__);

    /* A config with fewer layers than the checkpoint: the extra layer's tensors are refused by
     * name instead of silently dropped; so is any tensor the model spec does not have. */
    new_dir(dir, sizeof dir, "extra_layer", 0);
    snprintf(path, sizeof path, "%s/config.json", dir);
    snprintf(cfg, sizeof cfg, cfg_json, "false");
    at = strstr(cfg, "\"num_hidden_layers\": 2");
    at[sizeof "\"num_hidden_layers\": " - 1] = '1';
    write_text(path, cfg);
    n = model_tensors(t, "BF16", 1);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    expect_open(dir, "not in the model spec", "'model.layers.1.input_layernorm.weight'", __LINE__);
    expect_with_extra("unknown_tensor", 0, (tspec){"model.layers.0.mlp.extra_proj.weight", "BF16", 2, {4, 8}},
                      "not in the model spec", "'model.layers.0.mlp.extra_proj.weight'", __LINE__);
    /* ... except the rotary inv_freq buffers older checkpoints carry, and a tied model's lm_head. */
    expect_with_extra("inv_freq", 1, (tspec){"model.layers.0.self_attn.rotary_emb.inv_freq", "F32", 1, {2, 0}}, NULL,
                      NULL, __LINE__);

    /* Truncated on disk: the last tensor's bytes are cut off; a 4-byte file. */
    new_dir(dir, sizeof dir, "truncated", 0);
    n = model_tensors(t, "BF16", 1);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_st(path, t, n);
    struct stat st;
    stat(path, &st);
    CHECK(truncate(path, st.st_size - 10) == 0, "truncate");
    expect_open(dir, "past the end of the data area", "'lm_head.weight'", __LINE__);
    CHECK(truncate(path, 4) == 0, "truncate");
    expect_open(dir, "truncated file", "model.safetensors", __LINE__);

    /* No checkpoint at all. */
    new_dir(dir, sizeof dir, "empty", 0);
    expect_open(dir, "neither model.safetensors nor model.safetensors.index.json", NULL, __LINE__);

    /* Sharded: two shards plus index; then broken indexes. */
    new_dir(dir, sizeof dir, "sharded", 0);
    n = model_tensors(t, "BF16", 1);
    int half = n / 2;
    snprintf(path, sizeof path, "%s/model-00001-of-00002.safetensors", dir);
    write_st(path, t, half);
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    write_st(path, t + half, n - half);
    cJSON *idx = cJSON_CreateObject(), *map = cJSON_AddObjectToObject(idx, "weight_map");
    for (int i = 0; i < n; i++)
        cJSON_AddStringToObject(map, t[i].name, i < half ? "model-00001-of-00002.safetensors"
                                                         : "model-00002-of-00002.safetensors");
    char *text = cJSON_Print(idx);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_text(path, text);
    free(text);
    expect_open(dir, NULL, NULL, __LINE__);
    /* the index points a tensor at the wrong shard */
    cJSON_ReplaceItemInObject(map, t[0].name, cJSON_CreateString("model-00002-of-00002.safetensors"));
    text = cJSON_Print(idx);
    write_text(path, text);
    free(text);
    expect_open(dir, "is listed in", "model-00002-of-00002.safetensors", __LINE__);
    /* a shard that does not exist */
    cJSON_ReplaceItemInObject(map, t[0].name, cJSON_CreateString("model-00003-of-00002.safetensors"));
    text = cJSON_Print(idx);
    write_text(path, text);
    free(text);
    expect_open(dir, "model-00003-of-00002.safetensors: cannot open", NULL, __LINE__);
    /* a path outside the directory */
    cJSON_ReplaceItemInObject(map, t[0].name, cJSON_CreateString("../ok/model.safetensors"));
    text = cJSON_Print(idx);
    write_text(path, text);
    free(text);
    expect_open(dir, "must be a shard file name inside", NULL, __LINE__);
    /* a tensor in both shards */
    snprintf(path, sizeof path, "%s/model-00002-of-00002.safetensors", dir);
    t[half] = t[0];
    write_st(path, t + half, n - half);
    cJSON_ReplaceItemInObject(map, t[0].name, cJSON_CreateString("model-00001-of-00002.safetensors"));
    text = cJSON_Print(idx);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_text(path, text);
    free(text);
    expect_open(dir, "appears in two shards", NULL, __LINE__);
    /* no weight_map */
    write_text(path, "{\"metadata\": {}}");
    expect_open(dir, "'weight_map'", "index.json", __LINE__);
    cJSON_Delete(idx);
}

/* ---- conversions ---------------------------------------------------------------------------- */

static void test_conversions(void)
{
    CHECK(rl_f16_to_f32(0x3c00) == 1.0f && rl_f16_to_f32(0xc000) == -2.0f && rl_f16_to_f32(0x7bff) == 65504.0f,
          "f16 normals");
    CHECK(rl_f16_to_f32(0x0001) == 5.9604644775390625e-8f && rl_f16_to_f32(0x03ff) == 6.09755516052246094e-5f,
          "f16 subnormals");
    CHECK(rl_f16_to_f32(0x8000) == 0.0f && signbit(rl_f16_to_f32(0x8000)), "f16 -0");
    CHECK(isinf(rl_f16_to_f32(0x7c00)) && rl_f16_to_f32(0xfc00) < 0 && isnan(rl_f16_to_f32(0x7e00)), "f16 inf/nan");
    CHECK(rl_bf16_to_f32(0x3f80) == 1.0f && rl_bf16_to_f32(0xc040) == -3.0f, "bf16");
    CHECK(rl_f32_to_bf16(1.0f) == 0x3f80 && rl_f32_to_bf16(-3.0f) == 0xc040, "to bf16 exact");
    CHECK(rl_f32_to_bf16(1.00390625f) == 0x3f80, "to bf16: a tie rounds to even (down)");
    CHECK(rl_f32_to_bf16(1.01171875f) == 0x3f82, "to bf16: a tie rounds to even (up)");
    CHECK(rl_f32_to_bf16(1.0045f) == 0x3f81, "to bf16: above the tie rounds up");
    CHECK((rl_f32_to_bf16(NAN) & 0x7fc0) == 0x7fc0, "to bf16: nan stays nan");
    CHECK(rl_st_dtype_size(RL_ST_F32) == 4 && rl_st_dtype_size(RL_ST_BF16) == 2 && !strcmp(rl_st_dtype_name(RL_ST_F16), "F16"),
          "dtype table");
    /* rl_tensor_to_bf16 from each dtype */
    float f32[3] = {1.0f, -2.5f, 0.125f};
    uint16_t f16[3] = {0x3c00, 0xc100, 0x3000}, out[3];
    rl_tensor_view v = {.dtype = RL_ST_F32, .ndim = 1, .shape = {3}, .data = f32, .nbytes = 12};
    rl_tensor_to_bf16(&v, out);
    CHECK(out[0] == 0x3f80 && out[1] == 0xc020 && out[2] == 0x3e00, "f32 -> bf16 tensor");
    v = (rl_tensor_view){.dtype = RL_ST_F16, .ndim = 1, .shape = {3}, .data = f16, .nbytes = 6};
    rl_tensor_to_bf16(&v, out);
    CHECK(out[0] == 0x3f80 && out[1] == 0xc020 && out[2] == 0x3e00, "f16 -> bf16 tensor");
}

int main(void)
{
    snprintf(tmp_root, sizeof tmp_root, "/tmp/rl_test_safetensors.XXXXXX");
    if (!mkdtemp(tmp_root)) {
        fprintf(stderr, "mkdtemp failed\n");
        return 1;
    }
    test_validate();
    test_checkpoints();
    test_conversions();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmp_root);
    return CHECK_DONE();
}
