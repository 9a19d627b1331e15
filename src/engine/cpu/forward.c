/* forward.c: the CPU reference engine: a dense decoder forward pass in plain C, fp32 math
 * throughout, readable top to bottom (after llama2.c's run.c): the model's weights, the run state
 * (activations and the KV cache), the small ops, then forward_rows() layer by layer, then the
 * backend table.
 *
 * It matches Hugging Face's LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM and
 * Qwen3ForCausalLM (the golden test holds it to 1e-3 of the largest logit): RMSNorm
 * x * rsqrt(mean(x^2) + eps) * w; q/k/v biases (qwen2); per-head q/k RMSNorm before RoPE (qwen3);
 * RoPE in the rotate_half convention (pairs (i, i + head_dim/2), not interleaved) with llama3
 * frequency scaling; GQA attention with causal masking and the layer's sliding window (mistral);
 * SwiGLU MLP; lm_head or the tied embedding. Which tensors exist, their names and shapes come
 * from the model-spec table (src/model/spec.h).
 *
 * Every call works on "rows": one token of one sequence each, with its own slot (KV-cache
 * sequence) and position. A decode step is `batch` rows at the same position; a prefill is
 * batch x len rows, processed in chunks of at most cap_rows so the workspace stays small.
 * Within a chunk, each layer writes every row's K and V before any row attends, and a row reads
 * only positions <= its own, so chunking and batching change no result. The matmuls see all rows
 * of a chunk at once, so the weights are streamed once per chunk, not once per row. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../model/random_init.h"
#include "../../model/rope.h"
#include "../../model/spec.h"
#include "../../model/weights.h"
#include "../engine.h"
#include "matmul.h"
#include "pool.h"

/* Prefill rows per chunk (decode steps use max_batch rows whatever this is). */
#define PREFILL_CHUNK_ROWS 256

/* ---- weights ------------------------------------------------------------------------------- */

/* One layer's (or the model's global) tensors by role, NULL where the model has none. Carved in
 * the spec's storage order, so a role's neighbours of the same op follow it: t[RL_T_WQ] is
 * [q_dim + 2 kv_dim, H] (q_proj, k_proj, v_proj, one matmul), t[RL_T_BQ] their biases,
 * t[RL_T_Q_NORM] [2, head_dim] (q_norm, k_norm), t[RL_T_W_GATE] [2 I, H] (gate_proj, up_proj). */
typedef struct {
    float *t[RL_T_COUNT];
} tensors;

typedef struct {
    tensors global; /* embed [V, H], final_norm [H], lm_head [V, H] (the embedding when tied) */
    tensors *layer;
    float *block;   /* the one allocation all of the above live in */
    int64_t n_floats;
} model_weights;

/* ---- run state ----------------------------------------------------------------------------- */

typedef struct {
    rl_model_config m;
    int64_t q_dim, kv_dim, qkv_dim; /* heads*hd, kv_heads*hd, q_dim + 2 kv_dim */
    int64_t max_batch, max_context, cap_rows;
    model_weights w;
    rl_pool *pool;
    /* activations for up to cap_rows rows */
    float *x;       /* [R, H] residual stream */
    float *xn;      /* [R, H] normalised rows (matmul input) */
    float *qkv;     /* [R, qkv_dim] q | k | v of each row */
    float *att;     /* [R, q_dim] attention output */
    float *gu;      /* [R, 2 I] gate | up; silu(gate) * up is written over gate */
    float *scores;  /* [threads, heads / kv_heads, max_context] attention probabilities per thread */
    float *logits;  /* [max_batch, V] when the caller passes none */
    int32_t *row_token, *row_slot, *row_pos; /* [R] the rows of the current chunk */
    /* KV cache [layers][max_batch][max_context][kv_dim] */
    float *key_cache, *value_cache;
    /* RoPE tables [max_context][head_dim / 2] */
    float *rope_cos, *rope_sin;
    int64_t pos; /* tokens held by each active sequence */
    int64_t workspace_floats;
    rl_kernel_log *log;
    char device[128];
} cpu_state;

/* ---- profiling: one record per op call when a log is set ------------------------------------ */

static double tick(const cpu_state *s) { return s->log ? rl_now_ms() : 0.0; }

static void tock(cpu_state *s, double t0, const char *kernel, rl_op_id op, int layer)
{
    if (s->log) rl_kernel_log_push(s->log, kernel, RL_OPMASK(op), layer, rl_now_ms() - t0);
}

