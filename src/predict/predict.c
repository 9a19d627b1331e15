/* predict.c: per-operator FLOPs and HBM bytes of one decoder step, and roofline times.
 *
 * Notation: T tokens processed in the step (decode: B; prefill: B*L), H hidden, I intermediate,
 * V vocab, Q = heads*head_dim, K = kv_heads*head_dim, w/a/k bytes per weight / activation / KV
 * element. R rows that need logits (B: the last position of each sequence). Weight bytes come
 * from the model-spec table (src/model/spec.h): every tensor an op reads, in the workload's
 * storage format. Per-layer ops are summed over the layers (layers differ: sliding window, MoE or
 * dense MLP). With tensor parallelism over N GPUs every figure is per GPU: heads, KV heads, I
 * and the vocabulary are split N ways, norms replicated, and each layer adds two all-reduces of
 * the T x H activations. Bytes count each tensor read or written once per op (weights once per
 * step for all T tokens, as a fused GEMM/GEMV does). docs/cost-model.md restates every line. */
#include "predict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../model/spec.h"
#include "../model/tp.h"

const char *const rl_bound_names[4] = {"memory", "compute", "communication", "latency"};
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


rl_workload rl_workload_decode(int64_t batch, int64_t context)
{
    rl_workload w = {RL_PHASE_DECODE, batch, context, 1, 2, 2, 2, RL_WFMT_PLAIN, 1};
    return w;
}

rl_workload rl_workload_prefill(int64_t batch, int64_t length)
{
    rl_workload w = {RL_PHASE_PREFILL, batch, 0, length, 2, 2, 2, RL_WFMT_PLAIN, 1};
    return w;
}

/* ---- precision ----------------------------------------------------------------------------- */

const char *const rl_format_names[RL_FMT_COUNT] = {"bf16", "fp16", "fp8", "int8", "int4", "fp32"};

int rl_format_from_name(const char *name)
{
    for (int i = 0; i < RL_FMT_COUNT; i++)
        if (!strcmp(name, rl_format_names[i])) return i;
    return -1;
}

rl_dtype rl_format_compute_dtype(rl_format f)
{
    switch (f) {
    case RL_FMT_FP16: return RL_DT_FP16;
    case RL_FMT_FP8: return RL_DT_FP8;
    case RL_FMT_INT8: return RL_DT_INT8;
    case RL_FMT_FP32: return RL_DT_FP32;
    default: return RL_DT_BF16; /* bf16, and int4 weights dequantised to bf16 */
    }
}

void rl_workload_set_formats(rl_workload *w, rl_format weights, rl_format kv)
{
    static const rl_weight_format wf[RL_FMT_COUNT] = {RL_WFMT_PLAIN, RL_WFMT_PLAIN, RL_WFMT_FP8,
                                                      RL_WFMT_INT8,  RL_WFMT_INT4,  RL_WFMT_PLAIN};
    w->weight_format = wf[weights];
    w->weight_bytes = weights == RL_FMT_FP32 ? 4 : weights == RL_FMT_BF16 || weights == RL_FMT_FP16 ? 2 : 1;
    w->act_bytes = weights == RL_FMT_FP32 ? 4 : 2;
    w->kv_bytes = kv == RL_FMT_FP32 ? 4 : kv == RL_FMT_BF16 || kv == RL_FMT_FP16 ? 2 : 1;
}

double rl_matrix_bytes(double rows, double cols, const rl_workload *w)
{
    switch (w->weight_format) {
    case RL_WFMT_FP8:
    case RL_WFMT_INT8: return rows * cols + rows * 2;              /* + a bf16 scale per output channel */
    case RL_WFMT_INT4: return rows * cols * (0.5 + 2.0 / 128);      /* + a bf16 scale per 128 weights */
    default: return rows * cols * w->weight_bytes;
    }
}

/* ---- tensor parallel ------------------------------------------------------------------------ */

static double tp_of(const rl_workload *w) { return w->tp > 1 ? (double)w->tp : 1.0; }

