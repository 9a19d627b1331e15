/* cmd_models.c: `ridgeline models [--model NAME|PATH] [--json]`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../model/config.h"
#include "../model/spec.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline models [--model NAME|CONFIG.json|DIR] [--tensors] [--json]\n\n"
    "MODEL is a path when it contains '/' or ends in .json, else a preset name (write ./NAME for a\n"
    "file called NAME in this directory).\n"
    "Lists the model presets with their geometry and parameter count, or describes one preset or\n"
    "Hugging Face config.json (model_type llama, mistral, qwen2, qwen3, mixtral, qwen3_moe): GQA,\n"
    "head_dim, tied embeddings, llama3 rope scaling, sliding window, q/k/v biases, q/k norm, experts.\n\n"
    "  --tensors   the model-spec table: every tensor of a layer (role, Hugging Face name, shape, the\n"
    "              op that reads it, how tensor parallelism splits it) and the ops of one step\n";

static const char *const tp_names[] = {"replicated", "rows", "columns", "kv heads"};

static void shape_text(const rl_tensor_spec *t, char *buf, size_t n)
{
    if (t->cols > 0) snprintf(buf, n, "[%lld, %lld]", (long long)t->rows, (long long)t->cols);
    else snprintf(buf, n, "[%lld]", (long long)t->rows);
}

/* The layers whose tensor list differs from the one before them (layer 0, and e.g. the first MoE
 * layer after dense ones): the ones --tensors prints. */
static int layer_differs(const rl_model_config *c, int64_t l)
{
    return l == 0 || c->moe_layer[l] != c->moe_layer[l - 1];
}

static cJSON *tensors_json(const rl_model_config *c)
{
    cJSON *arr = cJSON_CreateArray();
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    for (int64_t l = RL_SPEC_GLOBAL; l < c->layers; l++) {
        if (l >= 0 && !layer_differs(c, l)) continue;
        const int n = rl_spec_tensors(c, l, t);
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_CreateObject();
            char name[192];
            rl_spec_name(&t[i], l < 0 ? 0 : l, 0, name, sizeof name);
            cJSON_AddStringToObject(o, "role", rl_tensor_role_names[t[i].role]);
            cJSON_AddStringToObject(o, "hf_name", name);
            if (l >= 0) cJSON_AddNumberToObject(o, "layer", (double)l);
            cJSON *shape = cJSON_AddArrayToObject(o, "shape");
            cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].rows));
            if (t[i].cols > 0) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t[i].cols));
            cJSON_AddNumberToObject(o, "experts", (double)t[i].experts);
            cJSON_AddStringToObject(o, "op", rl_op_names[t[i].op]);
            cJSON_AddBoolToObject(o, "optional", t[i].optional);
            cJSON_AddBoolToObject(o, "tied", t[i].tied);
            cJSON_AddStringToObject(o, "tp_split", tp_names[t[i].tp]);
            cJSON_AddItemToArray(arr, o);
        }
    }
    return arr;
}

static void tensors_text(const rl_model_config *c)
{
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    printf("  %-12s %-58s %-14s %-13s %s\n", "tensor", "Hugging Face name", "shape", "read by", "tensor parallel");
    for (int64_t l = RL_SPEC_GLOBAL; l < c->layers; l++) {
        if (l >= 0 && !layer_differs(c, l)) continue;
        const int n = rl_spec_tensors(c, l, t);
        for (int i = 0; i < n; i++) {
            char name[192], shape[48];
            rl_spec_name(&t[i], l < 0 ? 0 : l, 0, name, sizeof name);
            shape_text(&t[i], shape, sizeof shape);
            if (t[i].experts > 1) snprintf(shape + strlen(shape), sizeof shape - strlen(shape), " x%lld", (long long)t[i].experts);
            printf("  %-12s %-58s %-14s %-13s %s%s\n", rl_tensor_role_names[t[i].role], name, shape,
                   rl_op_names[t[i].op], tp_names[t[i].tp], t[i].tied ? " (tied: the embedding)" : "");
        }
    }
    printf("  step ops:");
    const unsigned ops = rl_spec_step_ops(c);
    for (int op = 0; op < RL_OP_COUNT; op++)
        if (ops & RL_OPMASK(op)) printf(" %s", rl_op_names[op]);
    printf("\n");
}

