/* cmd_generate.c: `ridgeline generate`: greedy generation from a prompt, timed as the lab times
 * it: the prefill on its own, then the decode steps (tokens/s of each, never folded together). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../common/util.h"
#include "../engine/engine.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline generate (--weights DIR | --model MODEL [--seed S]) --tokens LIST --steps N\n"
    "                          [--batch B] [--backend cpu|cuda] [--threads N] [--json]\n\n"
    "Greedy generation: prefills the prompt into B sequences (the same prompt in each), then decodes\n"
    "until each has N new tokens (the first comes from the prefill's logits, the rest from N-1\n"
    "decode steps). Prints the generated token ids and tokens/s of the prefill and of the decode.\n\n"
    "  --weights DIR    Hugging Face checkpoint directory (config.json + safetensors)\n"
    "  --model MODEL    preset (tiny, llama-3.2-1b, ...) or config.json path (with '/' or ending .json),\n"
    "                   with seeded random weights\n"
    CLI_HELP_SEED("         ")
    "  --tokens LIST    prompt: comma-separated token ids\n"
    "  --steps N        tokens to generate per sequence (default 16)\n"
    "  --batch B        sequences decoded together (default 1)\n"
    "  --backend B      cpu or cuda; default cuda when a GPU is present\n"
    CLI_HELP_THREADS("      ")
    "  --json           machine-readable output\n";

#define MAX_PROMPT 65536

typedef struct {
    const char *weights, *model, *tokens_arg, *backend_name;
    uint64_t seed;
    int threads;
    int64_t steps, batch;
    int json;
} gen_args;

static int parse_args(int argc, char **argv, gen_args *a)
{
    rl_err err;
    static const struct option opts[] = {
        {"weights", required_argument, 0, 'w'}, {"model", required_argument, 0, 'm'},
        {"seed", required_argument, 0, 's'},    {"tokens", required_argument, 0, 't'},
        {"steps", required_argument, 0, 'n'},   {"batch", required_argument, 0, 'B'},
        {"backend", required_argument, 0, 'b'}, {"threads", required_argument, 0, 'T'},
        {"json", no_argument, 0, 'j'},          {0, 0, 0, 0},
    };
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        int64_t *num = NULL, lo = 0, hi = 0;
        const char *what = NULL;
        switch (ch) {
        case 'w': a->weights = optarg; break;
        case 'm': a->model = optarg; break;
        case 't': a->tokens_arg = optarg; break;
        case 'b': a->backend_name = optarg; break;
        case 'j': a->json = 1; break;
        case 's':
            if (cli_parse_seed(optarg, &a->seed, &err)) return cli_error(2, "generate: %s", err.msg);
            break;
        case 'n': num = &a->steps, lo = 1, hi = 1 << 20, what = "--steps"; break;
        case 'B': num = &a->batch, lo = 1, hi = 1 << 16, what = "--batch"; break;
        case 'T':
            if (cli_parse_threads(optarg, &a->threads, &err)) return cli_error(2, "generate: %s", err.msg);
            break;
        default:
            return cli_error(2, "generate: unknown or incomplete option '%s' (see ridgeline generate --help)",
                             argv[optind - 1]);
        }
        if (num && rl_parse_i64(optarg, lo, hi, what, num, &err)) return cli_error(2, "generate: %s", err.msg);
    }
    if (optind < argc) return cli_error(2, "generate: unexpected argument '%s'", argv[optind]);
    if (!a->weights == !a->model) return cli_error(2, "generate: give exactly one of --weights DIR or --model MODEL");
    if (!a->tokens_arg) return cli_error(2, "generate: --tokens is required (the prompt's token ids)");
    return 0;
}

static void print_report(const gen_args *a, const rl_model_config *m, rl_engine *e, int n_prompt, const int32_t *out,
                         int same, double prefill_ms, double decode_ms)
{
    const int64_t B = a->batch, steps = a->steps;
    const double prefill_tps = prefill_ms > 0 ? (double)(B * n_prompt) / (prefill_ms / 1e3) : 0;
    const double decode_tps = decode_ms > 0 ? (double)(B * (steps - 1)) / (decode_ms / 1e3) : 0;
    const double ms_per_step = steps > 1 ? decode_ms / (double)(steps - 1) : 0;
    if (a->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "model", m->name);
        cJSON_AddStringToObject(o, "backend", e->ops->name);
        cJSON_AddStringToObject(o, "device", e->ops->device_name(e->state));
        cJSON_AddNumberToObject(o, "batch", (double)B);
        cJSON_AddNumberToObject(o, "prompt_tokens", n_prompt);
        cJSON *t = cJSON_AddArrayToObject(o, "tokens");
        for (int64_t i = 0; i < steps; i++) cJSON_AddItemToArray(t, cJSON_CreateNumber(out[i]));
        cJSON_AddBoolToObject(o, "sequences_agree", same);
        cJSON_AddNumberToObject(o, "prefill_ms", prefill_ms);
        cJSON_AddNumberToObject(o, "prefill_tokens_per_s", prefill_tps);
        cJSON_AddNumberToObject(o, "decode_steps", (double)(steps - 1));
        cJSON_AddNumberToObject(o, "decode_ms", decode_ms);
        cJSON_AddNumberToObject(o, "decode_ms_per_step", ms_per_step);
        cJSON_AddNumberToObject(o, "decode_tokens_per_s", decode_tps);
        cli_print_json(o);
        cJSON_Delete(o);
        return;
    }
    printf("%s, %s weights, backend %s (%s), batch %lld\n", m->name, a->weights ? "checkpoint" : "random",
           e->ops->name, e->ops->device_name(e->state), (long long)B);
    printf("generated %lld tokens per sequence:", (long long)steps);
    for (int64_t i = 0; i < steps; i++) printf(" %d", out[i]);
    putchar('\n');
    if (B > 1)
        printf(same ? "all %lld sequences generated the same tokens\n"
                    : "note: the %lld sequences (same prompt) did not all generate the same tokens\n",
               (long long)B);
    printf("prefill: %d tokens x %lld sequences in %.3f ms: %.1f tokens/s\n", n_prompt, (long long)B, prefill_ms,
           prefill_tps);
    if (steps > 1)
        printf("decode:  %lld steps x %lld sequences in %.3f ms: %.3f ms/step, %.1f tokens/s\n", (long long)(steps - 1),
               (long long)B, decode_ms, ms_per_step, decode_tps);
}

int cmd_generate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    gen_args a = {.steps = 16, .batch = 1, .seed = CLI_SEED_DEFAULT};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc;
    rl_err err;
    rl_model_config m;
    struct stat st;
    if (a.weights && (stat(a.weights, &st) != 0 || !S_ISDIR(st.st_mode)))
        return cli_error(1, "generate: --weights %s: not a directory (want a Hugging Face checkpoint: config.json + "
                            "model.safetensors)",
                         a.weights);
    if (a.weights ? rl_model_from_config_json(a.weights, &m, &err) : rl_model_resolve(a.model, &m, &err))
        return cli_error(1, "generate: %s", err.msg);
    rl_backend backend = rl_cuda_available() ? RL_BACKEND_CUDA : RL_BACKEND_CPU;
    if (a.backend_name && rl_backend_from_name(a.backend_name, &backend, &err))
        return cli_error(2, "generate: %s", err.msg);

    int64_t *ids = malloc(sizeof *ids * MAX_PROMPT);
    if (!ids) return cli_error(1, "generate: out of host memory");
    int n = rl_parse_i64_list(a.tokens_arg, 0, INT32_MAX, "--tokens", ids, MAX_PROMPT, &err);
    if (n <= 0) {
        free(ids);
        return cli_error(2, "generate: %s", n == 0 ? "--tokens is empty" : err.msg);
    }
    for (int i = 0; i < n; i++)
        if (ids[i] >= m.vocab) {
            rc = cli_error(2, "generate: token id %lld at position %d is outside the vocabulary (0..%lld of %s)",
                           (long long)ids[i], i, (long long)m.vocab - 1, m.name);
            free(ids);
            return rc;
        }
    const int64_t B = a.batch, steps = a.steps, context = n + steps - 1;
    if (context > m.max_positions) {
        free(ids);
        return cli_error(2, "generate: prompt %d + steps %lld - 1 exceeds %s's max_position_embeddings %lld", n,
                         (long long)steps, m.name, (long long)m.max_positions);
    }
    int32_t *prompt = malloc(sizeof *prompt * (size_t)(B * n));
    int32_t *out = malloc(sizeof *out * (size_t)(B * steps)); /* [step][sequence] */
    int32_t *next = malloc(sizeof *next * (size_t)B);
    rl_engine *e = NULL;
    if (!prompt || !out || !next) {
        rc = cli_error(1, "generate: out of host memory");
        goto done;
    }
    for (int64_t b = 0; b < B; b++)
        for (int i = 0; i < n; i++) prompt[b * n + i] = (int32_t)ids[i];
    rl_engine_opts o = {.backend = backend, .weights_dir = a.weights, .seed = a.seed, .max_batch = B,
                        .max_context = context, .max_prefill = n, .threads = a.threads, .quiet = a.json};
    if (rl_engine_create(&m, &o, &e, &err)) {
        rc = cli_error(1, "generate: %s", err.msg);
        goto done;
    }
    float *last = malloc(sizeof *last * (size_t)(B * m.vocab));
    if (!last) {
        rc = cli_error(1, "generate: out of host memory");
        goto done;
    }
    /* Prefill: the first new token of each sequence is the argmax of its last-position logits. */
    double t0 = rl_now_ms();
    if (rl_engine_prefill(e, B, n, prompt, last, 0, &err) || rl_engine_sync(e, &err)) {
        free(last);
        rc = cli_error(1, "generate: %s", err.msg);
        goto done;
    }
    double prefill_ms = rl_now_ms() - t0;
    for (int64_t b = 0; b < B; b++) {
        const float *row = last + b * m.vocab;
        int64_t best = 0;
        for (int64_t v = 1; v < m.vocab; v++)
            if (row[v] > row[best]) best = v;
        out[b] = (int32_t)best;
    }
    free(last);
    t0 = rl_now_ms();
    for (int64_t s = 1; s < steps; s++) {
        if (rl_engine_decode(e, out + (s - 1) * B, NULL, next, &err)) {
            rc = cli_error(1, "generate: decode step %lld: %s", (long long)s, err.msg);
            goto done;
        }
        memcpy(out + s * B, next, sizeof *next * (size_t)B);
    }
    if (rl_engine_sync(e, &err)) {
        rc = cli_error(1, "generate: %s", err.msg);
        goto done;
    }
    double decode_ms = rl_now_ms() - t0;
    int32_t *tok0 = malloc(sizeof *tok0 * (size_t)steps);
    if (!tok0) {
        rc = cli_error(1, "generate: out of host memory");
        goto done;
    }
    int same = 1;
    for (int64_t s = 0; s < steps; s++) {
        tok0[s] = out[s * B];
        for (int64_t b = 1; b < B; b++) same &= out[s * B + b] == tok0[s];
    }
    print_report(&a, &m, e, n, tok0, same, prefill_ms, decode_ms);
    free(tok0);
done:
    rl_engine_destroy(e);
    free(ids), free(prompt), free(out), free(next);
    return rc;
}
