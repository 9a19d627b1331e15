// memory.cu: the memory plan (decided and checked against free GPU memory before anything is
// allocated), the carving of three allocations (weights, KV cache, workspace), random weights
// generated on the device, checkpoint upload, and the RoPE table.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
extern "C" {
#include "../../model/weights.h"
}

#define ALIGN_BYTES 256
#define PREFILL_CHUNK_TOKENS 4096           // activation rows per prefill pass: 4096 x ~128 KB (8B) = 0.5 GB
#define LT_WORKSPACE_BYTES (32ll << 20)     // cuBLASLt's recommended workspace on Hopper
#define RESERVE_BYTES (256ll << 20)         // CUDA/cuBLASLt internals and graphs, kept free
#define STAGING_BYTES (64ll << 20)          // host staging for checkpoint conversion

static int64_t up(int64_t b) { return (b + ALIGN_BYTES - 1) / ALIGN_BYTES * ALIGN_BYTES; }

static int64_t layer_weight_elems(const rl_model_config *m, int64_t *qkv_dim)
{
    *qkv_dim = (m->heads + 2 * m->kv_heads) * m->head_dim;
    return m->hidden + *qkv_dim * m->hidden + m->hidden * m->heads * m->head_dim + m->hidden +
           2 * m->intermediate * m->hidden + m->hidden * m->intermediate;
}

// The workspace, as one table: every buffer's size and the pointer it is carved into. The plan
// sums it, the allocation carves it; nothing else knows the layout.
typedef struct {
    void **ptr;
    int64_t bytes;
} ws_entry;
#define WS_MAX 24

static int workspace_table(cuda_state *s, const cuda_plan *p, ws_entry *t)
{
    const rl_model_config *m = &s->m;
    const int64_t T = p->chunk_tokens, H = m->hidden, I = m->intermediate, V = m->vocab;
    const int64_t qkv_dim = (m->heads + 2 * m->kv_heads) * m->head_dim, A = m->heads * m->head_dim;
    int n = 0;
#define WS(field, nbytes) t[n].ptr = (void **)&s->field, t[n].bytes = (nbytes), n++
    WS(x, T * H * 4);
    WS(xn, T * H * 2);
    WS(qkv, T * qkv_dim * 2);
    WS(attn, T * A * 2);
    WS(gu, T * 2 * I * 2);
    WS(h, T * I * 2);
    WS(logits, p->logits_rows * V * 4);
    WS(next, s->o.max_batch * 4);
    WS(tokens, T * 4);
    WS(step, (1 + s->o.max_batch) * 4);
    WS(partial, p->partial_floats * 4);
    WS(tickets, s->o.max_batch * m->kv_heads * 4);
    WS(gs_ws, p->gs_floats * 4);
    WS(gs_tickets, (int64_t)RL_GS_MAX_TILES * 4);
    WS(rope, s->o.max_context * m->head_dim / 2 * 8);
    WS(scratch, p->scratch_bytes);
    WS(lt_ws, p->lt_workspace_bytes);
#undef WS
    return n;
}

