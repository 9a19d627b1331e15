// probe_cuda.cu: the GPU's roofs, measured with our own stream kernels and cuBLASLt.
//   bandwidth: read-only / write-only / copy kernels, 16-byte accesses (int4), grid-stride with four
//              loads in flight per thread, over buffers >= 1 GiB (far beyond the 50 MB L2), timed
//              with CUDA events, median of repeated runs; GB = 1e9 bytes, copy counts read + write.
//   GEMM:      bf16 x bf16 -> bf16, fp32 accumulation, cuBLASLt's first heuristic algorithm, random
//              (non-zero) operands: one large square product (the FLOPs roof) and the model's prefill
//              projections at M = L tokens.
//   launches:  back-to-back empty kernels (per-launch cost) and the same kernels replayed from a CUDA
//              graph (per-node cost).
//   latency:   the latency roof t_min: the shortest time a kernel node takes in a graph when it chains
//              to its neighbours with programmatic dependent launch, as the engine's decode step does:
//              a chain of empty kernels, and a chain of tiny ones that each read the 4 KB the previous
//              one wrote and write 4 KB (kernel_min_us, what a 16 KB RMSNorm cannot beat).
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "../common/stats.h"
#include "../engine/code_path.h"
#include "probe.h"
}
#include "../engine/cuda/common.cuh"

#define CK(call)                                                                                            \
    do {                                                                                                    \
        cudaError_t e_ = (call);                                                                            \
        if (e_ != cudaSuccess) {                                                                            \
            rc = rl_fail(err, "probe_cuda.cu: %s failed: %s", #call, cudaGetErrorString(e_));              \
            goto done;                                                                                      \
        }                                                                                                   \
    } while (0)

#define CKLT(call)                                                                                          \
    do {                                                                                                    \
        cublasStatus_t s_ = (call);                                                                         \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                  \
            rc = rl_fail(err, "probe_cuda.cu: %s failed: %s", #call, cublasLtGetStatusString(s_));         \
            goto done;                                                                                      \
        }                                                                                                   \
    } while (0)

// ---- kernels --------------------------------------------------------------------------------------

__device__ __forceinline__ uint32_t hash32(uint64_t i, uint32_t seed)
{
    uint32_t h = (uint32_t)i * 0x9E3779B1u ^ (uint32_t)(i >> 32) * 0x85EBCA77u ^ seed;
    h ^= h >> 15;
    h *= 0x2C1B3C6Du;
    h ^= h >> 12;
    h *= 0x297A2D39u;
    h ^= h >> 15;
    return h;
}

__global__ void fill_u32(uint32_t *p, size_t n, uint32_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = hash32(i, seed);
}

// Uniform in [-1, 1): random operands, never zeros (zeros run faster than real data).
__global__ void fill_bf16(__nv_bfloat16 *p, size_t n, uint32_t seed)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = __float2bfloat16((float)(hash32(i, seed) >> 8) * (2.0f / 16777216.0f) - 1.0f);
}

// Read-only stream: 16 bytes per load, 4 independent loads per thread per iteration. The XOR result is
// stored only if it hits a value it never takes in practice, so the loads cannot be removed.
__global__ void read_stream(const int4 *__restrict__ p, size_t n, int4 *sink)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    int x = 0;
    for (; i + 3 * stride < n; i += 4 * stride) {
        int4 a = __ldcs(p + i), b = __ldcs(p + i + stride), c = __ldcs(p + i + 2 * stride), d = __ldcs(p + i + 3 * stride);
        x ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^ d.w;
    }
    for (; i < n; i += stride) {
        int4 a = __ldcs(p + i);
        x ^= a.x ^ a.y ^ a.z ^ a.w;
    }
    if (x == 0x7fffffff) sink[0] = make_int4(x, x, x, x);
}

// Write-only stream: 16-byte streaming stores.
__global__ void write_stream(int4 *__restrict__ p, size_t n, int v)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    int4 w = make_int4(v, v + 1, v + 2, v + 3);
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride) __stcs(p + i, w);
}

