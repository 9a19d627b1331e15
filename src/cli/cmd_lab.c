/* cmd_lab.c: `ridgeline lab`: the whole lab on this machine: probe -> decode sweep -> decode
 * per-kernel -> prefill sweep -> prefill per-kernel -> analysis -> report. results.json is
 * rewritten after every point, so Ctrl-C keeps what finished: the point in flight completes, the
 * file is written, the report rendered, and the program exits 130. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../analyse/lab_analysis.h"
#include "../common/util.h"
#include "../measure/kernels.h"
#include "../report/report.h"
#include "cli.h"
#include "session.h"

static const char *usage =
    "usage: ridgeline lab [--backend cpu|cuda] [--model MODEL] [--weights DIR] --out DIR [--quick] [--quiet]\n"
    "                     [--batches LIST] [--lengths LIST] [--input-len N] [--output-len N] [-r N]\n"
    "                     [--warmup N] [--roofs FILE] [--ncu-csv FILE] [--threads N] [--seed N]\n"
    "                     [--gpu-file FILE] [--no-kernels] [--no-report]\n\n"
    "Runs the whole roofline lab on this machine and writes DIR/results.json (rewritten after every\n"
    "point), DIR/report.md, DIR/report.json and the charts:\n"
    "  1. probe: measured read bandwidth and GEMM FLOP/s (the roofs every prediction uses)\n"
    "  2. decode sweep: median ms per step at each batch (input 128, output 64 on cuda)\n"
    "  3. per-kernel roofline of one decode step at batch 1 and 64\n"
    "  4. prefill sweep: ms of the whole prefill at each length (batch 1, fresh KV cache each run)\n"
    "  5. per-kernel roofline of one prefill (L=1024 on cuda, 128 on cpu)\n"
    "  6. analysis: measured vs predicted transitions, batch-1 bandwidth utilisation, prefill\n"
    "     TFLOP/s vs the roofs, prediction error; then the report\n"
    "Defaults: cuda + llama-3.1-8b: B 1,4,16,64,128,256,512, L 64..4096 (about 5 minutes on an H100);\n"
    "cpu + tiny: B 1,2,4,8,16,32 (input 32, output 16), L 16..256 (seconds). Random weights unless\n"
    "--weights. Ctrl-C: the current point finishes, results and report are written, exit 130.\n\n"
    "  --backend B     cpu or cuda (default: cuda when a GPU is present, else cpu)\n"
    "  --model M       preset or config.json (default llama-3.1-8b on cuda, tiny on cpu)\n"
    "  --weights DIR   Hugging Face checkpoint (config.json + model.safetensors) instead of random weights\n"
    "  --out DIR       output directory (created)\n"
    "  --quick         small grids and a quick probe (smoke tests; not for reported figures)\n"
    "  --quiet         no progress lines on stderr\n"
    "  --batches, --lengths, --input-len, --output-len, -r, --warmup: as for `ridgeline sweep`\n"
    "  --roofs FILE    measured roofs from an earlier `ridgeline probe --out FILE` (skips the probe)\n"
    "  --ncu-csv FILE  Nsight Compute CSV to list beside our per-kernel rows\n"
    "  --no-kernels    skip the per-kernel steps; --no-report: skip the report\n";

typedef struct {
    session_args s;
    const char *out, *batches, *lengths, *roofs, *ncu;
    int quick, no_kernels, no_report;
    int64_t input_len, output_len, reps, warmup;
} lab_args;

static int parse(int argc, char **argv, lab_args *a, rl_err *err)
{
    static const struct option opts[] = {
        {"backend", required_argument, 0, 'b'},   {"model", required_argument, 0, 'm'},
        {"weights", required_argument, 0, 'w'},   {"out", required_argument, 0, 'O'},
        {"quick", no_argument, 0, 'q'},           {"quiet", no_argument, 0, 'Q'},
        {"batches", required_argument, 0, 'B'},   {"lengths", required_argument, 0, 'L'},
        {"input-len", required_argument, 0, 'i'}, {"output-len", required_argument, 0, 'o'},
        {"warmup", required_argument, 0, 'W'},    {"roofs", required_argument, 0, 'R'},
        {"ncu-csv", required_argument, 0, 'n'},   {"threads", required_argument, 0, 't'},
        {"seed", required_argument, 0, 's'},      {"gpu-file", required_argument, 0, 'g'},
        {"no-kernels", no_argument, 0, 'K'},      {"no-report", no_argument, 0, 'N'},
        {0, 0, 0, 0}};
    int ch;
    int64_t v;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': a->s.backend = optarg; break;
        case 'm': a->s.model = optarg; break;
        case 'w': a->s.weights_dir = optarg; break;
        case 'O': a->out = optarg; break;
        case 'q': a->quick = 1; break;
        case 'Q': a->s.quiet = 1; break;
        case 'B': a->batches = optarg; break;
        case 'L': a->lengths = optarg; break;
        case 'i': if (rl_parse_i64(optarg, 1, 1 << 20, "--input-len", &a->input_len, err)) return -1; break;
        case 'o': if (rl_parse_i64(optarg, 1, 1 << 20, "--output-len", &a->output_len, err)) return -1; break;
        case 'r': if (rl_parse_i64(optarg, 1, 1000, "-r", &a->reps, err)) return -1; break;
        case 'W': if (rl_parse_i64(optarg, 0, 1000, "--warmup", &a->warmup, err)) return -1; break;
        case 'R': a->roofs = optarg; break;
        case 'n': a->ncu = optarg; break;
        case 't': if (rl_parse_i64(optarg, 1, 1024, "--threads", &v, err)) return -1; a->s.threads = (int)v; break;
        case 's': if (rl_parse_i64(optarg, 1, INT64_MAX, "--seed", &v, err)) return -1; a->s.seed = (uint64_t)v; break;
        case 'g': a->s.gpu_file = optarg; break;
        case 'K': a->no_kernels = 1; break;
        case 'N': a->no_report = 1; break;
        default: return rl_fail(err, "unknown or incomplete option '%s' (see ridgeline lab --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return rl_fail(err, "unexpected argument '%s'", argv[optind]);
    if (!a->out) return rl_fail(err, "--out DIR is required (see ridgeline lab --help)");
    rl_backend b;
    if (a->s.backend && rl_backend_from_name(a->s.backend, &b, err)) return -1;
    return 0;
}

/* The grids: explicit lists, else the backend's defaults (smaller with --quick). */
static int grids(const lab_args *a, int cuda, int64_t *bs, int *nb, int64_t *ls, int *nl, int64_t *in, int64_t *out,
                 rl_err *err)
{
    static const int64_t cuda_b[] = {1, 4, 16, 64, 128, 256, 512}, cuda_l[] = {64, 128, 256, 512, 1024, 2048, 4096};
    static const int64_t cpu_b[] = {1, 2, 4, 8, 16, 32}, cpu_l[] = {16, 32, 64, 128, 256};
    static const int64_t cuda_qb[] = {1, 16, 64}, cuda_ql[] = {64, 256, 1024};
    static const int64_t cpu_qb[] = {1, 4, 16}, cpu_ql[] = {16, 64, 128};
    const int64_t *db = cuda ? (a->quick ? cuda_qb : cuda_b) : (a->quick ? cpu_qb : cpu_b);
    const int64_t *dl = cuda ? (a->quick ? cuda_ql : cuda_l) : (a->quick ? cpu_ql : cpu_l);
    int ndb = a->quick ? 3 : cuda ? 7 : 6, ndl = a->quick ? 3 : cuda ? 7 : 5;
    if (a->batches) {
        if ((*nb = rl_parse_i64_list(a->batches, 1, 1 << 16, "--batches", bs, 64, err)) < 0) return -1;
    } else {
        *nb = ndb;
        memcpy(bs, db, sizeof *bs * (size_t)ndb);
    }
    if (a->lengths) {
        if ((*nl = rl_parse_i64_list(a->lengths, 1, 1 << 20, "--lengths", ls, 64, err)) < 0) return -1;
    } else {
        *nl = ndl;
        memcpy(ls, dl, sizeof *ls * (size_t)ndl);
    }
    *in = a->input_len ? a->input_len : cuda ? 128 : a->quick ? 16 : 32;
    *out = a->output_len ? a->output_len : cuda ? (a->quick ? 16 : 64) : a->quick ? 8 : 16;
    return 0;
}