int cuda_plan_memory(cuda_state *s, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const rl_engine_opts *o = &s->o;
    cuda_plan *p = &s->plan;
    memset(p, 0, sizeof *p);
    const double kv_d = 2.0 * m->layers * (double)o->max_batch * m->kv_heads * (double)o->max_context * m->head_dim * 2;
    if (kv_d > 1e17 || o->max_batch > INT32_MAX / 2 || o->max_context > INT32_MAX / 2)
        return rl_fail(err, "cuda engine: batch %lld x context %lld is far beyond any GPU's memory "
                            "(KV cache alone %.3g GB); lower --batch or --context",
                       (long long)o->max_batch, (long long)o->max_context, kv_d / 1e9);
    int64_t qkv_dim;
    const int64_t per_layer = layer_weight_elems(m, &qkv_dim);
    const int64_t H = m->hidden, I = m->intermediate, V = m->vocab;
    // 7 tensors a layer + embed, final norm, lm_head; each aligned
    p->weights_bytes = (V * H + m->layers * per_layer + H + (m->tied_embeddings ? 0 : V * H)) * 2 +
                       (7 * m->layers + 3) * ALIGN_BYTES;
    p->kv_bytes = (int64_t)kv_d;

    const int64_t prefill = o->max_prefill > 0 ? o->max_prefill : o->max_context;
    const int64_t cap = o->cuda.chunk_tokens > 0 ? o->cuda.chunk_tokens : PREFILL_CHUNK_TOKENS;
    int64_t chunk = o->max_batch * prefill < cap ? o->max_batch * prefill : cap;
    if (chunk < o->max_batch) chunk = o->max_batch; // a decode step holds the whole batch
    p->chunk_tokens = chunk;
    p->logits_rows = o->max_batch;
    int64_t part = 0;
    for (int64_t b = 1; b <= o->max_batch && b <= 4 * s->sm_count; b++) {
        int splits = rl_attn_decode_splits((int)b, (int)m->kv_heads, (int)o->max_context, s->sm_count);
        if (o->cuda.attn_splits > splits) splits = o->cuda.attn_splits;
        const int64_t f = (int64_t)rl_attn_decode_partial_floats((int)b, (int)m->heads, (int)m->head_dim, splits);
        if (f > part) part = f;
    }
    p->partial_floats = part;
    p->gs_floats = s->sm90 ? (int64_t)rl_gs_workspace_floats(s->sm_count) : 0;
    const int64_t gu_bytes = chunk * 2 * I * 2;
    p->scratch_bytes = chunk * H * 4 > gu_bytes ? chunk * H * 4 : 0;
    p->lt_workspace_bytes = LT_WORKSPACE_BYTES;
    ws_entry t[WS_MAX];
    const int n = workspace_table(s, p, t);
    for (int i = 0; i < n; i++) p->workspace_bytes += up(t[i].bytes);
    return 0;
}

static void *carve(char **at, int64_t bytes)
{
    void *p = *at;
    *at += up(bytes);
    return p;
}