// Copy: read 16 bytes, write 16 bytes, 4 in flight per thread.
__global__ void copy_stream(const int4 *__restrict__ src, int4 *__restrict__ dst, size_t n)
{
    size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    for (; i + 3 * stride < n; i += 4 * stride) {
        int4 a = __ldcs(src + i), b = __ldcs(src + i + stride), c = __ldcs(src + i + 2 * stride),
             d = __ldcs(src + i + 3 * stride);
        __stcs(dst + i, a), __stcs(dst + i + stride, b), __stcs(dst + i + 2 * stride, c), __stcs(dst + i + 3 * stride, d);
    }
    for (; i < n; i += stride) __stcs(dst + i, __ldcs(src + i));
}

__global__ void empty_kernel() {}

// A kernel node of a PDL chain that does nothing: the chain's per-node cost.
__global__ void empty_pdl_kernel()
{
    pdl_trigger();
    pdl_wait();
}

// A kernel node of a PDL chain that moves 8 KB: 256 threads each read the 16 bytes the previous node
// wrote and write 16 bytes for the next, so every node waits for its predecessor's data.
#define TINY_THREADS 256
__global__ void tiny_pdl_kernel(const int4 *__restrict__ in, int4 *__restrict__ out)
{
    pdl_trigger();
    pdl_wait();
    int4 v = in[threadIdx.x];
    v.x += 1;
    out[threadIdx.x] = v;
}

// ---- helpers --------------------------------------------------------------------------------------

static double median(double *v, int n) { return rl_percentile(v, n, 50); }

// Times reps runs of one stream kernel (after warm-ups) with events; returns the median in ms.
enum { K_READ, K_WRITE, K_COPY };

// Runs launch(i) for i = -warmup .. reps-1 between two events on st and returns the median of the
// timed runs (i >= 0) in ms. launch returns 0, or -1 with err set.
template <typename Launch>
static int time_median_ms(cudaStream_t st, int warmup, int reps, Launch launch, double *ms_out, rl_err *err)
{
    int rc = 0;
    cudaEvent_t e0 = NULL, e1 = NULL;
    double t[64];
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int i = -warmup; i < reps; i++) {
        CK(cudaEventRecord(e0, st));
        if (launch(i)) {
            rc = -1;
            goto done;
        }
        CK(cudaEventRecord(e1, st));
        CK(cudaEventSynchronize(e1));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, e0, e1));
        if (i >= 0) t[i] = ms;
    }
    *ms_out = median(t, reps);
done:
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    return rc;
}

static int time_stream(int kind, int4 *a, int4 *b, size_t n16, int4 *sink, int blocks, int reps, cudaStream_t st,
                       double *ms_out, rl_err *err)
{
    auto launch = [&](int i) -> int {
        if (kind == K_READ) read_stream<<<blocks, 256, 0, st>>>(a, n16, sink);
        else if (kind == K_WRITE) write_stream<<<blocks, 256, 0, st>>>(a, n16, i);
        else copy_stream<<<blocks, 256, 0, st>>>(a, b, n16);
        cudaError_t e = cudaGetLastError();
        return e == cudaSuccess ? 0 : rl_fail(err, "probe_cuda.cu: stream kernel launch failed: %s", cudaGetErrorString(e));
    };
    return time_median_ms(st, 2, reps, launch, ms_out, err);
}

static int probe_bandwidth(const rl_probe_opts *o, int blocks, cudaStream_t st, rl_probe *out, rl_err *err)
{
    int rc = 0;
    int4 *a = NULL, *b = NULL, *sink = NULL;
    size_t free_b = 0, total_b = 0;
    size_t want = o->quick ? (256ull << 20) : (2048ull << 20);
    int reps = o->quick ? 5 : 20;
    double ms;
    CK(cudaMemGetInfo(&free_b, &total_b));
    // Two buffers (copy needs both); stay well inside free memory, never below 1 GiB unless quick.
    while (2 * want + (512ull << 20) > free_b && want > (1024ull << 20)) want /= 2;
    if (2 * want + (256ull << 20) > free_b)
        return rl_fail(err, "probe: only %.1f GB of GPU memory free; the bandwidth test needs 2 x %.1f GB "
                            "(another process holds the GPU?)",
                       free_b / 1e9, want / 1e9);
    CK(cudaMalloc(&a, want));
    CK(cudaMalloc(&b, want));
    CK(cudaMalloc(&sink, sizeof(int4)));
    fill_u32<<<blocks, 256, 0, st>>>((uint32_t *)a, want / 4, 1u);
    fill_u32<<<blocks, 256, 0, st>>>((uint32_t *)b, want / 4, 2u);
    CK(cudaGetLastError());
    CK(cudaStreamSynchronize(st));
    {
        size_t n16 = want / 16;
        double bytes = (double)want;
        if (time_stream(K_READ, a, NULL, n16, sink, blocks, reps, st, &ms, err) ||
            (out->read_gbps = bytes / (ms * 1e-3) / 1e9,
             time_stream(K_WRITE, b, NULL, n16, sink, blocks, reps, st, &ms, err)) ||
            (out->write_gbps = bytes / (ms * 1e-3) / 1e9,
             time_stream(K_COPY, a, b, n16, sink, blocks, reps, st, &ms, err))) {
            rc = -1;
            goto done;
        }
        out->copy_gbps = 2 * bytes / (ms * 1e-3) / 1e9;
        out->buffer_bytes = bytes;
        out->reps = reps;
    }
done:
    if (a) cudaFree(a);
    if (b) cudaFree(b);
    if (sink) cudaFree(sink);
    return rc;
}

