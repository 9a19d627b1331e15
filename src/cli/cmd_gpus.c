/* cmd_gpus.c: `ridgeline gpus [--json|--csv|--md] [--gpu-file FILE]`. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../hw/gpu.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline gpus [--json|--csv|--md] [--gpu-file FILE]\n\n"
    "The GPU table: HBM bandwidth (GB/s = 1e9 B/s), dense peak TFLOP/s per dtype, and the ridge point\n"
    "(peak / bandwidth, FLOP/byte) computed for each dtype. Datasheet sources are listed per row.\n\n"
    "  --json            JSON array (name, bandwidth_gbps, peak_tflops{dtype}, ridge{dtype}, memory_gb, source)\n"
    "  --csv             CSV, one row per GPU\n"
    "  --md              markdown table\n"
    "  --gpu-file FILE   add or override GPUs: JSON array of {name, bandwidth_gbps, peak_tflops{...}}\n";

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
    const char *gpu_file = NULL;
    static const struct option opts[] = {{"json", no_argument, 0, 'j'}, {"csv", no_argument, 0, 'c'},
                                         {"md", no_argument, 0, 'm'},   {"gpu-file", required_argument, 0, 'g'},
                                         {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'j': fmt = JSON; break;
        case 'c': fmt = CSV; break;
        case 'm': fmt = MD; break;
        case 'g': gpu_file = optarg; break;
        default: return cli_error(2, "gpus: unknown or incomplete option '%s' (see ridgeline gpus --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "gpus: unexpected argument '%s'", argv[optind]);
    rl_gpu_table t;
    rl_err err;
    if (rl_gpu_table_load(gpu_file, &t, &err)) return cli_error(1, "%s", err.msg);
    if (fmt == JSON) {
        cJSON *arr = cJSON_CreateArray();
        for (int i = 0; i < t.n; i++) cJSON_AddItemToArray(arr, gpu_json(&t.gpus[i]));
        cli_print_json(arr);
        cJSON_Delete(arr);
    } else if (fmt == CSV) {
        printf("name,bandwidth_gbps");
        for (int d = 0; d < RL_DT_COUNT; d++) printf(",peak_%s_tflops", rl_dtype_names[d]);
        for (int d = 0; d < RL_DT_COUNT; d++) printf(",ridge_%s", rl_dtype_names[d]);
        printf(",memory_gb,source\n");
        for (int i = 0; i < t.n; i++) {
            const rl_gpu *g = &t.gpus[i];
            csv_field(g->name, 0);
            printf(",%g", g->bandwidth_gbps);
            for (int d = 0; d < RL_DT_COUNT; d++) g->peak_tflops[d] > 0 ? printf(",%g", g->peak_tflops[d]) : printf(",");
            for (int d = 0; d < RL_DT_COUNT; d++)
                g->peak_tflops[d] > 0 ? printf(",%.1f", rl_gpu_ridge(g, (rl_dtype)d)) : printf(",");
            printf(",%g,", g->memory_gb);
            csv_field(g->source, 1);
            putchar('\n');
        }
    } else {
        const char *sep = fmt == MD ? " | " : "  ";
        if (fmt == MD) printf("| ");
        printf("%-10s%s%8s%s%7s%s%7s%s%7s%s%7s%s%7s%s%10s%s%10s%s%9s", "GPU", sep, "BW GB/s", sep, "fp32", sep, "tf32",
               sep, "bf16", sep, "fp16", sep, "fp8", sep, "ridge bf16", sep, "ridge fp8", sep, "memory GB");
        printf(fmt == MD ? " |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n" : "\n");
        for (int i = 0; i < t.n; i++) {
            const rl_gpu *g = &t.gpus[i];
            char name[2 * sizeof g->name];
            if (fmt == MD) printf("| ");
            printf("%-10s%s%8.0f", fmt == MD ? md_cell(g->name, name, sizeof name) : g->name, sep, g->bandwidth_gbps);
            for (int d = 0; d < RL_DT_COUNT; d++) {
                if (g->peak_tflops[d] > 0) printf("%s%7.1f", sep, g->peak_tflops[d]);
                else printf("%s%7s", sep, "-");
            }
            printf("%s%10.0f", sep, rl_gpu_ridge(g, RL_DT_BF16));
            if (g->peak_tflops[RL_DT_FP8] > 0) printf("%s%10.0f", sep, rl_gpu_ridge(g, RL_DT_FP8));
            else printf("%s%10s", sep, "-");
            printf("%s%9.0f%s\n", sep, g->memory_gb, fmt == MD ? " |" : "");
        }
        if (fmt == TEXT) {
            printf("\npeaks: dense TFLOP/s; ridge = peak / bandwidth (FLOP/byte). Sources:\n");
            for (int i = 0; i < t.n; i++) printf("  %-10s %s\n", t.gpus[i].name, t.gpus[i].source);
        }
    }
    rl_gpu_table_free(&t);
    return 0;
}
