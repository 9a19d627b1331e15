/* cmd_predict_sweep.c: `ridgeline predict --sweep decode|prefill`: the predicted table over the
 * seed's grid (or --batches / --lengths) and the predicted crossing, with the same sweep for fp8
 * weights beside it where the GPU has fp8 tensor cores. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "predict_cli.h"

typedef struct {
    rl_roofs r;
    predict_args a; /* its precision */
    int64_t crossing;
} sweep_side;

/* The fp8 side: the same sweep with fp8 weights (and the same KV), beside 16- or 32-bit weights,
 * where the GPU (or the roofs file) has an fp8 matmul roof. */
static int fp8_side(const rl_gpu *g, const rl_model_config *m, const predict_args *a, int decode, int64_t context,
                    sweep_side *out)
{
    const int wide = a->weights == RL_FMT_BF16 || a->weights == RL_FMT_FP16 || a->weights == RL_FMT_FP32;
    if (!wide || a->matmul == RL_DT_FP8 || g->peak_tflops[RL_DT_FP8] <= 0) return 0;
    out->a = *a;
    out->a.weights = RL_FMT_FP8;
    out->a.matmul = RL_DT_FP8;
    out->a.other = RL_DT_BF16;
    out->a.prec_flag = "--weight-dtype";
    rl_err err;
    if (predict_roofs(g, &out->a, &out->r, &err)) return 0; /* e.g. a probe file without gemm_tflops_fp8 */
    rl_workload w = predict_workload(&out->a, decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, 1, decode ? context : 1);
    out->crossing = rl_predict_crossing_for(m, &w, &out->r, RL_CROSSING_LIMIT);
    return 1;
}

static void point(const rl_model_config *m, const sweep_side *s, int decode, int64_t x, int64_t context, rl_cost *c,
                  rl_prediction *p)
{
    rl_workload w = predict_workload(&s->a, decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, decode ? x : 1,
                                     decode ? context : x);
    rl_cost_step(m, &w, c);
    rl_predict(c, &s->r, p);
}

static cJSON *point_json(int64_t x, const rl_cost *c, const rl_prediction *p)
{
    cJSON *pt = cJSON_CreateObject();
    cJSON_AddNumberToObject(pt, "x", (double)x);
    cJSON_AddNumberToObject(pt, "flops", c->total_flops);
    cJSON_AddNumberToObject(pt, "bytes", c->total_bytes);
    cJSON_AddNumberToObject(pt, "intensity", p->intensity);
    cJSON_AddStringToObject(pt, "bound", rl_bound_names[p->bound]);
    cJSON_AddNumberToObject(pt, "time_ms", p->total_ms);
    cJSON_AddNumberToObject(pt, "comm_ms", p->comm_ms);
    return pt;
}

static void print_crossing(const char *what, int64_t crossing, int decode)
{
    if (crossing)
        printf("%s%s %lld is the smallest compute-bound %s", what, decode ? "batch" : "length", (long long)crossing,
               decode ? "batch" : "length");
    else
        printf("%snone up to 2^20 (attention keeps the step memory-bound)", what);
}

