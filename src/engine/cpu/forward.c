/* forward.c: the CPU reference engine: a Llama forward pass in plain C, fp32 math throughout,
 * readable top to bottom (after llama2.c's run.c): the model's weights, the run state (activations
 * and the KV cache), the small ops, then forward_rows() layer by layer, then the backend table.
 *
 * It matches Hugging Face's LlamaForCausalLM (the golden test holds it to 1e-3 of the largest
 * logit): RMSNorm x * rsqrt(mean(x^2) + eps) * w; RoPE in the rotate_half convention (pairs
 * (i, i + head_dim/2), not interleaved) with llama3 frequency scaling; GQA attention with causal
 * masking; SwiGLU MLP; lm_head or the tied embedding.
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
#include "../../model/weights.h"
#include "../engine.h"
#include "matmul.h"
#include "pool.h"

/* Prefill rows per chunk (decode steps use max_batch rows whatever this is). */
#define PREFILL_CHUNK_ROWS 256

/* ---- weights ------------------------------------------------------------------------------- */

typedef struct {
    float *attn_norm; /* [H] input_layernorm */
    float *wqkv;      /* [q_dim + 2 kv_dim, H]: q_proj, k_proj, v_proj stacked, one matmul */
    float *wo;        /* [H, q_dim] o_proj */
    float *ffn_norm;  /* [H] post_attention_layernorm */
    float *wgate_up;  /* [2 I, H]: gate_proj, up_proj stacked, one matmul */
    float *wdown;     /* [H, I] down_proj */
} layer_weights;

