/* probe_cpu.c: the CPU's roofs. Bandwidth: every thread streams its own slice of a buffer eight
 * times the last-level cache (256 MiB to 1 GiB) (read-only sum, write-only fill, copy); persistent workers meet at a
 * barrier before and after each pass and the main thread times between the two, so thread start-up
 * stays out of the figure. FLOPs: the CPU engine's own fp32 matrix kernel (rl_matmul), on a
 * problem larger than the L2 cache, and on the model's prefill projections where they are small. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/stats.h"
#include "../common/util.h"
#include "../engine/cpu/matmul.h"
#include "../engine/cpu/pool.h"
#include "probe.h"

/* Four floats in one SSE register (GCC/Clang vector extension): four independent lanes per
 * accumulator without -ffast-math reassociation. */
typedef float v4f __attribute__((vector_size(16)));

static inline v4f load4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static int online_cores(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

/* Last-level cache in bytes: the larger of sysfs (highest index) and sysconf, else 32 MiB. */
static double llc_bytes(void)
{
    double best = 0;
    for (int i = 0; i < 8; i++) {
        char path[128];
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        double v = 0;
        char unit = 0;
        if (fscanf(f, "%lf%c", &v, &unit) >= 1) {
            if (unit == 'K') v *= 1024;
            else if (unit == 'M') v *= 1024 * 1024;
            if (v > best) best = v;
        }
        fclose(f);
    }
    /* A virtual machine may show one slice of the host's cache in sysfs while sysconf reports the
     * whole: take the larger, so the buffer outgrows whatever cache really serves us. */
    long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
    if (l3 > best) best = (double)l3;
    return best > 0 ? best : 32.0 * 1024 * 1024;
}

void rl_cpu_device_info(int threads, rl_device_info *dev)
{
    memset(dev, 0, sizeof *dev);
    snprintf(dev->backend, sizeof dev->backend, "cpu");
    snprintf(dev->name, sizeof dev->name, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10)) continue;
            char *c = strchr(line, ':');
            if (!c) continue;
            c++;
            while (*c == ' ' || *c == '\t') c++;
            c[strcspn(c, "\n")] = 0;
            snprintf(dev->name, sizeof dev->name, "%s", c);
            break;
        }
        fclose(f);
    }
    dev->threads = threads > 0 ? threads : online_cores();
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0) dev->memory_gb = (double)pages * (double)psz / 1e9;
    dev->l2_mb = llc_bytes() / 1e6;
}

/* ---- bandwidth ------------------------------------------------------------------------------ */

enum { PASS_INIT, PASS_READ, PASS_WRITE, PASS_COPY, PASS_STOP };

/* Workers wait at the gate until every thread exists (state 1) or creation failed (state -1), so
 * a failed pthread_create never leaves workers blocked at a barrier that can no longer fill. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;
} bw_gate;

typedef struct {
    bw_gate *gate;
    pthread_barrier_t *start, *end;
    const int *pass;
    float *src, *dst;   /* this thread's slices */
    size_t n;           /* floats in the slice (multiple of 16) */
    double sink;        /* read result, so the sum is not optimised away */
} bw_worker;

static void *bw_main(void *arg)
{
    bw_worker *w = arg;
    pthread_mutex_lock(&w->gate->mu);
    while (!w->gate->state) pthread_cond_wait(&w->gate->cv, &w->gate->mu);
    int go = w->gate->state > 0;
    pthread_mutex_unlock(&w->gate->mu);
    while (go) {
        pthread_barrier_wait(w->start);
        int pass = *w->pass;
        if (pass == PASS_STOP) break;
        if (pass == PASS_INIT) {
            /* Every page of both buffers written by its own thread: untouched pages would all read
             * from the kernel's one zero page (a cache-speed illusion). */
            for (size_t i = 0; i < w->n; i++) w->src[i] = (float)(i % 1021) + 1.0f, w->dst[i] = 0.5f;
        } else if (pass == PASS_READ) {
            v4f a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
            for (size_t i = 0; i < w->n; i += 16) {
                a0 += load4(w->src + i), a1 += load4(w->src + i + 4);
                a2 += load4(w->src + i + 8), a3 += load4(w->src + i + 12);
            }
            v4f s = a0 + a1 + a2 + a3;
            w->sink += s[0] + s[1] + s[2] + s[3];
        } else if (pass == PASS_WRITE) {
            v4f v = {1.0f, 2.0f, 3.0f, 4.0f};
            for (size_t i = 0; i < w->n; i += 4) memcpy(w->dst + i, &v, sizeof v);
        } else {
            memcpy(w->dst, w->src, w->n * sizeof(float));
        }
        pthread_barrier_wait(w->end);
    }
    return NULL;
}

typedef struct {
    int threads;
    pthread_t *tid;
    bw_worker *w;
    pthread_barrier_t start, end;
    bw_gate gate;
    int pass;
} bw_pool;