/* ---- ops ----------------------------------------------------------------------------------- */

static void embed(cpu_state *s, int64_t n)
{
    const int64_t H = s->m.hidden;
    const float *table = s->w.global.t[RL_T_EMBED];
    for (int64_t r = 0; r < n; r++) memcpy(s->x + r * H, table + (int64_t)s->row_token[r] * H, sizeof(float) * H);
}

/* HF LlamaRMSNorm in fp32: out = x * rsqrt(mean(x^2) + eps) * w (sum of squares in double). */
static void rmsnorm(float *out, const float *x, const float *w, int64_t n, int64_t H, double eps)
{
    for (int64_t r = 0; r < n; r++) {
        const float *xr = x + r * H;
        float *o = out + r * H;
        double ss = 0;
        for (int64_t i = 0; i < H; i++) ss += (double)xr[i] * xr[i];
        float inv = (float)(1.0 / sqrt(ss / (double)H + eps));
        for (int64_t i = 0; i < H; i++) o[i] = w[i] * (xr[i] * inv);
    }
}

/* cos/sin of position p times each inverse frequency (src/model/rope.h: as transformers does it). */
static int rope_tables(const rl_model_config *m, int64_t n_pos, float *cos_t, float *sin_t)
{
    const int64_t half = m->head_dim / 2;
    float *inv = malloc(sizeof(float) * (size_t)half);
    if (!inv) return -1;
    rl_rope_inv_freq(m, inv);
    for (int64_t p = 0; p < n_pos; p++)
        for (int64_t i = 0; i < half; i++) rl_rope_cos_sin(inv[i], p, &cos_t[p * half + i], &sin_t[p * half + i]);
    free(inv);
    return 0;
}

/* q/k/v biases (qwen2), added to each row's q | k | v. */
static void add_bias(cpu_state *s, int64_t n, const float *bias)
{
    for (int64_t r = 0; r < n; r++) {
        float *row = s->qkv + r * s->qkv_dim;
        for (int64_t i = 0; i < s->qkv_dim; i++) row[i] += bias[i];
    }
}

/* Per-head RMSNorm of every q and k head (qwen3), before RoPE: norm_w is q_norm then k_norm. */
static void qk_norm(cpu_state *s, int64_t n, const float *norm_w)
{
    const int64_t hd = s->m.head_dim;
    for (int64_t r = 0; r < n; r++) {
        float *row = s->qkv + r * s->qkv_dim;
        rmsnorm(row, row, norm_w, s->m.heads, hd, s->m.norm_eps);
        rmsnorm(row + s->q_dim, row + s->q_dim, norm_w + hd, s->m.kv_heads, hd, s->m.norm_eps);
    }
}

/* rotate_half RoPE on every q and k head of each row: (x1, x2) = (v[i], v[i + hd/2]) ->
 * (x1 cos - x2 sin, x2 cos + x1 sin). */
static void rope(cpu_state *s, int64_t n)
{
    const int64_t hd = s->m.head_dim, half = hd / 2, n_heads = s->m.heads + s->m.kv_heads;
    for (int64_t r = 0; r < n; r++) {
        const float *c = s->rope_cos + (int64_t)s->row_pos[r] * half, *sn = s->rope_sin + (int64_t)s->row_pos[r] * half;
        float *row = s->qkv + r * s->qkv_dim; /* q heads then k heads are contiguous */
        for (int64_t h = 0; h < n_heads; h++) {
            float *v = row + h * hd;
            for (int64_t i = 0; i < half; i++) {
                float x1 = v[i], x2 = v[i + half];
                v[i] = x1 * c[i] - x2 * sn[i];
                v[i + half] = x2 * c[i] + x1 * sn[i];
            }
        }
    }
}

static size_t cache_offset(const cpu_state *s, int64_t layer, int64_t slot, int64_t pos)
{
    return (size_t)(((layer * s->max_batch + slot) * s->max_context + pos) * s->kv_dim);
}

static void kv_write(cpu_state *s, int64_t n, int64_t layer)
{
    for (int64_t r = 0; r < n; r++) {
        size_t off = cache_offset(s, layer, s->row_slot[r], s->row_pos[r]);
        const float *k = s->qkv + r * s->qkv_dim + s->q_dim;
        memcpy(s->key_cache + off, k, sizeof(float) * s->kv_dim);
        memcpy(s->value_cache + off, k + s->kv_dim, sizeof(float) * s->kv_dim);
    }
}

