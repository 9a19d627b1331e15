/* cmd_lab.c: `ridgeline lab`: the whole lab on this machine: probe -> decode sweep -> decode
 * per-kernel -> decode context sweep -> prefill sweep -> prefill per-kernel -> analysis -> report. results.json is
 * rewritten after every point, so Ctrl-C or SIGTERM keeps what finished: the point in flight
 * completes, the file is written with "interrupted": true, the report rendered, and the program
 * exits 128 + the signal (130, 143). One lab or report at a time per output directory (a lock). */
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
    "                     [--warmup N] [--roofs FILE] [--ncu-csv FILE] [--threads N] [--seed S]\n"
    "                     [--gpu-file FILE] [--trace FILE] [--contexts LIST|none] [--no-kernels] [--no-report]\n"
    "                     [--tp N] [--nccl-lib PATH]\n\n"
    "Runs the whole roofline lab on this machine and writes DIR/results.json (rewritten after every\n"
    "point), DIR/report.md, DIR/report.json and the charts:\n"
    "  1. probe: measured read bandwidth and GEMM FLOP/s (the roofs every prediction uses)\n"
    "  2. decode sweep: median ms per step at each batch (input 128, output 64 on cuda)\n"
    "  3. per-kernel roofline of decode steps at batch 1 and 64 (CUPTI records of the real step on\n"
    "     cuda, the graph replayed with PDL; events where CUPTI is unavailable and on cpu)\n"
    "  4. decode context sweep: ms per step at long KV contexts (the caches filled with random K/V\n"
    "     instead of a prefill; the steps' mean context is C): cuda C 1024,4096,16384,32768 at\n"
    "     B 1,16,64 (a batch x context that does not fit in GPU memory is recorded as skipped);\n"
    "     cpu C 64,256 at B 1,2\n"
    "  5. prefill sweep: ms of the whole prefill at each length (batch 1, fresh KV cache each run)\n"
    "  6. per-kernel roofline of one prefill (L=1024 on cuda, 128 on cpu)\n"
    "  7. analysis: measured vs predicted transitions, batch-1 bandwidth utilisation, prefill\n"
    "     TFLOP/s vs the roofs, prediction error; then the report\n"
    "Defaults: cuda + llama-3.1-8b: B 1,4,16,64,128,256,512, L 64..4096 (about 5 minutes on an H100);\n"
    "cpu + tiny: B 1,2,4,8,16,32 (input 32, output 16), L 16..256 (seconds). Random weights unless\n"
    "--weights. Ctrl-C or SIGTERM: the current point finishes, results and report are written (marked\n"
    "interrupted), exit 130 or 143. Every input (--weights, --roofs, --ncu-csv, --gpu-file) is checked\n"
    "before anything is measured, and the lab stops when the first point of a sweep fails.\n\n"
    "  --backend B     cpu or cuda (default: cuda when a GPU is present, else cpu)\n"
    "  --model M       preset or config.json path, a path having a '/' or ending in .json (default\n"
    "                  llama-3.1-8b on cuda, tiny on cpu)\n"
    "  --weights DIR   Hugging Face checkpoint (config.json + model.safetensors) instead of random weights\n"
    "  --out DIR       output directory (created; refused while another lab or report writes it)\n"
    "  --quick         small grids and a quick probe (smoke tests; not for reported figures)\n"
    "  --quiet         no progress lines on stderr\n"
    "  --batches, --lengths, --input-len, --output-len, -r, --warmup: as for `ridgeline sweep`\n"
    CLI_HELP_SEED("        ") CLI_HELP_THREADS("     ")
    "  --roofs FILE    measured roofs from an earlier `ridgeline probe --out FILE` (skips the probe)\n"
    "  --ncu-csv FILE  Nsight Compute CSV to list beside our per-kernel rows\n"
    "  --trace FILE    the profiled steps as Chrome trace events (default DIR/trace.json; opens in Perfetto)\n"
    "  --contexts LIST decode context sweep contexts (default: the list above, --quick: cuda 1024,4096 at\n"
    "                  B 1,16, cpu 64; none with --batches unless given); none: no context sweep\n"
    "  --no-kernels    skip the per-kernel steps; --no-report: skip the report\n"
    "  --tp N          tensor parallel over GPUs 0..N-1 (cuda, 1 to 8): heads, MLP and vocabulary split,\n"
    "                  NCCL all-reduces after o_proj and down_proj; every figure is per GPU, the\n"
    "                  all-reduces an operator of the per-kernel view (rank 0's kernels); the probe adds\n"
    "                  the interconnect (all-reduce bus bandwidth and latency) for N >= 2. --tp 1 runs the\n"
    "                  same sharded code on one GPU. Write to results/<gpu>-tpN (scripts/lab-out-dir.sh)\n"
    "  --nccl-lib PATH the NCCL library for --tp (default libnccl.so.2 on the loader path; pip's\n"
    "                  nvidia-nccl-cu13 keeps it in site-packages/nvidia/nccl/lib)\n";

