// forward.cu: the CUDA engine. bf16 weights and KV cache, fp32 residual stream and accumulation.
// Read top to bottom: create (plan memory, allocate, weights), the layer stack, the head, then
// prefill (chunks of prompts, cuBLASLt + flash attention) and decode (one CUDA graph per batch
// size, replayed every step; the position lives in device memory so one graph serves all steps).
// A rank of a tensor-parallel group (tp.cu) runs this same forward on its share of the model; the
// lines marked "tensor parallel" are all it does differently (s->tp.n = 0 never takes them).
#include <nvtx3/nvToolsExt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state.h"
extern "C" {
#include "../../model/tp.h"
}

// Launches one kernel of ours, recorded by cuda_prof_begin / cuda_prof_end (profile.cu).
#define LAUNCH(name, mask, layer, call)                                                                          \
    do {                                                                                                         \
        if (cuda_prof_begin(s, err)) return -1;                                                                  \
        cudaError_t e_ = (call);                                                                                 \
        if (e_ != cudaSuccess)                                                                                   \
            return rl_fail(err, "cuda engine: kernel %s (layer %d) failed to launch: %s", name, (int)(layer),    \
                           cudaGetErrorString(e_));                                                              \
        s->after_lt = 0;                                                                                         \
        if (cuda_prof_end(s, name, mask, layer, err)) return -1;                                                 \
    } while (0)
#define OP(x) RL_OPMASK(RL_OP_##x)

// ---- the layer stack ------------------------------------------------------------------------
// T tokens = nseq sequences (cache slots slot0..) of n tokens. Decode: n = 1, the position is
// read on the device from s->step[0]; prefill: positions p0..p0+n-1. tq: the queries' tensor map
// for the Hopper prefill attention (NULL: the mma.sync kernel runs).
static int forward_layer(cuda_state *s, int l, int T, int nseq, int n, int p0, int slot0, int decode,
                         const CUtensorMap *tq, rl_err *err)
{
    const rl_model_config *m = &s->m;
    const int H = (int)m->hidden, NH = (int)m->heads, KVH = (int)m->kv_heads, D = (int)m->head_dim;
    const int I = (int)m->intermediate, C = (int)s->o.max_context;
    const int P = cuda_pdl_on(s);
    const cuda_layer *w = &s->layers[l];
    bf16 *kc = s->kcache + l * s->kv_layer_elems, *vc = s->vcache + l * s->kv_layer_elems;

    // attention block: x += o_proj(attention(rope(qkv(rmsnorm(x)))))
    if (cuda_linear(s, RL_OP_QKV, l, T, s->xn, w->qkv, &w->tm_qkv, s->qkv_dim, H, s->qkv, GEMV_STORE_BF16,
                    w->attn_norm, RL_OP_ATTN_NORM, err))
        return -1;
    if (w->qkv_bias || w->qk_norm) // q/k/v biases (qwen2), per-head q/k RMSNorm (qwen3), before RoPE
        LAUNCH("qkv_post", (w->qkv_bias ? OP(QKV_BIAS) : 0) | (w->qk_norm ? OP(QK_NORM) : 0), l,
               rl_qkv_post(s->st, cuda_pdl_on(s), s->qkv, T, s->qkv_dim, w->qkv_bias, w->qk_norm, NH, KVH, D,
                           (float)m->norm_eps));
    const int window = (int)rl_model_window(m, l); // sliding window (mistral), 0 = none
    if (decode) {
        // RoPE and the KV-cache append happen inside the attention kernel (one launch fewer).
        const int forced = s->o.cuda.attn_splits;
        const int splits = forced > 0 && T <= 4 * s->sm_count ? forced : rl_attn_decode_splits(T, KVH, C, s->sm_count);
        LAUNCH("attn_decode_splitkv", OP(ROPE) | OP(KV_WRITE) | OP(ATTENTION), l,
               rl_attn_decode(s->st, P, s->qkv, s->qkv_dim, kc, vc, s->step, s->rope, s->attn, s->partial, s->tickets,
                              T, NH, KVH, D, C, splits, window));
    } else {
        LAUNCH("rope_kv_write", OP(ROPE) | OP(KV_WRITE), l,
               rl_rope_kv(s->st, P, s->qkv, T, n, NULL, p0, slot0, s->rope, kc, vc, NH, KVH, D, C));
        if (tq && !window)
            LAUNCH("attn_prefill_sm90", OP(ATTENTION), l,
                   rl_attn_prefill_sm90(s->st, P, tq, &w->tm_k, &w->tm_v, s->attn, nseq, n, p0, slot0, NH, KVH, D, C));
        else
            LAUNCH("attn_prefill_flash", OP(ATTENTION), l,
                   rl_attn_prefill(s->st, P, s->qkv, s->qkv_dim, kc, vc, s->attn, nseq, n, p0, slot0, NH, KVH, D, C,
                                   window));
    }
    // Tensor parallel: o_proj (row-parallel) writes this rank's partial sum, all-reduced, and the next
    // norm adds it to x; the single-GPU engine accumulates into x directly. The same for down_proj.
    const int tp = s->tp.n > 0;
    void *resid = tp ? (void *)s->tp.part : (void *)s->x;
    const int resid_mode = tp ? GEMV_STORE_BF16 : GEMV_ADD_F32;
    if (cuda_linear(s, RL_OP_O_PROJ, l, T, s->attn, w->o, &w->tm_o, H, NH * D, resid, resid_mode, NULL, RL_OP_O_PROJ,
                    err))
        return -1;
    if (tp && cuda_tp_allreduce(s, l, T, err)) return -1;

    // MLP block: x += down(silu(gate(rmsnorm(x))) * up(rmsnorm(x)))
    if (cuda_linear(s, RL_OP_GATE_UP, l, T, s->xn, w->gate_up, &w->tm_gate_up, I, H, s->h, GEMV_SILU_BF16,
                    w->ffn_norm, RL_OP_FFN_NORM, err))
        return -1;
    if (cuda_linear(s, RL_OP_DOWN, l, T, s->h, w->down, &w->tm_down, H, I, resid, resid_mode, NULL, RL_OP_DOWN, err))
        return -1;
    if (tp && cuda_tp_allreduce(s, l, T, err)) return -1;
    return 0;
}