typedef struct {
    float *embed;      /* [V, H] embed_tokens */
    layer_weights *layer;
    float *final_norm; /* [H] model.norm */
    float *lm_head;    /* [V, H]; points at embed when the model ties them */
    float *block;      /* the one allocation all of the above live in */
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
    for (int64_t r = 0; r < n; r++) memcpy(s->x + r * H, s->w.embed + (int64_t)s->row_token[r] * H, sizeof(float) * H);
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

/* cos/sin of position p times each inverse frequency, computed as transformers does it in fp32
 * (inv_freq = 1 / theta^(2i/hd), llama3 scaling, angle = (float)p * inv_freq). */
static void rope_tables(const rl_model_config *m, int64_t n_pos, float *cos_t, float *sin_t)
{
    const int64_t half = m->head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        float inv = 1.0f / powf((float)m->rope_theta, (float)(2 * i) / (float)m->head_dim);
        if (m->rope_llama3) {
            /* _compute_llama3_parameters: long wavelengths divided by factor, short ones kept,
             * a smooth blend in between. */
            const float factor = (float)m->rope_factor, lo = (float)m->rope_low_freq_factor;
            const float hi = (float)m->rope_high_freq_factor, old_ctx = (float)m->rope_original_max_positions;
            const float low_freq_wavelen = old_ctx / lo, high_freq_wavelen = old_ctx / hi;
            const float wavelen = (float)(2.0 * M_PI) / inv;
            float scaled = wavelen > low_freq_wavelen ? inv / factor : inv;
            float smooth = (old_ctx / wavelen - lo) / (hi - lo);
            float blended = (1.0f - smooth) * scaled / factor + smooth * scaled;
            int medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
            inv = medium ? blended : scaled;
        }
        for (int64_t p = 0; p < n_pos; p++) {
            float angle = (float)p * inv;
            cos_t[p * half + i] = (float)cos((double)angle);
            sin_t[p * half + i] = (float)sin((double)angle);
        }
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
} attn_args;

/* Causal GQA attention for (row, KV head) pairs [begin, end): the `group` query heads that share
 * KV head g (heads g*group .. g*group+group-1, adjacent in the row) attend to positions 0..pos of
 * the row's slot: p = softmax(q K^T / sqrt(hd)), out = p V. Both products are small matmuls over
 * the group, so the group's queries share each K and V load. */
static void attention_task(void *ctx, int64_t begin, int64_t end, int part)
{
    const attn_args *a = ctx;
    cpu_state *s = a->s;
    const int64_t hd = s->m.head_dim, kv_heads = s->m.kv_heads, group = s->m.heads / kv_heads;
    const float scale = (float)(1.0 / sqrt((double)hd));
    float *scores = s->scores + (int64_t)part * group * s->max_context; /* [group][max_context] */
    for (int64_t task = begin; task < end; task++) {
        const int64_t r = task / kv_heads, g = task % kv_heads, n_pos = (int64_t)s->row_pos[r] + 1;
        const float *q = s->qkv + r * s->qkv_dim + g * group * hd;
        const size_t base = cache_offset(s, a->layer, s->row_slot[r], 0) + (size_t)(g * hd);
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
        const layer_weights *w = &s->w.layer[l];
        const int li = (int)l;
        /* attention block: x += o_proj(attention(rope(qkv(rmsnorm(x))))) */
        t = tick(s);
        rmsnorm(s->xn, s->x, w->attn_norm, n, H, m->norm_eps);
        tock(s, t, "cpu_rmsnorm", RL_OP_ATTN_NORM, li);
        t = tick(s);
        rl_matmul(s->pool, s->qkv, s->qkv_dim, s->xn, H, w->wqkv, n, H, s->qkv_dim, 0);
        tock(s, t, "cpu_matmul_qkv", RL_OP_QKV, li);
        t = tick(s);
        rope(s, n);
        tock(s, t, "cpu_rope", RL_OP_ROPE, li);
        t = tick(s);
        kv_write(s, n, l);
        tock(s, t, "cpu_kv_write", RL_OP_KV_WRITE, li);
        t = tick(s);
        attn_args aa = {s, l};
        rl_pool_for(s->pool, n * m->kv_heads, attention_grain(s, n), attention_task, &aa);
        tock(s, t, "cpu_attention", RL_OP_ATTENTION, li);
        t = tick(s);
        rl_matmul(s->pool, s->x, H, s->att, s->q_dim, w->wo, n, s->q_dim, H, 1);
        tock(s, t, "cpu_matmul_o", RL_OP_O_PROJ, li);
        /* MLP block: x += down(silu(gate(rmsnorm(x))) * up(rmsnorm(x))) */
        t = tick(s);
        rmsnorm(s->xn, s->x, w->ffn_norm, n, H, m->norm_eps);
        tock(s, t, "cpu_rmsnorm", RL_OP_FFN_NORM, li);
        t = tick(s);
        rl_matmul(s->pool, s->gu, 2 * I, s->xn, H, w->wgate_up, n, H, 2 * I, 0);
        tock(s, t, "cpu_matmul_gate_up", RL_OP_GATE_UP, li);
        t = tick(s);
        silu_mul(s, n);
        tock(s, t, "cpu_silu_mul", RL_OP_SILU_MUL, li);
        t = tick(s);
        rl_matmul(s->pool, s->x, H, s->gu, 2 * I, w->wdown, n, I, H, 1);
        tock(s, t, "cpu_matmul_down", RL_OP_DOWN, li);
    }
}

/* Logits of `count` consecutive rows starting at row `first`: final RMSNorm, then lm_head into
 * out (count x vocab). */
static void logits_rows(cpu_state *s, int64_t first, int64_t count, float *out)
{
    const int64_t H = s->m.hidden;
    double t = tick(s);
    rmsnorm(s->xn, s->x + first * H, s->w.final_norm, count, H, s->m.norm_eps);
    tock(s, t, "cpu_rmsnorm", RL_OP_FINAL_NORM, -1);
    t = tick(s);
    rl_matmul(s->pool, out, s->m.vocab, s->xn, H, s->w.lm_head, count, H, s->m.vocab, 0);
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

/* ---- set-up: weights from a checkpoint or the seeded generator ------------------------------ */

static void carve_weights(cpu_state *s)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, V = m->vocab, I = m->intermediate;
    float *p = s->w.block;
    s->w.embed = p, p += V * H;
    for (int64_t l = 0; l < m->layers; l++) {
        layer_weights *w = &s->w.layer[l];
        w->attn_norm = p, p += H;
        w->wqkv = p, p += s->qkv_dim * H;
        w->wo = p, p += H * s->q_dim;
        w->ffn_norm = p, p += H;
        w->wgate_up = p, p += 2 * I * H;
        w->wdown = p, p += H * I;
    }
    s->w.final_norm = p, p += H;
    if (m->tied_embeddings) {
        s->w.lm_head = s->w.embed;
    } else {
        s->w.lm_head = p, p += V * H;
    }
}

static int64_t weight_floats(const cpu_state *s)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, per_layer = 2 * H + s->qkv_dim * H + H * s->q_dim + 3 * m->intermediate * H;
    return m->vocab * H * (m->tied_embeddings ? 1 : 2) + m->layers * per_layer + H;
}

