/* bench_decode_step.c: whole steps of the CUDA engine on Llama-3.1-8B (random bf16 weights).
 *  decode: batch 1..512, prompt 128 then 63 steps (context 128 -> 191), each step timed alone
 *          (graph replay + sync): median, p10, p90 against the roofline prediction on the
 *          measured roofs (src/predict, context 160); A/B of the engine knobs (rl_cuda_tuning:
 *          PDL off, the portable sm_80 path, our kernels or cuBLASLt forced) at batch 1, 16, 64;
 *  prefill: batch 1, L = 64..4096, whole forward with last-position logits, median of 5;
 *  memory: GPU memory in use at batch 512 x context 192 against weights + KV + 2 GB;
 *  per-kernel: one profiled step (batch 1, 64, 512) and one profiled prefill (L=4096): every
 *          kernel's time, achieved GB/s or TFLOP/s from the cost model, % of its roof.
 * Usage: bench_decode_step [--json FILE] [--quick]   (--quick: fewer points, for a smoke run) */
#include <cjson/cJSON.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine/engine.h"
#include "model/config.h"
#include "predict/predict.h"
#include "roofs.h"

static rl_model_config model;
static bench_roofs roofs;
static rl_roofs measured;

static void die(const char *what, const rl_err *err)
{
    fprintf(stderr, "bench_decode_step: %s: %s\n", what, err->msg);
    exit(1);
}

static rl_engine *make_engine_tuned(int64_t batch, int64_t context, int64_t prefill, rl_cuda_tuning tune)
{
    rl_engine_opts o = {.backend = RL_BACKEND_CUDA, .seed = 1, .max_batch = batch, .max_context = context,
                        .max_prefill = prefill, .quiet = 1, .cuda = tune};
    rl_engine *e = NULL;
    rl_err err;
    if (rl_engine_create(&model, &o, &e, &err)) die("engine", &err);
    return e;
}

static rl_engine *make_engine(int64_t batch, int64_t context, int64_t prefill)
{
    const rl_cuda_tuning production = {0};
    return make_engine_tuned(batch, context, prefill, production);
}

typedef struct {
    const char *name;
    rl_cuda_tuning tune;
} knob_setting;

/* Which kernel the engine picked for every projection shape it has seen, with both timings. */
static void print_choices(rl_engine *e, cJSON *arr)
{
    rl_linear_choice ch[256];
    const int n = e->ops->linear_choices ? e->ops->linear_choices(e->state, ch, 256) : 0;
    printf("\nprojection kernels chosen (tokens: op -> kernel, its ms vs the other's):\n");
    for (int i = 0; i < n; i++) {
        printf("  T=%-5d %-13s %6dx%-6d -> %-12s %.4f vs %.4f\n", ch[i].tokens, ch[i].op, ch[i].n, ch[i].k, ch[i].kernel,
               ch[i].ms, ch[i].alt_ms);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "op", ch[i].op);
        cJSON_AddNumberToObject(o, "tokens", ch[i].tokens);
        cJSON_AddStringToObject(o, "kernel", ch[i].kernel);
        cJSON_AddNumberToObject(o, "ms", ch[i].ms);
        cJSON_AddNumberToObject(o, "alt_ms", ch[i].alt_ms);
        cJSON_AddItemToArray(arr, o);
    }
}

/* The A/B lines: the first is the production engine of the same size (the baseline). */
static const knob_setting knob_settings[] = {
    {"production", {0}},
    {"no PDL", {.no_pdl = 1}},
    {"portable sm_80 path", {.portable = 1}},
    {"our kernels forced (untimed)", {.linear = RL_LINEAR_OWN}},
    {"cuBLASLt forced", {.linear = RL_LINEAR_CUBLASLT}},
    {"split-KV 2", {.attn_splits = 2}},
};

static void tokens(int32_t *t, int64_t n, uint32_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        t[i] = (int32_t)((seed >> 8) % (uint32_t)model.vocab);
    }
}

static double predicted_ms(rl_workload w, double *flops, double *bytes)
{
    rl_cost c;
    rl_prediction p;
    rl_cost_step(&model, &w, &c);
    rl_predict(&c, &measured, &p);
    if (flops) *flops = c.total_flops;
    if (bytes) *bytes = c.total_bytes;
    return p.total_ms;
}