static int forward_layers(cuda_state *s, int T, int nseq, int n, int p0, int slot0, int decode, const int *tokens,
                          rl_err *err)
{
    const rl_model_config *m = &s->m;
    CUtensorMap tq_map; // the same queries buffer and token count in every layer: encoded once
    const CUtensorMap *tq = NULL;
    if (!decode && s->sm90 && rl_attn_prefill_sm90_supported((int)m->head_dim, (int)m->heads, (int)m->kv_heads)) {
        if (cuda_tma_map_bf16(s->tma_encode, &tq_map, s->qkv, T, s->qkv_dim, s->qkv_dim, RL_FA_SM90_ROWS, "the queries",
                              err))
            return -1;
        tq = &tq_map;
    }
    LAUNCH("embed_gather", OP(EMBED), -1, rl_embed(s->st, 0, tokens, s->embed, s->x, T, (int)m->hidden));
    for (int l = 0; l < (int)m->layers; l++) {
        char name[32];
        snprintf(name, sizeof name, "layer %d", l);
        nvtxRangePushA(name);
        const int rc = forward_layer(s, l, T, nseq, n, p0, slot0, decode, tq, err);
        nvtxRangePop();
        if (rc) return -1;
    }
    if (s->tp.pending) { // tensor parallel: the last down_proj sum joins the residual stream
        LAUNCH("residual_add", OP(DOWN), -1, rl_residual_add(s->st, cuda_pdl_on(s), s->x, s->tp.part, (size_t)T * m->hidden));
        s->tp.pending = 0;
    }
    return 0;
}

// Final norm of `rows` rows of x (row i is in_first + i * in_step) and the vocabulary
// projection into s->logits [rows, vocab] fp32.
static int forward_head(cuda_state *s, int rows, int in_first, int in_step, rl_err *err)
{
    const int H = (int)s->m.hidden;
    if (in_first == 0 && in_step == 1)
        return cuda_linear(s, RL_OP_LM_HEAD, -1, rows, s->xn, s->lm_head, &s->tm_lm_head, (int)s->m.vocab, H,
                           s->logits, GEMV_STORE_F32, s->final_norm, RL_OP_FINAL_NORM, err);
    LAUNCH("rmsnorm", OP(FINAL_NORM), -1,
           rl_rmsnorm(s->st, cuda_pdl_on(s), s->x, s->final_norm, s->xn, rows, H, (float)s->m.norm_eps, in_first, in_step));
    return cuda_linear(s, RL_OP_LM_HEAD, -1, rows, s->xn, s->lm_head, &s->tm_lm_head, (int)s->m.vocab, H, s->logits,
                       GEMV_STORE_F32, NULL, RL_OP_LM_HEAD, err);
}

