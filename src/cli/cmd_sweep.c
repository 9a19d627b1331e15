/* cmd_sweep.c: `ridgeline sweep`: one decode or prefill sweep on the engine, against predictions. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../analyse/lab_analysis.h"
#include "../common/util.h"
#include "../measure/kernels.h"
#include "cli.h"
#include "session.h"

static const char *usage =
    "usage: ridgeline sweep --decode|--prefill [--backend cpu|cuda] [--model MODEL] [--weights DIR]\n"
    "                       [--batches LIST] [--lengths LIST] [--input-len N] [--output-len N] [-r N]\n"
    "                       [--warmup N] [--roofs FILE] [--out results.json] [--json] [--kernels]\n"
    "                       [--ncu-csv FILE] [--trace FILE] [--threads N] [--seed S] [--quick] [--quiet]\n"
    "                       [--tp N] [--nccl-lib PATH]\n\n"
    "Times the engine across batch sizes (decode) or prompt lengths (prefill) and sets every point\n"
    "beside the roofline prediction at the measured roofs (the probe of this run, or --roofs FILE)\n"
    "and at the datasheet's, where the GPU is in the table.\n"
    "  decode point B: B random prompts of --input-len tokens are prefilled (timed once), then\n"
    "    --output-len - 1 decode steps are each timed alone; ms = median step, p10/p90 over the steps;\n"
    "    seed_ms_per_token = (prefill + all steps) / output_len, the seed's (vLLM's) per-token figure.\n"
    "  prefill point L: warm-up runs, then -r timed prefills of one L-token prompt, each from a reset\n"
    "    KV cache (nothing is reused between runs); ms = median.\n"
    "A point that fails (out of memory, say) is recorded with its error and the sweep goes on; when\n"
    "the first point fails, the input is taken to be bad (a checkpoint, a model too large): the sweep\n"
    "stops there and exits 1. --weights, --roofs, --ncu-csv and --gpu-file are read before measuring.\n"
    "Ctrl-C or SIGTERM: the point in flight finishes, --out keeps the finished points (marked\n"
    "interrupted), exit 130 or 143.\n\n"
    "  --decode | --prefill   which sweep\n"
    "  --batches LIST         decode batches (cuda: 1,4,16,64,128,256,512; cpu: 1,2,4,8,16,32)\n"
    "  --lengths LIST         prefill lengths (cuda: 64,128,...,4096; cpu: 16,32,...,256)\n"
    "  --input-len N          decode prompt tokens (cuda 128, cpu 32)\n"
    "  --output-len N         decode tokens generated (cuda 64, cpu 16)\n"
    "  -r N                   prefill repetitions (default 5; fewer, >= 3, when a point would pass 20 s)\n"
    "  --warmup N             decode warm-up steps / prefill warm-up runs (default 2)\n"
    "  --roofs FILE           measured roofs from `ridgeline probe --out FILE` instead of probing now\n"
    "  --out FILE             results.json, rewritten after every point\n"
    "  --json                 print the results document instead of the table\n"
    "  --kernels              also a per-kernel roofline of one step (decode B=1 and 64; prefill L=1024,\n"
    "                         cpu 128)\n"
    "  --ncu-csv FILE         import an Nsight Compute CSV and list it beside our kernels\n"
    "  --trace FILE           the profiled steps as Chrome trace events (implies --kernels; Perfetto)\n"
    "  --backend, --model, --weights DIR, --gpu-file FILE, --tp N, --nccl-lib PATH: as for `lab`\n"
    CLI_HELP_SEED("               ") CLI_HELP_THREADS("            ")
    "  --quick                quick probe (smaller problems); --quiet: no progress lines\n";


typedef struct {
    measure_args m;
    int decode, prefill, json, kernels;
    const char *out;
} sweep_args;

static int parse(int argc, char **argv, sweep_args *a, rl_err *err)
{
    static const struct option opts[] = {
        SESSION_MEASURE_OPTIONS,
        {"decode", no_argument, 0, 'd'}, {"prefill", no_argument, 0, 'p'}, {"out", required_argument, 0, 'O'},
        {"json", no_argument, 0, 'j'},   {"kernels", no_argument, 0, 'k'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
        int taken = session_measure_option(ch, optarg, &a->m, err);
        if (taken < 0) return -1;
        if (taken) continue;
        switch (ch) {
        case 'd': a->decode = 1; break;
        case 'p': a->prefill = 1; break;
        case 'O': a->out = optarg; break;
        case 'j': a->json = 1; break;
        case 'k': a->kernels = 1; break;
        default: return rl_fail(err, "unknown or incomplete option '%s' (see ridgeline sweep --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return rl_fail(err, "unexpected argument '%s'", argv[optind]);
    if (a->decode == a->prefill) return rl_fail(err, "give exactly one of --decode or --prefill");
    if (a->decode && a->m.lengths) return rl_fail(err, "--lengths belongs to --prefill (decode takes --batches)");
    if (a->m.trace) a->kernels = 1;
    if (a->prefill && a->m.batches) return rl_fail(err, "--batches belongs to --decode (prefill takes --lengths)");
    return session_check_backend(&a->m, err);
}

int cmd_sweep(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    sweep_args a;
    memset(&a, 0, sizeof a);
    a.m.warmup = -1;
    a.m.s.seed = CLI_SEED_DEFAULT;
    rl_err err;
    if (parse(argc, argv, &a, &err)) return cli_error(2, "sweep: %s", err.msg);
    session s;
    if (session_open(&s, &a.m.s, argc, argv, &err)) {
        session_close(&s);
        return cli_error(1, "sweep: %s", err.msg);
    }
    int cuda = s.backend == RL_BACKEND_CUDA;
    int64_t xs[64];
    int nx = session_grid(&a.m, cuda, a.decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, 0, xs, &err);
    if (nx < 0) {
        session_close(&s);
        return cli_error(2, "sweep: %s", err.msg);
    }
    int64_t in, out;
    session_decode_lengths(&a.m, cuda, 0, &in, &out);
    s.res.input_len = in, s.res.output_len = out;
    s.results_path = a.out;
    int rc = 0;
    /* Fail before measuring when an input is bad or the output cannot be written. */
    if ((a.m.trace && session_trace(&s, a.m.trace, &err)) || session_check_inputs(&a.m, &err) ||
        (a.out && session_checkpoint(&s, &err))) {
        session_close(&s);
        return cli_error(1, "sweep: %s", err.msg);
    }
    if (session_roofs(&s, a.m.roofs, a.m.quick, &err) || session_checkpoint(&s, &err)) {
        session_close(&s);
        return cli_error(1, "sweep: %s", err.msg);
    }
    volatile sig_atomic_t *stop = session_install_stop();
    rl_sweep_ctx ctx = session_sweep_ctx(&s, stop);
    if (a.m.warmup >= 0) ctx.warmup = (int)a.m.warmup;
    if (a.m.reps) ctx.reps = (int)a.m.reps;
    rl_phase phase = a.decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL;
    double weight = 0;
    for (int i = 0; i < nx; i++) weight += rl_sweep_point_weight(&s.res, phase, xs[i], in, out, ctx.warmup, ctx.reps);
    int nk = a.kernels ? (a.decode ? 2 : 1) : 0;
    rl_progress_init(&s.progress, nx + nk, weight + nk, a.m.s.quiet);
    rc = a.decode ? rl_sweep_decode(&ctx, &s.slot, xs, nx, in, out, &err) : rl_sweep_prefill(&ctx, &s.slot, xs, nx, &err);
    if (rc) rc = cli_error(1, "sweep: %s", err.msg);
    if (!rc && a.kernels && !*stop) {
        int64_t maxx = 0;
        for (int i = 0; i < nx; i++) maxx = xs[i] > maxx ? xs[i] : maxx;
        if (a.decode) {
            session_kernels(&s, phase, 1, in);
            session_kernels(&s, phase, maxx < 64 ? maxx : 64, in);
        } else {
            int64_t L = cuda ? 1024 : 128;
            session_kernels(&s, phase, maxx < L ? maxx : L, 0);
        }
    }
    /* Checked before measuring; a failure now (the file changed meanwhile) keeps the measurements. */
    if (!rc && a.m.ncu && rl_ncu_import(a.m.ncu, &s.res, &err)) fprintf(stderr, "ridgeline: sweep: %s (continuing)\n", err.msg);
    s.res.interrupted = *stop != 0;
    if (session_checkpoint(&s, &err)) rc = cli_error(1, "sweep: %s", err.msg);
    session_restore_stop();
    if (!rc) {
        if (a.json) {
            cJSON *doc = rl_results_to_json(&s.res);
            cJSON_AddItemToObject(doc, "analysis", rl_analysis_to_json(&s.res, &s.analysis));
            cli_print_json(doc);
            cJSON_Delete(doc);
        } else {
            rl_probe_print(&s.res.probe, &s.res.device, stdout);
            session_print_points(&s, phase, stdout);
            if (s.res.n_kernels || s.res.n_ncu) rl_kernels_print(&s.res, stdout);
            putchar('\n');
            rl_analysis_print(&s.res, &s.analysis, stdout);
            if (a.out) printf("wrote %s\n", a.out);
        }
    }
    int stopped = *stop;
    session_close(&s);
    if (!rc && stopped) {
        fprintf(stderr, "ridgeline: sweep: interrupted (%s); the finished points are kept%s%s\n", strsignal(stopped),
                a.out ? " in " : "", a.out ? a.out : "");
        return 128 + stopped;
    }
    return rc;
}