int cuda_allocate(cuda_state *s, rl_err *err)
{
    const cuda_plan *p = &s->plan;
    const rl_model_config *m = &s->m;
    size_t free_b = 0, total_b = 0;
    CU_CHECK(cudaMemGetInfo(&free_b, &total_b), "cuda engine: reading free GPU memory");
    const int64_t need = p->weights_bytes + p->kv_bytes + p->workspace_bytes + RESERVE_BYTES;
    if (need > (int64_t)free_b)
        return rl_fail(err,
                       "cuda engine: out of GPU memory: the plan needs %.2f GB (weights %.2f GB + KV cache %.2f GB for "
                       "%lld sequences x %lld tokens + workspace %.2f GB + %.2f GB reserve) but %s has %.2f GB free of "
                       "%.2f GB (cudaMemGetInfo); lower --batch or --context",
                       need / 1e9, p->weights_bytes / 1e9, p->kv_bytes / 1e9, (long long)s->o.max_batch,
                       (long long)s->o.max_context, p->workspace_bytes / 1e9, RESERVE_BYTES / 1e9, s->device_name,
                       free_b / 1e9, total_b / 1e9);
    CU_CHECK(cudaMalloc(&s->weights_mem, p->weights_bytes), "cuda engine: allocating the weights");
    CU_CHECK(cudaMalloc(&s->kv_mem, p->kv_bytes), "cuda engine: allocating the KV cache");
    CU_CHECK(cudaMalloc(&s->ws_mem, p->workspace_bytes), "cuda engine: allocating the workspace");
    CU_CHECK(cudaMemsetAsync(s->ws_mem, 0, p->workspace_bytes, s->st), "cuda engine: clearing the workspace");
    // Never-written cache rows must not hold NaN patterns that a masked 0 * v could pick up.
    CU_CHECK(cudaMemsetAsync(s->kv_mem, 0, p->kv_bytes, s->st), "cuda engine: clearing the KV cache");

    int64_t qkv_dim;
    layer_weight_elems(m, &qkv_dim);
    s->qkv_dim = (int)qkv_dim;
    const int64_t H = m->hidden, I = m->intermediate, V = m->vocab, C = s->o.max_context;
    char *at = (char *)s->weights_mem;
    s->embed = (bf16 *)carve(&at, V * H * 2);
    s->layers = (cuda_layer *)calloc((size_t)m->layers, sizeof *s->layers);
    if (!s->layers) return rl_fail(err, "cuda engine: out of host memory");
    for (int64_t l = 0; l < m->layers; l++) {
        cuda_layer *w = &s->layers[l];
        w->attn_norm = (bf16 *)carve(&at, H * 2);
        w->qkv = (bf16 *)carve(&at, qkv_dim * H * 2);
        w->o = (bf16 *)carve(&at, H * m->heads * m->head_dim * 2);
        w->ffn_norm = (bf16 *)carve(&at, H * 2);
        w->gate_up = (bf16 *)carve(&at, 2 * I * H * 2);
        w->down = (bf16 *)carve(&at, H * I * 2);
    }
    s->final_norm = (bf16 *)carve(&at, H * 2);
    s->lm_head = m->tied_embeddings ? s->embed : (bf16 *)carve(&at, V * H * 2);

    s->kv_layer_elems = s->o.max_batch * m->kv_heads * C * m->head_dim;
    s->kcache = (bf16 *)s->kv_mem;
    s->vcache = s->kcache + m->layers * s->kv_layer_elems;

    ws_entry t[WS_MAX];
    const int n = workspace_table(s, p, t);
    at = (char *)s->ws_mem;
    for (int i = 0; i < n; i++) *t[i].ptr = carve(&at, t[i].bytes);
    if (!p->scratch_bytes) s->scratch = s->gu; // the gate/up buffer is big enough to time into
    s->gs = rl_gs_work{s->gs_ws, s->gs_tickets, NULL, s->sm_count};
    return 0;
}

int cuda_weight_maps(cuda_state *s, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, I = m->intermediate, V = m->vocab, A = m->heads * m->head_dim, D = m->head_dim;
    const int64_t kv_rows = s->o.max_batch * m->kv_heads * s->o.max_context;
    for (int64_t l = 0; l < m->layers; l++) {
        cuda_layer *w = &s->layers[l];
        if (cuda_tma_map_bf16(s->tma_encode, &w->tm_qkv, w->qkv, s->qkv_dim, H, H, 64, "the qkv weights", err) ||
            cuda_tma_map_bf16(s->tma_encode, &w->tm_o, w->o, H, A, A, 64, "the o_proj weights", err) ||
            cuda_tma_map_bf16(s->tma_encode, &w->tm_gate_up, w->gate_up, 2 * I, H, H, 64, "the gate/up weights", err) ||
            cuda_tma_map_bf16(s->tma_encode, &w->tm_down, w->down, H, I, I, 64, "the down weights", err) ||
            cuda_tma_map_bf16(s->tma_encode, &w->tm_k, s->kcache + l * s->kv_layer_elems, kv_rows, D, D,
                              RL_FA_SM90_ROWS, "the K cache", err) ||
            cuda_tma_map_bf16(s->tma_encode, &w->tm_v, s->vcache + l * s->kv_layer_elems, kv_rows, D, D,
                              RL_FA_SM90_ROWS, "the V cache", err))
            return -1;
    }
    return cuda_tma_map_bf16(s->tma_encode, &s->tm_lm_head, s->lm_head, V, H, H, 64, "the lm_head weights", err);
}

