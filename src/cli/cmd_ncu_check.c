/* cmd_ncu_check.c: `ridgeline ncu-check`: the cost model's bytes against Nsight Compute's DRAM
 * counters, per operator and per step (ncu_check.h), into ncu-check.json. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../measure/ncu_check.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline ncu-check --case STEP.json,NCU.csv [--case ...] --out FILE [--command TEXT] [--quiet]\n\n"
    "Joins each step file (`ridgeline step --plan-out`) with the Nsight Compute CSV of that step\n"
    "(`ncu --csv --metrics dram__bytes_read.sum,dram__bytes_write.sum ...`, scripts/ncu-check.sh): every\n"
    "profiled kernel is tied to the launch it came from (its \"rl#N\" NVTX name, else its position and\n"
    "the plan's kernel counts), its DRAM bytes are shared among that launch's operators in proportion to\n"
    "their modelled bytes, and the cost model's bytes of each operator and of the whole step are set\n"
    "beside them. Writes {device, commit, command, cases: [{phase, x, model_bytes, dram_bytes, ops:\n"
    "[{op, model_bytes, dram_bytes}]}]} and prints a table.\n\n"
    "  --case S,C     a step file and its ncu CSV (repeat per step)\n"
    "  --out FILE     ncu-check.json (results/<gpu>/ncu-check.json)\n"
    "  --command TEXT the profiler command, recorded in the file (default: this command line)\n";

#define MAX_CASES 16

static void print_case(const rl_ncu_case *c, FILE *f)
{
    fprintf(f, "\n%s %s=%lld: model %.3f GB, DRAM %.3f GB (%+.1f%%), %d kernels of %d launches (%s)%s\n",
            rl_phase_name(c->phase), c->phase == RL_PHASE_DECODE ? "B" : "L", (long long)c->x, c->model_bytes * 1e-9,
            c->dram_bytes * 1e-9, c->model_bytes > 0 ? 100 * (c->dram_bytes - c->model_bytes) / c->model_bytes : 0,
            c->kernels, c->launches, c->attributed_by, c->unattributed ? " (some kernels unattributed)" : "");
    fprintf(f, "  %-13s %12s %12s %8s\n", "op", "model MB", "DRAM MB", "DRAM/model");
    for (int op = 0; op < RL_OP_COUNT; op++)
        if (c->op_model_bytes[op] > 0 || c->op_dram_bytes[op] > 0)
            fprintf(f, "  %-13s %12.3f %12.3f %7.2fx\n", rl_op_names[op], c->op_model_bytes[op] * 1e-6,
                    c->op_dram_bytes[op] * 1e-6, c->op_model_bytes[op] > 0 ? c->op_dram_bytes[op] / c->op_model_bytes[op] : 0);
}

/* One --case: STEP,CSV. */
static int run_case(const char *arg, cJSON *cases, char *device, size_t dn, char *commit, size_t cn, int quiet,
                    rl_err *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", arg);
    char *comma = strchr(buf, ',');
    if (!comma || !comma[1] || comma == buf) return rl_fail(err, "--case '%s': expected STEP.json,NCU.csv", arg);
    *comma = 0;
    const char *step = buf, *csv = comma + 1;
    rl_step_plan sp;
    if (rl_step_plan_load(step, &sp, err)) return -1;
    rl_model_config m;
    rl_ncu_launch *v = NULL;
    int n = 0, rc = -1;
    rl_ncu_case c;
    if (rl_model_resolve(sp.model, &m, err)) {
        rl_wrap(err, "%s: model", step);
        goto done;
    }
    if (rl_ncu_read_launches(csv, &v, &n, err)) goto done;
    if (rl_ncu_check_case(&sp, &m, v, n, &c, err)) {
        rl_wrap(err, "%s + %s", step, csv);
        goto done;
    }
    if (!device[0]) snprintf(device, dn, "%s", sp.device);
    if (!commit[0]) snprintf(commit, cn, "%s", sp.commit);
    cJSON *o = rl_ncu_case_to_json(&c);
    cJSON_AddStringToObject(o, "step_file", step);
    cJSON_AddStringToObject(o, "ncu_csv", csv);
    cJSON_AddItemToArray(cases, o);
    if (!quiet) print_case(&c, stdout);
    rc = 0;
done:
    free(v);
    rl_step_plan_free(&sp);
    return rc;
}

int cmd_ncu_check(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    static const struct option opts[] = {{"case", required_argument, 0, 'c'}, {"out", required_argument, 0, 'o'},
                                         {"command", required_argument, 0, 'C'}, {"quiet", no_argument, 0, 'q'},
                                         {0, 0, 0, 0}};
    const char *cases[MAX_CASES], *out = NULL, *command = NULL;
    int n = 0, quiet = 0, ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': {
            const char *comma = strchr(optarg, ',');
            if (!comma || comma == optarg || !comma[1])
                return cli_error(2, "ncu-check: --case '%s': expected STEP.json,NCU.csv", optarg);
            if (n == MAX_CASES) return cli_error(2, "ncu-check: at most %d --case", MAX_CASES);
            cases[n++] = optarg;
            break;
        }
        case 'o': out = optarg; break;
        case 'C': command = optarg; break;
        case 'q': quiet = 1; break;
        default: return cli_error(2, "ncu-check: unknown or incomplete option '%s' (see ridgeline ncu-check --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "ncu-check: unexpected argument '%s'", argv[optind]);
    if (!n) return cli_error(2, "ncu-check: give at least one --case STEP.json,NCU.csv");
    if (!out) return cli_error(2, "ncu-check: --out FILE is required");
    char self[2048] = "ridgeline";
    for (int i = 0; i < argc; i++) {
        size_t l = strlen(self);
        snprintf(self + l, sizeof self - l, " %s", argv[i]);
    }
    cJSON *root = cJSON_CreateObject();
    char device[128] = "", commit[64] = "";
    cJSON *arr = cJSON_CreateArray();
    rl_err err;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++)
        if (run_case(cases[i], arr, device, sizeof device, commit, sizeof commit, quiet, &err)) rc = 1;
    if (!rc) {
        cJSON_AddStringToObject(root, "schema", "ridgeline-ncu-check/1");
        cJSON_AddStringToObject(root, "device", device);
        cJSON_AddStringToObject(root, "commit", commit);
        cJSON_AddStringToObject(root, "command", command ? command : self);
        cJSON_AddStringToObject(root, "method",
                                "DRAM bytes = dram__bytes_read.sum + dram__bytes_write.sum of every kernel of one step "
                                "(Nsight Compute, graph kernel nodes profiled one by one), each kernel tied to its "
                                "launch and shared among the launch's operators by their modelled bytes; model bytes "
                                "= rl_cost_step of the same step (docs/cost-model.md)");
        cJSON_AddItemToObject(root, "cases", arr);
        arr = NULL;
        if (rl_json_save(out, root, &err)) rc = 1;
        else if (!quiet) printf("\nwrote %s\n", out);
    }
    cJSON_Delete(arr);
    cJSON_Delete(root);
    return rc ? cli_error(1, "ncu-check: %s", err.msg) : 0;
}