int predict_sweep(const rl_gpu *g, const rl_model_config *m, const predict_args *a, int64_t context, cJSON *json_out)
{
    rl_err err;
    sweep_side main_side = {.a = *a}, f8;
    if (predict_roofs(g, a, &main_side.r, &err)) return cli_error(1, "%s", err.msg);
    const int decode = !strcmp(a->sweep, "decode");
    rl_workload tmpl = predict_workload(a, decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, 1, decode ? context : 1);
    main_side.crossing = rl_predict_crossing_for(m, &tmpl, &main_side.r, RL_CROSSING_LIMIT);
    const int side = fp8_side(g, m, a, decode, context, &f8);
    const double ridge = rl_roofs_ridge(&main_side.r);
    const char *t_src;
    const double t_min = predict_kernel_min_us(a, &main_side.r, &t_src);
    char prec[96];
    predict_precision_label(a, prec, sizeof prec);
    cJSON *o = NULL, *pts = NULL, *pts8 = NULL;
    if (json_out) {
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "gpu", g->name);
        cJSON_AddStringToObject(o, "model", m->name);
        cJSON_AddStringToObject(o, "sweep", a->sweep);
        if (decode) cJSON_AddNumberToObject(o, "context", (double)context);
        predict_json_precision(o, a);
        cJSON_AddNumberToObject(o, "ridge", ridge);
        if (main_side.crossing) cJSON_AddNumberToObject(o, "crossing", (double)main_side.crossing);
        else cJSON_AddNullToObject(o, "crossing");
        pts = cJSON_AddArrayToObject(o, "points");
        if (side) {
            cJSON *f = cJSON_AddObjectToObject(o, "fp8");
            predict_json_precision(f, &f8.a);
            cJSON_AddNumberToObject(f, "ridge", rl_roofs_ridge(&f8.r));
            if (f8.crossing) cJSON_AddNumberToObject(f, "crossing", (double)f8.crossing);
            else cJSON_AddNullToObject(f, "crossing");
            pts8 = cJSON_AddArrayToObject(f, "points");
        }
        cJSON_AddItemToArray(json_out, o);
    } else {
        printf("%s %s sweep on %s (ridge %.0f FLOP/B, %s roofs)", m->name, a->sweep, g->name, ridge,
               main_side.r.origin);
        if (decode) printf(", KV context %lld per step", (long long)context);
        else printf(", batch 1");
        if (strcmp(prec, "bf16")) printf(", %s", prec);
        if (a->tp > 1) printf(", TP %d per GPU", a->tp);
        if (side) printf("; fp8 weights beside (ridge %.0f)", rl_roofs_ridge(&f8.r));
        printf("\n  %8s %10s %10s %8s %11s %12s %10s", decode ? "batch" : "length", "FLOP/B", "GB", "bound", "ms/step",
               decode ? "ms/token" : "us/token", "estimated");
        if (side) printf("  | %8s %8s %11s %8s", "fp8 GB", "bound", "ms/step", "speedup");
        printf("\n");
    }
    for (int i = 0; i < a->nx; i++) {
        const int64_t x = a->xs[i];
        rl_cost c, c8;
        rl_prediction p, p8;
        point(m, &main_side, decode, x, context, &c, &p);
        if (side) point(m, &f8, decode, x, context, &c8, &p8);
        rl_estimate est;
        if (predict_estimate(m, decode ? RL_PHASE_DECODE : RL_PHASE_PREFILL, a->tp, &c, &main_side.r, t_min, &est))
            return cli_error(1, "predict: out of host memory");
        if (pts) {
            cJSON *pt = point_json(x, &c, &p);
            cJSON_AddNumberToObject(pt, "estimated_ms", est.total_ms);
            cJSON_AddItemToArray(pts, pt);
            if (side) cJSON_AddItemToArray(pts8, point_json(x, &c8, &p8));
            continue;
        }
        printf("  %8lld %10.1f %10.3f %8s %11.3f %12.4f %10.3f", (long long)x, p.intensity, c.total_bytes * 1e-9,
               predict_bound_word(&p), p.total_ms, decode ? p.total_ms / (double)x : 1e3 * p.total_ms / (double)x,
               est.total_ms);
        if (side)
            printf("  | %8.3f %8s %11.3f %7.2fx", c8.total_bytes * 1e-9, predict_bound_word(&p8), p8.total_ms,
                   p.total_ms / p8.total_ms);
        printf("\n");
    }
    if (!json_out) {
        print_crossing("  predicted crossing: ", main_side.crossing, decode);
        if (side) print_crossing("; fp8 weights: ", f8.crossing, decode);
        printf("\n\n");
    }
    return 0;
}