/* KV heads one GPU holds: its share, or one replicated head when there are fewer than GPUs. */
static double kv_heads_per_gpu(const rl_model_config *m, double N) { return (double)rl_tp_kv_heads(m, (int)N); }

int rl_workload_check(const rl_model_config *m, const rl_workload *w, rl_err *err)
{
    return rl_tp_check(m, w->tp > 1 ? w->tp : 1, err);
}

/* Bytes one GPU reads of tensor t (one expert's, for per-expert tensors). */
static double tensor_bytes(const rl_tensor_spec *t, const rl_model_config *m, const rl_workload *w)
{
    const double N = tp_of(w);
    double rows = (double)t->rows, cols = (double)t->cols;
    if (t->tp == RL_TP_ROWS) rows /= N;
    if (t->tp == RL_TP_COLS) cols /= N;
    if (t->tp == RL_TP_KV_ROWS) rows = rows / (double)m->kv_heads * kv_heads_per_gpu(m, N);
    return t->cols > 0 ? rl_matrix_bytes(rows, cols, w) : rows * w->act_bytes;
}

double rl_moe_expected_experts(double experts, double k, double tokens)
{
    return experts * (1.0 - pow(1.0 - k / experts, tokens));
}

/* ---- the step ------------------------------------------------------------------------------- */

/* Query-key pairs and KV tokens read by one layer's attention with window W (0 = none).
 * Decode reads each sequence's whole KV (context + the new token, at most W) once; the GQA group
 * shares it. Prefill is causal over L(L+1)/2 pairs (W(W+1)/2 + (L-W)W with a window),
 * flash-style: Q, K, V read once, never an L x L matrix. */
static void attention_extent(const rl_workload *wl, double W, double *pairs, double *kv_tokens)
{
    const double B = (double)wl->batch;
    if (wl->phase == RL_PHASE_DECODE) {
        double ctx = (double)wl->context + 1;
        if (W > 0 && ctx > W) ctx = W;
        *pairs = B * ctx;
        *kv_tokens = B * ctx;
    } else {
        const double L = (double)wl->length;
        *pairs = B * L * (L + 1) / 2;
        if (W > 0 && L > W) *pairs = B * (W * (W + 1) / 2 + (L - W) * W);
        *kv_tokens = B * L;
    }
}

/* The dtype's storage format: weights and KV cache both in it (the lab's runs are single-dtype). */
rl_format rl_format_of_dtype(rl_dtype dt)
{
    return dt == RL_DT_FP16 ? RL_FMT_FP16 : dt == RL_DT_FP8 ? RL_FMT_FP8 : dt == RL_DT_INT8 ? RL_FMT_INT8
           : dt == RL_DT_FP32 || dt == RL_DT_TF32 ? RL_FMT_FP32 : RL_FMT_BF16;
}

void rl_workload_set_dtype(rl_workload *w, rl_dtype dt)
{
    const rl_format f = rl_format_of_dtype(dt);
    rl_workload_set_formats(w, f, f);
}

void rl_workload_set_dtype_name(rl_workload *w, const char *name)
{
    const int dt = name && name[0] ? rl_dtype_from_name(name) : -1;
    rl_workload_set_dtype(w, dt >= 0 ? (rl_dtype)dt : RL_DT_BF16);
}

int64_t rl_decode_context(int64_t input_len, int64_t output_len) { return input_len + output_len / 2; }

const int64_t rl_seed_decode_grid[RL_SEED_GRID_N] = {1, 4, 16, 64, 128, 256, 512};
const int64_t rl_seed_prefill_grid[RL_SEED_GRID_N] = {64, 128, 256, 512, 1024, 2048, 4096};