/* prefill B x 128, then `steps` decode steps each timed with a sync; times in t[]. */
static int decode_run(rl_engine *e, int64_t B, int steps, double *t)
{
    rl_err err;
    int32_t *tok = malloc(sizeof(int32_t) * B * 128), *next = malloc(sizeof(int32_t) * B);
    tokens(tok, B * 128, (uint32_t)B);
    if (rl_engine_prefill(e, B, 128, tok, NULL, 0, &err)) die("prefill", &err);
    tokens(next, B, 99);
    for (int s = 0; s < steps; s++) {
        const double t0 = rl_now_ms();
        if (rl_engine_decode(e, next, NULL, NULL, &err) || rl_engine_sync(e, &err)) die("decode", &err);
        t[s] = rl_now_ms() - t0;
    }
    free(tok), free(next);
    return 0;
}

typedef struct {
    char kernel[48];
    unsigned mask;
    int calls;
    double ms;
} kagg;

/* Groups a profile by (kernel, op mask) and prints each group's time, share, and achieved rate
 * against the cost model's FLOPs and bytes for the ops it covers. */
static void print_profile(const char *title, rl_kernel_log *log, const rl_cost *c, cJSON *arr)
{
    kagg g[64];
    int n = 0;
    double total = 0;
    for (int i = 0; i < log->n; i++) {
        const rl_kernel_record *r = &log->recs[i];
        int j = 0;
        while (j < n && !(strcmp(g[j].kernel, r->kernel) == 0 && g[j].mask == r->op_mask)) j++;
        if (j == n && n < 64) {
            snprintf(g[n].kernel, sizeof g[n].kernel, "%s", r->kernel);
            g[n].mask = r->op_mask, g[n].calls = 0, g[n].ms = 0, n++;
        }
        if (j < n) g[j].calls++, g[j].ms += r->ms;
        total += r->ms;
    }
    printf("\n%s: %d kernel launches, %.3f ms summed (serialised, events around each)\n", title, log->n, total);
    printf("  %-22s %-30s %5s %9s %6s %9s %9s %6s\n", "kernel", "ops", "calls", "ms", "share", "GB/s", "TFLOP/s",
           "%roof");
    for (int j = 0; j < n; j++) {
        double f = 0, b = 0;
        char ops[128] = "";
        for (int op = 0; op < RL_OP_COUNT; op++)
            if (g[j].mask & RL_OPMASK(op)) {
                f += c->flops[op], b += c->bytes[op];
                if (*ops) strncat(ops, "+", sizeof ops - strlen(ops) - 1);
                strncat(ops, rl_op_names[op], sizeof ops - strlen(ops) - 1);
            }
        const double roof_ms = rl_roof_time_ms(f, b, &measured);
        printf("  %-22s %-30s %5d %9.4f %5.1f%% %9.0f %9.1f %5.1f%%\n", g[j].kernel, ops, g[j].calls, g[j].ms,
               100 * g[j].ms / total, b / g[j].ms / 1e6, f / g[j].ms / 1e9, 100 * roof_ms / g[j].ms);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "kernel", g[j].kernel);
        cJSON_AddStringToObject(o, "ops", ops);
        cJSON_AddNumberToObject(o, "calls", g[j].calls);
        cJSON_AddNumberToObject(o, "ms", g[j].ms);
        cJSON_AddNumberToObject(o, "flops", f);
        cJSON_AddNumberToObject(o, "bytes", b);
        cJSON_AddNumberToObject(o, "roof_pct", 100 * roof_ms / g[j].ms);
        cJSON_AddItemToArray(arr, o);
    }
}

static void profile_decode(rl_engine *e, int64_t B, cJSON *root)
{
    double t[4];
    decode_run(e, B, 2, t); /* positions 128, 129 */
    rl_kernel_log log = {0};
    e->ops->set_profile(e->state, &log);
    rl_err err;
    int32_t *next = calloc((size_t)B, sizeof *next);
    if (rl_engine_decode(e, next, NULL, NULL, &err) || rl_engine_sync(e, &err)) die("profiled decode", &err);
    e->ops->set_profile(e->state, NULL);
    free(next);
    rl_workload w = rl_workload_decode(B, 130);
    rl_cost c;
    rl_cost_step(&model, &w, &c);
    char title[64];
    snprintf(title, sizeof title, "profile: decode step, batch %lld, context 130", (long long)B);
    cJSON *arr = cJSON_CreateArray();
    print_profile(title, &log, &c, arr);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "phase", "decode");
    cJSON_AddNumberToObject(o, "x", (double)B);
    cJSON_AddItemToObject(o, "kernels", arr);
    cJSON_AddItemToArray(cJSON_GetObjectItem(root, "profiles"), o);
    rl_kernel_log_free(&log);
}

