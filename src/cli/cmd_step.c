/* cmd_step.c: `ridgeline step`: one decode step or one prefill run the lab's way (warm-up first,
 * so the engine's kernel choices and graph capture are done), then the same step once more inside
 * a cudaProfilerStart/Stop range for an external profiler (ncu --profile-from-start off), with its
 * launch plan written to a step file for `ridgeline ncu-check` (scripts/ncu-check.sh). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../engine/engine.h"
#include "../measure/ncu_check.h"
#include "../measure/sweep.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline step (--decode --batch B | --prefill --length L) [--backend cpu|cuda] [--model MODEL]\n"
    "                      [--weights DIR] [--input-len N] [--warmup N] [--plan-out FILE] [--seed S] [--quiet]\n\n"
    "Runs one step the way the lab does: a prefill of B random prompts of --input-len tokens (decode) and\n"
    "--warmup steps (default 2: the first picks GEMV or cuBLASLt per projection and captures the decode\n"
    "graph), then the same step once more between cudaProfilerStart and cudaProfilerStop, in an NVTX\n"
    "range \"ridgeline:target\". Under `ncu --profile-from-start off` only that step is profiled.\n"
    "Each launch of an eager step sits in an NVTX range \"rl#N\" (its index), which ncu can name the\n"
    "kernels after (--nvtx --print-nvtx-rename kernel).\n\n"
    "  --plan-out FILE   the step's launch plan (kernels, the operators each implements, the kernel nodes\n"
    "                    of a captured graph), with device, commit, model and context: the step file\n"
    "                    `ridgeline ncu-check --case FILE,NCU.csv` joins with ncu's CSV\n"
    "  --input-len N     decode prompt tokens (default 128)\n"
    CLI_HELP_SEED("          ")
    "  --backend, --model, --weights: as for `ridgeline lab` (without --model, the checkpoint's config.json)\n";

typedef struct {
    const char *backend, *model, *weights, *plan_out;
    int decode, prefill, quiet;
    int64_t batch, length, input_len, warmup;
    uint64_t seed;
} step_args;

static int parse(int argc, char **argv, step_args *a, rl_err *err)
{
    static const struct option opts[] = {{"decode", no_argument, 0, 'd'},      {"prefill", no_argument, 0, 'p'},
                                         {"batch", required_argument, 0, 'b'}, {"length", required_argument, 0, 'l'},
                                         {"backend", required_argument, 0, 'B'}, {"model", required_argument, 0, 'm'},
                                         {"weights", required_argument, 0, 'w'}, {"input-len", required_argument, 0, 'i'},
                                         {"warmup", required_argument, 0, 'W'}, {"plan-out", required_argument, 0, 'o'},
                                         {"seed", required_argument, 0, 's'},  {"quiet", no_argument, 0, 'q'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'd': a->decode = 1; break;
        case 'p': a->prefill = 1; break;
        case 'b': if (rl_parse_i64(optarg, 1, 1 << 16, "--batch", &a->batch, err)) return -1; break;
        case 'l': if (rl_parse_i64(optarg, 1, 1 << 20, "--length", &a->length, err)) return -1; break;
        case 'B': a->backend = optarg; break;
        case 'm': a->model = optarg; break;
        case 'w': a->weights = optarg; break;
        case 'i': if (rl_parse_i64(optarg, 1, 1 << 20, "--input-len", &a->input_len, err)) return -1; break;
        case 'W': if (rl_parse_i64(optarg, 1, 100, "--warmup", &a->warmup, err)) return -1; break;
        case 'o': a->plan_out = optarg; break;
        case 's': if (cli_parse_seed(optarg, &a->seed, err)) return -1; break;
        case 'q': a->quiet = 1; break;
        default: return rl_fail(err, "unknown or incomplete option '%s' (see ridgeline step --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return rl_fail(err, "unexpected argument '%s'", argv[optind]);
    if (a->decode == a->prefill) return rl_fail(err, "give exactly one of --decode or --prefill");
    if (a->decode && !a->batch) return rl_fail(err, "--decode needs --batch B");
    if (a->prefill && !a->length) return rl_fail(err, "--prefill needs --length L");
    return 0;
}

/* The profiled range around one step (a no-op where there is no CUDA). */
static int profiler(int cuda, int start, rl_err *err)
{
#ifdef RL_HAVE_CUDA
    if (cuda) return rl_cuda_profiler_range(start, err);
#endif
    (void)cuda, (void)start, (void)err;
    return 0;
}