/* Times one pass of every worker: from the start barrier to the end barrier. */
static double bw_pass_ms(bw_pool *p, int pass)
{
    p->pass = pass;
    double t0 = rl_now_ms();
    pthread_barrier_wait(&p->start);
    pthread_barrier_wait(&p->end);
    return rl_now_ms() - t0;
}

static int probe_bandwidth(int threads, int quick, rl_probe *out, rl_err *err)
{
    double llc = llc_bytes();
    double want = 8 * llc;
    if (want < 256.0 * 1024 * 1024) want = 256.0 * 1024 * 1024;
    if (want > 1024.0 * 1024 * 1024) want = 1024.0 * 1024 * 1024;
    if (quick && want > 256.0 * 1024 * 1024) want = 256.0 * 1024 * 1024;
    size_t per = (size_t)(want / sizeof(float) / threads) / 16 * 16;
    size_t total = per * (size_t)threads;
    float *src = NULL, *dst = NULL;
    if (posix_memalign((void **)&src, 64, total * sizeof(float)) ||
        posix_memalign((void **)&dst, 64, total * sizeof(float))) {
        free(src);
        return rl_fail(err, "probe: cannot allocate 2 x %.0f MiB for the bandwidth buffers (use --quick)",
                       total * 4.0 / 1048576);
    }
    bw_pool p = {.threads = threads};
    p.tid = calloc((size_t)threads, sizeof *p.tid);
    p.w = calloc((size_t)threads, sizeof *p.w);
    if (!p.tid || !p.w) {
        free(p.tid), free(p.w), free(src), free(dst);
        return rl_fail(err, "probe: out of host memory");
    }
    pthread_barrier_init(&p.start, NULL, (unsigned)threads + 1);
    pthread_barrier_init(&p.end, NULL, (unsigned)threads + 1);
    pthread_mutex_init(&p.gate.mu, NULL);
    pthread_cond_init(&p.gate.cv, NULL);
    int started = 0, rc = 0;
    for (int t = 0; t < threads; t++) {
        p.w[t] = (bw_worker){&p.gate, &p.start, &p.end, &p.pass, src + per * t, dst + per * t, per, 0};
        if (pthread_create(&p.tid[t], NULL, bw_main, &p.w[t])) {
            rc = rl_fail(err, "probe: pthread_create failed for bandwidth thread %d", t);
            break;
        }
        started++;
    }
    pthread_mutex_lock(&p.gate.mu);
    p.gate.state = started == threads ? 1 : -1;
    pthread_cond_broadcast(&p.gate.cv);
    pthread_mutex_unlock(&p.gate.mu);
    if (started == threads) {
        /* First touch by each worker places its pages near it and makes the data non-zero. */
        bw_pass_ms(&p, PASS_INIT);
        bw_pass_ms(&p, PASS_READ);
        int reps = quick ? 5 : 11;
        double *r = malloc(sizeof *r * 3 * (size_t)reps);
        if (!r) rc = rl_fail(err, "probe: out of host memory");
        for (int i = 0; r && i < reps; i++) {
            r[i] = bw_pass_ms(&p, PASS_READ);
            r[reps + i] = bw_pass_ms(&p, PASS_WRITE);
            r[2 * reps + i] = bw_pass_ms(&p, PASS_COPY);
        }
        if (r) {
            double bytes = (double)total * sizeof(float);
            out->read_gbps = bytes / (rl_percentile(r, reps, 50) * 1e-3) / 1e9;
            out->write_gbps = bytes / (rl_percentile(r + reps, reps, 50) * 1e-3) / 1e9;
            out->copy_gbps = 2 * bytes / (rl_percentile(r + 2 * reps, reps, 50) * 1e-3) / 1e9;
            out->buffer_bytes = bytes;
            out->reps = reps;
        }
        free(r);
    }
    if (started == threads) {
        p.pass = PASS_STOP;
        pthread_barrier_wait(&p.start);
    }
    for (int t = 0; t < started; t++) pthread_join(p.tid[t], NULL);
    pthread_barrier_destroy(&p.start);
    pthread_barrier_destroy(&p.end);
    pthread_mutex_destroy(&p.gate.mu);
    pthread_cond_destroy(&p.gate.cv);
    free(p.tid), free(p.w), free(src), free(dst);
    return rc;
}

/* ---- matmul --------------------------------------------------------------------------------- */

/* Times the CPU engine's own matrix kernel (rl_matmul: y = x W^T, a linear layer) on one shape:
 * median of reps runs after two warm-ups, random (non-zero) operands. */
