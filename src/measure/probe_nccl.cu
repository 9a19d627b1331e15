// probe_nccl.cu: the interconnect roof of tensor parallelism: bf16 NCCL all-reduces (sum, in place)
// over the GPUs of this host, one thread driving every GPU in NCCL groups, as the engine's step makes
// them: captured in CUDA graphs (one per GPU, `iters` all-reduces back to back), replayed, timed with
// events on every GPU (the slowest GPU's time counts), median of the replays.
//   sizes:  8 KB doubling to 256 MB, plus the model's decode steps B x hidden x 2 bytes (B of the
//           seed's grid) and its prefill chunk;
//   interconnect_gbps:    bus bandwidth at 256 MB: bytes x 2 (N - 1) / N / time (the bytes each GPU
//                         sends, as the cost model's comm_bytes counts them), GB = 1e9 bytes;
//   allreduce_latency_us: the time of one 8 KB all-reduce (what a small-batch step pays per call).
// With one GPU (or the lab's --tp 1) there is nothing to measure: interconnect_note says so.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "../common/stats.h"
#include "probe.h"
}
#include "../engine/cuda/common.cuh"
#include "../engine/cuda/nccl_lib.h"

#define MAX_BYTES (256ll << 20)
#define MIN_BYTES (8ll << 10)
#define MAX_GPUS 64

typedef struct {
    int n;
    rl_nccl *nccl;
    void *comm[MAX_GPUS];
    cudaStream_t st[MAX_GPUS];
    cudaEvent_t e0[MAX_GPUS], e1[MAX_GPUS];
    void *buf[MAX_GPUS];
    cudaGraphExec_t exec[MAX_GPUS];
} ar_bench;

#define CKD(call, what)                                                                                     \
    do {                                                                                                    \
        cudaError_t e_ = (call);                                                                            \
        if (e_ != cudaSuccess)                                                                              \
            return rl_fail(err, "probe: interconnect: %s: %s failed: %s", what, #call, cudaGetErrorString(e_)); \
    } while (0)

static int sizes_of(const rl_probe_opts *o, double *sizes)
{
    int n = 0;
    for (long long b = MIN_BYTES; b <= MAX_BYTES; b *= 2) sizes[n++] = (double)b;
    if (o->model) {
        for (int i = 0; i < RL_SEED_GRID_N; i++) sizes[n++] = (double)(rl_seed_decode_grid[i] * o->model->hidden * 2);
        sizes[n++] = (double)((o->prefill_tokens > 0 ? o->prefill_tokens : 4096) * o->model->hidden * 2);
    }
    // Ascending, each once, none beyond the buffer.
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && sizes[j] < sizes[j - 1]; j--) {
            const double t = sizes[j];
            sizes[j] = sizes[j - 1], sizes[j - 1] = t;
        }
    int k = 0;
    for (int i = 0; i < n; i++)
        if (sizes[i] <= MAX_BYTES && (k == 0 || sizes[i] != sizes[k - 1])) sizes[k++] = sizes[i];
    return k < RL_PROBE_MAX_ALLREDUCE ? k : RL_PROBE_MAX_ALLREDUCE;
}

static void drop_graphs(ar_bench *b)
{
    for (int d = 0; d < b->n; d++)
        if (b->exec[d]) cudaGraphExecDestroy(b->exec[d]), b->exec[d] = NULL;
}

// Captures `iters` grouped all-reduces of `count` bf16 elements on every GPU.
static int capture(ar_bench *b, size_t count, int iters, rl_err *err)
{
    drop_graphs(b);
    for (int d = 0; d < b->n; d++) {
        CKD(cudaSetDevice(d), "selecting a GPU");
        CKD(cudaStreamBeginCapture(b->st[d], cudaStreamCaptureModeThreadLocal), "graph capture");
    }
    int rc = 0;
    for (int i = 0; i < iters && !rc; i++) {
        rc = rl_nccl_group_start(b->nccl, err);
        for (int d = 0; d < b->n && !rc; d++) rc = rl_nccl_allreduce_bf16(b->nccl, b->comm[d], b->buf[d], count, b->st[d], err);
        if (!rc) rc = rl_nccl_group_end(b->nccl, err);
    }
    for (int d = 0; d < b->n; d++) {
        cudaGraph_t g = NULL;
        cudaSetDevice(d);
        const cudaError_t e = cudaStreamEndCapture(b->st[d], &g);
        if (!rc && e != cudaSuccess)
            rc = rl_fail(err, "probe: interconnect: capturing the all-reduces: %s", cudaGetErrorString(e));
        if (!rc && cudaGraphInstantiate(&b->exec[d], g, 0) != cudaSuccess)
            rc = rl_fail(err, "probe: interconnect: instantiating the all-reduce graph: %s",
                         cudaGetErrorString(cudaGetLastError()));
        if (g) cudaGraphDestroy(g);
    }
    return rc;
}

