/* cmd_gpus.c: `ridgeline gpus [--json|--csv|--md] [--gpu-file FILE] [--match DEVICE_NAME]`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../hw/gpu.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline gpus [--json|--csv|--md] [--gpu-file FILE] [--match DEVICE_NAME]\n\n"
    "The GPU table: HBM bandwidth (GB/s = 1e9 B/s), dense peak TFLOP/s per dtype (int8: TOPS), the ridge\n"
    "point (peak / bandwidth, FLOP/byte) computed for each dtype, and the tensor-parallel interconnect.\n"
    "Datasheet sources are listed per row.\n\n"
    "  --json            JSON array (name, bandwidth_gbps, peak_tflops{dtype}, ridge{dtype}, memory_gb, source)\n"
    "  --csv             CSV, one row per GPU\n"
    "  --md              markdown table\n"
    "  --gpu-file FILE   add or override GPUs: JSON array of {name, bandwidth_gbps, peak_tflops{...},\n"
    "                    optional memory_gb, interconnect_gbps, allreduce_latency_us, aliases, source}\n"
    "  --match NAME      only the row a driver-reported name matches (\"NVIDIA A100-PCIE-40GB\"),\n"
    "                    as the lab picks it; exit 1 when none does\n";

static cJSON *gpu_json(const rl_gpu *g)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", g->name);
    cJSON_AddNumberToObject(o, "bandwidth_gbps", g->bandwidth_gbps);
    cJSON *pk = cJSON_AddObjectToObject(o, "peak_tflops");
    cJSON *rd = cJSON_AddObjectToObject(o, "ridge");
    for (int d = 0; d < RL_DT_COUNT; d++) {
        if (g->peak_tflops[d] <= 0) continue;
        cJSON_AddNumberToObject(pk, rl_dtype_names[d], g->peak_tflops[d]);
        cJSON_AddNumberToObject(rd, rl_dtype_names[d], rl_gpu_ridge(g, (rl_dtype)d));
    }
    if (g->memory_gb > 0) cJSON_AddNumberToObject(o, "memory_gb", g->memory_gb);
    cJSON_AddStringToObject(o, "source", g->source);
    cJSON_AddNumberToObject(o, "interconnect_gbps", g->link_gbps);
    cJSON_AddNumberToObject(o, "allreduce_latency_us", g->allreduce_us);
    cJSON_AddStringToObject(o, "interconnect_source", g->link_source);
    return o;
}

/* A CSV field as RFC 4180 has it: quoted (quotes doubled) when it holds a comma, a quote or a line
 * break (or always), so a --gpu-file name cannot add columns or rows. */
static void csv_field(const char *s, int always)
{
    if (!always && !strpbrk(s, ",\"\r\n")) {
        fputs(s, stdout);
        return;
    }
    putchar('"');
    for (; *s; s++) {
        if (*s == '"') putchar('"');
        putchar(*s);
    }
    putchar('"');
}

/* A markdown table cell: '|' escaped, line breaks as spaces, so a name stays in its cell. */
static const char *md_cell(const char *s, char *buf, size_t n)
{
    size_t j = 0;
    for (; *s && j + 2 < n; s++) {
        if (*s == '|') buf[j++] = '\\';
        buf[j++] = *s == '\n' || *s == '\r' ? ' ' : *s;
    }
    buf[j] = 0;
    return buf;
}