/* Converts checkpoint tensor `name` (any of F32/F16/BF16) into dst; shapes were checked at open. */
static int load_tensor(const rl_weights *ck, const char *name, float *dst, rl_err *err)
{
    rl_tensor_view v;
    if (rl_weights_get(ck, name, &v, err)) return -1;
    rl_tensor_to_f32(&v, dst);
    return 0;
}

static int load_checkpoint(cpu_state *s, const char *dir, rl_err *err)
{
    rl_weights *ck;
    if (rl_weights_open(dir, &s->m, &ck, err)) return -1;
    const int64_t H = s->m.hidden, I = s->m.intermediate;
    char n[160];
    int rc = load_tensor(ck, "model.embed_tokens.weight", s->w.embed, err);
    for (int64_t l = 0; l < s->m.layers && !rc; l++) {
        layer_weights *w = &s->w.layer[l];
        struct { const char *suffix; float *dst; } t[] = {
            {"input_layernorm.weight", w->attn_norm},
            {"self_attn.q_proj.weight", w->wqkv},
            {"self_attn.k_proj.weight", w->wqkv + s->q_dim * H},
            {"self_attn.v_proj.weight", w->wqkv + (s->q_dim + s->kv_dim) * H},
            {"self_attn.o_proj.weight", w->wo},
            {"post_attention_layernorm.weight", w->ffn_norm},
            {"mlp.gate_proj.weight", w->wgate_up},
            {"mlp.up_proj.weight", w->wgate_up + I * H},
            {"mlp.down_proj.weight", w->wdown},
        };
        for (size_t i = 0; i < sizeof t / sizeof t[0] && !rc; i++) {
            snprintf(n, sizeof n, "model.layers.%lld.%s", (long long)l, t[i].suffix);
            rc = load_tensor(ck, n, t[i].dst, err);
        }
    }
    if (!rc) rc = load_tensor(ck, "model.norm.weight", s->w.final_norm, err);
    if (!rc && !s->m.tied_embeddings) rc = load_tensor(ck, "lm_head.weight", s->w.lm_head, err);
    rl_weights_close(ck);
    return rc;
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

static void fill(cpu_state *s, float *dst, int64_t n, int64_t layer, rl_rand_kind kind, uint64_t seed)
{
    fill_args f = {dst, seed, rl_rand_stream(layer, kind), 0, 0};
    rl_rand_scale(&s->m, kind, &f.center, &f.std);
    rl_pool_for(s->pool, n, 1 << 16, fill_task, &f);
}

static void random_weights(cpu_state *s, uint64_t seed)
{
    const int64_t H = s->m.hidden, I = s->m.intermediate, V = s->m.vocab;
    fill(s, s->w.embed, V * H, -1, RL_RAND_EMBED, seed);
    for (int64_t l = 0; l < s->m.layers; l++) {
        layer_weights *w = &s->w.layer[l];
        fill(s, w->attn_norm, H, l, RL_RAND_ATTN_NORM, seed);
        fill(s, w->wqkv, s->q_dim * H, l, RL_RAND_WQ, seed);
        fill(s, w->wqkv + s->q_dim * H, s->kv_dim * H, l, RL_RAND_WK, seed);
        fill(s, w->wqkv + (s->q_dim + s->kv_dim) * H, s->kv_dim * H, l, RL_RAND_WV, seed);
        fill(s, w->wo, H * s->q_dim, l, RL_RAND_WO, seed);
        fill(s, w->ffn_norm, H, l, RL_RAND_FFN_NORM, seed);
        fill(s, w->wgate_up, I * H, l, RL_RAND_W_GATE, seed);
        fill(s, w->wgate_up + I * H, I * H, l, RL_RAND_W_UP, seed);
        fill(s, w->wdown, H * I, l, RL_RAND_W_DOWN, seed);
    }
    fill(s, s->w.final_norm, H, -1, RL_RAND_FINAL_NORM, seed);
    if (!s->m.tied_embeddings) fill(s, s->w.lm_head, V * H, -1, RL_RAND_LM_HEAD, seed);
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

    s->w.n_floats = weight_floats(s);
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
    carve_weights(s);
    rope_tables(m, s->max_context, s->rope_cos, s->rope_sin);
    if (o->weights_dir) {
        if (load_checkpoint(s, o->weights_dir, err)) {
            cpu_destroy(s);
            return -1;
        }
    } else {
        random_weights(s, o->seed);
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
};
