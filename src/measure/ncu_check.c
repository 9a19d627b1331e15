/* ncu_check.c: step files and the join of a step's launch plan with Nsight Compute's per-kernel
 * DRAM bytes (ncu_check.h). Pure host code: unit-tested on committed fixtures (tests/data/ncu). */
#include "ncu_check.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "results.h"

int rl_step_plan_save(const rl_step_plan *sp, const char *path, rl_err *err)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return rl_fail(err, "%s: out of memory", path);
    cJSON_AddStringToObject(o, "schema", "ridgeline-step/1");
    cJSON_AddStringToObject(o, "device", sp->device);
    cJSON_AddStringToObject(o, "commit", sp->commit);
    cJSON_AddStringToObject(o, "model", sp->model);
    cJSON_AddStringToObject(o, "dtype", sp->dtype);
    cJSON_AddStringToObject(o, "phase", rl_phase_name(sp->phase));
    cJSON_AddNumberToObject(o, "x", (double)sp->x);
    cJSON_AddNumberToObject(o, "batch", (double)sp->batch);
    if (sp->phase == RL_PHASE_DECODE) cJSON_AddNumberToObject(o, "context", (double)sp->context);
    cJSON_AddBoolToObject(o, "kernels_known", sp->kernels_known);
    cJSON *a = cJSON_AddArrayToObject(o, "launches");
    for (int i = 0; i < sp->plan.n; i++) {
        const rl_plan_entry *l = &sp->plan.v[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "kernel", l->kernel);
        cJSON *ops = cJSON_AddArrayToObject(e, "ops");
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (l->op_mask & RL_OPMASK(op)) cJSON_AddItemToArray(ops, cJSON_CreateString(rl_op_names[op]));
        cJSON_AddNumberToObject(e, "layer", l->layer);
        cJSON_AddNumberToObject(e, "n_kernels", l->n_kernels);
        cJSON_AddItemToArray(a, e);
    }
    int rc = rl_json_save(path, o, err);
    cJSON_Delete(o);
    return rc;
}

static int get_str(const cJSON *o, const char *path, const char *field, char *buf, size_t n, rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, field);
    if (!cJSON_IsString(it)) return rl_fail(err, "%s: field '%s' must be a string", path, field);
    snprintf(buf, n, "%s", it->valuestring);
    return 0;
}

static int read_launch(const cJSON *e, const char *where, rl_launch_plan *plan, rl_err *err)
{
    char kernel[48];
    int64_t layer, nk;
    unsigned mask = 0;
    if (!cJSON_IsObject(e)) return rl_fail(err, "%s: must be an object", where);
    if (get_str(e, where, "kernel", kernel, sizeof kernel, err) ||
        rl_json_get_i64(e, where, "layer", 0, -1, &layer, err) ||
        rl_json_get_i64(e, where, "n_kernels", 0, 1, &nk, err))
        return -1;
    const cJSON *ops = cJSON_GetObjectItemCaseSensitive(e, "ops"), *op;
    if (!cJSON_IsArray(ops)) return rl_fail(err, "%s: field 'ops' must be an array of operator names", where);
    cJSON_ArrayForEach(op, ops)
    {
        int k = 0;
        while (k < RL_OP_COUNT && !(cJSON_IsString(op) && !strcmp(op->valuestring, rl_op_names[k]))) k++;
        if (k == RL_OP_COUNT) return rl_fail(err, "%s: 'ops' holds an unknown operator", where);
        mask |= RL_OPMASK(k);
    }
    if (nk < 0 || nk > 64) return rl_fail(err, "%s: field 'n_kernels' must be 0..64", where);
    return rl_launch_plan_push(plan, kernel, mask, (int)layer, 1, (int)nk, err);
}