void rl_cost_step(const rl_model_config *m, const rl_workload *wl, rl_cost *c)
{
    memset(c, 0, sizeof *c);
    const double Ntp = tp_of(wl);
    const double H = (double)m->hidden, V = (double)m->vocab / Ntp, hd = (double)m->head_dim;
    const double nh = (double)m->heads / Ntp, Q = nh * hd, K = kv_heads_per_gpu(m, Ntp) * hd;
    const double I = (double)m->intermediate / Ntp, Ie = (double)m->moe_intermediate / Ntp;
    const double E = (double)m->experts, k_e = (double)m->experts_per_token;
    const double a = wl->act_bytes, k = wl->kv_bytes;
    const double B = (double)wl->batch;
    const int decode = wl->phase == RL_PHASE_DECODE;
    const double T = decode ? B : B * (double)wl->length;
    const double R = B;
    double *F = c->flops, *Y = c->bytes;
    c->ops = rl_spec_step_ops(m);

    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    double wb[RL_OP_COUNT];
    for (int64_t l = 0; l < m->layers; l++) {
        /* The layer's weight bytes per op, from the spec; MoE layers read the experts a batch of T
         * tokens is expected to touch. */
        memset(wb, 0, sizeof wb);
        const int n = rl_spec_tensors(m, l, t);
        const double touched = m->moe_layer[l] ? rl_moe_expected_experts(E, k_e, T) : 1;
        for (int i = 0; i < n; i++) {
            const double b = tensor_bytes(&t[i], m, wl);
            wb[t[i].op] += b * (t[i].experts > 1 ? touched : 1);
            c->weight_resident_bytes += b * (double)t[i].experts;
        }
        const double W = (double)rl_model_window(m, l), held = decode ? (double)wl->context + 1 : (double)wl->length;
        c->kv_cache_bytes += B * (W > 0 && held > W ? W : held) * 2 * K * k;

        /* RMSNorm: square, sum, scale, weight multiply = 4 FLOPs/element; read x, write y, read weight. */
        F[RL_OP_ATTN_NORM] += 4 * T * H;
        Y[RL_OP_ATTN_NORM] += 2 * T * H * a + wb[RL_OP_ATTN_NORM];
        F[RL_OP_FFN_NORM] += 4 * T * H;
        Y[RL_OP_FFN_NORM] += 2 * T * H * a + wb[RL_OP_FFN_NORM];

        F[RL_OP_QKV] += 2 * T * H * (Q + 2 * K);
        Y[RL_OP_QKV] += wb[RL_OP_QKV] + T * H * a + T * (Q + 2 * K) * a;
        if (m->qkv_bias) { /* read q|k|v and the biases, write q|k|v */
            F[RL_OP_QKV_BIAS] += T * (Q + 2 * K);
            Y[RL_OP_QKV_BIAS] += wb[RL_OP_QKV_BIAS] + 2 * T * (Q + 2 * K) * a;
        }
        if (m->qk_norm) { /* RMSNorm of every q and k head */
            F[RL_OP_QK_NORM] += 4 * T * (Q + K);
            Y[RL_OP_QK_NORM] += wb[RL_OP_QK_NORM] + 2 * T * (Q + K) * a;
        }

        /* RoPE: one rotation (4 mul + 2 add) per pair of Q and K elements; read and write them. */
        F[RL_OP_ROPE] += 3 * T * (Q + K);
        Y[RL_OP_ROPE] += 2 * T * (Q + K) * a;

        Y[RL_OP_KV_WRITE] += T * 2 * K * a + T * 2 * K * k;

        /* Attention: QK^T and PV are 2 FLOPs per (query, key, dim) each; softmax ~5 FLOPs per score. */
        double pairs, kv_tokens;
        attention_extent(wl, (double)rl_model_window(m, l), &pairs, &kv_tokens);
        F[RL_OP_ATTENTION] += 4 * nh * hd * pairs + 5 * nh * pairs;
        Y[RL_OP_ATTENTION] += kv_tokens * 2 * K * k + T * Q * a * 2;

        F[RL_OP_O_PROJ] += 2 * T * Q * H + T * H; /* + residual add */
        Y[RL_OP_O_PROJ] += wb[RL_OP_O_PROJ] + T * Q * a + 2 * T * H * a;

        if (m->moe_layer[l]) {
            /* Router: logits over E experts, top-k and softmax (~5 FLOPs per logit). Each token's
             * row goes to k experts (grouped GEMMs read it once per expert) and comes back as k
             * outputs combined by the router weights. */
            F[RL_OP_ROUTER] += 2 * T * H * E + 5 * T * E;
            Y[RL_OP_ROUTER] += wb[RL_OP_ROUTER] + T * H * a + T * E * a;
            F[RL_OP_GATE_UP] += 2 * T * k_e * H * 2 * Ie;
            Y[RL_OP_GATE_UP] += wb[RL_OP_GATE_UP] + T * k_e * H * a + 2 * T * k_e * Ie * a;
            F[RL_OP_SILU_MUL] += 5 * T * k_e * Ie;
            Y[RL_OP_SILU_MUL] += 3 * T * k_e * Ie * a;
            F[RL_OP_DOWN] += 2 * T * k_e * Ie * H + T * k_e * H + T * H;
            Y[RL_OP_DOWN] += wb[RL_OP_DOWN] + T * k_e * Ie * a + T * k_e * H * a + 2 * T * H * a;
        } else {
            F[RL_OP_GATE_UP] += 2 * T * H * 2 * I;
            Y[RL_OP_GATE_UP] += wb[RL_OP_GATE_UP] + T * H * a + 2 * T * I * a;
            F[RL_OP_SILU_MUL] += 5 * T * I; /* x / (1 + exp(-x)) * up */
            Y[RL_OP_SILU_MUL] += 3 * T * I * a;
            F[RL_OP_DOWN] += 2 * T * I * H + T * H;
            Y[RL_OP_DOWN] += wb[RL_OP_DOWN] + T * I * a + 2 * T * H * a;
        }
        /* Tensor parallel: the o_proj and down_proj partial sums are all-reduced (ring: each GPU
         * sends 2 (N-1)/N of the T x H activations per all-reduce). */
        if (Ntp > 1) {
            c->comm_bytes += 2 * (2 * (Ntp - 1) / Ntp * T * H * a);
            c->collectives += 2;
        }
    }

    /* The global tensors' bytes. */
    memset(wb, 0, sizeof wb);
    const int n = rl_spec_tensors(m, RL_SPEC_GLOBAL, t);
    for (int i = 0; i < n; i++) {
        const double b = tensor_bytes(&t[i], m, wl);
        if (t[i].op != RL_OP_EMBED) wb[t[i].op] += b;
        if (!t[i].tied) c->weight_resident_bytes += b;
    }

    Y[RL_OP_EMBED] = T * 4 + rl_matrix_bytes(T, H, wl) + T * H * a; /* ids, gathered rows, output */

    F[RL_OP_FINAL_NORM] = 4 * R * H;
    Y[RL_OP_FINAL_NORM] = 2 * R * H * a + wb[RL_OP_FINAL_NORM];

    /* lm_head reads the (tied or untied) vocab matrix once and writes fp32 logits. */
    F[RL_OP_LM_HEAD] = 2 * R * H * V;
    Y[RL_OP_LM_HEAD] = wb[RL_OP_LM_HEAD] + R * H * a + R * V * 4;

    F[RL_OP_SAMPLE] = R * V;
    Y[RL_OP_SAMPLE] = R * V * 4 + R * 4;

    /* The all-reduces are an operator of their own: no HBM bytes or FLOPs counted, their time is
     * comm_ms (rl_predict). */
    if (c->collectives > 0) c->ops |= RL_OPMASK(RL_OP_ALLREDUCE);
    for (int op = 0; op < RL_OP_COUNT; op++) {
        if (!(c->ops & RL_OPMASK(op))) F[op] = Y[op] = 0;
        c->total_flops += F[op];
        c->total_bytes += Y[op];
    }
}

