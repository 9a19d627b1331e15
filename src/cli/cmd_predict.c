/* cmd_predict.c: `ridgeline predict`: per-operator roofline prediction of one step (the sweep
 * tables are in cmd_predict_sweep.c). */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../predict/launch_plan.h"
#include "cli.h"
#include "predict_cli.h"

static const char *usage =
    "usage: ridgeline predict --gpu NAME|all --model MODEL (--decode --batch B --context C |\n"
    "                         --prefill --length L [--batch B]) [--weight-dtype D] [--kv-dtype D] [--tp N]\n"
    "                         [--roofs FILE] [--json]\n"
    "       ridgeline predict --sweep decode|prefill [--gpu NAME|all] [--model MODEL] [--batches LIST]\n"
    "                         [--lengths LIST] [--context C|LIST] [--weight-dtype D] [--tp N] [--json]\n\n"
    "Predicts FLOPs, HBM bytes, arithmetic intensity, bound and time of every operator of one step:\n"
    "time = max(FLOPs / peak, bytes / bandwidth), with datasheet roofs or measured ones (--roofs FILE,\n"
    "the JSON `ridgeline probe` writes). Formulas: docs/cost-model.md.\n\n"
    "  --gpu NAME|all     GPU from `ridgeline gpus` (default H100); all = every GPU in the table\n"
    "  --model MODEL      preset (`ridgeline models`) or a Hugging Face config.json of model_type llama,\n"
    "                     mistral, qwen2, qwen3, mixtral or qwen3_moe\n"
    "                     (a path has a '/' or ends in .json; ./NAME for a file called NAME here)\n"
    "  --decode           one decode step: one new token for each of B sequences holding C cached tokens\n"
    "  --prefill          one forward over L prompt tokens (causal), logits for the last position only\n"
    "  --batch B          sequences (decode default 1, prefill default 1)\n"
    "  --context C        decode: tokens already in each KV cache (default 160 = input 128 + output 64/2);\n"
    "                     with --sweep decode a list (1024,8192,...): one table per KV depth\n"
    "  --length L         prefill: prompt length\n"
    "  --weight-dtype D   bf16 (default), fp16, fp8, int8 (one bf16 scale per output channel), int4 (one bf16\n"
    "                     scale per 128 weights): bytes per weight, and the matmuls' peak (fp8 and int8 on\n"
    "                     their tensor cores; int4 is dequantised to bf16)\n"
    "  --kv-dtype D       bf16 (default), fp16, fp8, int8: bytes per KV-cache element\n"
    "  --dtype D          bf16, fp16, fp8, tf32, fp32: weights, KV and every op in one dtype\n"
    "  --tp N             tensor parallel over N GPUs: figures per GPU, two all-reduces per layer\n"
    "  --link-gbps X      interconnect bandwidth per direction for --tp (default: the GPU table's NVLink/PCIe)\n"
    "  --allreduce-us X   latency of one all-reduce for --tp (default: the GPU table's)\n"
    "  --roofs FILE       measured roofs (read_gbps, gemm_tflops[_fp8|_int8]) instead of the datasheet\n"
    "  --gpu-file FILE    extra GPUs (see ridgeline gpus --help)\n"
    "  --sweep KIND       table over the seed's grid: decode B 1,4,16,64,128,256,512 or prefill L 64..4096,\n"
    "                     with the predicted crossing (smallest B or L that is compute-bound); fp8 weights\n"
    "                     beside, where the GPU has fp8\n"
    "  --batches LIST     decode sweep batches (comma-separated)\n"
    "  --lengths LIST     prefill sweep lengths\n"
    "  --kernel-min-us T  the latency roof t_min per kernel for estimated_ms (default: the --roofs file's\n"
    "                     kernel_min_us, else 2.5 us); estimated_ms = the sum over the CUDA engine's\n"
    "                     kernels (src/predict/launch_plan.c) of max(FLOPs/peak, bytes/bandwidth, t_min)\n"
    "  --json             machine-readable output\n";

