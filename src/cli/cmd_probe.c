/* cmd_probe.c: `ridgeline probe`: measures this machine's roofs and writes the JSON that
 * `predict --roofs FILE` and `sweep --roofs FILE` read. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "cli.h"
#include "session.h"

static const char *usage =
    "usage: ridgeline probe [--backend cpu|cuda] [--model MODEL] [--json] [--out FILE] [--quick] [--quiet]\n"
    "                       [--threads N] [--gpus N] [--nccl-lib PATH]\n\n"
    "Measures the roofs the predictions use instead of the datasheet:\n"
    "  cuda: HBM read-only, write-only and copy (read + write counted) bandwidth with our own 16-byte-access\n"
    "        kernels over >= 1 GiB buffers (median of 20 event-timed runs); bf16 GEMM TFLOP/s through\n"
    "        cuBLASLt on an 8192^3 square (the FLOPs roof) and on MODEL's prefill projections at L = 4096\n"
    "        (qkv, o, gate_up, down); kernel-launch latency and CUDA-graph per-node overhead; SM and memory\n"
    "        clocks, power and temperature through NVML; with two GPUs or more, the interconnect of tensor\n"
    "        parallelism: NCCL bf16 all-reduce latency and bus bandwidth from 8 KB to 256 MB\n"
    "        (interconnect_gbps, allreduce_latency_us: what predict --tp --roofs FILE reads).\n"
    "  cpu:  all-thread read/write/copy bandwidth over a buffer 8x the last-level cache; fp32 GFLOP/s of the\n"
    "        CPU engine's matrix kernel.\n"
    "GB = 1e9 bytes, TFLOP/s = 1e12 FLOP/s.\n\n"
    "  --backend B    cpu or cuda (default: cuda when a GPU is present, else cpu)\n"
    "  --model M      model whose GEMM shapes are timed (default llama-3.1-8b on cuda, tiny on cpu)\n"
    "  --out FILE     write the JSON there (atomically; a device or FIFO is written in place); read it\n"
    "                 back with predict/sweep --roofs FILE\n"
    "  --json         print the JSON instead of the table\n"
    "  --quick        smaller buffers and problems, fewer repetitions (tests; not for reported figures)\n"
    CLI_HELP_THREADS("    ")
    "  --gpus N       cuda: the all-reduces span GPUs 0..N-1 (default: every visible GPU; 1: skipped)\n"
    "  --nccl-lib P   the NCCL library (default libnccl.so.2 on the loader path, then the one the build found)\n"
    "  --quiet        no progress lines on stderr\n";

static cJSON *probe_doc(const session *s)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "schema", "ridgeline-probe/1");
    cJSON *tool = cJSON_AddObjectToObject(root, "tool");
    cJSON_AddStringToObject(tool, "version", rl_version());
    cJSON_AddStringToObject(tool, "commit", rl_build_commit());
    cJSON_AddStringToObject(tool, "command", s->res.command);
    cJSON_AddStringToObject(tool, "date", s->res.date);
    cJSON_AddItemToObject(root, "device", rl_device_to_json(&s->res.device));
    cJSON_AddStringToObject(root, "model", s->res.model.name);
    cJSON *roofs = rl_probe_to_json(&s->res.probe);
    if (s->res.have_datasheet) {
        cJSON *ds = cJSON_AddObjectToObject(roofs, "datasheet");
        cJSON_AddStringToObject(ds, "name", s->res.datasheet.name);
        cJSON_AddNumberToObject(ds, "bandwidth_gbps", s->res.datasheet.bandwidth_gbps);
        cJSON_AddNumberToObject(ds, "peak_tflops", s->res.datasheet.peak_tflops[RL_DT_BF16]);
        cJSON_AddNumberToObject(ds, "read_pct", 100 * s->res.probe.read_gbps / s->res.datasheet.bandwidth_gbps);
        cJSON_AddNumberToObject(ds, "gemm_pct", 100 * s->res.probe.gemm_tflops / s->res.datasheet.peak_tflops[RL_DT_BF16]);
    } else {
        cJSON_AddNullToObject(roofs, "datasheet");
    }
    rl_roofs measured;
    if (!rl_results_roofs(&s->res, &measured)) cJSON_AddNumberToObject(roofs, "ridge", rl_roofs_ridge(&measured));
    cJSON_AddItemToObject(root, "roofs", roofs);
    if (s->res.n_samples) {
        const rl_nvml_sample *t = &s->res.samples[s->res.n_samples - 1];
        cJSON *tel = cJSON_AddObjectToObject(root, "telemetry");
        cJSON_AddNumberToObject(tel, "sm_clock_mhz", t->sm_clock_mhz);
        cJSON_AddNumberToObject(tel, "mem_clock_mhz", t->mem_clock_mhz);
        cJSON_AddNumberToObject(tel, "power_w", t->power_w);
        cJSON_AddNumberToObject(tel, "temp_c", t->temp_c);
        cJSON_AddNumberToObject(tel, "clock_event_reasons", (double)t->clock_event_reasons);
    } else {
        cJSON_AddNullToObject(root, "telemetry");
        cJSON_AddStringToObject(root, "telemetry_note", s->res.telemetry_note);
    }
    return root;
}

int cmd_probe(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    session_args a = {.seed = CLI_SEED_DEFAULT};
    const char *out = NULL;
    int json = 0, quick = 0;
    rl_err err;
    static const struct option opts[] = {{"backend", required_argument, 0, 'b'}, {"model", required_argument, 0, 'm'},
                                         {"out", required_argument, 0, 'o'},     {"json", no_argument, 0, 'j'},
                                         {"quick", no_argument, 0, 'q'},         {"quiet", no_argument, 0, 'Q'},
                                         {"threads", required_argument, 0, 't'}, {"gpu-file", required_argument, 0, 'g'},
                                         {"gpus", required_argument, 0, 'G'},    {"nccl-lib", required_argument, 0, 'Y'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'b': a.backend = optarg; break;
        case 'm': a.model = optarg; break;
        case 'o': out = optarg; break;
        case 'j': json = 1; break;
        case 'q': quick = 1; break;
        case 'Q': a.quiet = 1; break;
        case 'g': a.gpu_file = optarg; break;
        case 't':
            if (cli_parse_threads(optarg, &a.threads, &err)) return cli_error(2, "probe: %s", err.msg);
            break;
        case 'G': {
            int64_t v;
            if (rl_parse_i64(optarg, 1, 64, "--gpus", &v, &err)) return cli_error(2, "probe: %s", err.msg);
            a.probe_gpus = (int)v;
            break;
        }
        case 'Y': a.nccl_lib = optarg; break;
        default: return cli_error(2, "probe: unknown or incomplete option '%s' (see ridgeline probe --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "probe: unexpected argument '%s'", argv[optind]);
    rl_backend b;
    if (a.backend && rl_backend_from_name(a.backend, &b, &err)) return cli_error(2, "probe: %s", err.msg);
    session s;
    if (session_open(&s, &a, argc, argv, &err)) {
        session_close(&s);
        return cli_error(1, "probe: %s", err.msg);
    }
    int rc = 0;
    if (session_roofs(&s, NULL, quick, &err)) {
        rc = cli_error(1, "probe: %s", err.msg);
    } else {
        cJSON *doc = probe_doc(&s);
        if (out && rl_json_save(out, doc, &err)) rc = cli_error(1, "probe: %s", err.msg);
        if (!rc) {
            if (json) {
                cli_print_json(doc);
            } else {
                rl_probe_print(&s.res.probe, &s.res.device, stdout);
                if (s.res.have_datasheet)
                    printf("  datasheet %s: %.0f GB/s, %.0f TFLOP/s bf16: measured read %.0f%%, GEMM %.0f%%\n",
                           s.res.datasheet.name, s.res.datasheet.bandwidth_gbps, s.res.datasheet.peak_tflops[RL_DT_BF16],
                           100 * s.res.probe.read_gbps / s.res.datasheet.bandwidth_gbps,
                           100 * s.res.probe.gemm_tflops / s.res.datasheet.peak_tflops[RL_DT_BF16]);
                if (s.res.n_samples) {
                    const rl_nvml_sample *t = &s.res.samples[s.res.n_samples - 1];
                    printf("  telemetry SM %.0f MHz, memory %.0f MHz, %.0f W, %.0f C\n", t->sm_clock_mhz, t->mem_clock_mhz,
                           t->power_w, t->temp_c);
                } else {
                    printf("  %s\n", s.res.telemetry_note);
                }
                if (out) printf("wrote %s\n", out);
            }
        }
        cJSON_Delete(doc);
    }
    session_close(&s);
    return rc;
}
