/* main.c: the ridgeline entry point: subcommand dispatch, --help, --version. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "cli.h"

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} command;

static const command commands[] = {
    {"gpus", cmd_gpus, "GPU table: bandwidth, peak FLOP/s per dtype, ridge points"},
    {"models", cmd_models, "model presets or a config.json: geometry and parameter count"},
    {"predict", cmd_predict, "roofline prediction per operator for a decode step or a prefill"},
    {"logits", cmd_logits, "one forward pass over tokens; prints the logits"},
    {"generate", cmd_generate, "greedy generation; prints token ids and tokens/s"},
    {"probe", cmd_probe, "measure the roofs: memory bandwidth, GEMM FLOP/s, launch latency"},
    {"sweep", cmd_sweep, "measure decode (batch) or prefill (length) sweeps against predictions"},
    {"lab", cmd_lab, "the whole lab: probe, sweeps, per-kernel roofline, analysis, report"},
    {"report", cmd_report, "render report.md, report.json and charts from results files"},
    {"step", cmd_step, "one step the lab's way, profiled alone (for ncu); writes its launch plan"},
    {"ncu-check", cmd_ncu_check, "the cost model's bytes against Nsight Compute's DRAM counters"},
};

int cli_error(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("ridgeline: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return status;
}

int cli_print_json(const cJSON *v)
{
    char *s = cJSON_Print(v);
    if (!s) return 1;
    puts(s);
    cJSON_free(s);
    return 0;
}

int cli_wants_help(int argc, char **argv, const char *usage)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(usage, stdout);
            return 1;
        }
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "ridgeline %s: a roofline lab for LLM inference\n\n"
            "Tells you before you run whether an LLM decode step or prefill is memory- or compute-bound\n"
            "on a GPU, then runs it on its own Llama engine and shows how close it came to the roof.\n\n"
            "usage: ridgeline COMMAND [options]   (ridgeline COMMAND --help for its options)\n\ncommands:\n",
            rl_version());
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version   print the version and the commit it was built from\n"
               "  --help      this text\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return cli_finish_stdout("--help", 0);
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("ridgeline %s (commit %s)\n", rl_version(), rl_build_commit());
        return cli_finish_stdout("--version", 0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return cli_finish_stdout(argv[1], commands[i].fn(argc - 1, argv + 1));
    return cli_error(2, "unknown command '%s' (try ridgeline --help)", argv[1]);
}