// One replay of every GPU's graph: the slowest GPU's ms.
static int replay(ar_bench *b, double *ms, rl_err *err)
{
    for (int d = 0; d < b->n; d++) {
        CKD(cudaSetDevice(d), "selecting a GPU");
        CKD(cudaEventRecord(b->e0[d], b->st[d]), "timing");
        CKD(cudaGraphLaunch(b->exec[d], b->st[d]), "replaying the all-reduces");
        CKD(cudaEventRecord(b->e1[d], b->st[d]), "timing");
    }
    *ms = 0;
    for (int d = 0; d < b->n; d++) {
        float f = 0;
        CKD(cudaSetDevice(d), "selecting a GPU");
        CKD(cudaEventSynchronize(b->e1[d]), "the all-reduces");
        CKD(cudaEventElapsedTime(&f, b->e0[d], b->e1[d]), "timing");
        if (f > *ms) *ms = f;
    }
    return 0;
}

static int measure(ar_bench *b, const rl_probe_opts *o, rl_probe *out, rl_err *err)
{
    double sizes[64];
    const int ns = sizes_of(o, sizes);
    const int reps = o->quick ? 3 : 7;
    for (int i = 0; i < ns; i++) {
        const size_t count = (size_t)(sizes[i] / 2);
        const int iters = sizes[i] >= (16 << 20) ? (o->quick ? 2 : 5) : (o->quick ? 5 : 20);
        double t[16], ms;
        if (capture(b, count, iters, err) || replay(b, &ms, err)) return -1; // the first replay warms up
        for (int r = 0; r < reps; r++) {
            if (replay(b, &ms, err)) return -1;
            t[r] = ms / iters;
        }
        rl_allreduce_point *p = &out->allreduce[out->n_allreduce++];
        p->bytes = sizes[i];
        p->us = 1e3 * rl_percentile(t, reps, 50);
        p->busbw_gbps = sizes[i] * 2.0 * (b->n - 1) / b->n / (p->us * 1e-6) / 1e9;
    }
    out->allreduce_latency_us = out->allreduce[0].us;
    out->interconnect_gbps = out->allreduce[out->n_allreduce - 1].busbw_gbps;
    out->interconnect_gpus = b->n;
    snprintf(out->interconnect_note, sizeof out->interconnect_note,
             "NCCL %s bf16 all-reduce over %d GPUs, %d sizes 8 KB..256 MB, graph-captured, median of %d replays",
             rl_nccl_describe(b->nccl), b->n, ns, reps);
    return 0;
}

static void release(ar_bench *b)
{
    drop_graphs(b);
    for (int d = 0; d < b->n; d++) {
        cudaSetDevice(d);
        if (b->comm[d]) rl_nccl_destroy(b->nccl, b->comm[d]);
        if (b->buf[d]) cudaFree(b->buf[d]);
        if (b->e0[d]) cudaEventDestroy(b->e0[d]);
        if (b->e1[d]) cudaEventDestroy(b->e1[d]);
        if (b->st[d]) cudaStreamDestroy(b->st[d]);
    }
    rl_nccl_close(b->nccl);
    cudaSetDevice(0);
}

static int setup(ar_bench *b, const rl_probe_opts *o, rl_err *err)
{
    if (rl_nccl_open(o->nccl_lib, &b->nccl, err)) return -1;
    int devices[MAX_GPUS];
    for (int d = 0; d < b->n; d++) devices[d] = d;
    if (rl_nccl_comms(b->nccl, b->n, devices, b->comm, err)) return -1;
    for (int d = 0; d < b->n; d++) {
        CKD(cudaSetDevice(d), "selecting a GPU");
        CKD(cudaStreamCreateWithFlags(&b->st[d], cudaStreamNonBlocking), "a stream");
        CKD(cudaEventCreate(&b->e0[d]), "events");
        CKD(cudaEventCreate(&b->e1[d]), "events");
        CKD(cudaMalloc(&b->buf[d], MAX_BYTES), "a 256 MB buffer");
        CKD(cudaMemset(b->buf[d], 0, MAX_BYTES), "clearing the buffer"); // zeros: sums stay finite
    }
    return 0;
}

extern "C" int rl_probe_interconnect(const rl_probe_opts *o, rl_probe *out, rl_err *err)
{
    out->interconnect_gbps = out->allreduce_latency_us = -1;
    out->interconnect_gpus = 0;
    out->n_allreduce = 0;
    int visible = 0;
    if (cudaGetDeviceCount(&visible) != cudaSuccess) visible = 0;
    const int n = o->gpus > 0 ? o->gpus : visible;
    if (n < 2 || visible < 2) {
        snprintf(out->interconnect_note, sizeof out->interconnect_note,
                 "skipped: %s (the interconnect needs two GPUs or more)",
                 visible < 2 ? "one GPU visible" : "the group is one GPU (--tp 1)");
        return 0;
    }
    if (n > visible || n > MAX_GPUS)
        return rl_fail(err, "probe: interconnect over %d GPUs: %d visible", n, visible);
    ar_bench b;
    memset(&b, 0, sizeof b);
    b.n = n;
    int rc = setup(&b, o, err) || measure(&b, o, out, err) ? -1 : 0;
    release(&b);
    if (rc) out->interconnect_gbps = out->allreduce_latency_us = -1, out->n_allreduce = 0;
    return rc;
}