int rl_step_plan_load(const char *path, rl_step_plan *sp, rl_err *err)
{
    memset(sp, 0, sizeof *sp);
    cJSON *o = rl_json_load(path, err);
    if (!o) return -1;
    char phase[16];
    int rc = -1;
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(o, "schema"), *a, *e;
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, "ridgeline-step/1")) {
        rl_fail(err, "%s: not a step file (schema ridgeline-step/1, written by ridgeline step --plan-out)", path);
        goto done;
    }
    if (get_str(o, path, "device", sp->device, sizeof sp->device, err) ||
        get_str(o, path, "commit", sp->commit, sizeof sp->commit, err) ||
        get_str(o, path, "model", sp->model, sizeof sp->model, err) ||
        get_str(o, path, "dtype", sp->dtype, sizeof sp->dtype, err) ||
        get_str(o, path, "phase", phase, sizeof phase, err) || rl_json_get_i64(o, path, "x", 1, 0, &sp->x, err) ||
        rl_json_get_i64(o, path, "batch", 0, 1, &sp->batch, err) ||
        rl_json_get_i64(o, path, "context", 0, 0, &sp->context, err))
        goto done;
    if (strcmp(phase, "decode") && strcmp(phase, "prefill")) {
        rl_fail(err, "%s: field 'phase' must be \"decode\" or \"prefill\"", path);
        goto done;
    }
    sp->phase = strcmp(phase, "decode") ? RL_PHASE_PREFILL : RL_PHASE_DECODE;
    sp->kernels_known = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "kernels_known"));
    a = cJSON_GetObjectItemCaseSensitive(o, "launches");
    if (!cJSON_IsArray(a) || !cJSON_GetArraySize(a)) {
        rl_fail(err, "%s: field 'launches' must be a non-empty array", path);
        goto done;
    }
    {
        int i = 0;
        cJSON_ArrayForEach(e, a)
        {
            char where[1100];
            snprintf(where, sizeof where, "%s: launches[%d]", path, i++);
            if (read_launch(e, where, &sp->plan, err)) goto done;
        }
    }
    rc = 0;
done:
    cJSON_Delete(o);
    if (rc) rl_step_plan_free(sp);
    return rc;
}

void rl_step_plan_free(rl_step_plan *sp) { rl_launch_plan_free(&sp->plan); }

/* The launch an ncu kernel is named after: "rl#17" anywhere in the name (ncu --print-nvtx-rename
 * kernel names it after the innermost NVTX range, which the engine opens per launch). -1 when none. */
static int64_t nvtx_launch(const char *name)
{
    const char *p = strstr(name, "rl#");
    if (!p || p[3] < '0' || p[3] > '9') return -1;
    return strtoll(p + 3, NULL, 10);
}