// Columns of a host logits row: the whole vocabulary (a tensor-parallel rank computes a slice of it).
static int64_t host_vocab(const cuda_state *s) { return s->tp.n ? s->tp.global.vocab : s->m.vocab; }

// Rows of fp32 logits [rows][vocab of this state] to host rows of the whole vocabulary (a
// tensor-parallel rank fills its columns v0.., the single-GPU engine all of them).
static int download_logits(cuda_state *s, float *host, const float *dev, int64_t rows, rl_err *err)
{
    const size_t V = (size_t)s->m.vocab, ld = (size_t)host_vocab(s);
    CU_CHECK(cudaMemcpy2DAsync(host + s->tp.v0, sizeof(float) * ld, dev, sizeof(float) * V, sizeof(float) * V,
                               (size_t)rows, cudaMemcpyDeviceToHost, s->st),
             "downloading logits");
    return 0;
}

// ---- decode ---------------------------------------------------------------------------------
static int decode_step_launch(cuda_state *s, int B, rl_err *err)
{
    if (forward_layers(s, B, B, 1, 0, 0, 1, s->step + 1, err)) return -1;
    if (forward_head(s, B, 0, 1, err)) return -1;
    if (s->tp.n) { // tensor parallel: the best of this rank's vocabulary slice, gathered, the best of those
        rl_token_cand *mine = s->tp.cand + (size_t)s->tp.rank * B;
        LAUNCH("argmax_cand", OP(SAMPLE), -1,
               rl_argmax_cand(s->st, cuda_pdl_on(s), s->logits, mine, B, (int)s->m.vocab, (int)s->tp.v0));
        if (cuda_tp_gather_cand(s, B, err)) return -1;
        LAUNCH("argmax_pick", OP(SAMPLE), -1, rl_argmax_pick(s->st, cuda_pdl_on(s), s->tp.cand, s->tp.n, B, s->next));
        return 0;
    }
    LAUNCH("argmax", OP(SAMPLE), -1, rl_argmax(s->st, cuda_pdl_on(s), s->logits, s->next, B, (int)s->m.vocab));
    return 0;
}

static void drop_graph(cuda_state *s, int i)
{
    cudaGraphExecDestroy(s->graphs[i].exec);
    rl_launch_plan_free(&s->graphs[i].plan);
    memmove(s->graphs + i, s->graphs + i + 1, sizeof s->graphs[0] * (size_t)(s->n_graphs - i - 1));
    s->n_graphs--;
}

static int capture_decode(cuda_state *s, int B, rl_err *err)
{
    for (int i = s->n_graphs - 1; i >= 0; i--)
        if (s->graphs[i].batch == B) drop_graph(s, i); // captured again (a new CUPTI session)
    if (s->n_graphs == CUDA_MAX_GRAPHS) drop_graph(s, 0); // drop the oldest batch size
    cudaGraph_t g = NULL;
    cuda_prof_capture_begin(s);
    CU_CHECK(cudaStreamBeginCapture(s->st, cudaStreamCaptureModeThreadLocal), "decode: graph capture");
    s->capturing = 1;
    const int rc = decode_step_launch(s, B, err);
    s->capturing = 0;
    const cudaError_t e = cudaStreamEndCapture(s->st, &g);
    if (rc) {
        if (g) cudaGraphDestroy(g);
        return -1;
    }
    CU_CHECK(e, "decode: graph capture");
    cudaGraphExec_t exec = NULL;
    const cudaError_t ie = cudaGraphInstantiate(&exec, g, 0);
    cudaGraphDestroy(g);
    CU_CHECK(ie, "decode: graph instantiation");
    cuda_graph *slot = &s->graphs[s->n_graphs++];
    memset(slot, 0, sizeof *slot);
    slot->batch = B;
    slot->exec = exec;
    cuda_prof_capture_end(s, slot);
    return 0;
}