int cmd_gpus(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    enum { TEXT, JSON, CSV, MD } fmt = TEXT;
    const char *gpu_file = NULL, *match = NULL;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"csv", no_argument, 0, 'c'},
                                         {"md", no_argument, 0, 'm'},   {"gpu-file", required_argument, 0, 'g'},
                                         {"match", required_argument, 0, 'M'}, {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': fmt = JSON; break;
        case 'c': fmt = CSV; break;
        case 'm': fmt = MD; break;
        case 'g': gpu_file = optarg; break;
        case 'M': match = optarg; break;
        default: return cli_error(2, "gpus: unknown or incomplete option '%s' (see ridgeline gpus --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "gpus: unexpected argument '%s'", argv[optind]);
    rl_gpu_table t;
    rl_err err;
    if (rl_gpu_table_load(gpu_file, &t, &err)) return cli_error(1, "%s", err.msg);
    if (match) {
        const rl_gpu *g = rl_gpu_match_device(&t, match);
        if (!g) {
            rl_gpu_table_free(&t);
            return cli_error(1, "gpus: no table row matches the device name '%s' (add one with --gpu-file)", match);
        }
        if (fmt == JSON) {
            cJSON *o = gpu_json(g);
            cli_print_json(o);
            cJSON_Delete(o);
        } else {
            printf("%s\n", g->name);
        }
        rl_gpu_table_free(&t);
        return 0;
    }
    if (fmt == JSON) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < t.n; i++) cJSON_AddItemToArray(arr, gpu_json(&t.gpus[i]));
        cli_print_json(arr);
        cJSON_Delete(arr);
    } else if (fmt == CSV) {
        printf("name,bandwidth_gbps");
        for (int d = 0; d < RL_DT_COUNT; d++) printf(",peak_%s_tflops", rl_dtype_names[d]);
        for (int d = 0; d < RL_DT_COUNT; d++) printf(",ridge_%s", rl_dtype_names[d]);
        printf(",memory_gb,interconnect_gbps,allreduce_latency_us,source\n");
        for (int i = 0; i < t.n; i++) {
            const rl_gpu *g = &t.gpus[i];
            csv_field(g->name, 0);
            printf(",%g", g->bandwidth_gbps);
            for (int d = 0; d < RL_DT_COUNT; d++) g->peak_tflops[d] > 0 ? printf(",%g", g->peak_tflops[d]) : printf(",");
            for (int d = 0; d < RL_DT_COUNT; d++)
                g->peak_tflops[d] > 0 ? printf(",%.1f", rl_gpu_ridge(g, (rl_dtype)d)) : printf(",");
            printf(",%g,%g,%g,", g->memory_gb, g->link_gbps, g->allreduce_us);
            csv_field(g->source, 1);
            putchar('\n');
        }
    } else {
        const char *sep = fmt == MD ? " | " : "  ";
        if (fmt == MD) printf("| ");
        /* Peaks per dtype, then the ridge of each precision the matmuls can run in, the TP link. */
        static const rl_dtype ridges[] = {RL_DT_BF16, RL_DT_FP8, RL_DT_INT8};
        printf("%-10s%s%8s", "GPU", sep, "BW GB/s");
        for (int d = 0; d < RL_DT_COUNT; d++) printf("%s%7s", sep, rl_dtype_names[d]);
        for (int k = 0; k < 3; k++) printf("%sridge %-4s", sep, rl_dtype_names[ridges[k]]);
        printf("%s%9s%s%9s", sep, "link GB/s", sep, "memory GB");
        if (fmt == MD) {
            printf(" |\n|---|---:");
            for (int d = 0; d < RL_DT_COUNT + 5; d++) printf("|---:");
            printf("|\n");
        } else {
            printf("\n");
        }
        for (int i = 0; i < t.n; i++) {
            const rl_gpu *g = &t.gpus[i];
            char name[2 * sizeof g->name];
            if (fmt == MD) printf("| ");
            printf("%-14s%s%8.0f", fmt == MD ? md_cell(g->name, name, sizeof name) : g->name, sep, g->bandwidth_gbps);
            for (int d = 0; d < RL_DT_COUNT; d++) {
                if (g->peak_tflops[d] > 0) printf("%s%7.1f", sep, g->peak_tflops[d]);
                else printf("%s%7s", sep, "-");
            }
            for (int k = 0; k < 3; k++) {
                if (g->peak_tflops[ridges[k]] > 0) printf("%s%10.0f", sep, rl_gpu_ridge(g, ridges[k]));
                else printf("%s%10s", sep, "-");
            }
            printf("%s%9.0f%s%9.0f%s\n", sep, g->link_gbps, sep, g->memory_gb, fmt == MD ? " |" : "");
        }
        if (fmt == TEXT) {
            printf("\npeaks: dense TFLOP/s (int8: TOPS); ridge = peak / bandwidth (FLOP/byte) of the precision the\n"
                   "matmuls run in (bf16/fp16, fp8, int8 weights; int4 weights run bf16 matmuls); link: tensor-parallel\n"
                   "interconnect per direction, with the all-reduce latency `predict --tp` uses. Sources:\n");
            for (int i = 0; i < t.n; i++)
                printf("  %-10s %s; link %s, %.0f us per all-reduce\n", t.gpus[i].name, t.gpus[i].source,
                       t.gpus[i].link_source[0] ? t.gpus[i].link_source : "unknown", t.gpus[i].allreduce_us);
        }
    }
    rl_gpu_table_free(&t);
    return 0;
}
