/* predict.c: per-operator FLOPs and HBM bytes of a Llama step, and roofline times.
 *
 * Notation: T tokens processed in the step (decode: B; prefill: B*L), H hidden, I intermediate,
 * V vocab, Q = heads*head_dim, K = kv_heads*head_dim, N layers, w/a/k bytes per weight /
 * activation / KV element. R rows that need logits (B: the last position of each sequence).
 * Bytes count each tensor read or written once per op (weights once per step for all T tokens,
 * as a fused GEMM/GEMV does). docs/cost-model.md restates every line with its reasoning. */
#include "predict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *const rl_op_names[RL_OP_COUNT] = {
    "embed", "attn_norm", "qkv_proj", "rope", "kv_write", "attention", "o_proj",
    "ffn_norm", "gate_up_proj", "silu_mul", "down_proj", "final_norm", "lm_head", "sample",
};

const char *rl_phase_name(rl_phase p) { return p == RL_PHASE_DECODE ? "decode" : "prefill"; }

void rl_ops_text(unsigned mask, char *out, size_t n)
{
    out[0] = 0;
    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (!(mask & RL_OPMASK(op))) continue;
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%s", used ? "+" : "", rl_op_names[op]);
    }
}

int rl_op_is_per_layer(rl_op_id op) { return op >= RL_OP_ATTN_NORM && op <= RL_OP_DOWN; }

rl_workload rl_workload_decode(int64_t batch, int64_t context)
{
    rl_workload w = {RL_PHASE_DECODE, batch, context, 1, 2, 2, 2};
    return w;
}

rl_workload rl_workload_prefill(int64_t batch, int64_t length)
{
    rl_workload w = {RL_PHASE_PREFILL, batch, 0, length, 2, 2, 2};
    return w;
}

void rl_workload_set_dtype(rl_workload *w, rl_dtype dt)
{
    w->weight_bytes = w->kv_bytes = rl_dtype_bytes(dt);
    w->act_bytes = w->weight_bytes < 2 ? 2 : w->weight_bytes;
}

int rl_dtype_bytes(rl_dtype dt) { return dt == RL_DT_FP8 ? 1 : (dt == RL_DT_FP32 || dt == RL_DT_TF32) ? 4 : 2; }

int64_t rl_decode_context(int64_t input_len, int64_t output_len) { return input_len + output_len / 2; }

const int64_t rl_seed_decode_grid[RL_SEED_GRID_N] = {1, 4, 16, 64, 128, 256, 512};
const int64_t rl_seed_prefill_grid[RL_SEED_GRID_N] = {64, 128, 256, 512, 1024, 2048, 4096};

