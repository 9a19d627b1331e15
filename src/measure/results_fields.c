/* results_fields.c: the results.json field table (results_fields.h) and the two walkers. */
#include "results_fields.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"

#define F(rec, member, json, type, flags) {json, type, offsetof(rec, member), sizeof(((rec *)0)->member), flags}

static const rl_field point_f[] = {
    F(rl_point, sweep, "sweep", RL_FT_PHASE, RL_FF_REQUIRED),
    F(rl_point, x, "x", RL_FT_I64, RL_FF_REQUIRED),
    F(rl_point, ok, "status", RL_FT_STATUS, 0),
    F(rl_point, error, "error", RL_FT_STR, RL_FF_IF_FAILED),
    F(rl_point, ms, "ms", RL_FT_F64, RL_FF_IF_OK | RL_FF_REQUIRED),
    F(rl_point, p10, "p10", RL_FT_F64, RL_FF_IF_OK | RL_FF_NULL_NEG),
    F(rl_point, p90, "p90", RL_FT_F64, RL_FF_IF_OK | RL_FF_NULL_NEG),
    F(rl_point, min_ms, "min_ms", RL_FT_F64, RL_FF_IF_OK | RL_FF_NULL_NEG),
    F(rl_point, max_ms, "max_ms", RL_FT_F64, RL_FF_IF_OK | RL_FF_NULL_NEG),
    F(rl_point, predicted_ms, "predicted_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, predicted_datasheet_ms, "predicted_datasheet_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, estimated_ms, "estimated_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, estimated_latency_ms, "estimated_latency_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, estimated_kernels, "estimated_kernels", RL_FT_INT, RL_FF_OMIT_ZERO),
    F(rl_point, compute_bound, "bound", RL_FT_BOUND, 0),
    F(rl_point, intensity, "intensity", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, flops, "flops", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, bytes, "bytes", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_point, tokens_per_s, "tokens_per_s", RL_FT_F64, RL_FF_IF_OK | RL_FF_NULL_NEG),
    F(rl_point, prefill_ms, "prefill_ms", RL_FT_F64, RL_FF_IF_OK | RL_FF_DECODE | RL_FF_NULL_NEG),
    F(rl_point, seed_ms_per_token, "seed_ms_per_token", RL_FT_F64, RL_FF_IF_OK | RL_FF_DECODE | RL_FF_NULL_NEG),
    F(rl_point, input_len, "input_len", RL_FT_I64, RL_FF_DECODE | RL_FF_NULL_NEG),
    F(rl_point, output_len, "output_len", RL_FT_I64, RL_FF_DECODE | RL_FF_NULL_NEG),
    F(rl_point, context, "context", RL_FT_I64, RL_FF_DECODE | RL_FF_NULL_NEG),
    F(rl_point, context_sweep, "context_sweep", RL_FT_BOOL, RL_FF_DECODE | RL_FF_OMIT_ZERO),
    F(rl_point, batch, "batch", RL_FT_I64, RL_FF_NULL_NEG),
    F(rl_point, reps, "reps", RL_FT_INT, RL_FF_IF_OK | RL_FF_OMIT_ZERO),
};