// Random weights: linear std 1/sqrt(fan_in), so every projection keeps unit-scale activations
// and the residual stream grows only like sqrt(layers); norm weights near 1; embedding std 1.
int cuda_random_weights(cuda_state *s, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, I = m->intermediate, V = m->vocab, A = m->heads * m->head_dim;
    uint64_t id = 0;
    const uint64_t base = s->o.seed * 0x100000001b3ull + 0x51ed27;
#define INIT(ptr, n, center, half)                                                                            \
    CU_CHECK(rl_init_uniform(s->st, ptr, (size_t)(n), base + 7919 * (++id), (float)(center), (float)(half)), \
             "cuda engine: generating random weights (init_uniform)")
    const double u = sqrt(3.0); // uniform on [-a, a] has std a / sqrt(3)
    INIT(s->embed, V * H, 0, u);
    for (int64_t l = 0; l < m->layers; l++) {
        const cuda_layer *w = &s->layers[l];
        INIT(w->attn_norm, H, 1, 0.1);
        INIT(w->qkv, (int64_t)s->qkv_dim * H, 0, u / sqrt((double)H));
        INIT(w->o, H * A, 0, u / sqrt((double)A));
        INIT(w->ffn_norm, H, 1, 0.1);
        INIT(w->gate_up, 2 * I * H, 0, u / sqrt((double)H));
        INIT(w->down, H * I, 0, u / sqrt((double)I));
    }
    INIT(s->final_norm, H, 1, 0.1);
    if (!m->tied_embeddings) INIT(s->lm_head, V * H, 0, u / sqrt((double)H));
#undef INIT
    return 0;
}

static int elem_bytes(rl_st_dtype t) { return t == RL_ST_F32 ? 4 : 2; }

// Uploads tensor `name` (rows x cols elements) to dst as bf16, converting at most STAGING_BYTES
// of rows at a time.
static int upload(const rl_weights *w, const char *name, bf16 *dst, int64_t rows, int64_t cols, uint16_t *staging,
                  rl_err *err)
{
    rl_tensor_view t;
    if (rl_weights_get(w, name, &t, err)) return -1;
    int64_t n = 1;
    for (int i = 0; i < t.ndim; i++) n *= t.shape[i];
    if (n != rows * cols)
        return rl_fail(err, "cuda engine: tensor %s has %lld elements, the model needs %lld x %lld", name, (long long)n,
                       (long long)rows, (long long)cols);
    const int eb = elem_bytes(t.dtype);
    const int64_t step = STAGING_BYTES / 2 / cols > 0 ? STAGING_BYTES / 2 / cols : 1;
    for (int64_t r0 = 0; r0 < rows; r0 += step) {
        const int64_t nr = rows - r0 < step ? rows - r0 : step;
        rl_tensor_view sub = t;
        sub.data = (const char *)t.data + r0 * cols * eb;
        sub.nbytes = (size_t)(nr * cols * eb);
        if (t.ndim == 2) sub.shape[0] = nr, sub.shape[1] = cols;
        else sub.ndim = 1, sub.shape[0] = nr * cols;
        const void *src = sub.data;
        if (t.dtype != RL_ST_BF16) {
            rl_tensor_to_bf16(&sub, staging);
            src = staging;
        }
        CU_CHECK(cudaMemcpy(dst + r0 * cols, src, (size_t)(nr * cols * 2), cudaMemcpyHostToDevice),
                 "cuda engine: uploading a weight tensor");
    }
    return 0;
}