static int64_t max_of(const int64_t *v, int n)
{
    int64_t m = 0;
    for (int i = 0; i < n; i++) m = v[i] > m ? v[i] : m;
    return m;
}

int cmd_lab(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    lab_args a;
    memset(&a, 0, sizeof a);
    a.warmup = -1;
    rl_err err;
    if (parse(argc, argv, &a, &err)) return cli_error(2, "lab: %s", err.msg);
    session s;
    if (session_open(&s, &a.s, argc, argv, &err)) {
        session_close(&s);
        return cli_error(1, "lab: %s", err.msg);
    }
    int cuda = s.backend == RL_BACKEND_CUDA;
    int64_t bs[64], ls[64], in, out;
    int nb, nl;
    if (grids(&a, cuda, bs, &nb, ls, &nl, &in, &out, &err)) {
        session_close(&s);
        return cli_error(2, "lab: %s", err.msg);
    }
    char results_path[4200];
    snprintf(results_path, sizeof results_path, "%s/results.json", a.out);
    s.results_path = results_path;
    s.res.input_len = in, s.res.output_len = out;
    if (rl_mkdirs(a.out, &err) || session_checkpoint(&s, &err)) {
        session_close(&s);
        return cli_error(1, "lab: %s", err.msg);
    }
    if (!a.s.quiet)
        fprintf(stderr, "lab: %s on %s, %d decode batches (input %lld, output %lld), %d prefill lengths -> %s\n",
                s.res.model.name, cuda ? "cuda" : "cpu", nb, (long long)in, (long long)out, nl, a.out);
    volatile sig_atomic_t *stop = session_install_sigint();
    int rc = 0;
    if (session_roofs(&s, a.roofs, a.quick, &err) || session_checkpoint(&s, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.s.quiet) rl_probe_print(&s.res.probe, &s.res.device, stderr);

    rl_sweep_ctx ctx = session_sweep_ctx(&s, stop);
    if (a.warmup >= 0) ctx.warmup = (int)a.warmup;
    if (a.reps) ctx.reps = (int)a.reps;
    else if (a.quick) ctx.reps = 3;
    double weight = 0;
    for (int i = 0; i < nb; i++) weight += rl_sweep_point_weight(&s.res, RL_PHASE_DECODE, bs[i], in, out, ctx.warmup, 0);
    for (int i = 0; i < nl; i++) weight += rl_sweep_point_weight(&s.res, RL_PHASE_PREFILL, ls[i], 0, 0, ctx.warmup, ctx.reps);
    int64_t kb = max_of(bs, nb) < 64 ? max_of(bs, nb) : 64;
    int64_t kl = max_of(ls, nl) < (cuda ? 1024 : 128) ? max_of(ls, nl) : (cuda ? 1024 : 128);
    int nk = a.no_kernels ? 0 : (kb > 1 ? 2 : 1) + 1;
    rl_progress_init(&s.progress, nb + nl + nk, weight + nk, a.s.quiet);

    if (rl_sweep_decode(&ctx, &s.slot, bs, nb, in, out, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.no_kernels && !*stop) {
        session_kernels(&s, RL_PHASE_DECODE, 1, in);
        if (kb > 1 && !*stop) session_kernels(&s, RL_PHASE_DECODE, kb, in);
    }
    if (!*stop && rl_sweep_prefill(&ctx, &s.slot, ls, nl, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.no_kernels && !*stop) session_kernels(&s, RL_PHASE_PREFILL, kl, 0);
    rl_engine_slot_release(&s.slot);
    if (a.ncu && rl_ncu_import(a.ncu, &s.res, &err)) fprintf(stderr, "ridgeline: lab: %s (continuing)\n", err.msg);
    s.res.interrupted = *stop != 0;
    if (session_checkpoint(&s, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    rl_probe_print(&s.res.probe, &s.res.device, stdout);
    session_print_points(&s, RL_PHASE_DECODE, stdout);
    session_print_points(&s, RL_PHASE_PREFILL, stdout);
    if (s.res.n_kernels || s.res.n_ncu) rl_kernels_print(&s.res, stdout);
    putchar('\n');
    rl_analysis_print(&s.res, stdout);
    printf("wrote %s\n", results_path);
    fflush(stdout); /* the report's notes go to stderr: keep the order when both share a file */
    if (!a.no_report) {
        const char *paths[1] = {results_path};
        rl_report_opts ro = {paths, 1, NULL, 0, a.out, a.s.gpu_file, a.s.quiet};
        if (rl_report_render(&ro, &err)) rc = cli_error(1, "lab: report: %s", err.msg);
        else printf("wrote %s/report.md\n", a.out);
    }
done:
    session_restore_sigint();
    int stopped = *stop != 0;
    session_close(&s);
    if (!rc && stopped) {
        fprintf(stderr, "ridgeline: lab: interrupted; the finished points are in %s\n", results_path);
        return 130;
    }
    return rc;
}