// One bf16 GEMM in cuBLAS column-major terms: D[mm x nn] = A^T B with A stored kk x mm and B kk x nn
// (the "TN" layout of a row-major weight [out, in] times row-major activations [tokens, in]).
static int time_gemm(cublasLtHandle_t lt, int64_t mm, int64_t nn, int64_t kk, int reps, void *ws, size_t ws_bytes,
                     cudaStream_t st, double *tflops, rl_err *err)
{
    int rc = 0;
    __nv_bfloat16 *A = NULL, *B = NULL, *D = NULL;
    cublasLtMatmulDesc_t op = NULL;
    cublasLtMatrixLayout_t la = NULL, lb = NULL, ld = NULL;
    cublasLtMatmulPreference_t pref = NULL;
    cublasLtMatmulHeuristicResult_t res;
    int found = 0;
    float alpha = 1.0f, beta = 0.0f;
    cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
    uint64_t wsb = ws_bytes;
    CK(cudaMalloc(&A, sizeof(__nv_bfloat16) * (size_t)(kk * mm)));
    CK(cudaMalloc(&B, sizeof(__nv_bfloat16) * (size_t)(kk * nn)));
    CK(cudaMalloc(&D, sizeof(__nv_bfloat16) * (size_t)(mm * nn)));
    fill_bf16<<<1024, 256, 0, st>>>(A, (size_t)(kk * mm), 11u);
    fill_bf16<<<1024, 256, 0, st>>>(B, (size_t)(kk * nn), 12u);
    CK(cudaGetLastError());
    CKLT(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    CKLT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    CKLT(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    CKLT(cublasLtMatrixLayoutCreate(&la, CUDA_R_16BF, (uint64_t)kk, (uint64_t)mm, kk));
    CKLT(cublasLtMatrixLayoutCreate(&lb, CUDA_R_16BF, (uint64_t)kk, (uint64_t)nn, kk));
    CKLT(cublasLtMatrixLayoutCreate(&ld, CUDA_R_16BF, (uint64_t)mm, (uint64_t)nn, mm));
    CKLT(cublasLtMatmulPreferenceCreate(&pref));
    CKLT(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &wsb, sizeof wsb));
    CKLT(cublasLtMatmulAlgoGetHeuristic(lt, op, la, lb, ld, ld, pref, 1, &res, &found));
    if (!found) {
        rc = rl_fail(err, "probe: cuBLASLt found no bf16 algorithm for %lld x %lld x %lld", (long long)mm,
                     (long long)nn, (long long)kk);
        goto done;
    }
    {
        auto launch = [&](int) -> int {
            cublasStatus_t st_ = cublasLtMatmul(lt, op, &alpha, A, la, B, lb, &beta, D, ld, D, ld, &res.algo, ws,
                                                ws_bytes, st);
            return st_ == CUBLAS_STATUS_SUCCESS
                       ? 0
                       : rl_fail(err, "probe_cuda.cu: cublasLtMatmul failed: %s", cublasLtGetStatusString(st_));
        };
        double ms = 0;
        if (time_median_ms(st, 3, reps, launch, &ms, err)) {
            rc = -1;
            goto done;
        }
        *tflops = 2.0 * (double)mm * (double)nn * (double)kk / (ms * 1e-3) / 1e12;
    }
done:
    if (pref) cublasLtMatmulPreferenceDestroy(pref);
    if (la) cublasLtMatrixLayoutDestroy(la);
    if (lb) cublasLtMatrixLayoutDestroy(lb);
    if (ld) cublasLtMatrixLayoutDestroy(ld);
    if (op) cublasLtMatmulDescDestroy(op);
    if (A) cudaFree(A);
    if (B) cudaFree(B);
    if (D) cudaFree(D);
    return rc;
}

static int probe_gemm(const rl_probe_opts *o, cudaStream_t st, rl_probe *out, rl_err *err)
{
    int rc = 0;
    cublasLtHandle_t lt = NULL;
    void *ws = NULL;
    const size_t ws_bytes = 64ull << 20;
    int reps = o->quick ? 5 : 20;
    int64_t sq = o->quick ? 2048 : 8192;
    CKLT(cublasLtCreate(&lt));
    CK(cudaMalloc(&ws, ws_bytes));
    if (time_gemm(lt, sq, sq, sq, reps, ws, ws_bytes, st, &out->gemm_square_tflops, err)) {
        rc = -1;
        goto done;
    }
    out->gemm_square_n = sq;
    out->gemm_tflops = out->gemm_square_tflops;
    {
        rl_gemm_shape *s = &out->shapes[out->n_shapes++];
        snprintf(s->name, sizeof s->name, "square");
        s->m = s->n = s->k = sq;
        s->tflops = out->gemm_square_tflops;
    }
    if (o->model) {
        const rl_model_config *m = o->model;
        int64_t L = o->prefill_tokens > 0 ? o->prefill_tokens : 4096;
        int64_t q = m->heads * m->head_dim, kv = m->kv_heads * m->head_dim;
        struct {
            const char *name;
            int64_t n, k;
        } shapes[] = {{"qkv_proj", q + 2 * kv, m->hidden},
                      {"o_proj", m->hidden, q},
                      {"gate_up_proj", 2 * m->intermediate, m->hidden},
                      {"down_proj", m->hidden, m->intermediate}};
        for (int i = 0; i < 4 && out->n_shapes < 8; i++) {
            rl_gemm_shape *s = &out->shapes[out->n_shapes];
            snprintf(s->name, sizeof s->name, "%s", shapes[i].name);
            s->m = L, s->n = shapes[i].n, s->k = shapes[i].k;
            // cuBLAS sees the weight's rows (n) as its m and the tokens (L) as its n.
            if (time_gemm(lt, s->n, s->m, s->k, reps, ws, ws_bytes, st, &s->tflops, err)) {
                rc = rl_wrap(err, "GEMM %s (M=%lld N=%lld K=%lld)", s->name, (long long)s->m, (long long)s->n,
                             (long long)s->k);
                goto done;
            }
            out->n_shapes++;
        }
    }
done:
    if (ws) cudaFree(ws);
    if (lt) cublasLtDestroy(lt);
    return rc;
}

static int probe_launch(const rl_probe_opts *o, cudaStream_t st, rl_probe *out, rl_err *err)
{
    int rc = 0;
    cudaEvent_t e0 = NULL, e1 = NULL;
    cudaGraph_t g = NULL;
    cudaGraphExec_t ge = NULL;
    const int n = o->quick ? 500 : 2000, nodes = 1000, replays = o->quick ? 3 : 10;
    float ms = 0;
    CK(cudaEventCreate(&e0));
    CK(cudaEventCreate(&e1));
    for (int i = 0; i < 100; i++) empty_kernel<<<1, 32, 0, st>>>();
    CK(cudaGetLastError());
    CK(cudaStreamSynchronize(st));
    // Back-to-back launches: the GPU waits on the host's launch rate, so this is the per-launch cost.
    CK(cudaEventRecord(e0, st));
    for (int i = 0; i < n; i++) empty_kernel<<<1, 32, 0, st>>>();
    CK(cudaGetLastError());
    CK(cudaEventRecord(e1, st));
    CK(cudaEventSynchronize(e1));
    CK(cudaEventElapsedTime(&ms, e0, e1));
    out->launch_us = 1e3 * ms / n;
    // The same kernels as graph nodes, replayed.
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < nodes; i++) empty_kernel<<<1, 32, 0, st>>>();
    CK(cudaStreamEndCapture(st, &g));
    CK(cudaGraphInstantiate(&ge, g, 0));
    CK(cudaGraphLaunch(ge, st));
    CK(cudaStreamSynchronize(st));
    CK(cudaEventRecord(e0, st));
    for (int i = 0; i < replays; i++) CK(cudaGraphLaunch(ge, st));
    CK(cudaEventRecord(e1, st));
    CK(cudaEventSynchronize(e1));
    CK(cudaEventElapsedTime(&ms, e0, e1));
    out->graph_node_us = 1e3 * ms / ((double)replays * nodes);
done:
    if (ge) cudaGraphExecDestroy(ge);
    if (g) cudaGraphDestroy(g);
    if (e0) cudaEventDestroy(e0);
    if (e1) cudaEventDestroy(e1);
    return rc;
}