static int64_t count_layers(const uint8_t *marks, int64_t layers)
{
    int64_t n = 0;
    for (int64_t l = 0; l < layers; l++) n += marks[l] != 0;
    return n;
}

static cJSON *model_json(const rl_model_config *c, int tensors)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddNumberToObject(o, "params", (double)rl_model_param_count(c));
    cJSON_AddNumberToObject(o, "active_params", (double)rl_model_active_param_count(c));
    cJSON_AddNumberToObject(o, "vocab_size", (double)c->vocab);
    cJSON_AddNumberToObject(o, "hidden_size", (double)c->hidden);
    cJSON_AddNumberToObject(o, "intermediate_size", (double)c->intermediate);
    cJSON_AddNumberToObject(o, "num_hidden_layers", (double)c->layers);
    cJSON_AddNumberToObject(o, "num_attention_heads", (double)c->heads);
    cJSON_AddNumberToObject(o, "num_key_value_heads", (double)c->kv_heads);
    cJSON_AddNumberToObject(o, "head_dim", (double)c->head_dim);
    cJSON_AddNumberToObject(o, "max_position_embeddings", (double)c->max_positions);
    cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
    cJSON_AddNumberToObject(o, "rms_norm_eps", c->norm_eps);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied_embeddings);
    if (c->rope_llama3) {
        cJSON *r = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddStringToObject(r, "rope_type", "llama3");
        cJSON_AddNumberToObject(r, "factor", c->rope_factor);
        cJSON_AddNumberToObject(r, "low_freq_factor", c->rope_low_freq_factor);
        cJSON_AddNumberToObject(r, "high_freq_factor", c->rope_high_freq_factor);
        cJSON_AddNumberToObject(r, "original_max_position_embeddings", (double)c->rope_original_max_positions);
    } else {
        cJSON_AddNullToObject(o, "rope_scaling");
    }
    if (c->sliding_window > 0) cJSON_AddNumberToObject(o, "sliding_window", (double)c->sliding_window);
    else cJSON_AddNullToObject(o, "sliding_window");
    cJSON_AddNumberToObject(o, "sliding_window_layers", (double)count_layers(c->window_layer, c->layers));
    cJSON_AddBoolToObject(o, "qkv_bias", c->qkv_bias);
    cJSON_AddBoolToObject(o, "qk_norm", c->qk_norm);
    if (rl_model_is_moe(c)) {
        cJSON_AddNumberToObject(o, "experts", (double)c->experts);
        cJSON_AddNumberToObject(o, "experts_per_token", (double)c->experts_per_token);
        cJSON_AddNumberToObject(o, "moe_intermediate_size", (double)c->moe_intermediate);
        cJSON_AddNumberToObject(o, "moe_layers", (double)count_layers(c->moe_layer, c->layers));
    }
    cJSON_AddNumberToObject(o, "kv_bytes_per_token_bf16", (double)rl_model_kv_bytes_per_token(c, 2));
    cJSON_AddNumberToObject(o, "weight_bytes_bf16", 2.0 * (double)rl_model_param_count(c));
    if (c->dtype[0]) cJSON_AddStringToObject(o, "dtype", c->dtype);
    cJSON *ops = cJSON_AddArrayToObject(o, "step_ops");
    const unsigned mask = rl_spec_step_ops(c);
    for (int op = 0; op < RL_OP_COUNT; op++)
        if (mask & RL_OPMASK(op)) cJSON_AddItemToArray(ops, cJSON_CreateString(rl_op_names[op]));
    if (tensors) cJSON_AddItemToObject(o, "tensors", tensors_json(c));
    return o;
}

