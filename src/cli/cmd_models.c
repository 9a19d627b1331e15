/* cmd_models.c: `ridgeline models [--model NAME|PATH] [--json]`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../model/config.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline models [--model NAME|CONFIG.json|DIR] [--json]\n\n"
    "MODEL is a path when it contains '/' or ends in .json, else a preset name (write ./NAME for a\n"
    "file called NAME in this directory).\n"
    "Lists the model presets (llama-3.1-8b, llama-3.1-70b, llama-3.2-1b, tiny) with their geometry and\n"
    "parameter count, or describes one preset or Hugging Face config.json of the Llama family\n"
    "(Llama, Mistral): GQA, head_dim, tied embeddings, llama3 rope scaling, sliding window.\n";

static cJSON *model_json(const rl_model_config *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "model_type", c->model_type);
    cJSON_AddNumberToObject(o, "params", (double)rl_model_param_count(c));
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
    cJSON_AddNumberToObject(o, "kv_bytes_per_token_bf16", (double)rl_model_kv_bytes_per_token(c, 2));
    cJSON_AddNumberToObject(o, "weight_bytes_bf16", 2.0 * (double)rl_model_param_count(c));
    if (c->dtype[0]) cJSON_AddStringToObject(o, "dtype", c->dtype);
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

static void model_text(const rl_model_config *c)
{
    printf("%s (%s)\n  parameters        ", c->name, c->model_type);
    print_commas((long long)rl_model_param_count(c));
    printf("  (%.2f GB in bf16)\n", 2e-9 * (double)rl_model_param_count(c));
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
    if (c->sliding_window > 0) printf(", sliding window %lld", (long long)c->sliding_window);
    printf("\n");
}

int cmd_models(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    int json = 0;
    const char *model = NULL;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"model", required_argument, 0, 'm'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (ch == 'j') json = 1;
        else if (ch == 'm') model = optarg;
        else return cli_error(2, "models: unknown or incomplete option '%s' (see ridgeline models --help)", argv[optind - 1]);
    }
    if (optind < argc) {
        if (model || optind + 1 < argc) return cli_error(2, "models: unexpected argument '%s'", argv[optind]);
        model = argv[optind];
    }
    rl_err err;
    rl_model_config cfgs[8];
    int n = 0;
    if (model) {
        if (rl_model_resolve(model, &cfgs[0], &err)) return cli_error(1, "%s", err.msg);
        n = 1;
    } else {
        for (; rl_model_preset_names[n]; n++) rl_model_preset(rl_model_preset_names[n], &cfgs[n], &err);
    }
    if (json) {
        cJSON *out;
        if (model) {
            out = model_json(&cfgs[0]);
        } else {
            out = cJSON_CreateArray();
            for (int i = 0; i < n; i++) cJSON_AddItemToArray(out, model_json(&cfgs[i]));
        }
        cli_print_json(out);
        cJSON_Delete(out);
    } else {
        for (int i = 0; i < n; i++) model_text(&cfgs[i]);
    }
    return 0;
}
