/* cmd_report.c: `ridgeline report`: report.md, report.json and charts from results files and
 * imported CSV measurements. Reads files only; never runs the engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/report.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline report RESULTS.json... [--import-csv FILE]... [--gpu-file FILE] --out DIR [--quiet]\n\n"
    "Renders DIR/report.md, DIR/report.json and the charts (figure1, roofline: .svg, .png and the .gp\n"
    "gnuplot scripts) from one or more results files (docs/results-schema.md) and imported CSV\n"
    "measurements (sweep,gpu,x,ms with # comments, like the seed's; quoted fields and a UTF-8 BOM are\n"
    "fine). One row per GPU and engine; the seed's GPUs (H200, H100, A100-PCIe, L40S) without\n"
    "measurements get predicted rows. Every measurement faster than its GPU's datasheet roofs allow\n"
    "is listed under violations.\n"
    "How to read it: docs/report.md.\n\n"
    "  RESULTS.json       results of `ridgeline lab` / `ridgeline sweep` or a peer engine\n"
    "  --import-csv FILE  measurements to import (repeatable); decode values are whole run / output tokens\n"
    "  --gpu-file FILE    extra or overriding GPU table rows (see ridgeline gpus --help)\n"
    "  --out DIR          output directory (created if missing; refused while another report or lab\n"
    "                     writes it)\n"
    "  --quiet            no summary line on stderr\n";

int cmd_report(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    const char **results = calloc((size_t)argc + 1, sizeof *results);
    const char **csvs = calloc((size_t)argc + 1, sizeof *csvs);
    if (!results || !csvs) {
        free(results);
        free(csvs);
        return cli_error(1, "report: out of memory");
    }
    rl_report_opts o = {results, 0, csvs, 0, NULL, NULL, 0, 0};
    int status = 0;
    for (int i = 1; i < argc && !status; i++) {
        const char *a = argv[i];
        int takes_value = !strcmp(a, "--import-csv") || !strcmp(a, "--out") || !strcmp(a, "--gpu-file");
        if (takes_value && i + 1 >= argc) {
            status = cli_error(2, "report: %s needs a value\n%s", a, usage);
        } else if (!strcmp(a, "--import-csv")) {
            csvs[o.n_csv++] = argv[++i];
        } else if (!strcmp(a, "--out")) {
            o.out_dir = argv[++i];
        } else if (!strcmp(a, "--gpu-file")) {
            o.gpu_file = argv[++i];
        } else if (!strcmp(a, "--quiet")) {
            o.quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            status = cli_error(2, "report: unknown option '%s' (see ridgeline report --help)", a);
        } else {
            results[o.n_results++] = a;
        }
    }
    if (!status && !o.out_dir) status = cli_error(2, "report: --out DIR is required (see ridgeline report --help)");
    if (!status && o.n_results + o.n_csv == 0)
        status = cli_error(2, "report: give at least one RESULTS.json or --import-csv FILE (see --help)");
    if (!status) {
        rl_err err;
        if (rl_report_render(&o, &err)) status = cli_error(1, "%s", err.msg);
    }
    free(results);
    free(csvs);
    return status;
}