int predict_roofs(const rl_gpu *g, const predict_args *a, rl_roofs *r, rl_err *err)
{
    /* --dtype D: the probe measured D (legacy); --weight-dtype: the file must hold that precision's roof. */
    const int single = !strcmp(a->prec_flag, "--dtype");
    int rc = a->roofs_file ? (single ? rl_roofs_load(a->roofs_file, r, err)
                                     : rl_roofs_load_prec(a->roofs_file, a->matmul, r, err))
                           : rl_roofs_from_gpu_prec(g, a->matmul, a->other, a->prec_flag, r, err);
    if (rc) return -1;
    if (r->link_gbps <= 0) r->link_gbps = g->link_gbps; /* a probe file without a measured link */
    if (r->allreduce_us <= 0) r->allreduce_us = g->allreduce_us;
    if (a->link_gbps >= 0) r->link_gbps = a->link_gbps;
    if (a->allreduce_us >= 0) r->allreduce_us = a->allreduce_us;
    if (a->tp > 1 && r->link_gbps <= 0)
        return rl_fail(err, "--tp %d: GPU '%s' has no interconnect bandwidth (field interconnect_gbps); give --link-gbps",
                       a->tp, g->name);
    return 0;
}

rl_workload predict_workload(const predict_args *a, rl_phase phase, int64_t batch, int64_t ctx_or_len)
{
    rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(batch, ctx_or_len) : rl_workload_prefill(batch, ctx_or_len);
    rl_workload_set_formats(&w, a->weights, a->kv);
    w.tp = a->tp;
    return w;
}

static int single_dtype(const predict_args *a)
{
    return a->weights == a->kv && !strcmp(rl_format_names[a->weights], rl_dtype_names[a->matmul]) &&
           a->matmul == a->other;
}

void predict_precision_label(const predict_args *a, char *buf, size_t n)
{
    if (single_dtype(a) || (a->matmul == RL_DT_TF32 && a->weights == RL_FMT_FP32 && a->kv == RL_FMT_FP32))
        snprintf(buf, n, "%s", rl_dtype_names[a->matmul]);
    else
        snprintf(buf, n, "weights %s, KV %s, %s matmuls", rl_format_names[a->weights], rl_format_names[a->kv],
                 rl_dtype_names[a->matmul]);
}

void predict_json_precision(cJSON *o, const predict_args *a)
{
    cJSON_AddStringToObject(o, "weight_dtype", rl_format_names[a->weights]);
    cJSON_AddStringToObject(o, "kv_dtype", rl_format_names[a->kv]);
    cJSON_AddStringToObject(o, "compute_dtype", rl_dtype_names[a->matmul]);
    cJSON_AddNumberToObject(o, "tp", a->tp);
}

static cJSON *prediction_json(const rl_cost *c, const rl_prediction *p)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "flops", c->total_flops);
    cJSON_AddNumberToObject(o, "bytes", c->total_bytes);
    cJSON_AddNumberToObject(o, "intensity", p->intensity);
    cJSON_AddNumberToObject(o, "ridge", p->ridge);
    cJSON_AddNumberToObject(o, "time_ms", p->total_ms);
    cJSON_AddStringToObject(o, "bound", rl_bound_names[p->bound]);
    cJSON *ops = cJSON_AddArrayToObject(o, "ops");
    for (int i = 0; i < RL_OP_COUNT; i++) {
        if (!(c->ops & RL_OPMASK(i))) continue;
        cJSON *op = cJSON_CreateObject();
        cJSON_AddStringToObject(op, "name", rl_op_names[i]);
        cJSON_AddNumberToObject(op, "flops", c->flops[i]);
        cJSON_AddNumberToObject(op, "bytes", c->bytes[i]);
        cJSON_AddNumberToObject(op, "intensity", c->bytes[i] > 0 ? c->flops[i] / c->bytes[i] : 0);
        cJSON_AddStringToObject(op, "bound", i == RL_OP_ALLREDUCE ? rl_bound_names[RL_BOUND_COMM]
                                             : p->compute_bound[i] ? "compute" : "memory");
        cJSON_AddNumberToObject(op, "time_ms", p->time_ms[i]);
        cJSON_AddItemToArray(ops, op);
    }
    cJSON_AddNumberToObject(o, "comm_bytes", c->comm_bytes);
    cJSON_AddNumberToObject(o, "comm_ms", p->comm_ms);
    cJSON_AddNumberToObject(o, "compute_ms", p->compute_ms);
    cJSON_AddNumberToObject(o, "memory_ms", p->memory_ms);
    cJSON_AddNumberToObject(o, "weight_resident_bytes", c->weight_resident_bytes);
    cJSON_AddNumberToObject(o, "kv_cache_bytes", c->kv_cache_bytes);
    return o;
}

