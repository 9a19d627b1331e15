// memory.cu: the memory plan (decided and checked against free GPU memory before anything is
// allocated), the carving of three allocations (weights, KV cache, workspace), random weights
// generated on the device, checkpoint upload, and the RoPE table. Which weights exist, their
// names, shapes and order come from the model-spec table (src/model/spec.h): one walk over it
// sizes, carves, initialises and uploads them. A rank of a tensor-parallel group holds its block of
// each tensor (src/model/tp.h); the single-GPU engine's blocks are the whole tensors.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
extern "C" {
#include "../../model/random_init.h"
#include "../../model/rope.h"
#include "../../model/spec.h"
#include "../../model/tp.h"
#include "../../model/weights.h"
}

#define ALIGN_BYTES 256
#define PREFILL_CHUNK_TOKENS 4096           // activation rows per prefill pass: 4096 x ~128 KB (8B) = 0.5 GB
#define LT_WORKSPACE_BYTES (32ll << 20)     // cuBLASLt's recommended workspace on Hopper
#define RESERVE_BYTES (256ll << 20)         // CUDA/cuBLASLt internals and graphs, kept free
#define STAGING_BYTES (64ll << 20)          // host staging for checkpoint conversion

static int64_t up(int64_t b) { return (b + ALIGN_BYTES - 1) / ALIGN_BYTES * ALIGN_BYTES; }

// Where the engine keeps the tensor of `role` (layer -1: the global ones); roles stacked onto the
// previous tensor (k, v, their biases, k_norm, up) have no pointer of their own: *none.
static bf16 **tensor_slot(cuda_state *s, int64_t layer, rl_tensor_role role, bf16 **none)
{
    if (layer == RL_SPEC_GLOBAL)
        return role == RL_T_EMBED ? &s->embed : role == RL_T_FINAL_NORM ? &s->final_norm : &s->lm_head;
    cuda_layer *w = &s->layers[layer];
    switch (role) {
    case RL_T_ATTN_NORM: return &w->attn_norm;
    case RL_T_WQ: return &w->qkv;
    case RL_T_BQ: return &w->qkv_bias;
    case RL_T_Q_NORM: return &w->qk_norm;
    case RL_T_WO: return &w->o;
    case RL_T_FFN_NORM: return &w->ffn_norm;
    case RL_T_W_GATE: return &w->gate_up;
    case RL_T_W_DOWN: return &w->down;
    default: return none;
    }
}

// Called for every stored tensor (spec t of the whole model, sl the block this state holds) with its
// device address.
typedef int (*weight_visit)(cuda_state *s, const rl_tensor_spec *t, const rl_tp_slice *sl, int64_t layer, bf16 *dst,
                            void *ctx, rl_err *err);

// The whole model (a tensor-parallel rank computes on its share, s->m).
static const rl_model_config *whole(const cuda_state *s) { return s->tp.n ? &s->tp.global : &s->m; }

// Walks the spec in storage order: each stack (adjacent tensors of one op) starts aligned, a tied
// lm_head takes no room (it is the embedding, or this rank's rows of it). With base set, every
// tensor gets its address in it and its engine pointer; then visit, if any, sees it. Returns the
// bytes used.
static int64_t walk_weights(cuda_state *s, char *base, weight_visit visit, void *ctx, int *rc, rl_err *err)
{
    const rl_model_config *m = whole(s);
    int64_t at = 0;
    rl_tensor_spec t[RL_SPEC_MAX_TENSORS];
    bf16 *none = NULL;
    for (int64_t l = RL_SPEC_GLOBAL; l < m->layers; l++) {
        const int n = rl_spec_tensors(m, l, t);
        for (int i = 0; i < n; i++) {
            if (t[i].tied) continue;
            if (!(i > 0 && rl_spec_stacks_on(&t[i - 1], &t[i]))) at = up(at);
            rl_tp_slice sl;
            rl_tp_slice_of(&t[i], m, s->tp.n, s->tp.rank, &sl);
            bf16 *dst = base ? (bf16 *)(base + at) : NULL;
            if (base) *tensor_slot(s, l, t[i].role, &none) = dst;
            if (visit && dst && !*rc) *rc = visit(s, &t[i], &sl, l, dst, ctx, err);
            at += sl.rows * (t[i].cols > 0 ? sl.cols : 1) * t[i].experts * 2;
        }
    }
    if (base && m->tied_embeddings) s->lm_head = s->embed + s->tp.v0 * m->hidden;
    return up(at);
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
    const int64_t qkv_dim = s->qkv_dim, A = m->heads * m->head_dim;
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
    WS(tp.part, s->tp.n ? T * H * 2 : 0);                                             // tensor parallel only
    WS(tp.cand, s->tp.n ? s->tp.n * s->o.max_batch * (int64_t)sizeof(rl_token_cand) : 0);
#undef WS
    return n;
}