void rl_cost_step(const rl_model_config *m, const rl_workload *wl, rl_cost *c)
{
    memset(c, 0, sizeof *c);
    const double H = (double)m->hidden, I = (double)m->intermediate, V = (double)m->vocab;
    const double Q = (double)(m->heads * m->head_dim), K = (double)(m->kv_heads * m->head_dim);
    const double nh = (double)m->heads, hd = (double)m->head_dim, N = (double)m->layers;
    const double w = wl->weight_bytes, a = wl->act_bytes, k = wl->kv_bytes;
    const double B = (double)wl->batch;
    const int decode = wl->phase == RL_PHASE_DECODE;
    const double T = decode ? B : B * (double)wl->length;
    const double R = B;

    c->flops[RL_OP_EMBED] = 0;
    c->bytes[RL_OP_EMBED] = T * 4 + T * H * w + T * H * a; /* ids, gathered rows, output */

    /* RMSNorm: square, sum, scale, weight multiply = 4 FLOPs/element; read x, write y, read weight. */
    c->flops[RL_OP_ATTN_NORM] = 4 * T * H;
    c->bytes[RL_OP_ATTN_NORM] = 2 * T * H * a + H * w;
    c->flops[RL_OP_FFN_NORM] = c->flops[RL_OP_ATTN_NORM];
    c->bytes[RL_OP_FFN_NORM] = c->bytes[RL_OP_ATTN_NORM];

    c->flops[RL_OP_QKV] = 2 * T * H * (Q + 2 * K);
    c->bytes[RL_OP_QKV] = H * (Q + 2 * K) * w + T * H * a + T * (Q + 2 * K) * a;

    /* RoPE: one rotation (4 mul + 2 add) per pair of Q and K elements; read and write them. */
    c->flops[RL_OP_ROPE] = 3 * T * (Q + K);
    c->bytes[RL_OP_ROPE] = 2 * T * (Q + K) * a;

    c->flops[RL_OP_KV_WRITE] = 0;
    c->bytes[RL_OP_KV_WRITE] = T * 2 * K * a + T * 2 * K * k;

    /* Attention: QK^T and PV are 2 FLOPs per (query, key, dim) each; softmax ~5 FLOPs per score.
     * Decode reads each sequence's whole KV (context + the new token) once; the GQA group shares it.
     * Prefill is causal over L(L+1)/2 pairs, flash-style: Q, K, V read once, never an L x L matrix. */
    double pairs, kv_tokens;
    if (decode) {
        double ctx = (double)wl->context + 1;
        if (m->sliding_window > 0 && ctx > (double)m->sliding_window) ctx = (double)m->sliding_window;
        pairs = B * ctx;
        kv_tokens = B * ctx;
    } else {
        double L = (double)wl->length;
        pairs = B * L * (L + 1) / 2;
        if (m->sliding_window > 0 && L > (double)m->sliding_window) {
            double W = (double)m->sliding_window;
            pairs = B * (W * (W + 1) / 2 + (L - W) * W);
        }
        kv_tokens = B * L;
    }
    c->flops[RL_OP_ATTENTION] = 4 * nh * hd * pairs + 5 * nh * pairs;
    c->bytes[RL_OP_ATTENTION] = kv_tokens * 2 * K * k + T * Q * a * 2;

    c->flops[RL_OP_O_PROJ] = 2 * T * Q * H + T * H; /* + residual add */
    c->bytes[RL_OP_O_PROJ] = Q * H * w + T * Q * a + 2 * T * H * a;

    c->flops[RL_OP_GATE_UP] = 2 * T * H * 2 * I;
    c->bytes[RL_OP_GATE_UP] = 2 * H * I * w + T * H * a + 2 * T * I * a;

    c->flops[RL_OP_SILU_MUL] = 5 * T * I; /* x / (1 + exp(-x)) * up */
    c->bytes[RL_OP_SILU_MUL] = 3 * T * I * a;

    c->flops[RL_OP_DOWN] = 2 * T * I * H + T * H;
    c->bytes[RL_OP_DOWN] = I * H * w + T * I * a + 2 * T * H * a;

    c->flops[RL_OP_FINAL_NORM] = 4 * R * H;
    c->bytes[RL_OP_FINAL_NORM] = 2 * R * H * a + H * w;

    /* lm_head reads the (tied or untied) vocab matrix once and writes fp32 logits. */
    c->flops[RL_OP_LM_HEAD] = 2 * R * H * V;
    c->bytes[RL_OP_LM_HEAD] = V * H * w + R * H * a + R * V * 4;

    c->flops[RL_OP_SAMPLE] = R * V;
    c->bytes[RL_OP_SAMPLE] = R * V * 4 + R * 4;

    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (rl_op_is_per_layer((rl_op_id)op)) {
            c->flops[op] *= N;
            c->bytes[op] *= N;
        }
        c->total_flops += c->flops[op];
        c->total_bytes += c->bytes[op];
    }
}

double rl_roof_time_ms(double flops, double bytes, const rl_roofs *r)
{
    double t_c = flops / (r->peak_tflops * 1e12);
    double t_m = bytes / (r->bandwidth_gbps * 1e9);
    return 1e3 * (t_c > t_m ? t_c : t_m);
}

void rl_predict(const rl_cost *c, const rl_roofs *r, rl_prediction *p)
{
    memset(p, 0, sizeof *p);
    p->ridge = rl_roofs_ridge(r);
    for (int op = 0; op < RL_OP_COUNT; op++) {
        p->time_ms[op] = rl_roof_time_ms(c->flops[op], c->bytes[op], r);
        double ai = c->bytes[op] > 0 ? c->flops[op] / c->bytes[op] : 0;
        p->compute_bound[op] = ai >= p->ridge;
        p->total_ms += p->time_ms[op];
    }
    p->intensity = c->total_bytes > 0 ? c->total_flops / c->total_bytes : 0;
    p->compute_bound_total = p->intensity >= p->ridge;
}

static int step_compute_bound(const rl_model_config *m, const rl_workload *w, const rl_roofs *r)
{
    rl_cost c;
    rl_cost_step(m, w, &c);
    return c.total_flops / c.total_bytes >= rl_roofs_ridge(r);
}

int64_t rl_predict_crossing(const rl_model_config *m, rl_phase phase, int64_t context, const rl_roofs *r,
                            int64_t limit)
{
    /* Intensity grows monotonically with B (decode) and L (prefill): bisect. */
    int64_t lo = 1, hi = limit;
    rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(hi, context) : rl_workload_prefill(1, hi);
    if (!step_compute_bound(m, &w, r)) return 0;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        w = phase == RL_PHASE_DECODE ? rl_workload_decode(mid, context) : rl_workload_prefill(1, mid);
        if (step_compute_bound(m, &w, r))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