int rl_ncu_check_case(const rl_step_plan *sp, const rl_model_config *m, rl_ncu_launch *launches, int n,
                      rl_ncu_case *out, rl_err *err)
{
    memset(out, 0, sizeof *out);
    out->phase = sp->phase, out->x = sp->x, out->context = sp->context;
    rl_kernel_activity *acts = calloc((size_t)(n > 0 ? n : 1), sizeof *acts);
    if (!acts) return rl_fail(err, "ncu-check: out of host memory");
    int named = 0;
    for (int i = 0; i < n; i++) {
        if (launches[i].dram_bytes < 0) {
            free(acts);
            return rl_fail(err, "ncu launch %s (%s) has no dram__bytes_read.sum / dram__bytes_write.sum: profile with "
                                "--metrics dram__bytes_read.sum,dram__bytes_write.sum",
                           launches[i].id, launches[i].kernel);
        }
        acts[i].start_ns = (uint64_t)i, acts[i].end_ns = (uint64_t)i + 1; /* file order is launch order */
        acts[i].launch = nvtx_launch(launches[i].kernel);
        snprintf(acts[i].symbol, sizeof acts[i].symbol, "%s", launches[i].kernel);
        named += acts[i].launch >= 0;
    }
    snprintf(out->attributed_by, sizeof out->attributed_by, named ? "NVTX launch ranges" : "kernel counts");
    /* Kernels named after launches the plan does not have, or launches no kernel is named after: the
     * step file and the CSV are of different steps. */
    int *hits = calloc((size_t)sp->plan.n, sizeof *hits);
    if (!hits) {
        free(acts);
        return rl_fail(err, "ncu-check: out of host memory");
    }
    int bad = -1;
    for (int i = 0; named && i < n; i++) {
        if (acts[i].launch >= sp->plan.n) bad = i;
        else if (acts[i].launch >= 0) hits[acts[i].launch]++;
    }
    int missing = -1;
    for (int j = 0; named && j < sp->plan.n && missing < 0; j++)
        if (!hits[j]) missing = j;
    free(hits);
    if (bad >= 0 || missing >= 0) {
        if (bad >= 0)
            rl_fail(err, "ncu launch %s is named after launch %lld, the step file has %d launches: the CSV and the step "
                         "file are of different steps",
                    launches[bad].id, (long long)acts[bad].launch, sp->plan.n);
        else
            rl_fail(err, "no ncu kernel is named after launch %d (%s) of the step file: the CSV and the step file are "
                         "of different steps",
                    missing, sp->plan.v[missing].kernel);
        free(acts);
        return -1;
    }
    rl_err e;
    const int kept = rl_kernel_assign(&sp->plan, acts, n, &e);
    if (kept < 0) {
        free(acts);
        return rl_fail(err, "%s %s=%lld: %s%s", rl_phase_name(sp->phase), sp->phase == RL_PHASE_DECODE ? "B" : "L",
                       (long long)sp->x, e.msg,
                       sp->kernels_known ? "" : " (an eager step: profile with --nvtx --print-nvtx-rename kernel so each "
                                                "kernel carries its launch)");
    }
    rl_workload w = sp->phase == RL_PHASE_DECODE ? rl_workload_decode(sp->batch, sp->context)
                                                 : rl_workload_prefill(sp->batch > 0 ? sp->batch : 1, sp->x);
    rl_workload_set_dtype_name(&w, sp->dtype);
    rl_cost c;
    rl_cost_step(m, &w, &c);
    /* Modelled bytes of each operator per launch claiming it: the DRAM bytes of a launch are shared
     * among its operators in these proportions. */
    double claims[RL_OP_COUNT] = {0};
    for (int j = 0; j < sp->plan.n; j++)
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (sp->plan.v[j].op_mask & RL_OPMASK(op)) claims[op]++;
    for (int op = 0; op < RL_OP_COUNT; op++) out->op_model_bytes[op] = c.bytes[op];
    for (int i = 0; i < n; i++) {
        const int64_t j = acts[i].launch;
        const double dram = launches[i].dram_bytes;
        if (j < 0) {
            out->unattributed++;
            continue;
        }
        const unsigned mask = sp->plan.v[j].op_mask;
        double model = 0;
        int ops = 0;
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (mask & RL_OPMASK(op)) model += c.bytes[op] / claims[op], ops++;
        for (int op = 0; op < RL_OP_COUNT; op++) {
            if (!(mask & RL_OPMASK(op))) continue;
            out->op_dram_bytes[op] += model > 0 ? dram * (c.bytes[op] / claims[op]) / model : dram / ops;
        }
        out->dram_bytes += dram;
        out->kernels++;
    }
    out->model_bytes = c.total_bytes;
    out->launches = sp->plan.n;
    free(acts);
    return 0;
}

cJSON *rl_ncu_case_to_json(const rl_ncu_case *c)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", rl_phase_name(c->phase));
    cJSON_AddNumberToObject(o, "x", (double)c->x);
    if (c->phase == RL_PHASE_DECODE) cJSON_AddNumberToObject(o, "context", (double)c->context);
    cJSON_AddNumberToObject(o, "model_bytes", c->model_bytes);
    cJSON_AddNumberToObject(o, "dram_bytes", c->dram_bytes);
    rl_json_add_number_or_null(o, "dram_vs_model_pct",
                               c->model_bytes > 0 ? 100 * (c->dram_bytes - c->model_bytes) / c->model_bytes : NAN);
    cJSON_AddNumberToObject(o, "launches", c->launches);
    cJSON_AddNumberToObject(o, "kernels", c->kernels);
    cJSON_AddNumberToObject(o, "unattributed_kernels", c->unattributed);
    cJSON_AddStringToObject(o, "attributed_by", c->attributed_by);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (c->op_model_bytes[op] <= 0 && c->op_dram_bytes[op] <= 0) continue;
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "op", rl_op_names[op]);
        cJSON_AddNumberToObject(e, "model_bytes", c->op_model_bytes[op]);
        cJSON_AddNumberToObject(e, "dram_bytes", c->op_dram_bytes[op]);
        cJSON_AddItemToArray(ops, e);
    }
    return o;
}