static void print_roofs(const predict_args *a, const rl_roofs *r, const rl_prediction *p)
{
    char prec[96];
    predict_precision_label(a, prec, sizeof prec);
    if (single_dtype(a) || r->other_peak_tflops == r->peak_tflops)
        printf(", %s (%s roofs: %.0f GB/s, %.1f TFLOP/s, ridge %.0f)", prec, r->origin, r->bandwidth_gbps,
               r->peak_tflops, p->ridge);
    else
        printf(", %s (%s roofs: %.0f GB/s, %.1f TFLOP/s %s matmuls, %.1f other ops, ridge %.0f)", prec, r->origin,
               r->bandwidth_gbps, r->peak_tflops, rl_dtype_names[a->matmul], r->other_peak_tflops, p->ridge);
    if (a->tp > 1)
        printf(", TP %d per GPU (link %.0f GB/s, %.1f us per all-reduce)", a->tp, r->link_gbps, r->allreduce_us);
    printf("\n");
}

static void print_table(const rl_cost *c, const rl_prediction *p)
{
    printf("  %-13s %12s %12s %10s %8s %10s %6s\n", "op", "GFLOP", "MB", "FLOP/B", "bound", "ms", "share");
    for (int i = 0; i < RL_OP_COUNT; i++) {
        if (!(c->ops & RL_OPMASK(i))) continue;
        if (i == RL_OP_ALLREDUCE) /* its MB are the bytes each GPU sends over the link, not HBM */
            printf("  %-13s %12s %12.3f %10s %8s %10.4f %5.1f%%\n", rl_op_names[i], "-", c->comm_bytes * 1e-6, "-",
                   "comm", p->time_ms[i], 100 * p->time_ms[i] / p->total_ms);
        else
            printf("  %-13s %12.3f %12.3f %10.2f %8s %10.4f %5.1f%%\n", rl_op_names[i], c->flops[i] * 1e-9,
                   c->bytes[i] * 1e-6, c->bytes[i] > 0 ? c->flops[i] / c->bytes[i] : 0,
                   p->compute_bound[i] ? "compute" : "memory", p->time_ms[i], 100 * p->time_ms[i] / p->total_ms);
    }
    printf("  %-13s %12.3f %12.3f %10.2f %8s %10.4f\n", "total", c->total_flops * 1e-9, c->total_bytes * 1e-6,
           p->intensity, predict_bound_word(p), p->total_ms);
    if (c->collectives > 0)
        printf("  the step is %s-bound: compute %.3f ms, memory %.3f ms, communication %.3f ms (%lld all-reduces, "
               "%.3f MB sent per GPU)\n",
               rl_bound_names[p->bound], p->compute_ms, p->memory_ms, p->comm_ms, (long long)c->collectives,
               c->comm_bytes * 1e-6);
}

