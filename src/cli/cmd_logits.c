/* cmd_logits.c: `ridgeline logits`: one forward pass over a token list, the logits of every
 * position (the golden tests compare them with transformers'). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/util.h"
#include "../engine/engine.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline logits (--weights DIR | --model MODEL [--seed S]) --tokens LIST [--backend cpu|cuda]\n"
    "                        [--threads N] [--json]\n\n"
    "Runs one forward pass over the tokens (causal, from position 0) and prints the logits of every\n"
    "position: with --json {\"logits\": [[vocab floats], ...]}, one row per token; otherwise the top 5\n"
    "tokens of each position.\n\n"
    "  --weights DIR    Hugging Face checkpoint: config.json + model.safetensors (or a sharded\n"
    "                   model.safetensors.index.json), bf16, fp16 or fp32\n"
    "  --model MODEL    preset (tiny, llama-3.2-1b, ...) or config.json path (with '/' or ending .json),\n"
    "                   with seeded random weights\n"
    CLI_HELP_SEED("         ")
    "  --tokens LIST    comma-separated token ids, each below the vocabulary size\n"
    "  --backend B      cpu (fp32 reference) or cuda (bf16); default cuda when a GPU is present\n"
    CLI_HELP_THREADS("      ")
    "  --json           machine-readable output (full float precision)\n";

#define MAX_TOKENS 65536

static int print_json(const float *logits, int64_t n, int64_t vocab)
{
    fputs("{\"logits\": [", stdout);
    for (int64_t p = 0; p < n; p++) {
        fputs(p ? ",\n[" : "\n[", stdout);
        const float *row = logits + p * vocab;
        for (int64_t v = 0; v < vocab; v++) printf(v ? ", %.9g" : "%.9g", row[v]);
        fputc(']', stdout);
    }
    fputs("]}\n", stdout);
    return fflush(stdout) == 0 ? 0 : cli_error(1, "logits: writing stdout failed");
}

static void print_top5(const float *logits, const int32_t *tokens, int64_t n, int64_t vocab)
{
    printf("  %4s %8s  top 5 next tokens (id: logit)\n", "pos", "token");
    for (int64_t p = 0; p < n; p++) {
        const float *row = logits + p * vocab;
        int64_t top[5];
        int k = 0;
        for (int64_t v = 0; v < vocab; v++) { /* insertion into a sorted top-5 */
            if (k == 5 && !(row[v] > row[top[4]])) continue;
            int j = k < 5 ? k++ : 4;
            for (; j > 0 && row[v] > row[top[j - 1]]; j--) top[j] = top[j - 1];
            top[j] = v;
        }
        printf("  %4lld %8d ", (long long)p, tokens[p]);
        for (int j = 0; j < k; j++) printf(" %lld: %.4f", (long long)top[j], row[top[j]]);
        putchar('\n');
    }
}

int cmd_logits(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    const char *weights = NULL, *model = NULL, *tokens_arg = NULL, *backend_name = NULL;
    uint64_t seed = CLI_SEED_DEFAULT;
    int threads = 0;
    int json = 0;
    rl_err err;
    static const struct option opts[] = {
        {"weights", required_argument, 0, 'w'}, {"model", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 's'},    {"tokens", required_argument, 0, 't'},
        {"backend", required_argument, 0, 'b'}, {"threads", required_argument, 0, 'T'},
        {"json", no_argument, 0, 'j'},          {0, 0, 0, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': weights = optarg; break;
        case 'm': model = optarg; break;
        case 't': tokens_arg = optarg; break;
        case 'b': backend_name = optarg; break;
        case 'j': json = 1; break;
        case 's':
            if (cli_parse_seed(optarg, &seed, &err)) return cli_error(2, "logits: %s", err.msg);
            break;
        case 'T':
            if (cli_parse_threads(optarg, &threads, &err)) return cli_error(2, "logits: %s", err.msg);
            break;
        default:
            return cli_error(2, "logits: unknown or incomplete option '%s' (see ridgeline logits --help)",
                             argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "logits: unexpected argument '%s'", argv[optind]);
    if (!weights == !model) return cli_error(2, "logits: give exactly one of --weights DIR or --model MODEL");
    if (!tokens_arg) return cli_error(2, "logits: --tokens is required (comma-separated token ids)");

    rl_model_config m;
    struct stat st;
    if (weights && (stat(weights, &st) != 0 || !S_ISDIR(st.st_mode)))
        return cli_error(1, "logits: --weights %s: not a directory (want a Hugging Face checkpoint: config.json + "
                            "model.safetensors)",
                         weights);
    if (weights ? rl_model_from_config_json(weights, &m, &err) : rl_model_resolve(model, &m, &err))
        return cli_error(1, "logits: %s", err.msg);
    rl_backend backend = rl_cuda_available() ? RL_BACKEND_CUDA : RL_BACKEND_CPU;
    if (backend_name && rl_backend_from_name(backend_name, &backend, &err)) return cli_error(2, "logits: %s", err.msg);

    int64_t *ids = malloc(sizeof *ids * MAX_TOKENS);
    int32_t *tokens = malloc(sizeof *tokens * MAX_TOKENS);
    if (!ids || !tokens) {
        free(ids), free(tokens);
        return cli_error(1, "logits: out of host memory");
    }
    int n = rl_parse_i64_list(tokens_arg, 0, INT32_MAX, "--tokens", ids, MAX_TOKENS, &err);
    int rc = 0;
    if (n <= 0) {
        rc = cli_error(2, "logits: %s", n == 0 ? "--tokens is empty" : err.msg);
        goto out_ids;
    }
    for (int i = 0; i < n; i++) {
        if (ids[i] >= m.vocab) {
            rc = cli_error(2, "logits: token id %lld at position %d is outside the vocabulary (0..%lld of %s)",
                           (long long)ids[i], i, (long long)m.vocab - 1, m.name);
            goto out_ids;
        }
        tokens[i] = (int32_t)ids[i];
    }

    rl_engine_opts o = {.backend = backend, .weights_dir = weights, .seed = seed, .max_batch = 1,
                        .max_context = n, .max_prefill = n, .threads = threads, .quiet = json};
    rl_engine *e;
    if (rl_engine_create(&m, &o, &e, &err)) {
        rc = cli_error(1, "logits: %s", err.msg);
        goto out_ids;
    }
    float *logits = malloc(sizeof *logits * (size_t)n * (size_t)m.vocab);
    if (!logits) {
        rc = cli_error(1, "logits: out of host memory for %d x %lld logits", n, (long long)m.vocab);
    } else if (rl_engine_prefill(e, 1, n, tokens, logits, 1, &err) || rl_engine_sync(e, &err)) {
        rc = cli_error(1, "logits: %s", err.msg);
    } else {
        for (int64_t i = 0; i < (int64_t)n * m.vocab && !rc; i++)
            if (!isfinite(logits[i]))
                rc = cli_error(1, "logits: non-finite logit at position %lld, vocab id %lld (broken weights?)",
                               (long long)(i / m.vocab), (long long)(i % m.vocab));
        if (!rc && json) {
            rc = print_json(logits, n, m.vocab);
        } else if (!rc) {
            printf("%s, %s weights, backend %s (%s): %d tokens, vocab %lld\n", m.name,
                   weights ? "checkpoint" : "random", e->ops->name, e->ops->device_name(e->state), n,
                   (long long)m.vocab);
            print_top5(logits, tokens, n, m.vocab);
        }
    }
    free(logits);
    rl_engine_destroy(e);
out_ids:
    free(ids);
    free(tokens);
    return rc;
}