typedef struct {
    measure_args m;
    const char *out;
    const char *contexts; /* --contexts LIST or "none"; NULL: the defaults */
    int no_kernels, no_report;
} lab_args;

static int parse(int argc, char **argv, lab_args *a, rl_err *err)
{
    static const struct option opts[] = {SESSION_MEASURE_OPTIONS,
                                         {"out", required_argument, 0, 'O'},
                                         {"no-kernels", no_argument, 0, 'K'},
                                         {"no-report", no_argument, 0, 'N'},
                                         {"contexts", required_argument, 0, 'C'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "r:", opts, NULL)) != -1) {
        int taken = session_measure_option(ch, optarg, &a->m, err);
        if (taken < 0) return -1;
        if (taken) continue;
        switch (ch) {
        case 'O': a->out = optarg; break;
        case 'K': a->no_kernels = 1; break;
        case 'N': a->no_report = 1; break;
        case 'C': a->contexts = optarg; break;
        default: return rl_fail(err, "unknown or incomplete option '%s' (see ridgeline lab --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return rl_fail(err, "unexpected argument '%s'", argv[optind]);
    if (!a->out) return rl_fail(err, "--out DIR is required (see ridgeline lab --help)");
    return session_check_backend(&a->m, err);
}

/* The context sweep's contexts (returned count, 0 = no sweep, -1 = a bad --contexts) and batches. */
static int context_grid(const lab_args *a, int cuda, int64_t *cs, int64_t *bs, int *nb, rl_err *err)
{
    static const int64_t cuda_c[] = {1024, 4096, 16384, 32768}, cuda_b[] = {1, 16, 64}, cpu_c[] = {64, 256},
                         cpu_b[] = {1, 2};
    const int quick = a->m.quick;
    *nb = cuda ? (quick ? 2 : 3) : 2;
    memcpy(bs, cuda ? cuda_b : cpu_b, sizeof *bs * (size_t)*nb);
    if (a->contexts && !strcmp(a->contexts, "none")) return 0;
    if (a->contexts) return rl_parse_i64_list(a->contexts, 1, 1 << 22, "--contexts", cs, 16, err);
    if (a->m.batches) return 0; /* an explicit batch grid is a focused run: no context sweep unless asked */
    const int n = cuda ? (quick ? 2 : 4) : (quick ? 1 : 2);
    memcpy(cs, cuda ? cuda_c : cpu_c, sizeof *cs * (size_t)n);
    return n;
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
    a.m.warmup = -1;
    a.m.s.seed = CLI_SEED_DEFAULT;
    rl_err err;
    if (parse(argc, argv, &a, &err)) return cli_error(2, "lab: %s", err.msg);
    session s;
    if (session_open(&s, &a.m.s, argc, argv, &err)) {
        session_close(&s);
        return cli_error(1, "lab: %s", err.msg);
    }
    int cuda = s.backend == RL_BACKEND_CUDA;
    int64_t bs[64], ls[64], cs[16], cbs[4], in, out;
    int ncb = 0;
    int nb = session_grid(&a.m, cuda, RL_PHASE_DECODE, a.m.quick, bs, &err);
    int nl = nb < 0 ? -1 : session_grid(&a.m, cuda, RL_PHASE_PREFILL, a.m.quick, ls, &err);
    int nc = nl < 0 ? -1 : context_grid(&a, cuda, cs, cbs, &ncb, &err);
    session_decode_lengths(&a.m, cuda, a.m.quick, &in, &out);
    if (nc < 0) {
        session_close(&s);
        return cli_error(2, "lab: %s", err.msg);
    }
    char results_path[4200], trace_path[4200];
    snprintf(results_path, sizeof results_path, "%s/results.json", a.out);
    snprintf(trace_path, sizeof trace_path, "%s/trace.json", a.out);
    s.results_path = results_path;
    if (!a.no_kernels && session_trace(&s, a.m.trace ? a.m.trace : trace_path, &err)) {
        session_close(&s);
        return cli_error(1, "lab: %s", err.msg);
    }
    s.res.input_len = in, s.res.output_len = out;
    int lock = -1;
    if (session_check_inputs(&a.m, &err) || rl_mkdirs(a.out, &err) || (lock = rl_dir_lock(a.out, &err)) < 0 ||
        session_checkpoint(&s, &err)) {
        rl_dir_unlock(lock);
        session_close(&s);
        return cli_error(1, "lab: %s", err.msg);
    }
    if (!a.m.s.quiet)
        fprintf(stderr,
                "lab: %s on %s%s, %d decode batches (input %lld, output %lld), %d context points, %d prefill "
                "lengths -> %s\n",
                s.res.model.name, cuda ? "cuda" : "cpu", a.m.s.tp ? " (tensor parallel)" : "", nb, (long long)in,
                (long long)out, nc * ncb, nl, a.out);
    volatile sig_atomic_t *stop = session_install_stop();
    int rc = 0;
    if (session_roofs(&s, a.m.roofs, a.m.quick, &err) || session_checkpoint(&s, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.m.s.quiet) rl_probe_print(&s.res.probe, &s.res.device, stderr);

    rl_sweep_ctx ctx = session_sweep_ctx(&s, stop);
    if (a.m.warmup >= 0) ctx.warmup = (int)a.m.warmup;
    if (a.m.reps) ctx.reps = (int)a.m.reps;
    else if (a.m.quick) ctx.reps = 3;
    double weight = 0;
    for (int i = 0; i < nb; i++) weight += rl_sweep_point_weight(&s.res, RL_PHASE_DECODE, bs[i], in, out, ctx.warmup, 0);
    for (int i = 0; i < nl; i++) weight += rl_sweep_point_weight(&s.res, RL_PHASE_PREFILL, ls[i], 0, 0, ctx.warmup, ctx.reps);
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < ncb; i++) weight += rl_sweep_context_weight(&s.res, cbs[i], cs[c], out, ctx.warmup);
    int64_t kb = max_of(bs, nb) < 64 ? max_of(bs, nb) : 64;
    int64_t kl = max_of(ls, nl) < (cuda ? 1024 : 128) ? max_of(ls, nl) : (cuda ? 1024 : 128);
    int nk = a.no_kernels ? 0 : (kb > 1 ? 2 : 1) + 1;
    rl_progress_init(&s.progress, nb + nc * ncb + nl + nk, weight + nk, a.m.s.quiet);

    if (rl_sweep_decode(&ctx, &s.slot, bs, nb, in, out, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.no_kernels && !*stop) {
        session_kernels(&s, RL_PHASE_DECODE, 1, in);
        if (kb > 1 && !*stop) session_kernels(&s, RL_PHASE_DECODE, kb, in);
    }
    if (!*stop && rl_sweep_decode_context(&ctx, &s.slot, cs, nc, cbs, ncb, out, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!*stop && rl_sweep_prefill(&ctx, &s.slot, ls, nl, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    if (!a.no_kernels && !*stop) session_kernels(&s, RL_PHASE_PREFILL, kl, 0);
    rl_engine_slot_release(&s.slot);
    if (a.m.ncu && rl_ncu_import(a.m.ncu, &s.res, &err)) fprintf(stderr, "ridgeline: lab: %s (continuing)\n", err.msg);
    s.res.interrupted = *stop != 0;
    if (session_checkpoint(&s, &err)) {
        rc = cli_error(1, "lab: %s", err.msg);
        goto done;
    }
    rl_probe_print(&s.res.probe, &s.res.device, stdout);
    session_print_points(&s, RL_PHASE_DECODE, stdout);
    session_print_context_points(&s, stdout);
    session_print_points(&s, RL_PHASE_PREFILL, stdout);
    if (s.res.n_kernels || s.res.n_ncu) rl_kernels_print(&s.res, stdout);
    putchar('\n');
    rl_analysis_print(&s.res, &s.analysis, stdout);
    printf("wrote %s\n", results_path);
    fflush(stdout); /* the report's notes go to stderr: keep the order when both share a file */
    if (!a.no_report) {
        const char *paths[1] = {results_path};
        rl_report_opts ro = {paths, 1, NULL, 0, a.out, a.m.s.gpu_file, a.m.s.quiet, .holds_dir_lock = 1};
        if (rl_report_render(&ro, &err)) rc = cli_error(1, "lab: report: %s", err.msg);
        else printf("wrote %s/report.md\n", a.out);
    }
done:
    session_restore_stop();
    int stopped = *stop;
    session_close(&s);
    rl_dir_unlock(lock);
    if (!rc && stopped) {
        fprintf(stderr, "ridgeline: lab: interrupted (%s); the finished points are in %s\n", strsignal(stopped),
                results_path);
        return 128 + stopped;
    }
    return rc;
}