// Per-node time of a graph of `nodes` chained kernel nodes launched with PDL (tiny: the 8 KB kernel),
// median of reps replays. *pdl_used = 0 when the driver refused to capture PDL launches (then the
// chain runs without it).
static int time_chain(int tiny, int nodes, int reps, cudaStream_t st, int4 *buf, int pdl, double *us, rl_err *err)
{
    int rc = 0;
    cudaGraph_t g = NULL;
    cudaGraphExec_t ge = NULL;
    CK(cudaStreamBeginCapture(st, cudaStreamCaptureModeThreadLocal));
    for (int i = 0; i < nodes && !rc; i++) {
        cudaError_t e = tiny ? rl_launch(tiny_pdl_kernel, dim3(1), dim3(TINY_THREADS), 0, st, pdl,
                                         (const int4 *)(buf + (i & 1) * TINY_THREADS), buf + ((i + 1) & 1) * TINY_THREADS)
                             : rl_launch(empty_pdl_kernel, dim3(1), dim3(32), 0, st, pdl);
        if (e != cudaSuccess) rc = rl_fail(err, "probe_cuda.cu: capturing a PDL kernel chain failed: %s", cudaGetErrorString(e));
    }
    {
        cudaError_t e = cudaStreamEndCapture(st, &g);
        if (!rc && e != cudaSuccess) rc = rl_fail(err, "probe_cuda.cu: cudaStreamEndCapture failed: %s", cudaGetErrorString(e));
    }
    if (rc) goto done;
    CK(cudaGraphInstantiate(&ge, g, 0));
    {
        auto launch = [&](int) -> int {
            cudaError_t e = cudaGraphLaunch(ge, st);
            return e == cudaSuccess ? 0 : rl_fail(err, "probe_cuda.cu: cudaGraphLaunch failed: %s", cudaGetErrorString(e));
        };
        double ms = 0;
        if (time_median_ms(st, 2, reps, launch, &ms, err)) {
            rc = -1;
            goto done;
        }
        *us = 1e3 * ms / nodes;
    }
done:
    if (ge) cudaGraphExecDestroy(ge);
    if (g) cudaGraphDestroy(g);
    return rc;
}