int main(int argc, char **argv)
{
    const char *json_path = NULL;
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json") && i + 1 < argc) json_path = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else return fprintf(stderr, "usage: bench_decode_step [--json FILE] [--quick]\n"), 2;
    }
    rl_err err;
    if (rl_model_preset("llama-3.1-8b", &model, &err)) die("model", &err);
    if (bench_measure_roofs(&roofs)) return 1;
    measured.bandwidth_gbps = roofs.read_gbps;
    measured.peak_tflops = roofs.gemm_tflops;
    snprintf(measured.origin, sizeof measured.origin, "measured");
    printf("device: %s; commit %s\n", roofs.device, rl_build_commit());
    printf("roofs: HBM read %.0f GB/s, copy %.0f GB/s, bf16 GEMM %.0f TFLOP/s\n", roofs.read_gbps, roofs.copy_gbps,
           roofs.gemm_tflops);
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "device", roofs.device);
    cJSON_AddStringToObject(root, "commit", rl_build_commit());
    cJSON *jr = cJSON_AddObjectToObject(root, "roofs");
    cJSON_AddNumberToObject(jr, "read_gbps", roofs.read_gbps);
    cJSON_AddNumberToObject(jr, "copy_gbps", roofs.copy_gbps);
    cJSON_AddNumberToObject(jr, "gemm_tflops", roofs.gemm_tflops);
    cJSON *points = cJSON_AddArrayToObject(root, "points");
    cJSON_AddArrayToObject(root, "profiles");

    /* ---- decode sweep + memory ---- */
    size_t free0, total0, free1, total1;
    cudaMemGetInfo(&free0, &total0);
    rl_engine *e = make_engine(512, 192, 128);
    int64_t wb, kvb, wsb;
    e->ops->memory(e->state, &wb, &kvb, &wsb);
    const int64_t batches_full[] = {1, 4, 16, 64, 128, 256, 512}, batches_quick[] = {1, 64, 512};
    const int64_t *batches = quick ? batches_quick : batches_full;
    const int nb = quick ? 3 : 7, steps = 63;
    printf("\ndecode, Llama-3.1-8B bf16, prompt 128, %d steps (context 128 -> 191), one step timed per sample\n", steps);
    printf("%5s %9s %9s %9s %10s %7s %9s %9s\n", "batch", "ms", "p10", "p90", "roof_ms", "%roof", "GB/s", "TFLOP/s");
    double t[64];
    for (int i = 0; i < nb; i++) {
        const int64_t B = batches[i];
        decode_run(e, B, 3, t); /* first step at a batch size tunes and captures its graph */
        decode_run(e, B, steps, t);
        const double med = bench_median(t, steps), p10 = bench_percentile(t, steps, 0.1),
                     p90 = bench_percentile(t, steps, 0.9);
        double f, b;
        const double pm = predicted_ms(rl_workload_decode(B, 160), &f, &b);
        printf("%5lld %9.3f %9.3f %9.3f %10.3f %6.1f%% %9.0f %9.1f\n", (long long)B, med, p10, p90, pm, 100 * pm / med,
               b / med / 1e6, f / med / 1e9);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "sweep", "decode");
        cJSON_AddNumberToObject(o, "x", (double)B);
        cJSON_AddNumberToObject(o, "ms", med);
        cJSON_AddNumberToObject(o, "p10", p10);
        cJSON_AddNumberToObject(o, "p90", p90);
        cJSON_AddNumberToObject(o, "predicted_ms", pm);
        cJSON_AddNumberToObject(o, "bytes", b);
        cJSON_AddNumberToObject(o, "flops", f);
        cJSON_AddItemToArray(points, o);
    }
    cudaMemGetInfo(&free1, &total1);
    const double used = ((double)free0 - (double)free1) / 1e9, budget = (wb + kvb) / 1e9 + 2.0;
    printf("\nGPU memory at batch 512 x context 192: %.2f GB in use after the sweep (cudaMemGetInfo delta) vs "
           "weights %.2f + KV %.2f + 2 GB = %.2f GB (planned workspace %.2f GB): %s\n",
           used, wb / 1e9, kvb / 1e9, budget, wsb / 1e9, used <= budget ? "within" : "OVER");
    cJSON *jm = cJSON_AddObjectToObject(root, "memory");
    cJSON_AddNumberToObject(jm, "used_gb", used);
    cJSON_AddNumberToObject(jm, "weights_gb", wb / 1e9);
    cJSON_AddNumberToObject(jm, "kv_gb", kvb / 1e9);
    cJSON_AddNumberToObject(jm, "workspace_gb", wsb / 1e9);

    print_choices(e, cJSON_AddArrayToObject(root, "decode_choices"));
    profile_decode(e, 1, root);
    if (!quick) profile_decode(e, 64, root);
    profile_decode(e, 512, root);
    rl_engine_destroy(e);

    /* ---- A/B of the engine's knobs at small batch (one engine per setting, sized for batch 64) ---- */
    const int64_t ab[] = {1, 16, 64};
    for (int v = 0; v < (int)(sizeof knob_settings / sizeof knob_settings[0]) && !quick; v++) {
        e = make_engine_tuned(64, 192, 128, knob_settings[v].tune);
        printf("%-32s", knob_settings[v].name);
        for (int i = 0; i < 3; i++) {
            decode_run(e, ab[i], 3, t);
            decode_run(e, ab[i], steps, t);
            printf("  batch %lld %.3f ms", (long long)ab[i], bench_median(t, steps));
        }
        printf("\n");
        rl_engine_destroy(e);
    }

    /* ---- prefill sweep ---- */
    e = make_engine(1, 4096, 4096);
    const int64_t lens_full[] = {64, 128, 256, 512, 1024, 2048, 4096}, lens_quick[] = {64, 4096};
    const int64_t *lens = quick ? lens_quick : lens_full;
    const int nl = quick ? 2 : 7;
    int32_t *tok = malloc(sizeof(int32_t) * 4096);
    tokens(tok, 4096, 5);
    printf("\nprefill, batch 1, whole forward with last-position logits, median of 5\n");
    printf("%5s %9s %9s %9s %10s %7s %9s\n", "L", "ms", "p10", "p90", "roof_ms", "%roof", "TFLOP/s");
    for (int i = 0; i < nl; i++) {
        const int64_t L = lens[i];
        if (rl_engine_prefill(e, 1, L, tok, NULL, 0, &err)) die("prefill", &err); /* tunes this length */
        double tp[5];
        for (int r = 0; r < 5; r++) {
            const double t0 = rl_now_ms();
            if (rl_engine_prefill(e, 1, L, tok, NULL, 0, &err)) die("prefill", &err);
            tp[r] = rl_now_ms() - t0;
        }
        const double med = bench_median(tp, 5), p10 = bench_percentile(tp, 5, 0.1), p90 = bench_percentile(tp, 5, 0.9);
        double f, b;
        const double pm = predicted_ms(rl_workload_prefill(1, L), &f, &b);
        printf("%5lld %9.3f %9.3f %9.3f %10.3f %6.1f%% %9.1f\n", (long long)L, med, p10, p90, pm, 100 * pm / med,
               f / med / 1e9);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "sweep", "prefill");
        cJSON_AddNumberToObject(o, "x", (double)L);
        cJSON_AddNumberToObject(o, "ms", med);
        cJSON_AddNumberToObject(o, "p10", p10);
        cJSON_AddNumberToObject(o, "p90", p90);
        cJSON_AddNumberToObject(o, "predicted_ms", pm);
        cJSON_AddNumberToObject(o, "flops", f);
        cJSON_AddItemToArray(points, o);
    }
    print_choices(e, cJSON_AddArrayToObject(root, "prefill_choices"));
    if (!quick) { /* the portable sm_80 path (mma.sync attention and GEMV) at L = 64 and 4096, same call */
        const rl_cuda_tuning portable = {.portable = 1};
        rl_engine *ep = make_engine_tuned(1, 4096, 4096, portable);
        for (int v = 0; v < 2; v++) {
            const int64_t L = v ? 4096 : 64;
            if (rl_engine_prefill(ep, 1, L, tok, NULL, 0, &err)) die("prefill", &err);
            double tp[3];
            for (int r = 0; r < 3; r++) {
                const double t0 = rl_now_ms();
                if (rl_engine_prefill(ep, 1, L, tok, NULL, 0, &err)) die("prefill", &err);
                tp[r] = rl_now_ms() - t0;
            }
            printf("portable sm_80 path: prefill %lld %.3f ms (median of 3)\n", (long long)L, bench_median(tp, 3));
        }
        rl_engine_destroy(ep);
    }
    {
        rl_kernel_log log = {0};
        e->ops->set_profile(e->state, &log);
        if (rl_engine_prefill(e, 1, 4096, tok, NULL, 0, &err)) die("profiled prefill", &err);
        e->ops->set_profile(e->state, NULL);
        rl_workload w = rl_workload_prefill(1, 4096);
        rl_cost c;
        rl_cost_step(&model, &w, &c);
        cJSON *arr = cJSON_CreateArray();
        print_profile("profile: prefill L=4096", &log, &c, arr);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "phase", "prefill");
        cJSON_AddNumberToObject(o, "x", 4096);
        cJSON_AddItemToObject(o, "kernels", arr);
        cJSON_AddItemToArray(cJSON_GetObjectItem(root, "profiles"), o);
        rl_kernel_log_free(&log);
    }
    free(tok);
    rl_engine_destroy(e);
    if (json_path && rl_json_save(json_path, root, &err)) die("json", &err);
    cJSON_Delete(root);
    return 0;
}