typedef struct {
    cpu_state *s;
    int64_t layer;
    int64_t window; /* keys a query sees at most (sliding window), 0 = all */
} attn_args;

/* Causal GQA attention for (row, KV head) pairs [begin, end): the `group` query heads that share
 * KV head g (heads g*group .. g*group+group-1, adjacent in the row) attend to positions lo..pos of
 * the row's slot (lo = 0, or pos - window + 1 in a sliding-window layer, as transformers masks
 * it): p = softmax(q K^T / sqrt(hd)), out = p V. Both products are small matmuls over the group,
 * so the group's queries share each K and V load. */
static void attention_task(void *ctx, int64_t begin, int64_t end, int part)
{
    const attn_args *a = ctx;
    cpu_state *s = a->s;
    const int64_t hd = s->m.head_dim, kv_heads = s->m.kv_heads, group = s->m.heads / kv_heads;
    const float scale = (float)(1.0 / sqrt((double)hd));
    float *scores = s->scores + (int64_t)part * group * s->max_context; /* [group][max_context] */
    for (int64_t task = begin; task < end; task++) {
        const int64_t r = task / kv_heads, g = task % kv_heads, pos = s->row_pos[r];
        const int64_t lo = a->window > 0 && pos + 1 > a->window ? pos + 1 - a->window : 0, n_pos = pos + 1 - lo;
        const float *q = s->qkv + r * s->qkv_dim + g * group * hd;
        const size_t base = cache_offset(s, a->layer, s->row_slot[r], lo) + (size_t)(g * hd);
        const float *K = s->key_cache + base, *V = s->value_cache + base; /* position t at t * kv_dim */
        rl_matmul_serial(scores, s->max_context, q, hd, K, s->kv_dim, group, hd, n_pos, 0);
        for (int64_t j = 0; j < group; j++) {
            float *p = scores + j * s->max_context, max = -INFINITY;
            for (int64_t t = 0; t < n_pos; t++) {
                p[t] *= scale;
                if (p[t] > max) max = p[t];
            }
            double sum = 0;
            for (int64_t t = 0; t < n_pos; t++) {
                p[t] = expf(p[t] - max);
                sum += p[t];
            }
            const float inv_sum = (float)(1.0 / sum);
            for (int64_t t = 0; t < n_pos; t++) p[t] *= inv_sum;
        }
        float *out = s->att + r * s->q_dim + g * group * hd; /* the group's heads are adjacent */
        rl_matmul_nn_serial(out, hd, scores, s->max_context, V, s->kv_dim, group, n_pos, hd);
    }
}

/* (row, KV head) pairs per thread: all of them in one thread when the whole attention is a few
 * tens of microseconds of work (waking the pool would cost as much). */
static int64_t attention_grain(const cpu_state *s, int64_t n)
{
    int64_t work = 0;
    for (int64_t r = 0; r < n; r++) work += ((int64_t)s->row_pos[r] + 1) * s->m.head_dim * s->m.heads;
    return work < (1 << 17) ? n * s->m.kv_heads : 1;
}