static int probe_latency(const rl_probe_opts *o, cudaStream_t st, rl_probe *out, int *pdl_used, rl_err *err)
{
    int rc = 0;
    int4 *buf = NULL;
    const int nodes = 1000, reps = o->quick ? 3 : 10;
    CK(cudaMalloc(&buf, 2 * TINY_THREADS * sizeof(int4)));
    CK(cudaMemset(buf, 0, 2 * TINY_THREADS * sizeof(int4)));
    *pdl_used = 1;
    if (time_chain(0, nodes, reps, st, buf, 1, &out->empty_node_us, err)) {
        // A driver that cannot capture PDL launches: the chain without it, said in the method.
        cudaGetLastError();
        *pdl_used = 0;
        if (time_chain(0, nodes, reps, st, buf, 0, &out->empty_node_us, err)) {
            rc = -1;
            goto done;
        }
    }
    if (time_chain(1, nodes, reps, st, buf, *pdl_used, &out->kernel_min_us, err)) rc = -1;
done:
    if (buf) cudaFree(buf);
    return rc;
}

extern "C" int rl_cuda_device_info(rl_device_info *dev, rl_err *err)
{
    int rc = 0, rt = 0, drv = 0;
    cudaDeviceProp p;
    memset(dev, 0, sizeof *dev);
    snprintf(dev->backend, sizeof dev->backend, "cuda");
    CK(cudaSetDevice(0));
    CK(cudaGetDeviceProperties(&p, 0));
    snprintf(dev->name, sizeof dev->name, "%s", p.name);
    dev->sm_count = p.multiProcessorCount;
    dev->memory_gb = (double)p.totalGlobalMem / 1e9;
    dev->l2_mb = p.l2CacheSize / 1e6;
    CK(cudaDeviceGetPCIBusId(dev->pci_bus_id, (int)sizeof dev->pci_bus_id, 0));
    {
        rl_code_path cp; // the engine makes the same decision when it is created
        if (rl_cuda_code_path(0, &cp, err)) return -1;
        snprintf(dev->code_path, sizeof dev->code_path, "%s", cp.name);
    }
    CK(cudaRuntimeGetVersion(&rt));
    CK(cudaDriverGetVersion(&drv));
    snprintf(dev->cuda_runtime, sizeof dev->cuda_runtime, "%d.%d (driver API %d.%d)", rt / 1000, rt % 1000 / 10,
             drv / 1000, drv % 1000 / 10);
done:
    return rc;
}