static int time_matmul(rl_pool *pool, int64_t m, int64_t n, int64_t k, int reps, double *tflops, rl_err *err)
{
    float *x = malloc(sizeof *x * (size_t)(m * k)), *w = malloc(sizeof *w * (size_t)(n * k)),
          *y = malloc(sizeof *y * (size_t)(m * n));
    double t[32];
    if (!x || !w || !y) {
        free(x), free(w), free(y);
        return rl_fail(err, "probe: out of host memory for a %lld x %lld x %lld matmul", (long long)m, (long long)n,
                       (long long)k);
    }
    /* A fixed-seed xorshift stream in [-1, 1). */
    uint64_t s = 0x9e3779b97f4a7c15ull;
    for (int64_t i = 0; i < m * k; i++) s ^= s << 13, s ^= s >> 7, s ^= s << 17, x[i] = (float)((s >> 40) / 8388608.0 - 1);
    for (int64_t i = 0; i < n * k; i++) s ^= s << 13, s ^= s >> 7, s ^= s << 17, w[i] = (float)((s >> 40) / 8388608.0 - 1);
    if (reps > 32) reps = 32;
    for (int i = -2; i < reps; i++) {
        double t0 = rl_now_ms();
        rl_matmul(pool, y, n, x, k, w, m, k, n, 0);
        if (i >= 0) t[i] = rl_now_ms() - t0;
    }
    *tflops = 2.0 * (double)m * (double)n * (double)k / (rl_percentile(t, reps, 50) * 1e-3) / 1e12;
    free(x), free(w), free(y);
    return 0;
}

static int probe_matmul(const rl_probe_opts *o, int threads, rl_probe *out, rl_err *err)
{
    rl_pool *pool;
    if (rl_pool_create(threads, &pool, err)) return -1;
    int reps = o->quick ? 5 : 11, rc = 0;
    /* The roof: a square-ish linear layer larger than L2, 256 rows of activations. */
    const int64_t m = o->quick ? 128 : 256, nk = o->quick ? 512 : 1024;
    rc = time_matmul(pool, m, nk, nk, reps, &out->gemm_square_tflops, err);
    if (!rc) {
        out->gemm_square_n = nk;
        out->gemm_tflops = out->gemm_square_tflops;
        rl_gemm_shape *sh = &out->shapes[out->n_shapes++];
        snprintf(sh->name, sizeof sh->name, "square");
        sh->m = m, sh->n = nk, sh->k = nk, sh->tflops = out->gemm_square_tflops;
    }
    /* The model's prefill projections, where they are small enough to time in a moment on a CPU. */
    if (!rc && o->model) {
        const rl_model_config *md = o->model;
        int64_t L = o->prefill_tokens > 0 ? o->prefill_tokens : 256;
        int64_t q = md->heads * md->head_dim, kv = md->kv_heads * md->head_dim;
        struct { const char *name; int64_t n, k; } shapes[] = {{"qkv_proj", q + 2 * kv, md->hidden},
                                                              {"o_proj", md->hidden, q},
                                                              {"gate_up_proj", 2 * md->intermediate, md->hidden},
                                                              {"down_proj", md->hidden, md->intermediate}};
        for (int i = 0; i < 4 && !rc && out->n_shapes < 8; i++) {
            if ((double)L * shapes[i].n * shapes[i].k > 2e9) continue; /* > 4 GFLOP: seconds on a CPU */
            rl_gemm_shape *sh = &out->shapes[out->n_shapes];
            snprintf(sh->name, sizeof sh->name, "%s", shapes[i].name);
            sh->m = L, sh->n = shapes[i].n, sh->k = shapes[i].k;
            rc = time_matmul(pool, sh->m, sh->n, sh->k, reps, &sh->tflops, err);
            if (!rc) out->n_shapes++;
        }
    }
    rl_pool_destroy(pool);
    return rc;
}

int rl_probe_cpu(const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err)
{
    int threads = o->threads > 0 ? o->threads : online_cores();
    memset(out, 0, sizeof *out);
    rl_cpu_device_info(threads, dev);
    snprintf(out->dtype, sizeof out->dtype, "fp32");
    out->launch_us = out->graph_node_us = out->empty_node_us = out->kernel_min_us = -1;
    out->interconnect_gbps = out->allreduce_latency_us = -1; /* tensor parallelism is the cuda backend's */
    if (!o->quiet) fprintf(stderr, "probe: cpu bandwidth (%d threads)...\n", threads);
    if (probe_bandwidth(threads, o->quick, out, err)) return -1;
    if (!o->quiet) fprintf(stderr, "probe: cpu fp32 matmul...\n");
    if (probe_matmul(o, threads, out, err)) return -1;
    snprintf(out->method, sizeof out->method,
             "%d threads stream their slices of a %.0f MiB buffer (last-level cache %.0f MiB): read-only "
             "sum, write-only fill, memcpy; median of %d passes. FLOPs: the CPU engine's fp32 rl_matmul (%s), "
             "y = x W^T with M=%lld N=%lld K=%lld, median of %d runs after 2 warm-ups",
             threads, out->buffer_bytes / 1048576, llc_bytes() / 1048576, out->reps, rl_matmul_isa(),
             (long long)out->shapes[0].m, (long long)out->shapes[0].n, (long long)out->shapes[0].k, out->reps);
    return 0;
}