/* SwiGLU: gate <- silu(gate) * up, in place in the gate half of each row. */
static void silu_mul(cpu_state *s, int64_t n)
{
    const int64_t I = s->m.intermediate;
    for (int64_t r = 0; r < n; r++) {
        float *g = s->gu + r * 2 * I, *u = g + I;
        for (int64_t i = 0; i < I; i++) g[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

/* ---- the forward pass ---------------------------------------------------------------------- */

/* Runs every layer over the n rows in row_token/row_slot/row_pos; leaves the final residual
 * stream in x. */
static void forward_rows(cpu_state *s, int64_t n)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, I = m->intermediate;
    double t = tick(s);
    embed(s, n);
    tock(s, t, "cpu_embed", RL_OP_EMBED, -1);
    for (int64_t l = 0; l < m->layers; l++) {
        float *const *w = s->w.layer[l].t;
        const int li = (int)l;
        /* attention block: x += o_proj(attention(rope(qk_norm(qkv(rmsnorm(x)) + bias)))) */
        t = tick(s);
        rmsnorm(s->xn, s->x, w[RL_T_ATTN_NORM], n, H, m->norm_eps);
        tock(s, t, "cpu_rmsnorm", RL_OP_ATTN_NORM, li);
        t = tick(s);
        rl_matmul(s->pool, s->qkv, s->qkv_dim, s->xn, H, w[RL_T_WQ], n, H, s->qkv_dim, 0);
        tock(s, t, "cpu_matmul_qkv", RL_OP_QKV, li);
        if (w[RL_T_BQ]) {
            t = tick(s);
            add_bias(s, n, w[RL_T_BQ]);
            tock(s, t, "cpu_qkv_bias", RL_OP_QKV_BIAS, li);
        }
        if (w[RL_T_Q_NORM]) {
            t = tick(s);
            qk_norm(s, n, w[RL_T_Q_NORM]);
            tock(s, t, "cpu_qk_norm", RL_OP_QK_NORM, li);
        }
        t = tick(s);
        rope(s, n);
        tock(s, t, "cpu_rope", RL_OP_ROPE, li);
        t = tick(s);
        kv_write(s, n, l);
        tock(s, t, "cpu_kv_write", RL_OP_KV_WRITE, li);
        t = tick(s);
        attn_args aa = {s, l, rl_model_window(m, l)};
        rl_pool_for(s->pool, n * m->kv_heads, attention_grain(s, n), attention_task, &aa);
        tock(s, t, "cpu_attention", RL_OP_ATTENTION, li);
        t = tick(s);
        rl_matmul(s->pool, s->x, H, s->att, s->q_dim, w[RL_T_WO], n, s->q_dim, H, 1);
        tock(s, t, "cpu_matmul_o", RL_OP_O_PROJ, li);
        /* MLP block: x += down(silu(gate(rmsnorm(x))) * up(rmsnorm(x))) */
        t = tick(s);
        rmsnorm(s->xn, s->x, w[RL_T_FFN_NORM], n, H, m->norm_eps);
        tock(s, t, "cpu_rmsnorm", RL_OP_FFN_NORM, li);
        t = tick(s);
        rl_matmul(s->pool, s->gu, 2 * I, s->xn, H, w[RL_T_W_GATE], n, H, 2 * I, 0);
        tock(s, t, "cpu_matmul_gate_up", RL_OP_GATE_UP, li);
        t = tick(s);
        silu_mul(s, n);
        tock(s, t, "cpu_silu_mul", RL_OP_SILU_MUL, li);
        t = tick(s);
        rl_matmul(s->pool, s->x, H, s->gu, 2 * I, w[RL_T_W_DOWN], n, I, H, 1);
        tock(s, t, "cpu_matmul_down", RL_OP_DOWN, li);
    }
}

/* Logits of `count` consecutive rows starting at row `first`: final RMSNorm, then lm_head into
 * out (count x vocab). */
static void logits_rows(cpu_state *s, int64_t first, int64_t count, float *out)
{
    const int64_t H = s->m.hidden;
    double t = tick(s);
    rmsnorm(s->xn, s->x + first * H, s->w.global.t[RL_T_FINAL_NORM], count, H, s->m.norm_eps);
    tock(s, t, "cpu_rmsnorm", RL_OP_FINAL_NORM, -1);
    t = tick(s);
    rl_matmul(s->pool, out, s->m.vocab, s->xn, H, s->w.global.t[RL_T_LM_HEAD], count, H, s->m.vocab, 0);
    tock(s, t, "cpu_lm_head", RL_OP_LM_HEAD, -1);
}

/* Greedy sampling: the first index of the largest logit (NaN never wins). */
static int32_t argmax(const float *v, int64_t n)
{
    int64_t best = 0;
    for (int64_t i = 1; i < n; i++)
        if (v[i] > v[best] || (v[best] != v[best] && v[i] == v[i])) best = i;
    return (int32_t)best;
}

static int cpu_prefill(void *state, int64_t batch, int64_t len, const int32_t *tokens, float *logits,
                       int all_positions, rl_err *err)
{
    cpu_state *s = state;
    if (batch > s->max_batch || len > s->max_context)
        return rl_fail(err, "cpu prefill: batch %lld x length %lld exceeds the engine's %lld x %lld", (long long)batch,
                       (long long)len, (long long)s->max_batch, (long long)s->max_context);
    const int64_t V = s->m.vocab, total = batch * len;
    for (int64_t start = 0; start < total; start += s->cap_rows) {
        const int64_t n = total - start < s->cap_rows ? total - start : s->cap_rows;
        for (int64_t r = 0; r < n; r++) {
            s->row_token[r] = tokens[start + r];
            s->row_slot[r] = (int32_t)((start + r) / len);
            s->row_pos[r] = (int32_t)((start + r) % len);
        }
        forward_rows(s, n);
        if (all_positions && logits) {
            logits_rows(s, 0, n, logits + start * V);
            continue;
        }
        /* Only each sequence's last position needs logits (the contract's prefill); those rows are
         * the chunk's sequence ends, consecutive in sequence order. */
        int64_t first = -1, count = 0;
        for (int64_t r = 0; r < n; r++)
            if (s->row_pos[r] == len - 1) {
                if (first < 0) first = r;
                count++;
            }
        if (count == 0) continue;
        /* Sequence ends in a chunk are len rows apart; gather them so lm_head runs once. */
        if (len > 1)
            for (int64_t k = 1; k < count; k++)
                memcpy(s->x + (first + k) * s->m.hidden, s->x + (first + k * len) * s->m.hidden,
                       sizeof(float) * s->m.hidden);
        float *dst = logits ? logits + (int64_t)s->row_slot[first] * V : s->logits;
        logits_rows(s, first, count, dst);
    }
    s->pos = len;
    return 0;
}

static int cpu_decode(void *state, int64_t batch, const int32_t *tokens, float *logits, int32_t *next, rl_err *err)
{
    cpu_state *s = state;
    if (batch > s->max_batch || s->pos >= s->max_context)
        return rl_fail(err, "cpu decode: batch %lld at position %lld exceeds the engine's %lld x %lld",
                       (long long)batch, (long long)s->pos, (long long)s->max_batch, (long long)s->max_context);
    for (int64_t b = 0; b < batch; b++) {
        s->row_token[b] = tokens[b];
        s->row_slot[b] = (int32_t)b;
        s->row_pos[b] = (int32_t)s->pos;
    }
    forward_rows(s, batch);
    float *out = logits ? logits : s->logits;
    logits_rows(s, 0, batch, out);
    if (next) {
        double t = tick(s);
        for (int64_t b = 0; b < batch; b++) next[b] = argmax(out + b * s->m.vocab, s->m.vocab);
        tock(s, t, "cpu_argmax", RL_OP_SAMPLE, -1);
    }
    s->pos++;
    return 0;
}

/* Seeded values of std 1/sqrt(3) (random_init.h's bounded triangular draw; the CUDA engine's uniform
 * [-1, 1) has the same std) at positions 0..context-1 of slots 0..batch-1, every layer; one stream
 * per (layer, slot, K or V) so no two rows repeat. */
static int cpu_fill_context(void *state, int64_t batch, int64_t context, uint64_t seed, rl_err *err)
{
    cpu_state *s = state;
    if (batch > s->max_batch || context >= s->max_context)
        return rl_fail(err, "cpu fill_context: batch %lld x context %lld exceeds the engine's %lld x %lld",
                       (long long)batch, (long long)context, (long long)s->max_batch, (long long)s->max_context);
    const uint64_t n = (uint64_t)(context * s->kv_dim);
    for (int64_t l = 0; l < s->m.layers; l++)
        for (int64_t b = 0; b < batch; b++) {
            const uint64_t stream = 0xfc000000ull + (uint64_t)((l * s->max_batch + b) * 2);
            const size_t off = cache_offset(s, l, b, 0);
            rl_rand_fill(s->key_cache + off, 0, n, seed, stream, 0, 0.57735f);
            rl_rand_fill(s->value_cache + off, 0, n, seed, stream + 1, 0, 0.57735f);
        }
    s->pos = context;
    return 0;
}

/* ---- set-up: weights from a checkpoint or the seeded generator ------------------------------ */

/* The tensors of layer l (RL_SPEC_GLOBAL: embed, final norm, lm_head). */
static tensors *tensors_of(cpu_state *s, int64_t l) { return l == RL_SPEC_GLOBAL ? &s->w.global : &s->w.layer[l]; }

/* Points every tensor of the spec into the block, in the spec's order (stacks stay contiguous);
 * a tied lm_head points at the embedding. Returns the floats used. */
static int64_t carve_weights(cpu_state *s, float *block)
{
    int64_t used = 0;
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    for (int64_t l = RL_SPEC_GLOBAL; l < s->m.layers; l++) {
        const int n = rl_spec_tensors(&s->m, l, t);
        for (int i = 0; i < n; i++) {
            if (t[i].tied) continue;
            if (block) tensors_of(s, l)->t[t[i].role] = block + used;
            used += rl_spec_stored_elems(&t[i]);
        }
    }
    if (block && s->m.tied_embeddings) s->w.global.t[RL_T_LM_HEAD] = s->w.global.t[RL_T_EMBED];
    return used;
}

typedef struct {
    float *dst;
    uint64_t seed, stream;
    float center, std;
} fill_args;

static void fill_task(void *ctx, int64_t begin, int64_t end, int part)
{
    (void)part;
    const fill_args *f = ctx;
    rl_rand_fill(f->dst + begin, (uint64_t)begin, (uint64_t)(end - begin), f->seed, f->stream, f->center, f->std);
}

/* Every tensor of the spec from a checkpoint (converted from F32/F16/BF16; names and shapes were
 * checked when it was opened) or from the seeded generator. */
static int init_weights(cpu_state *s, const char *dir, uint64_t seed, rl_err *err)
{
    rl_weights *ck = NULL;
    if (dir && rl_weights_open(dir, &s->m, &ck, err)) return -1;
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    char name[192];
    int rc = 0;
    for (int64_t l = RL_SPEC_GLOBAL; l < s->m.layers && !rc; l++) {
        const int n = rl_spec_tensors(&s->m, l, t);
        for (int i = 0; i < n && !rc; i++) {
            float *dst = tensors_of(s, l)->t[t[i].role];
            if (t[i].tied) continue;
            if (ck) {
                rl_tensor_view v;
                rl_spec_name(&t[i], l, 0, name, sizeof name);
                rc = rl_weights_get(ck, name, &v, err);
                if (!rc) rl_tensor_to_f32(&v, dst);
            } else {
                fill_args f = {dst, seed, rl_rand_stream(l, t[i].role), 0, 0};
                rl_rand_scale(&t[i], &f.center, &f.std);
                rl_pool_for(s->pool, rl_spec_elems(&t[i]), 1 << 16, fill_task, &f);
            }
        }
    }
    rl_weights_close(ck);
    return rc;
}

/* "model name" from /proc/cpuinfo (x86), else "Model"/"Hardware" (Arm), else a generic name. */
static void read_cpu_name(char *out, size_t n)
{
    snprintf(out, n, "CPU (model unknown)");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) && strncmp(line, "Model", 5) && strncmp(line, "Hardware", 8)) continue;
        char *colon = strchr(line, ':');
        if (!colon) continue;
        char *v = colon + 1;
        while (*v == ' ' || *v == '\t') v++;
        v[strcspn(v, "\n")] = 0;
        if (*v) {
            snprintf(out, n, "%s", v);
            break;
        }
    }
    fclose(f);
}