static const rl_field kernel_f[] = {
    F(rl_kernel_row, phase, "phase", RL_FT_PHASE, RL_FF_REQUIRED),
    F(rl_kernel_row, x, "x", RL_FT_I64, RL_FF_REQUIRED),
    F(rl_kernel_row, kernel, "kernel", RL_FT_STR, RL_FF_REQUIRED),
    F(rl_kernel_row, symbol, "symbol", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_kernel_row, op_mask, "ops", RL_FT_OPS, 0),
    F(rl_kernel_row, calls, "calls", RL_FT_INT, 0),
    F(rl_kernel_row, ms, "ms", RL_FT_F64, RL_FF_REQUIRED),
    F(rl_kernel_row, busy_ms, "busy_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_kernel_row, flops, "flops", RL_FT_F64, 0),
    F(rl_kernel_row, bytes, "bytes", RL_FT_F64, 0),
    F(rl_kernel_row, link_bytes, "link_bytes", RL_FT_F64, RL_FF_OMIT_ZERO),
    F(rl_kernel_row, shared, "shared", RL_FT_BOOL, RL_FF_OMIT_ZERO),
};

static const rl_field choice_f[] = {
    F(rl_linear_choice, op, "op", RL_FT_STR, RL_FF_REQUIRED),
    F(rl_linear_choice, tokens, "tokens", RL_FT_INT, RL_FF_REQUIRED),
    F(rl_linear_choice, n, "n", RL_FT_INT, 0),
    F(rl_linear_choice, k, "k", RL_FT_INT, 0),
    F(rl_linear_choice, kernel, "kernel", RL_FT_STR, RL_FF_REQUIRED),
    F(rl_linear_choice, ms, "ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_linear_choice, alt_ms, "alt_ms", RL_FT_F64, RL_FF_NULL_NEG),
};

static const rl_field profile_f[] = {
    F(rl_profile, phase, "phase", RL_FT_PHASE, RL_FF_REQUIRED),
    F(rl_profile, x, "x", RL_FT_I64, RL_FF_REQUIRED),
    F(rl_profile, timing, "timing", RL_FT_TIMING, RL_FF_REQUIRED),
    F(rl_profile, kernels_ms, "kernels_ms", RL_FT_F64, RL_FF_REQUIRED),
    F(rl_profile, step_ms, "step_ms", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_profile, steps, "steps", RL_FT_INT, 0),
    F(rl_profile, kernels, "kernels", RL_FT_INT, 0),
    F(rl_profile, note, "note", RL_FT_STR, RL_FF_NULL_EMPTY),
};

static const rl_field probe_f[] = {
    F(rl_probe, read_gbps, "read_gbps", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, gemm_tflops, "gemm_tflops", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, write_gbps, "write_gbps", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, copy_gbps, "copy_gbps", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, buffer_bytes, "buffer_bytes", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, gemm_square_tflops, "gemm_square_tflops", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, gemm_square_n, "gemm_square_n", RL_FT_I64, RL_FF_OMIT_ZERO),
    F(rl_probe, launch_us, "launch_us", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, graph_node_us, "graph_node_us", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, empty_node_us, "empty_node_us", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, kernel_min_us, "kernel_min_us", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, dtype, "dtype", RL_FT_STR, 0),
    F(rl_probe, reps, "reps", RL_FT_INT, RL_FF_OMIT_ZERO),
    F(rl_probe, method, "method", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_probe, interconnect_gbps, "interconnect_gbps", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, allreduce_latency_us, "allreduce_latency_us", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_probe, interconnect_gpus, "interconnect_gpus", RL_FT_INT, RL_FF_OMIT_ZERO),
    F(rl_probe, interconnect_note, "interconnect_note", RL_FT_STR, RL_FF_NULL_EMPTY),
};

static const rl_field device_f[] = {
    F(rl_device_info, name, "name", RL_FT_STR, 0),
    F(rl_device_info, backend, "backend", RL_FT_STR, 0),
    F(rl_device_info, table_name, "table_name", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_device_info, driver, "driver", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_device_info, cuda_runtime, "cuda_runtime", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_device_info, pci_bus_id, "pci_bus_id", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_device_info, code_path, "code_path", RL_FT_STR, RL_FF_NULL_EMPTY),
    F(rl_device_info, sm_count, "sm_count", RL_FT_INT, RL_FF_OMIT_ZERO),
    F(rl_device_info, threads, "threads", RL_FT_INT, RL_FF_OMIT_ZERO),
    F(rl_device_info, memory_gb, "memory_gb", RL_FT_F64, RL_FF_NULL_NEG),
    F(rl_device_info, l2_mb, "l2_mb", RL_FT_F64, RL_FF_NULL_NEG),
};

static const rl_field tool_f[] = {
    F(rl_results, version, "version", RL_FT_STR, 0),
    F(rl_results, commit, "commit", RL_FT_STR, 0),
    F(rl_results, command, "command", RL_FT_STR, 0),
    F(rl_results, date, "date", RL_FT_STR, 0),
};

static const rl_field model_f[] = {
    F(rl_results, model.name, "name", RL_FT_STR, 0),
    F(rl_results, dtype, "dtype", RL_FT_STR, 0),
    F(rl_results, weights, "weights", RL_FT_STR, 0),
    F(rl_results, tp, "tp", RL_FT_INT, RL_FF_OMIT_ZERO),
};

#define TABLE(a) {a, (int)(sizeof a / sizeof a[0])}
const rl_field_table rl_point_fields = TABLE(point_f), rl_kernel_fields = TABLE(kernel_f),
                     rl_profile_fields = TABLE(profile_f), rl_probe_fields = TABLE(probe_f),
                     rl_device_fields = TABLE(device_f), rl_tool_fields = TABLE(tool_f),
                     rl_model_fields = TABLE(model_f), rl_choice_fields = TABLE(choice_f);

#define CONDITIONS (RL_FF_IF_OK | RL_FF_IF_FAILED | RL_FF_DECODE)

unsigned rl_point_context(const rl_point *p)
{
    return (p->ok ? RL_FF_IF_OK : RL_FF_IF_FAILED) | (p->sweep == RL_PHASE_DECODE ? RL_FF_DECODE : 0);
}

static int applies(const rl_field *f, unsigned ctx) { return (f->flags & CONDITIONS & ~ctx) == 0; }

static void write_number(cJSON *o, const rl_field *f, double v)
{
    if ((f->flags & RL_FF_OMIT_ZERO) && v == 0) return;
    rl_json_add_number_or_null(o, f->name, (f->flags & RL_FF_NULL_NEG) && v < 0 ? NAN : v);
}

void rl_fields_write(cJSON *o, const rl_field_table *t, const void *rec, unsigned ctx)
{
    for (int i = 0; i < t->n; i++) {
        const rl_field *f = &t->f[i];
        const char *p = (const char *)rec + f->offset;
        if (!applies(f, ctx)) continue;
        switch (f->type) {
        case RL_FT_F64: write_number(o, f, *(const double *)p); break;
        case RL_FT_I64: write_number(o, f, (double)*(const int64_t *)p); break;
        case RL_FT_INT: write_number(o, f, *(const int *)p); break;
        case RL_FT_STR:
            if (f->flags & RL_FF_NULL_EMPTY) rl_json_add_string_or_null(o, f->name, p);
            else cJSON_AddStringToObject(o, f->name, p);
            break;
        case RL_FT_BOOL:
            if (!(f->flags & RL_FF_OMIT_ZERO) || *(const int *)p) cJSON_AddBoolToObject(o, f->name, *(const int *)p);
            break;
        case RL_FT_PHASE: cJSON_AddStringToObject(o, f->name, rl_phase_name(*(const rl_phase *)p)); break;
        case RL_FT_STATUS: cJSON_AddStringToObject(o, f->name, *(const int *)p ? "ok" : "failed"); break;
        case RL_FT_BOUND: cJSON_AddStringToObject(o, f->name, *(const int *)p ? "compute" : "memory"); break;
        case RL_FT_TIMING: cJSON_AddStringToObject(o, f->name, rl_timing_name(*(const rl_timing *)p)); break;
        case RL_FT_OPS: {
            cJSON *a = cJSON_AddArrayToObject(o, f->name);
            for (int op = 0; op < RL_OP_COUNT; op++)
                if (*(const unsigned *)p & RL_OPMASK(op)) cJSON_AddItemToArray(a, cJSON_CreateString(rl_op_names[op]));
            break;
        }
        }
    }
}

/* One string field that must be one of two words. */
static int read_choice(const cJSON *it, const char *where, const rl_field *f, const char *yes, const char *no,
                       int *out, rl_err *err)
{
    if (cJSON_IsString(it) && !strcmp(it->valuestring, yes)) *out = 1;
    else if (cJSON_IsString(it) && !strcmp(it->valuestring, no)) *out = 0;
    else if (cJSON_IsString(it))
        return rl_fail(err, "%s: field '%s' is '%s', expected \"%s\" or \"%s\"", where, f->name, it->valuestring, yes, no);
    else return rl_fail(err, "%s: field '%s' must be \"%s\" or \"%s\"", where, f->name, yes, no);
    return 0;
}

static int read_one(const cJSON *o, const char *where, const rl_field *f, char *p, rl_err *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, f->name);
    const int absent = !it || cJSON_IsNull(it);
    if (absent && (f->flags & RL_FF_REQUIRED)) {
        if (f->type == RL_FT_PHASE)
            return rl_fail(err, "%s: field '%s' must be \"decode\" or \"prefill\"", where, f->name);
        return rl_fail(err, "%s: required field '%s' is missing", where, f->name);
    }
    const double missing = (f->flags & RL_FF_NULL_NEG) ? -1 : 0;
    switch (f->type) {
    case RL_FT_F64: return rl_json_get_f64(o, where, f->name, 0, missing, (double *)p, err);
    case RL_FT_I64: return rl_json_get_i64(o, where, f->name, 0, (int64_t)missing, (int64_t *)p, err);
    case RL_FT_INT: {
        int64_t v;
        if (rl_json_get_i64(o, where, f->name, 0, (int64_t)missing, &v, err)) return -1;
        if (v < -2147483647LL || v > 2147483647LL) return rl_fail(err, "%s: field '%s' is out of range", where, f->name);
        *(int *)p = (int)v;
        return 0;
    }
    case RL_FT_STR:
        if (absent) p[0] = 0;
        else if (!cJSON_IsString(it)) return rl_fail(err, "%s: field '%s' must be a string", where, f->name);
        else snprintf(p, f->size, "%s", it->valuestring);
        return 0;
    case RL_FT_BOOL:
        if (!absent && !cJSON_IsBool(it)) return rl_fail(err, "%s: field '%s' must be true or false", where, f->name);
        *(int *)p = !absent && cJSON_IsTrue(it);
        return 0;
    case RL_FT_PHASE: {
        int decode = 0;
        if (read_choice(it, where, f, "decode", "prefill", &decode, err)) return -1;
        *(rl_phase *)p = decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL;
        return 0;
    }
    case RL_FT_STATUS:
        if (absent) {
            *(int *)p = 1;
            return 0;
        }
        return read_choice(it, where, f, "ok", "failed", (int *)p, err);
    case RL_FT_BOUND:
        if (absent) {
            *(int *)p = 0;
            return 0;
        }
        return read_choice(it, where, f, "compute", "memory", (int *)p, err);
    case RL_FT_TIMING: {
        const int t = cJSON_IsString(it) ? rl_timing_from_name(it->valuestring) : -1;
        if (t < 0) return rl_fail(err, "%s: field '%s' must be \"cupti\" or \"events\"", where, f->name);
        *(rl_timing *)p = (rl_timing)t;
        return 0;
    }
    case RL_FT_OPS: {
        unsigned mask = 0;
        const cJSON *op;
        if (!absent && !cJSON_IsArray(it))
            return rl_fail(err, "%s: field '%s' must be an array of operator names", where, f->name);
        const cJSON *list = absent ? NULL : it;
        cJSON_ArrayForEach(op, list)
        {
            if (!cJSON_IsString(op)) return rl_fail(err, "%s: field '%s' must hold operator names", where, f->name);
            for (int k = 0; k < RL_OP_COUNT; k++)
                if (!strcmp(op->valuestring, rl_op_names[k])) mask |= RL_OPMASK(k);
        }
        *(unsigned *)p = mask;
        return 0;
    }
    }
    return 0;
}

int rl_fields_read(const cJSON *o, const char *where, const rl_field_table *t, void *rec, unsigned ctx, rl_err *err)
{
    for (int i = 0; i < t->n; i++)
        if (applies(&t->f[i], ctx) && read_one(o, where, &t->f[i], (char *)rec + t->f[i].offset, err)) return -1;
    return 0;
}