static int decode_impl(cuda_state *s, int B, const int32_t *tokens, float *logits, int32_t *next, rl_err *err)
{
    // The pinned staging buffer is reused: wait until the previous step's upload has left it.
    CU_CHECK(cudaEventSynchronize(s->step_copied), "decode: waiting for the previous upload");
    s->host_step[0] = (int)s->pos;
    memcpy(s->host_step + 1, tokens, sizeof(int) * (size_t)B);
    CU_CHECK(cudaMemcpyAsync(s->step, s->host_step, sizeof(int) * (size_t)(B + 1), cudaMemcpyHostToDevice, s->st),
             "decode: uploading position and tokens");
    CU_CHECK(cudaEventRecord(s->step_copied, s->st), "decode: cudaEventRecord");

    cuda_graph *g = NULL;
    for (int i = 0; i < s->n_graphs; i++)
        if (s->graphs[i].batch == B) g = &s->graphs[i];
    if (g && !cuda_prof_graph_current(s, g)) { // profiled with CUPTI: the graph is captured under it
        if (capture_decode(s, B, err)) return -1;
        g = &s->graphs[s->n_graphs - 1];
    }
    if (g && !cuda_prof_serial(s)) {
        CU_CHECK(cudaGraphLaunch(g->exec, s->st), "decode: cudaGraphLaunch");
        if (cuda_prof_step_done(s, g, err)) return -1;
    } else {
        // First step at this batch size (or timing with events): run eagerly, which also picks
        // each projection's kernel (linear.cu); then capture the step for the following ones.
        if (decode_step_launch(s, B, err)) return -1;
        if (cuda_prof_step_done(s, NULL, err)) return -1;
        if (!cuda_prof_serial(s) && capture_decode(s, B, err)) {
            if (!s->pdl) return -1;
            // A driver that cannot capture programmatic launches: say so, capture without them.
            fprintf(stderr, "cuda engine: graph capture with programmatic dependent launch failed (%s); "
                            "capturing without it\n", err->msg);
            cudaGetLastError();
            s->pdl = 0;
            if (capture_decode(s, B, err)) return -1;
        }
    }
    if (logits && download_logits(s, logits, s->logits, B, err)) return -1;
    if (next)
        CU_CHECK(cudaMemcpyAsync(next, s->next, sizeof(int) * (size_t)B, cudaMemcpyDeviceToHost, s->st),
                 "decode: downloading next tokens");
    if (logits || next) CU_CHECK(cudaStreamSynchronize(s->st), "decode: step");
    s->pos++;
    return 0;
}

static int cuda_decode(void *state, int64_t batch, const int32_t *tokens, float *logits, int32_t *next, rl_err *err)
{
    cuda_state *s = (cuda_state *)state;
    nvtxRangePushA("decode_step");
    const int rc = decode_impl(s, (int)batch, tokens, logits, next, err);
    nvtxRangePop();
    return rc;
}

// ---- prefill --------------------------------------------------------------------------------
// Copies rows [r0, r0 + R) of the chunk's logits (row i = sequence i / n, position p0 + i % n)
// to the host layout [batch][len][vocab].
static int copy_logit_rows(cuda_state *s, float *logits, int r0, int R, int n, int s0, int p0, int64_t L,
                           rl_err *err)
{
    const int64_t V = s->m.vocab, ld = host_vocab(s);
    for (int i = r0; i < r0 + R;) {
        const int seq = i / n, p = i % n;
        const int end = (seq + 1) * n < r0 + R ? (seq + 1) * n : r0 + R;
        if (download_logits(s, logits + ((s0 + seq) * L + p0 + p) * ld, s->logits + (int64_t)(i - r0) * V, end - i, err))
            return rl_wrap(err, "prefill");
        i = end;
    }
    return 0;
}