static void cpu_destroy(void *state)
{
    cpu_state *s = state;
    if (!s) return;
    rl_pool_destroy(s->pool);
    free(s->w.block);
    free(s->w.layer);
    free(s->x), free(s->xn), free(s->qkv), free(s->att), free(s->gu), free(s->scores), free(s->logits);
    free(s->row_token), free(s->row_slot), free(s->row_pos);
    free(s->key_cache), free(s->value_cache), free(s->rope_cos), free(s->rope_sin);
    free(s);
}

static float *alloc_floats(int64_t n, int64_t *total)
{
    *total += n;
    return malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
}

static int cpu_create(const rl_model_config *m, const rl_engine_opts *o, void **state, rl_err *err)
{
    *state = NULL;
    if (rl_model_validate(m, m->name, err)) return -1;
    cpu_state *s = calloc(1, sizeof *s);
    if (!s) return rl_fail(err, "cpu engine: out of host memory");
    s->m = *m;
    s->q_dim = m->heads * m->head_dim;
    s->kv_dim = m->kv_heads * m->head_dim;
    s->qkv_dim = s->q_dim + 2 * s->kv_dim;
    s->max_batch = o->max_batch;
    s->max_context = o->max_context;
    int64_t max_prefill = o->max_prefill > 0 ? o->max_prefill : o->max_context;
    int64_t prefill_rows = o->max_batch * max_prefill;
    s->cap_rows = prefill_rows < PREFILL_CHUNK_ROWS ? prefill_rows : PREFILL_CHUNK_ROWS;
    if (s->cap_rows < s->max_batch) s->cap_rows = s->max_batch;
    read_cpu_name(s->device, sizeof s->device);
    if (rl_pool_create(o->threads, &s->pool, err)) {
        free(s);
        return -1;
    }

    s->w.n_floats = carve_weights(s, NULL);
    s->w.block = malloc(sizeof(float) * (size_t)s->w.n_floats);
    s->w.layer = calloc((size_t)m->layers, sizeof *s->w.layer);
    const int64_t R = s->cap_rows, H = m->hidden, I = m->intermediate, V = m->vocab;
    const int64_t kv_floats = m->layers * s->max_batch * s->max_context * s->kv_dim;
    int64_t ws = 0, kv = 0;
    s->x = alloc_floats(R * H, &ws);
    s->xn = alloc_floats(R * H, &ws);
    s->qkv = alloc_floats(R * s->qkv_dim, &ws);
    s->att = alloc_floats(R * s->q_dim, &ws);
    s->gu = alloc_floats(R * 2 * I, &ws);
    s->scores = alloc_floats((int64_t)rl_pool_threads(s->pool) * (m->heads / m->kv_heads) * s->max_context, &ws);
    s->logits = alloc_floats(s->max_batch * V, &ws); /* at most one row per sequence lands here */
    s->rope_cos = alloc_floats(s->max_context * (m->head_dim / 2), &ws);
    s->rope_sin = alloc_floats(s->max_context * (m->head_dim / 2), &ws);
    s->key_cache = alloc_floats(kv_floats, &kv);
    s->value_cache = alloc_floats(kv_floats, &kv);
    s->row_token = malloc(sizeof(int32_t) * (size_t)R);
    s->row_slot = malloc(sizeof(int32_t) * (size_t)R);
    s->row_pos = malloc(sizeof(int32_t) * (size_t)R);
    s->workspace_floats = ws + 3 * R;
    if (!s->w.block || !s->w.layer || !s->x || !s->xn || !s->qkv || !s->att || !s->gu || !s->scores || !s->logits ||
        !s->rope_cos || !s->rope_sin || !s->key_cache || !s->value_cache || !s->row_token || !s->row_slot ||
        !s->row_pos) {
        double gb = (double)(s->w.n_floats + ws + kv) * 4 / 1e9;
        cpu_destroy(s);
        return rl_fail(err, "cpu engine: out of host memory (%s in fp32 with a %lld x %lld KV cache needs %.2f GB); "
                            "use a smaller model, batch or context",
                       m->name, (long long)o->max_batch, (long long)o->max_context, gb);
    }
    carve_weights(s, s->w.block);
    if (rope_tables(m, s->max_context, s->rope_cos, s->rope_sin)) {
        cpu_destroy(s);
        return rl_fail(err, "cpu engine: out of host memory (RoPE table)");
    }
    if (init_weights(s, o->weights_dir, o->seed, err)) {
        cpu_destroy(s);
        return -1;
    }
    *state = s;
    return 0;
}

/* ---- the backend table -------------------------------------------------------------------- */

static int cpu_sync(void *state, rl_err *err)
{
    (void)state, (void)err;
    return 0;
}

static void cpu_set_profile(void *state, rl_kernel_log *log) { ((cpu_state *)state)->log = log; }

static void cpu_memory(void *state, int64_t *weights_bytes, int64_t *kv_bytes, int64_t *workspace_bytes)
{
    const cpu_state *s = state;
    if (weights_bytes) *weights_bytes = s->w.n_floats * 4;
    if (kv_bytes) *kv_bytes = 2 * s->m.layers * s->max_batch * s->max_context * s->kv_dim * 4;
    if (workspace_bytes) *workspace_bytes = s->workspace_floats * 4;
}

static const char *cpu_device_name(void *state) { return ((cpu_state *)state)->device; }

const rl_backend_ops rl_cpu_backend = {
    .name = "cpu",
    .create = cpu_create,
    .destroy = cpu_destroy,
    .prefill = cpu_prefill,
    .decode = cpu_decode,
    .sync = cpu_sync,
    .set_profile = cpu_set_profile,
    .memory = cpu_memory,
    .device_name = cpu_device_name,
    .fill_context = cpu_fill_context,
};