double predict_kernel_min_us(const predict_args *a, const rl_roofs *r, const char **source)
{
    if (a->kernel_min_us > 0) return *source = "--kernel-min-us", a->kernel_min_us;
    if (r->kernel_min_us > 0) return *source = "measured (--roofs)", r->kernel_min_us;
    *source = "default (not measured)";
    return RL_DEFAULT_KERNEL_MIN_US;
}

int predict_estimate(const rl_model_config *m, rl_phase phase, int tp, const rl_cost *c, const rl_roofs *r,
                     double t_min_us, rl_estimate *out)
{
    rl_launch_plan plan = {0};
    rl_err err;
    int rc = rl_launch_plan_static(m, phase, tp, &plan, &err);
    if (!rc) rl_estimate_step(&plan, c, r, t_min_us, out);
    rl_launch_plan_free(&plan);
    return rc;
}

static int predict_point(const rl_gpu *g, const rl_model_config *m, const predict_args *a, cJSON *json_out)
{
    rl_err err;
    rl_roofs r;
    if (predict_roofs(g, a, &r, &err)) return cli_error(1, "%s", err.msg);
    rl_workload w = predict_workload(a, a->decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, a->batch,
                                     a->decode ? a->context : a->length);
    rl_cost c;
    rl_prediction p;
    rl_cost_step(m, &w, &c);
    rl_predict(&c, &r, &p);
    const char *t_src;
    const double t_min = predict_kernel_min_us(a, &r, &t_src);
    rl_estimate est;
    if (predict_estimate(m, a->decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, a->tp, &c, &r, t_min, &est))
        return cli_error(1, "predict: out of host memory");
    if (json_out) {
        cJSON *o = prediction_json(&c, &p);
        cJSON_AddNumberToObject(o, "estimated_ms", est.total_ms);
        cJSON *e = cJSON_AddObjectToObject(o, "estimate");
        cJSON_AddNumberToObject(e, "kernel_min_us", t_min);
        cJSON_AddStringToObject(e, "kernel_min_source", t_src);
        cJSON_AddNumberToObject(e, "launches", est.launches);
        cJSON_AddNumberToObject(e, "kernels", est.kernels);
        cJSON_AddNumberToObject(e, "at_latency_roof", est.at_latency);
        cJSON_AddNumberToObject(e, "latency_ms", est.latency_ms);
        cJSON_AddStringToObject(e, "plan", "the CUDA engine's launches (static table, src/predict/launch_plan.c)");
        cJSON_AddStringToObject(o, "gpu", g->name);
        cJSON_AddStringToObject(o, "model", m->name);
        cJSON_AddStringToObject(o, "phase", a->decode ? "decode" : "prefill");
        cJSON_AddNumberToObject(o, "batch", (double)a->batch);
        if (a->decode) cJSON_AddNumberToObject(o, "context", (double)a->context);
        else cJSON_AddNumberToObject(o, "length", (double)a->length);
        cJSON_AddStringToObject(o, "dtype", rl_dtype_names[a->matmul]);
        predict_json_precision(o, a);
        cJSON_AddStringToObject(o, "roofs", r.origin);
        cJSON_AddNumberToObject(o, "bandwidth_gbps", r.bandwidth_gbps);
        cJSON_AddNumberToObject(o, "peak_tflops", r.peak_tflops);
        cJSON_AddNumberToObject(o, "other_peak_tflops", r.other_peak_tflops);
        if (a->tp > 1) {
            cJSON_AddNumberToObject(o, "link_gbps", r.link_gbps);
            cJSON_AddNumberToObject(o, "allreduce_us", r.allreduce_us);
        }
        cJSON_AddItemToArray(json_out, o);
        return 0;
    }
    if (a->decode)
        printf("%s on %s, decode batch %lld, context %lld", m->name, g->name, (long long)a->batch,
               (long long)a->context);
    else
        printf("%s on %s, prefill length %lld, batch %lld", m->name, g->name, (long long)a->length,
               (long long)a->batch);
    print_roofs(a, &r, &p);
    print_table(&c, &p);
    printf("  estimated %.4f ms with the CUDA engine's %d kernels and a latency roof of %.2f us each (%s): "
           "%d kernels at it add %.4f ms\n",
           est.total_ms, est.kernels, t_min, t_src, est.at_latency, est.latency_ms);
    return 0;
}