extern "C" int rl_probe_cuda(const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err)
{
    int rc = 0, threads_sm = 0, blocks = 0, pdl_used = 0;
    cudaStream_t st = NULL;
    memset(out, 0, sizeof *out);
    snprintf(out->dtype, sizeof out->dtype, "bf16");
    out->launch_us = out->graph_node_us = out->empty_node_us = out->kernel_min_us = -1;
    out->interconnect_gbps = out->allreduce_latency_us = -1;
    if (rl_cuda_device_info(dev, err)) return -1;
    // Blocks of 256 threads filling every SM (2048 threads per SM on A100/Hopper, 1536 on sm_86/89).
    CK(cudaDeviceGetAttribute(&threads_sm, cudaDevAttrMaxThreadsPerMultiProcessor, 0));
    blocks = dev->sm_count * (threads_sm / 256 > 0 ? threads_sm / 256 : 1);
    CK(cudaStreamCreateWithFlags(&st, cudaStreamNonBlocking));
    if (!o->quiet) fprintf(stderr, "probe: %s: HBM read/write/copy bandwidth...\n", dev->name);
    if (probe_bandwidth(o, blocks, st, out, err)) {
        rc = -1;
        goto done;
    }
    if (!o->quiet) fprintf(stderr, "probe: bf16 GEMMs (cuBLASLt)...\n");
    if (probe_gemm(o, st, out, err)) {
        rc = -1;
        goto done;
    }
    if (!o->quiet) fprintf(stderr, "probe: launch latency and CUDA-graph overhead...\n");
    if (probe_launch(o, st, out, err)) {
        rc = -1;
        goto done;
    }
    if (!o->quiet) fprintf(stderr, "probe: latency roof (PDL chains of graph kernel nodes)...\n");
    if (probe_latency(o, st, out, &pdl_used, err)) {
        rc = -1;
        goto done;
    }
    if (!o->quiet) fprintf(stderr, "probe: interconnect (NCCL all-reduce over the GPUs of this host)...\n");
    {
        rl_err ie; // the interconnect is optional: a missing NCCL is said in the results, not fatal
        if (rl_probe_interconnect(o, out, &ie))
            snprintf(out->interconnect_note, sizeof out->interconnect_note, "not measured: %s", ie.msg);
        if (!o->quiet) fprintf(stderr, "probe: interconnect: %s\n", out->interconnect_note);
    }
    snprintf(out->method, sizeof out->method,
             "own int4 stream kernels (%d blocks x 256 threads, 4 loads in flight) over %.2f GB buffers, median of "
             "%d event-timed runs after 2 warm-ups; GEMM: cuBLASLt bf16 (fp32 accumulate, TN), random operands, "
             "median of %d after 3 warm-ups; roof = the %lld^3 square; latency roof: 1000-node graph chains%s, "
             "8 KB per node",
             blocks, out->buffer_bytes / 1e9, out->reps, out->reps, (long long)out->gemm_square_n,
             pdl_used ? " with PDL" : " without PDL (the driver refused it)");
done:
    if (st) cudaStreamDestroy(st);
    return rc;
}