int cuda_plan_memory(cuda_state *s, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const rl_engine_opts *o = &s->o;
    cuda_plan *p = &s->plan;
    memset(p, 0, sizeof *p);
    s->qkv_dim = (int)((m->heads + 2 * m->kv_heads) * m->head_dim);
    const double kv_d = 2.0 * m->layers * (double)o->max_batch * m->kv_heads * (double)o->max_context * m->head_dim * 2;
    if (kv_d > 1e17 || o->max_batch > INT32_MAX / 2 || o->max_context > INT32_MAX / 2)
        return rl_fail(err, "cuda engine: batch %lld x context %lld is far beyond any GPU's memory "
                            "(KV cache alone %.3g GB); lower --batch or --context",
                       (long long)o->max_batch, (long long)o->max_context, kv_d / 1e9);
    const int64_t H = m->hidden, I = m->intermediate;
    int rc = 0;
    p->weights_bytes = walk_weights(s, NULL, NULL, NULL, &rc, err);
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

    const int64_t C = s->o.max_context;
    s->layers = (cuda_layer *)calloc((size_t)m->layers, sizeof *s->layers);
    if (!s->layers) return rl_fail(err, "cuda engine: out of host memory");
    int rc = 0;
    walk_weights(s, (char *)s->weights_mem, NULL, NULL, &rc, err);

    s->kv_layer_elems = s->o.max_batch * m->kv_heads * C * m->head_dim;
    s->kcache = (bf16 *)s->kv_mem;
    s->vcache = s->kcache + m->layers * s->kv_layer_elems;

    ws_entry t[WS_MAX];
    const int n = workspace_table(s, p, t);
    char *at = (char *)s->ws_mem;
    for (int i = 0; i < n; i++) *t[i].ptr = carve(&at, t[i].bytes);
    if (!p->scratch_bytes) s->scratch = s->gu; // the gate/up buffer is big enough to time into
    s->gs = rl_gs_work{s->gs_ws, s->gs_tickets, NULL, s->sm_count};
    return rc;
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

// Random weights: centre and spread of each tensor from its spec entry (random_init.h: linear
// std 1/sqrt(fan_in), so every projection keeps unit-scale activations; norm weights near 1),
// drawn uniformly on the device (half-width std * sqrt(3)) from a seed per (layer, role). A shard
// holds its block of the whole tensor's values, so every group size computes the same model.
static int random_tensor(cuda_state *s, const rl_tensor_spec *t, const rl_tp_slice *sl, int64_t layer, bf16 *dst,
                         void *ctx, rl_err *err)
{
    (void)ctx;
    float center, std;
    rl_rand_scale(t, &center, &std);
    const uint64_t seed = s->o.seed * 0x100000001b3ull + 0x51ed27 + 7919 * rl_rand_stream(layer, t->role);
    const int whole_tensor = sl->rows == t->rows && sl->cols == t->cols;
    if (whole_tensor)
        CU_CHECK(rl_init_uniform(s->st, dst, (size_t)rl_spec_stored_elems(t), seed, center, std * sqrtf(3.0f)),
                 "cuda engine: generating random weights (init_uniform)");
    else // experts are whole in every shard's count: the engines run dense models only
        CU_CHECK(rl_init_uniform_block(s->st, dst, sl->rows, t->cols > 0 ? sl->cols : 1, t->cols > 0 ? t->cols : 1,
                                       sl->row0, sl->col0, seed, center, std * sqrtf(3.0f)),
                 "cuda engine: generating random weights (init_uniform_block)");
    return 0;
}

int cuda_random_weights(cuda_state *s, rl_err *err)
{
    int rc = 0;
    walk_weights(s, (char *)s->weights_mem, random_tensor, NULL, &rc, err);
    return rc;
}

// Slots 0..batch-1 of one layer's K (or V) cache are its first batch x kv_heads x max_context x
// head_dim elements ([max_batch][kv_heads][max_context][head_dim]): one fill each, all their
// positions (those past `context` are written by decode before they are read).
int cuda_fill_context(void *state, int64_t batch, int64_t context, uint64_t seed, rl_err *err)
{
    cuda_state *s = (cuda_state *)state;
    const rl_model_config *m = &s->m;
    const size_t n = (size_t)(batch * m->kv_heads * s->o.max_context * m->head_dim);
    for (int64_t l = 0; l < m->layers; l++)
        for (int kv = 0; kv < 2; kv++) {
            bf16 *dst = (kv ? s->vcache : s->kcache) + l * s->kv_layer_elems;
            const uint64_t stream_seed = seed * 0x100000001b3ull + 0xc0ffee + 2 * (uint64_t)l + (uint64_t)kv;
            CU_CHECK(rl_init_uniform(s->st, dst, n, stream_seed, 0.0f, 1.0f),
                     "cuda engine: filling the KV cache (init_uniform)");
        }
    s->pos = context;
    return 0;
}

static int elem_bytes(rl_st_dtype t) { return t == RL_ST_F32 ? 4 : 2; }

// elems elements of t from src (inside t's data) into staging as bf16.
static void to_staging(const rl_tensor_view *t, const char *src, int64_t elems, uint16_t *staging)
{
    rl_tensor_view sub = *t;
    sub.data = src;
    sub.nbytes = (size_t)(elems * elem_bytes(t->dtype));
    sub.ndim = 1, sub.shape[0] = elems;
    rl_tensor_to_bf16(&sub, staging); // bf16 is copied as it is
}

// Uploads block b of tensor `name` (b.full_rows x b.full_cols elements) to dst [b.rows][b.cols] as
// bf16, at most STAGING_BYTES of rows at a time: whole bf16 rows straight from the mapping, a column
// block (a row-parallel shard) row by row through the staging buffer.
static int upload(const rl_weights *w, const char *name, bf16 *dst, const rl_tp_slice *b, uint16_t *staging,
                  rl_err *err)
{
    rl_tensor_view t;
    if (rl_weights_get(w, name, &t, err)) return -1;
    int64_t n = 1;
    for (int i = 0; i < t.ndim; i++) n *= t.shape[i];
    if (n != b->full_rows * b->full_cols)
        return rl_fail(err, "cuda engine: tensor %s has %lld elements, the model needs %lld x %lld", name, (long long)n,
                       (long long)b->full_rows, (long long)b->full_cols);
    const int eb = elem_bytes(t.dtype);
    const int64_t cols = b->cols, whole_rows = cols == b->full_cols;
    const int64_t step = STAGING_BYTES / 2 / cols > 0 ? STAGING_BYTES / 2 / cols : 1;
    for (int64_t r0 = 0; r0 < b->rows; r0 += step) {
        const int64_t nr = b->rows - r0 < step ? b->rows - r0 : step;
        const char *first = (const char *)t.data + ((b->row0 + r0) * b->full_cols + b->col0) * eb;
        const void *src = first;
        if (whole_rows && t.dtype != RL_ST_BF16) to_staging(&t, first, nr * cols, staging);
        if (!whole_rows)
            for (int64_t i = 0; i < nr; i++) to_staging(&t, first + i * b->full_cols * eb, cols, staging + i * cols);
        if (!whole_rows || t.dtype != RL_ST_BF16) src = staging;
        CU_CHECK(cudaMemcpy(dst + r0 * cols, src, (size_t)(nr * cols * 2), cudaMemcpyHostToDevice),
                 "cuda engine: uploading a weight tensor");
    }
    return 0;
}

typedef struct {
    const rl_weights *w;
    uint16_t *staging;
} upload_ctx;

static int upload_tensor(cuda_state *s, const rl_tensor_spec *t, const rl_tp_slice *sl, int64_t layer, bf16 *dst,
                         void *ctx, rl_err *err)
{
    (void)s;
    const upload_ctx *u = (const upload_ctx *)ctx;
    char name[192];
    rl_spec_name(t, layer, 0, name, sizeof name);
    if (t->cols > 0) return upload(u->w, name, dst, sl, u->staging, err);
    // A vector is one row here: its block is a run of columns.
    const rl_tp_slice row = {0, 1, sl->row0, sl->rows, 1, t->rows};
    return upload(u->w, name, dst, &row, u->staging, err);
}

int cuda_load_weights(cuda_state *s, const char *dir, rl_err *err)
{
    rl_weights *w = NULL;
    if (rl_weights_open(dir, whole(s), &w, err)) return -1;
    upload_ctx u = {w, NULL};
    cudaError_t ce = cudaMallocHost((void **)&u.staging, STAGING_BYTES);
    if (ce != cudaSuccess) {
        rl_weights_close(w);
        return rl_fail(err, "cuda engine: cudaMallocHost of %lld MB staging failed: %s", STAGING_BYTES >> 20,
                       cudaGetErrorString(ce));
    }
    int rc = 0;
    walk_weights(s, (char *)s->weights_mem, upload_tensor, &u, &rc, err);
    cudaFreeHost(u.staging);
    rl_weights_close(w);
    if (rc) return rl_wrap(err, "loading %s", dir);
    return 0;
}

// cos/sin per position and frequency (src/model/rope.h: as transformers computes them) so golden
// logits match at every position.
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
    rl_rope_inv_freq(m, inv);
    for (int64_t p = 0; p < C; p++)
        for (int i = 0; i < half; i++) rl_rope_cos_sin(inv[i], p, &tab[p * half + i].x, &tab[p * half + i].y);
    cudaError_t e = cudaMemcpy(s->rope, tab, sizeof(float2) * half * C, cudaMemcpyHostToDevice);
    free(inv), free(tab);
    CU_CHECK(e, "cuda engine: uploading the RoPE table");
    return 0;
}