static int run(rl_engine *e, const step_args *a, int cuda, rl_step_plan *sp, rl_err *err)
{
    const int64_t B = a->decode ? a->batch : 1, len = a->decode ? a->input_len : a->length;
    int32_t *prompt = malloc(sizeof *prompt * (size_t)(B * len)), *tok = malloc(sizeof *tok * (size_t)B),
            *next = malloc(sizeof *next * (size_t)B);
    float *logits = malloc(sizeof *logits * (size_t)e->model.vocab);
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    int rc = -1;
    uint64_t rng = a->seed * 0x9e3779b97f4a7c15ull;
    if (!prompt || !tok || !next || !logits) {
        rl_fail(err, "step: out of host memory");
        goto done;
    }
    rl_random_tokens(prompt, B * len, e->model.vocab, &rng);
    rl_random_tokens(tok, B, e->model.vocab, &rng);
    if (rl_engine_prefill(e, B, len, prompt, a->decode ? NULL : logits, 0, err) || rl_engine_sync(e, err)) goto done;
    for (int64_t i = 0; i < a->warmup; i++) {
        int r = a->decode ? rl_engine_decode(e, tok, NULL, next, err) : rl_engine_prefill(e, 1, len, prompt, logits, 0, err);
        if (r || rl_engine_sync(e, err)) goto done;
        if (a->decode) memcpy(tok, next, sizeof *tok * (size_t)B);
    }
    sp->context = a->decode ? e->pos : 0; /* tokens in the cache when the profiled step runs */
    log.want = RL_PROFILE_PLAN;
    if (e->ops->set_profile) e->ops->set_profile(e->state, &log);
    if (profiler(cuda, 1, err)) goto done;
    int r = a->decode ? rl_engine_decode(e, tok, NULL, next, err) : rl_engine_prefill(e, 1, len, prompt, logits, 0, err);
    if (!r) r = rl_engine_sync(e, err);
    rl_err perr;
    if (profiler(cuda, 0, r ? &perr : err)) r = -1;
    if (e->ops->set_profile) e->ops->set_profile(e->state, NULL);
    if (r) goto done;
    rc = rl_kernel_log_plan(&log, 0, &sp->plan, err);
done:
    if (e->ops->set_profile) e->ops->set_profile(e->state, NULL);
    rl_kernel_log_free(&log);
    free(prompt), free(tok), free(next), free(logits);
    return rc;
}

int cmd_step(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    step_args a = {.input_len = RL_SEED_INPUT_LEN, .warmup = 2, .seed = CLI_SEED_DEFAULT};
    rl_err err;
    if (parse(argc, argv, &a, &err)) return cli_error(2, "step: %s", err.msg);
    rl_engine_opts o;
    memset(&o, 0, sizeof o);
    if (a.backend) {
        if (rl_backend_from_name(a.backend, &o.backend, &err)) return cli_error(2, "step: %s", err.msg);
    } else {
        o.backend = rl_cuda_available() ? RL_BACKEND_CUDA : RL_BACKEND_CPU;
    }
    const int cuda = o.backend == RL_BACKEND_CUDA;
    rl_model_config m;
    /* Without --model, the checkpoint's config.json, named as a path so that the step file's model
     * resolves the same way in `ncu-check` (a bare directory name would be read as a preset). */
    char weights_config[4200];
    const char *model = a.model ? a.model : cuda ? "llama-3.1-8b" : "tiny";
    if (!a.model && a.weights) {
        if (snprintf(weights_config, sizeof weights_config, "%s/config.json", a.weights) >= (int)sizeof weights_config)
            return cli_error(2, "step: --weights: the path is too long");
        model = weights_config;
    }
    if (rl_model_resolve(model, &m, &err)) return cli_error(1, "step: %s", err.msg);
    o.weights_dir = a.weights;
    o.seed = a.seed;
    o.quiet = a.quiet;
    o.max_batch = a.decode ? a.batch : 1;
    o.max_prefill = a.decode ? a.input_len : a.length;
    o.max_context = o.max_prefill + (a.decode ? a.warmup + 2 : 1);
    rl_engine *e = NULL;
    if (rl_engine_create(&m, &o, &e, &err)) return cli_error(1, "step: %s", err.msg);
    rl_step_plan sp;
    memset(&sp, 0, sizeof sp);
    snprintf(sp.device, sizeof sp.device, "%s", e->ops->device_name(e->state));
    snprintf(sp.commit, sizeof sp.commit, "%s", rl_build_commit());
    snprintf(sp.model, sizeof sp.model, "%s", model);
    snprintf(sp.dtype, sizeof sp.dtype, "%s", cuda ? "bf16" : "fp32");
    sp.phase = a.decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL;
    sp.x = a.decode ? a.batch : a.length;
    sp.batch = a.decode ? a.batch : 1;
    sp.kernels_known = cuda && a.decode; /* a replayed graph: its kernel nodes were counted at capture */
    int rc = run(e, &a, cuda, &sp, &err);
    rl_engine_destroy(e);
    if (!rc && a.plan_out) rc = rl_step_plan_save(&sp, a.plan_out, &err);
    if (!rc && !a.quiet)
        fprintf(stderr, "step: %s %s=%lld on %s: %d launches, %d kernels%s%s\n", rl_phase_name(sp.phase),
                a.decode ? "B" : "L", (long long)sp.x, sp.device, sp.plan.n, rl_launch_plan_kernels(&sp.plan),
                a.plan_out ? " -> " : "", a.plan_out ? a.plan_out : "");
    rl_step_plan_free(&sp);
    return rc ? cli_error(1, "step: %s", err.msg) : 0;
}