int cuda_load_weights(cuda_state *s, const char *dir, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const int64_t H = m->hidden, I = m->intermediate, V = m->vocab, D = m->head_dim;
    rl_weights *w = NULL;
    if (rl_weights_open(dir, m, &w, err)) return -1;
    uint16_t *staging = NULL;
    cudaError_t ce = cudaMallocHost((void **)&staging, STAGING_BYTES);
    if (ce != cudaSuccess) {
        rl_weights_close(w);
        return rl_fail(err, "cuda engine: cudaMallocHost of %lld MB staging failed: %s", STAGING_BYTES >> 20,
                       cudaGetErrorString(ce));
    }
    int rc = upload(w, "model.embed_tokens.weight", s->embed, V, H, staging, err);
    char name[128];
    for (int64_t l = 0; l < m->layers && !rc; l++) {
        const cuda_layer *L = &s->layers[l];
        const char *p = "model.layers";
#define UP(suffix, dst, rows, cols)                                                     \
    if (!rc) {                                                                          \
        snprintf(name, sizeof name, "%s.%lld.%s", p, (long long)l, suffix);           \
        rc = upload(w, name, dst, rows, cols, staging, err);                            \
    }
        UP("input_layernorm.weight", L->attn_norm, 1, H);
        UP("self_attn.q_proj.weight", L->qkv, m->heads * D, H);
        UP("self_attn.k_proj.weight", L->qkv + m->heads * D * H, m->kv_heads * D, H);
        UP("self_attn.v_proj.weight", L->qkv + (m->heads + m->kv_heads) * D * H, m->kv_heads * D, H);
        UP("self_attn.o_proj.weight", L->o, H, m->heads * D);
        UP("post_attention_layernorm.weight", L->ffn_norm, 1, H);
        UP("mlp.gate_proj.weight", L->gate_up, I, H);
        UP("mlp.up_proj.weight", L->gate_up + I * H, I, H);
        UP("mlp.down_proj.weight", L->down, H, I);
#undef UP
    }
    if (!rc) rc = upload(w, "model.norm.weight", s->final_norm, 1, H, staging, err);
    if (!rc && !m->tied_embeddings) rc = upload(w, "lm_head.weight", s->lm_head, V, H, staging, err);
    cudaFreeHost(staging);
    rl_weights_close(w);
    if (rc) return rl_wrap(err, "loading %s", dir);
    return 0;
}

// cos/sin per position and frequency, computed as transformers does (fp32 inv_freq with the
// llama3 scaling, fp32 angle pos * inv_freq) so golden logits match at every position.
int cuda_rope_table(cuda_state *s, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const int half = (int)m->head_dim / 2;
    const int64_t C = s->o.max_context;
    float *inv = (float *)malloc(sizeof(float) * half);
    float2 *tab = (float2 *)malloc(sizeof(float2) * half * C);
    if (!inv || !tab) {
        free(inv), free(tab);
        return rl_fail(err, "cuda engine: out of host memory (RoPE table)");
    }
    for (int i = 0; i < half; i++) {
        float f = 1.0f / powf((float)m->rope_theta, (float)(2 * i) / (float)m->head_dim);
        if (m->rope_llama3) {
            const float factor = (float)m->rope_factor, lo = (float)m->rope_low_freq_factor,
                        hi = (float)m->rope_high_freq_factor, old = (float)m->rope_original_max_positions;
            const float wavelen = 2.0f * (float)M_PI / f;
            const float lo_wl = old / lo, hi_wl = old / hi;
            if (wavelen > lo_wl) {
                f = f / factor;
            } else if (wavelen >= hi_wl) { // medium frequencies: blend
                const float smooth = (old / wavelen - lo) / (hi - lo);
                f = (1.0f - smooth) * f / factor + smooth * f;
            }
        }
        inv[i] = f;
    }
    for (int64_t p = 0; p < C; p++)
        for (int i = 0; i < half; i++) {
            const float ang = (float)p * inv[i];
            tab[p * half + i] = make_float2((float)cos((double)ang), (float)sin((double)ang));
        }
    cudaError_t e = cudaMemcpy(s->rope, tab, sizeof(float2) * half * C, cudaMemcpyHostToDevice);
    free(inv), free(tab);
    CU_CHECK(e, "cuda engine: uploading the RoPE table");
    return 0;
}