static int parse_format(const char *s, const char *flag, int kv, rl_format *out)
{
    int f = rl_format_from_name(s);
    if (f < 0 || (kv && (f == RL_FMT_INT4 || f == RL_FMT_FP32)) || (!kv && f == RL_FMT_FP32))
        return cli_error(2, "predict: %s: unknown dtype '%s' (known: bf16, fp16, fp8, int8%s)", flag, s,
                         kv ? "" : ", int4");
    *out = (rl_format)f;
    return 0;
}

/* --dtype D: weights, KV and every op in D (tf32: fp32 storage, tf32 matmuls). */
static void set_single_dtype(predict_args *a, rl_dtype d)
{
    a->matmul = a->other = d;
    a->weights = a->kv = rl_format_of_dtype(d);
}

int cmd_predict(int argc, char **argv)
{
    if (cli_wants_help(argc, argv, usage)) return 0;
    predict_args a = {.gpu = "H100", .model = "llama-3.1-8b", .batch = 1,
                      .context = rl_decode_context(RL_SEED_INPUT_LEN, RL_SEED_OUTPUT_LEN), .tp = 1,
                      .link_gbps = -1, .allreduce_us = -1, .prec_flag = "--dtype"};
    set_single_dtype(&a, RL_DT_BF16);
    const char *batches = NULL, *lengths = NULL, *contexts = NULL, *wdt = NULL, *kvdt = NULL;
    rl_err err;
    int64_t v;
    static const struct option opts[] = {
        {"gpu", required_argument, 0, 'g'},       {"model", required_argument, 0, 'm'},
        {"decode", no_argument, 0, 'd'},          {"prefill", no_argument, 0, 'p'},
        {"batch", required_argument, 0, 'b'},     {"context", required_argument, 0, 'c'},
        {"length", required_argument, 0, 'l'},    {"dtype", required_argument, 0, 't'},
        {"roofs", required_argument, 0, 'r'},     {"gpu-file", required_argument, 0, 'f'},
        {"sweep", required_argument, 0, 's'},     {"batches", required_argument, 0, 'B'},
        {"lengths", required_argument, 0, 'L'},   {"json", no_argument, 0, 'j'},
        {"weight-dtype", required_argument, 0, 'W'}, {"kv-dtype", required_argument, 0, 'K'},
        {"tp", required_argument, 0, 'T'},        {"link-gbps", required_argument, 0, 'N'},
        {"allreduce-us", required_argument, 0, 'A'}, {"kernel-min-us", required_argument, 0, 'k'},
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
            break;
        case 'c': contexts = optarg; break;
        case 'l':
            if (rl_parse_i64(optarg, 1, 1 << 24, "--length", &a.length, &err)) return cli_error(2, "predict: %s", err.msg);
            break;
        case 't': {
            const int d = rl_dtype_from_name(optarg);
            if (d < 0 || d == RL_DT_INT8)
                return cli_error(2, "predict: --dtype: unknown dtype '%s' (known: fp32, tf32, bf16, fp16, fp8; "
                                    "int8 and int4 weights: --weight-dtype)",
                                 optarg);
            set_single_dtype(&a, (rl_dtype)d);
            break;
        }
        case 'W': wdt = optarg; break;
        case 'K': kvdt = optarg; break;
        case 'T':
            if (rl_parse_i64(optarg, 1, 1024, "--tp", &v, &err)) return cli_error(2, "predict: %s", err.msg);
            a.tp = (int)v;
            break;
        case 'N':
            if (rl_parse_f64(optarg, 1e-3, 1e6, "--link-gbps", &a.link_gbps, &err)) return cli_error(2, "predict: %s", err.msg);
            break;
        case 'A':
            if (rl_parse_f64(optarg, 0, 1e6, "--allreduce-us", &a.allreduce_us, &err)) return cli_error(2, "predict: %s", err.msg);
            break;
        case 'r': a.roofs_file = optarg; break;
        case 'f': a.gpu_file = optarg; break;
        case 's': a.sweep = optarg; break;
        case 'B': batches = optarg; break;
        case 'L': lengths = optarg; break;
        case 'j': a.json = 1; break;
        case 'k':
            if (rl_parse_f64(optarg, 1e-3, 1e6, "--kernel-min-us", &a.kernel_min_us, &err))
                return cli_error(2, "predict: %s", err.msg);
            break;
        default: return cli_error(2, "predict: unknown or incomplete option '%s' (see ridgeline predict --help)", argv[optind - 1]);
        }
    }
    if (optind < argc) return cli_error(2, "predict: unexpected argument '%s'", argv[optind]);
    if (wdt) {
        if (parse_format(wdt, "--weight-dtype", 0, &a.weights)) return 2;
        a.matmul = rl_format_compute_dtype(a.weights);
        a.other = a.weights == RL_FMT_FP16 ? RL_DT_FP16 : RL_DT_BF16;
        a.prec_flag = "--weight-dtype";
    }
    if (kvdt && parse_format(kvdt, "--kv-dtype", 1, &a.kv)) return 2;
    const int decode_sweep = a.sweep && !strcmp(a.sweep, "decode");
    if (contexts) {
        a.ncontexts = rl_parse_i64_list(contexts, 0, 1 << 24, "--context", a.contexts, PREDICT_MAX_LIST, &err);
        if (a.ncontexts < 0) return cli_error(2, "predict: %s", err.msg);
        if (a.ncontexts > 1 && !decode_sweep)
            return cli_error(2, "predict: --context: a list (%s) needs --sweep decode; one step takes one context", contexts);
        a.context = a.contexts[0];
    } else {
        a.contexts[0] = a.context;
        a.ncontexts = 1;
    }
    if (a.sweep) {
        if (strcmp(a.sweep, "decode") && strcmp(a.sweep, "prefill"))
            return cli_error(2, "predict: --sweep must be 'decode' or 'prefill', not '%s'", a.sweep);
        const char *list = decode_sweep ? batches : lengths;
        if (list) {
            a.nx = rl_parse_i64_list(list, 1, 1 << 20, decode_sweep ? "--batches" : "--lengths", a.xs, PREDICT_MAX_LIST, &err);
            if (a.nx < 0) return cli_error(2, "predict: %s", err.msg);
        } else {
            a.nx = RL_SEED_GRID_N;
            memcpy(a.xs, decode_sweep ? rl_seed_decode_grid : rl_seed_prefill_grid, sizeof rl_seed_decode_grid);
        }
    } else {
        if (a.decode == a.prefill) return cli_error(2, "predict: give exactly one of --decode or --prefill (or --sweep)");
        if (a.prefill && a.length <= 0) return cli_error(2, "predict: --prefill needs --length L");
    }
    rl_model_config m;
    if (rl_model_resolve(a.model, &m, &err)) return cli_error(1, "%s", err.msg);
    rl_workload probe = predict_workload(&a, RL_PHASE_DECODE, 1, 0);
    if (rl_workload_check(&m, &probe, &err)) return cli_error(2, "predict: %s (%s)", err.msg, m.name);
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
        if (all && (g->peak_tflops[a.matmul] <= 0 || g->peak_tflops[a.other] <= 0)) continue;
        if (!a.sweep) rc = predict_point(g, &m, &a, arr);
        for (int k = 0; a.sweep && k < (decode_sweep ? a.ncontexts : 1) && !rc; k++)
            rc = predict_sweep(g, &m, &a, a.contexts[k], arr);
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
