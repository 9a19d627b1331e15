/* cmd_predict.c: `ridgeline predict`: per-operator roofline prediction, single point or sweep table. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../predict/predict.h"
#include "cli.h"

static const char *usage =
    "usage: ridgeline predict --gpu NAME|all --model MODEL (--decode --batch B --context C |\n"
    "                         --prefill --length L [--batch B]) [--dtype bf16] [--roofs FILE] [--json]\n"
    "       ridgeline predict --sweep decode|prefill [--gpu NAME|all] [--model MODEL] [--batches LIST]\n"
    "                         [--lengths LIST] [--context C] [--json]\n\n"
    "Predicts FLOPs, HBM bytes, arithmetic intensity, bound and time of every operator of one step:\n"
    "time = max(FLOPs / peak, bytes / bandwidth), with datasheet roofs or measured ones (--roofs FILE,\n"
    "the JSON `ridgeline probe` writes). Formulas: docs/cost-model.md.\n\n"
    "  --gpu NAME|all     GPU from `ridgeline gpus` (default H100); all = every GPU in the table\n"
    "  --model MODEL      preset (llama-3.1-8b, llama-3.1-70b, llama-3.2-1b, tiny) or config.json path\n"
    "                     (a path has a '/' or ends in .json; ./NAME for a file called NAME here)\n"
    "  --decode           one decode step: one new token for each of B sequences holding C cached tokens\n"
    "  --prefill          one forward over L prompt tokens (causal), logits for the last position only\n"
    "  --batch B          sequences (decode default 1, prefill default 1)\n"
    "  --context C        decode: tokens already in each KV cache (default 160 = input 128 + output 64/2)\n"
    "  --length L         prefill: prompt length\n"
    "  --dtype D          bf16 (default), fp16, fp8, tf32, fp32: sets the peak and the element sizes\n"
    "  --roofs FILE       measured roofs (read_gbps, gemm_tflops) instead of the datasheet\n"
    "  --gpu-file FILE    extra GPUs (see ridgeline gpus --help)\n"
    "  --sweep KIND       table over the seed's grid: decode B 1,4,16,64,128,256,512 or prefill L 64..4096,\n"
    "                     with the predicted crossing (smallest B or L that is compute-bound)\n"
    "  --batches LIST     decode sweep batches (comma-separated)\n"
    "  --lengths LIST     prefill sweep lengths\n"
    "  --json             machine-readable output\n";

typedef struct {
    const char *gpu, *model, *roofs_file, *gpu_file, *sweep;
    int decode, prefill, json;
    int64_t batch, context, length;
    int dtype;
    int64_t xs[64];
    int nx;
} predict_args;

static void set_elem_bytes(rl_workload *w, int dtype)
{
    int wb = dtype == RL_DT_FP8 ? 1 : (dtype == RL_DT_FP32 || dtype == RL_DT_TF32) ? 4 : 2;
    w->weight_bytes = wb;
    w->kv_bytes = wb;
    w->act_bytes = wb < 2 ? 2 : wb;
}

static cJSON *prediction_json(const rl_cost *c, const rl_prediction *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "flops", c->total_flops);
    cJSON_AddNumberToObject(o, "bytes", c->total_bytes);
    cJSON_AddNumberToObject(o, "intensity", p->intensity);
    cJSON_AddNumberToObject(o, "ridge", p->ridge);
    cJSON_AddNumberToObject(o, "time_ms", p->total_ms);
    cJSON_AddStringToObject(o, "bound", p->compute_bound_total ? "compute" : "memory");
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int i = 0; i < RL_OP_COUNT; i++) {
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", rl_op_names[i]);
        cJSON_AddNumberToObject(op, "flops", c->flops[i]);
        cJSON_AddNumberToObject(op, "bytes", c->bytes[i]);
        cJSON_AddNumberToObject(op, "intensity", c->bytes[i] > 0 ? c->flops[i] / c->bytes[i] : 0);
        cJSON_AddStringToObject(op, "bound", p->compute_bound[i] ? "compute" : "memory");
        cJSON_AddNumberToObject(op, "time_ms", p->time_ms[i]);
        cJSON_AddItemToArray(ops, op);
    }
    return o;
}

static int roofs_for(const rl_gpu *g, const predict_args *a, rl_roofs *r, rl_err *err)
{
    if (a->roofs_file) return rl_roofs_load(a->roofs_file, r, err);
    return rl_roofs_from_gpu(g, (rl_dtype)a->dtype, r, err);
}

static int predict_point(const rl_gpu *g, const rl_model_config *m, const predict_args *a, cJSON *json_out)
{
    rl_err err;
    rl_roofs r;
    if (roofs_for(g, a, &r, &err)) return cli_error(1, "%s", err.msg);
    rl_workload w = a->decode ? rl_workload_decode(a->batch, a->context) : rl_workload_prefill(a->batch, a->length);
    set_elem_bytes(&w, a->dtype);
    rl_cost c;
    rl_prediction p;
    rl_cost_step(m, &w, &c);
    rl_predict(&c, &r, &p);
    if (json_out) {
        cJSON *o = prediction_json(&c, &p);
        cJSON_AddStringToObject(o, "gpu", g->name);
        cJSON_AddStringToObject(o, "model", m->name);
        cJSON_AddStringToObject(o, "phase", a->decode ? "decode" : "prefill");
        cJSON_AddNumberToObject(o, "batch", (double)a->batch);
        if (a->decode) cJSON_AddNumberToObject(o, "context", (double)a->context);
        else cJSON_AddNumberToObject(o, "length", (double)a->length);
        cJSON_AddStringToObject(o, "dtype", rl_dtype_names[a->dtype]);
        cJSON_AddStringToObject(o, "roofs", r.origin);
        cJSON_AddNumberToObject(o, "bandwidth_gbps", r.bandwidth_gbps);
        cJSON_AddNumberToObject(o, "peak_tflops", r.peak_tflops);
        cJSON_AddItemToArray(json_out, o);
        return 0;
    }
    if (a->decode)
        printf("%s on %s, decode batch %lld, context %lld, %s (%s roofs: %.0f GB/s, %.1f TFLOP/s, ridge %.0f)\n",
               m->name, g->name, (long long)a->batch, (long long)a->context, rl_dtype_names[a->dtype], r.origin,
               r.bandwidth_gbps, r.peak_tflops, p.ridge);
    else
        printf("%s on %s, prefill length %lld, batch %lld, %s (%s roofs: %.0f GB/s, %.1f TFLOP/s, ridge %.0f)\n",
               m->name, g->name, (long long)a->length, (long long)a->batch, rl_dtype_names[a->dtype], r.origin,
               r.bandwidth_gbps, r.peak_tflops, p.ridge);
    printf("  %-13s %12s %12s %10s %8s %10s %6s\n", "op", "GFLOP", "MB", "FLOP/B", "bound", "ms", "share");
    for (int i = 0; i < RL_OP_COUNT; i++)
        printf("  %-13s %12.3f %12.3f %10.2f %8s %10.4f %5.1f%%\n", rl_op_names[i], c.flops[i] * 1e-9, c.bytes[i] * 1e-6,
               c.bytes[i] > 0 ? c.flops[i] / c.bytes[i] : 0, p.compute_bound[i] ? "compute" : "memory", p.time_ms[i],
               100 * p.time_ms[i] / p.total_ms);
    printf("  %-13s %12.3f %12.3f %10.2f %8s %10.4f\n", "total", c.total_flops * 1e-9, c.total_bytes * 1e-6,
           p.intensity, p.compute_bound_total ? "compute" : "memory", p.total_ms);
    return 0;
}

static int predict_sweep(const rl_gpu *g, const rl_model_config *m, const predict_args *a, cJSON *json_out)
{
    rl_err err;
    rl_roofs r;
    if (roofs_for(g, a, &r, &err)) return cli_error(1, "%s", err.msg);
    int decode = !strcmp(a->sweep, "decode");
    int64_t crossing = rl_predict_crossing(m, decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, a->context, &r, 1 << 20);
    cJSON *o = NULL, *pts = NULL;
    if (json_out) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gpu", g->name);
        cJSON_AddStringToObject(o, "model", m->name);
        cJSON_AddStringToObject(o, "sweep", a->sweep);
        if (decode) cJSON_AddNumberToObject(o, "context", (double)a->context);
        cJSON_AddNumberToObject(o, "ridge", r.peak_tflops * 1e12 / (r.bandwidth_gbps * 1e9));
        if (crossing) cJSON_AddNumberToObject(o, "crossing", (double)crossing);
        else cJSON_AddNullToObject(o, "crossing");
        pts = cJSON_AddArrayToObject(o, "points");
        cJSON_AddItemToArray(json_out, o);
    } else {
        printf("%s %s sweep on %s (ridge %.0f FLOP/B, %s roofs)%s\n", m->name, a->sweep, g->name,
               r.peak_tflops * 1e12 / (r.bandwidth_gbps * 1e9), r.origin,
               decode ? ", KV context per step" : ", batch 1");
        printf("  %8s %10s %10s %8s %11s %12s\n", decode ? "batch" : "length", "FLOP/B", "GB", "bound", "ms/step",
               decode ? "ms/token" : "us/token");
    }
    for (int i = 0; i < a->nx; i++) {
        rl_workload w = decode ? rl_workload_decode(a->xs[i], a->context) : rl_workload_prefill(1, a->xs[i]);
        set_elem_bytes(&w, a->dtype);
        rl_cost c;
        rl_prediction p;
        rl_cost_step(m, &w, &c);
        rl_predict(&c, &r, &p);
        if (pts) {
            cJSON *pt = cJSON_CreateObject();
            cJSON_AddNumberToObject(pt, "x", (double)a->xs[i]);
            cJSON_AddNumberToObject(pt, "flops", c.total_flops);
            cJSON_AddNumberToObject(pt, "bytes", c.total_bytes);
            cJSON_AddNumberToObject(pt, "intensity", p.intensity);
            cJSON_AddStringToObject(pt, "bound", p.compute_bound_total ? "compute" : "memory");
            cJSON_AddNumberToObject(pt, "time_ms", p.total_ms);
            cJSON_AddItemToArray(pts, pt);
        } else {
            printf("  %8lld %10.1f %10.3f %8s %11.3f %12.4f\n", (long long)a->xs[i], p.intensity, c.total_bytes * 1e-9,
                   p.compute_bound_total ? "compute" : "memory", p.total_ms,
                   decode ? p.total_ms / (double)a->xs[i] : 1e3 * p.total_ms / (double)a->xs[i]);
        }
    }
    if (!json_out) {
        if (crossing) printf("  predicted crossing: %s %lld is the smallest compute-bound %s\n\n", decode ? "batch" : "length",
                             (long long)crossing, decode ? "batch" : "length");
        else printf("  predicted crossing: none up to 2^20 (attention keeps the step memory-bound)\n\n");
    }
    return 0;
}

int cmd_predict(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    predict_args a = {.gpu = "H100", .model = "llama-3.1-8b", .batch = 1, .context = 160, .dtype = RL_DT_BF16};
    const char *batches = NULL, *lengths = NULL;
    int have_batch = 0;
    rl_err err;
    static const struct option opts[] = {
        {"gpu", required_argument, 0, 'g'},    {"model", required_argument, 0, 'm'},
        {"decode", no_argument, 0, 'd'},       {"prefill", no_argument, 0, 'p'},
        {"batch", required_argument, 0, 'b'},  {"context", required_argument, 0, 'c'},
        {"length", required_argument, 0, 'l'}, {"dtype", required_argument, 0, 't'},
        {"roofs", required_argument, 0, 'r'},  {"gpu-file", required_argument, 0, 'f'},
        {"sweep", required_argument, 0, 's'},  {"batches", required_argument, 0, 'B'},
        {"lengths", required_argument, 0, 'L'}, {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0}};
    int ch;
    optind = 1;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (ch) {
        case 'g': a.gpu = optarg; break;
        case 'm': a.model = optarg; break;
        case 'd': a.decode = 1; break;
        case 'p': a.prefill = 1; break;
        case 'b':
            if (rl_parse_i64(optarg, 1, 1 << 20, "--batch", &a.batch, &err)) return cli_error(2, "predict: %s", err.msg);
            have_batch = 1;
            break;
        case 'c':
            if (rl_parse_i64(optarg, 0, 1 << 24, "--context", &a.context, &err)) return cli_error(2, "predict: %s", err.msg);
            break;
        case 'l':
            if (rl_parse_i64(optarg, 1, 1 << 24, "--length", &a.length, &err)) return cli_error(2, "predict: %s", err.msg);
            break;
        case 't':
            a.dtype = rl_dtype_from_name(optarg);
            if (a.dtype < 0) return cli_error(2, "predict: --dtype: unknown dtype '%s' (known: fp32, tf32, bf16, fp16, fp8)", optarg);
            break;
        case 'r': a.roofs_file = optarg; break;
        case 'f': a.gpu_file = optarg; break;
        case 's': a.sweep = optarg; break;
        case 'B': batches = optarg; break;
        case 'L': lengths = optarg; break;
        case 'j': a.json = 1; break;
        default: return cli_error(2, "predict: unknown or incomplete option '%s' (see ridgeline predict --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "predict: unexpected argument '%s'", argv[optind]);
    if (a.sweep) {
        if (strcmp(a.sweep, "decode") && strcmp(a.sweep, "prefill"))
            return cli_error(2, "predict: --sweep must be 'decode' or 'prefill', not '%s'", a.sweep);
        static const int64_t seed_b[] = {1, 4, 16, 64, 128, 256, 512}, seed_l[] = {64, 128, 256, 512, 1024, 2048, 4096};
        const char *list = !strcmp(a.sweep, "decode") ? batches : lengths;
        if (list) {
            a.nx = rl_parse_i64_list(list, 1, 1 << 20, !strcmp(a.sweep, "decode") ? "--batches" : "--lengths", a.xs, 64, &err);
            if (a.nx < 0) return cli_error(2, "predict: %s", err.msg);
        } else {
            a.nx = 7;
            memcpy(a.xs, !strcmp(a.sweep, "decode") ? seed_b : seed_l, sizeof seed_b);
        }
    } else {
        if (a.decode == a.prefill) return cli_error(2, "predict: give exactly one of --decode or --prefill (or --sweep)");
        if (a.prefill && a.length <= 0) return cli_error(2, "predict: --prefill needs --length L");
        (void)have_batch;
    }
    rl_model_config m;
    if (rl_model_resolve(a.model, &m, &err)) return cli_error(1, "%s", err.msg);
    rl_gpu_table t;
    if (rl_gpu_table_load(a.gpu_file, &t, &err)) return cli_error(1, "%s", err.msg);
    int all = rl_name_eq(a.gpu, "all");
    const rl_gpu *one = NULL;
    if (!all && !(one = rl_gpu_find(&t, a.gpu, &err))) {
        rl_gpu_table_free(&t);
        return cli_error(1, "%s", err.msg);
    }
    cJSON *arr = a.json ? cJSON_CreateArray() : NULL;
    int rc = 0;
    for (int i = 0; i < t.n && !rc; i++) {
        const rl_gpu *g = all ? &t.gpus[i] : one;
        if (all && g->peak_tflops[a.dtype] <= 0) continue;
        rc = a.sweep ? predict_sweep(g, &m, &a, arr) : predict_point(g, &m, &a, arr);
        if (!all) break;
    }
    if (arr && !rc) {
        /* One GPU, one point: a single object (CONTRACT.md); otherwise an array. */
        cJSON *out = (!all && !a.sweep) ? cJSON_DetachItemFromArray(arr, 0) : arr;
        cli_print_json(out);
        if (out != arr) cJSON_Delete(out);
    }
    cJSON_Delete(arr);
    rl_gpu_table_free(&t);
    return rc;
}