static int prefill_impl(cuda_state *s, int64_t B, int64_t L, const int32_t *tokens, float *logits, int all_positions,
                        rl_err *err)
{
    const int64_t ld = host_vocab(s), chunk = s->plan.chunk_tokens;
    // Whole prompts per pass when they fit (g of them), else slices of one prompt.
    const int64_t g = L <= chunk ? chunk / L : 1, n_max = L <= chunk ? L : chunk;
    for (int64_t s0 = 0; s0 < B; s0 += g) {
        const int gs = (int)(B - s0 < g ? B - s0 : g);
        for (int64_t p0 = 0; p0 < L; p0 += n_max) {
            const int n = (int)(L - p0 < n_max ? L - p0 : n_max), T = gs * n;
            CU_CHECK(cudaMemcpy2DAsync(s->tokens, sizeof(int) * n, tokens + s0 * L + p0, sizeof(int) * L,
                                       sizeof(int) * n, gs, cudaMemcpyHostToDevice, s->st),
                     "prefill: uploading tokens");
            if (forward_layers(s, T, gs, n, (int)p0, (int)s0, 0, s->tokens, err)) return -1;
            if (all_positions && logits) {
                for (int r0 = 0; r0 < T; r0 += (int)s->plan.logits_rows) {
                    const int R = (int)(T - r0 < s->plan.logits_rows ? T - r0 : s->plan.logits_rows);
                    if (forward_head(s, R, r0, 1, err)) return -1;
                    if (copy_logit_rows(s, logits, r0, R, n, (int)s0, (int)p0, L, err)) return -1;
                }
            } else if (p0 + n == L) {
                // Logits of the last position only (also when the caller does not want them, so
                // timed prefills do the work the cost model counts).
                if (forward_head(s, gs, n - 1, n, err)) return -1;
                if (logits && download_logits(s, logits + s0 * ld, s->logits, gs, err)) return rl_wrap(err, "prefill");
            }
        }
    }
    CU_CHECK(cudaStreamSynchronize(s->st), "prefill");
    s->pos = L;
    return 0;
}

static int cuda_prefill(void *state, int64_t batch, int64_t len, const int32_t *tokens, float *logits,
                        int all_positions, rl_err *err)
{
    cuda_state *s = (cuda_state *)state;
    nvtxRangePushA("prefill");
    int rc = prefill_impl(s, batch, len, tokens, logits, all_positions, err);
    if (!rc) rc = cuda_prof_step_done(s, NULL, err);
    nvtxRangePop();
    return rc;
}

// ---- lifetime -------------------------------------------------------------------------------
static void cuda_destroy(void *state)
{
    cuda_state *s = (cuda_state *)state;
    if (!s) return;
    if (s->st) cudaStreamSynchronize(s->st);
    for (int i = 0; i < s->n_graphs; i++) {
        cudaGraphExecDestroy(s->graphs[i].exec);
        rl_launch_plan_free(&s->graphs[i].plan);
    }
    cuda_prof_release(s);
    rl_lt_destroy(s->lt);
    if (s->step_copied) cudaEventDestroy(s->step_copied);
    if (s->ev0) cudaEventDestroy(s->ev0);
    if (s->ev1) cudaEventDestroy(s->ev1);
    if (s->host_step) cudaFreeHost(s->host_step);
    cudaFree(s->weights_mem);
    cudaFree(s->kv_mem);
    cudaFree(s->ws_mem);
    if (s->st) cudaStreamDestroy(s->st);
    free(s->layers);
    free(s);
}

static int check_geometry(const rl_model_config *m, rl_err *err)
{
    const int64_t d = m->head_dim;
    if (d != 16 && d != 24 && d != 32 && d != 64 && d != 128)
        return rl_fail(err, "cuda engine: head_dim %lld is not supported (16, 24, 32, 64 or 128)", (long long)d);
    if (m->heads % m->kv_heads || m->heads / m->kv_heads > 8)
        return rl_fail(err, "cuda engine: heads %lld / kv_heads %lld must be a whole GQA group of at most 8",
                       (long long)m->heads, (long long)m->kv_heads);
    if (m->hidden % 8 || m->intermediate % 8)
        return rl_fail(err, "cuda engine: hidden_size and intermediate_size must be multiples of 8 (16-byte rows)");
    return 0;
}