/* ---- roofline ------------------------------------------------------------------------------- */

static double time_ms(double flops, double bytes, double peak_tflops, double bandwidth_gbps)
{
    double t_c = flops / (peak_tflops * 1e12);
    double t_m = bytes / (bandwidth_gbps * 1e9);
    return 1e3 * (t_c > t_m ? t_c : t_m);
}

double rl_roof_time_ms(double flops, double bytes, const rl_roofs *r)
{
    return time_ms(flops, bytes, r->peak_tflops, r->bandwidth_gbps);
}

double rl_comm_ms(double collectives, double link_bytes, const rl_roofs *r)
{
    double ms = collectives * r->allreduce_us * 1e-3;
    if (r->link_gbps > 0) ms += 1e3 * link_bytes / (r->link_gbps * 1e9);
    return ms;
}

void rl_predict(const rl_cost *c, const rl_roofs *r, rl_prediction *p)
{
    memset(p, 0, sizeof *p);
    const double other = r->other_peak_tflops > 0 ? r->other_peak_tflops : r->peak_tflops;
    p->ridge = rl_roofs_ridge(r);
    for (int op = 0; op < RL_OP_COUNT; op++) {
        const double peak = rl_op_is_linear((rl_op_id)op) ? r->peak_tflops : other;
        p->time_ms[op] = time_ms(c->flops[op], c->bytes[op], peak, r->bandwidth_gbps);
        double ai = c->bytes[op] > 0 ? c->flops[op] / c->bytes[op] : 0;
        p->compute_bound[op] = ai >= peak * 1e12 / (r->bandwidth_gbps * 1e9);
        p->total_ms += p->time_ms[op];
        p->compute_ms += 1e3 * c->flops[op] / (peak * 1e12);
        p->memory_ms += 1e3 * c->bytes[op] / (r->bandwidth_gbps * 1e9);
    }
    if (c->collectives > 0) {
        p->comm_ms = rl_comm_ms((double)c->collectives, c->comm_bytes, r);
        p->time_ms[RL_OP_ALLREDUCE] = p->comm_ms;
        p->total_ms += p->comm_ms;
    }
    p->intensity = c->total_bytes > 0 ? c->total_flops / c->total_bytes : 0;
    /* One peak for every op: the ridge test itself; otherwise the two sums of times. */
    p->compute_bound_total = other == r->peak_tflops ? p->intensity >= p->ridge : p->compute_ms >= p->memory_ms;
    p->bound = p->compute_bound_total ? RL_BOUND_COMPUTE : RL_BOUND_MEMORY;
    if (p->comm_ms > p->compute_ms && p->comm_ms > p->memory_ms) p->bound = RL_BOUND_COMM;
}

static int step_compute_bound(const rl_model_config *m, const rl_workload *w, const rl_roofs *r)
{
    rl_cost c;
    rl_prediction p;
    rl_cost_step(m, w, &c);
    rl_predict(&c, r, &p);
    return p.compute_bound_total;
}

int64_t rl_predict_crossing_for(const rl_model_config *m, const rl_workload *tmpl, const rl_roofs *r, int64_t limit)
{
    /* Intensity grows monotonically with B (decode) and L (prefill): bisect. */
    rl_workload w = *tmpl;
    int64_t *x = w.phase == RL_PHASE_DECODE ? &w.batch : &w.length;
    if (w.phase == RL_PHASE_PREFILL) w.batch = 1;
    int64_t lo = 1, hi = limit;
    *x = hi;
    if (!step_compute_bound(m, &w, r)) return 0;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        *x = mid;
        if (step_compute_bound(m, &w, r))
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int64_t rl_predict_crossing(const rl_model_config *m, rl_phase phase, int64_t context, const rl_roofs *r,
                            int64_t limit)
{
    rl_workload w = phase == RL_PHASE_DECODE ? rl_workload_decode(1, context) : rl_workload_prefill(1, 1);
    return rl_predict_crossing_for(m, &w, r, limit);
}