static void print_commas(long long v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    int n = (int)strlen(buf);
    for (int i = 0; i < n; i++) {
        putchar(buf[i]);
        if ((n - i - 1) % 3 == 0 && i < n - 1) putchar(',');
    }
}

static void model_text(const rl_model_config *c, int tensors)
{
    printf("%s (%s)\n  parameters        ", c->name, c->model_type);
    print_commas((long long)rl_model_param_count(c));
    printf("  (%.2f GB in bf16)\n", 2e-9 * (double)rl_model_param_count(c));
    if (rl_model_is_moe(c)) {
        printf("  active per token  ");
        print_commas((long long)rl_model_active_param_count(c));
        printf("  (%lld of %lld experts, width %lld, in %lld of %lld layers)\n", (long long)c->experts_per_token,
               (long long)c->experts, (long long)c->moe_intermediate, (long long)count_layers(c->moe_layer, c->layers),
               (long long)c->layers);
    }
    printf("  layers %lld, hidden %lld, intermediate %lld, vocab %lld\n", (long long)c->layers, (long long)c->hidden,
           (long long)c->intermediate, (long long)c->vocab);
    printf("  heads %lld, kv_heads %lld (GQA group %lld), head_dim %lld\n", (long long)c->heads,
           (long long)c->kv_heads, (long long)(c->heads / c->kv_heads), (long long)c->head_dim);
    printf("  embeddings %s, rope_theta %g", c->tied_embeddings ? "tied" : "untied", c->rope_theta);
    if (c->rope_llama3)
        printf(", llama3 rope scaling (factor %g, low %g, high %g, original %lld)", c->rope_factor,
               c->rope_low_freq_factor, c->rope_high_freq_factor, (long long)c->rope_original_max_positions);
    printf("\n  KV cache %lld bytes/token (bf16), max positions %lld", (long long)rl_model_kv_bytes_per_token(c, 2),
           (long long)c->max_positions);
    if (c->sliding_window > 0)
        printf(", sliding window %lld (%lld of %lld layers)", (long long)c->sliding_window,
               (long long)count_layers(c->window_layer, c->layers), (long long)c->layers);
    if (c->qkv_bias) printf(", q/k/v biases");
    if (c->qk_norm) printf(", per-head q/k RMSNorm");
    printf("\n");
    if (tensors) tensors_text(c);
}

int cmd_models(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    int json = 0, tensors = 0;
    const char *model = NULL;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'},
                                         {"model", required_argument, 0, 'm'},
                                         {"tensors", no_argument, 0, 't'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'j') json = 1;
        else if (ch == 'm') model = optarg;
        else if (ch == 't') tensors = 1;
        else return cli_error(2, "models: unknown or incomplete option '%s' (see ridgeline models --help)", argv[optind - 1]);
    }
    if (optind < argc) {
        if (model || optind + 1 < argc) return cli_error(2, "models: unexpected argument '%s'", argv[optind]);
        model = argv[optind];
    }
    rl_err err;
    rl_model_config c;
    if (model && rl_model_resolve(model, &c, &err)) return cli_error(1, "%s", err.msg);
    cJSON *out = json && !model ? cJSON_CreateArray() : NULL;
    for (int i = 0; model ? i < 1 : rl_model_preset_names[i] != NULL; i++) {
        if (!model && rl_model_preset(rl_model_preset_names[i], &c, &err)) {
            cJSON_Delete(out);
            return cli_error(1, "%s", err.msg);
        }
        if (!json) model_text(&c, tensors);
        else if (out) cJSON_AddItemToArray(out, model_json(&c, tensors));
        else out = model_json(&c, tensors);
    }
    if (out) cli_print_json(out);
    cJSON_Delete(out);
    return 0;
}