static int create_impl(cuda_state *s, rl_err *err)
{
    cudaDeviceProp prop;
    const int dev = s->tp.device; // 0 unless a tensor-parallel rank
    if (cudaSetDevice(dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess)
        return rl_fail(err, "cuda engine: selecting GPU %d failed: %s", dev, cudaGetErrorString(cudaGetLastError()));
    snprintf(s->device_name, sizeof s->device_name, "%s", prop.name);
    s->sm_count = prop.multiProcessorCount;
    if (rl_cuda_code_path(dev, &s->path, err)) return -1;
    // The Hopper kernels need the sm90a path; `portable` runs the sm_80 path (what A100 and L40S
    // run) on any GPU, without PDL like there.
    s->sm90 = s->path.hopper_kernels && !s->o.cuda.portable;
    s->pdl = s->path.pdl && !s->o.cuda.no_pdl && !s->o.cuda.portable;
    CU_CHECK(cudaStreamCreateWithFlags(&s->st, cudaStreamNonBlocking), "cuda engine: creating a stream");
    CU_CHECK(cudaEventCreateWithFlags(&s->step_copied, cudaEventDisableTiming), "cuda engine: creating events");
    CU_CHECK(cudaEventCreate(&s->ev0), "cuda engine: creating events");
    CU_CHECK(cudaEventCreate(&s->ev1), "cuda engine: creating events");
    if (cuda_plan_memory(s, err)) return -1;
    if (cuda_allocate(s, err)) return -1;
    CU_CHECK(cudaMallocHost((void **)&s->host_step, sizeof(int) * (size_t)(1 + s->o.max_batch)),
             "cuda engine: pinned staging");
    if (rl_lt_create(&s->lt, (size_t)s->plan.lt_workspace_bytes, s->lt_ws, err)) return -1;
    if (s->sm90 && (cuda_tma_encoder(&s->tma_encode, err) || cuda_weight_maps(s, err))) return -1;
    if (cuda_rope_table(s, err)) return -1;
    if (s->o.weights_dir ? cuda_load_weights(s, s->o.weights_dir, err) : cuda_random_weights(s, err)) return -1;
    CU_CHECK(cudaStreamSynchronize(s->st), "cuda engine: initialising weights");
    return 0;
}

int cuda_create_state(const rl_model_config *m, const rl_engine_opts *o, const cuda_tp *tp, void **state,
                      rl_err *err)
{
    *state = NULL;
    rl_model_config mine = *m; // tensor parallel: the rank's share (heads, KV heads, MLP, vocabulary)
    if (tp) rl_tp_local_config(m, tp->n, tp->rank, &mine);
    if (check_geometry(&mine, err)) return -1;
    cuda_state *s = (cuda_state *)calloc(1, sizeof *s);
    if (!s) return rl_fail(err, "cuda engine: out of host memory");
    s->m = mine;
    s->o = *o;
    if (tp) {
        s->tp = *tp;
        int64_t nv;
        rl_tp_vocab(m, tp->n, tp->rank, &s->tp.v0, &nv);
    }
    if (s->o.max_prefill <= 0) s->o.max_prefill = s->o.max_context;
    if (create_impl(s, err)) {
        cuda_destroy(s);
        return -1;
    }
    if (!o->quiet)
        fprintf(stderr, "cuda engine: %s (code path %s), weights %.2f GB, KV cache %.2f GB (%lld x %lld), workspace %.2f GB\n",
                s->device_name, s->path.name, s->plan.weights_bytes / 1e9, s->plan.kv_bytes / 1e9, (long long)o->max_batch,
                (long long)o->max_context, s->plan.workspace_bytes / 1e9);
    *state = s;
    return 0;
}

static int cuda_create(const rl_model_config *m, const rl_engine_opts *o, void **state, rl_err *err)
{
    return cuda_create_state(m, o, NULL, state, err);
}

static int cuda_sync(void *state, rl_err *err)
{
    cuda_state *s = (cuda_state *)state;
    CU_CHECK(cudaStreamSynchronize(s->st), "cuda engine: sync");
    return 0;
}

static void cuda_set_profile(void *state, rl_kernel_log *log) { cuda_prof_set((cuda_state *)state, log); }

static void cuda_memory(void *state, int64_t *weights_bytes, int64_t *kv_bytes, int64_t *workspace_bytes)
{
    const cuda_state *s = (const cuda_state *)state;
    if (weights_bytes) *weights_bytes = s->plan.weights_bytes;
    if (kv_bytes) *kv_bytes = s->plan.kv_bytes;
    if (workspace_bytes) *workspace_bytes = s->plan.workspace_bytes;
}

static const char *cuda_device_name(void *state) { return ((cuda_state *)state)->device_name; }

extern "C" const rl_backend_ops rl_cuda_backend = {
    "cuda",    cuda_create,      cuda_destroy, cuda_prefill,     cuda_decode,
    cuda_sync, cuda_set_profile, cuda_memory,  cuda_device_name, cuda_linear_choices,
    cuda_fill_context,
};
