// cupti.cu: the CUPTI activity collector (cupti.h).
#include <cupti.h>
#include <cxxabi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cupti.h"

#if CUPTI_API_VERSION >= 130000
typedef CUpti_ActivityKernel10 kernel_record;
#else
typedef CUpti_ActivityKernel9 kernel_record;
#endif

#define RAW_NAME 256

typedef struct {
    uint32_t cupti_id;
    uint64_t launch;
} correlation;

struct rl_cupti {
    rl_kernel_activity *acts;
    uint32_t *act_corr;     // CUPTI correlation id of each activity
    char (*raw)[RAW_NAME];  // mangled name of each activity, demangled at collect
    int n, cap;
    correlation *corr;
    int n_corr, cap_corr;
    size_t dropped;
    int out_of_memory;
    int device; // kernels of this device only (rl_cupti_only_device); -1: every device
};

static const CUpti_ActivityKind kinds[] = {CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL, CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION,
                                           CUPTI_ACTIVITY_KIND_RUNTIME, CUPTI_ACTIVITY_KIND_DRIVER};
#define N_KINDS ((int)(sizeof kinds / sizeof kinds[0]))
#define BUFFER_BYTES (8u << 20)

// CUPTI's buffer callbacks carry no user pointer, so the collector they fill is process-wide: the
// one exception to "no global mutable state", guarded by a lock (CUPTI may call from its own thread).
static pthread_mutex_t collector_lock = PTHREAD_MUTEX_INITIALIZER;
static rl_cupti *collector;

static const char *cupti_msg(CUptiResult r)
{
    const char *s = NULL;
    if (cuptiGetResultString(r, &s) != CUPTI_SUCCESS || !s) return "unknown CUPTI error";
    return s;
}

static void CUPTIAPI buffer_requested(uint8_t **buf, size_t *size, size_t *max_records)
{
    *buf = (uint8_t *)aligned_alloc(8, BUFFER_BYTES);
    *size = *buf ? BUFFER_BYTES : 0;
    *max_records = 0;
}

static int grow_acts(rl_cupti *c)
{
    if (c->n < c->cap) return 0;
    int cap = c->cap ? 2 * c->cap : 1024;
    rl_kernel_activity *a = (rl_kernel_activity *)realloc(c->acts, sizeof *a * (size_t)cap);
    if (a) c->acts = a;
    uint32_t *k = (uint32_t *)realloc(c->act_corr, sizeof *k * (size_t)cap);
    if (k) c->act_corr = k;
    char(*r)[RAW_NAME] = (char(*)[RAW_NAME])realloc(c->raw, sizeof *r * (size_t)cap);
    if (r) c->raw = r;
    if (!a || !k || !r) return -1;
    c->cap = cap;
    return 0;
}

static void add_kernel(rl_cupti *c, const kernel_record *k)
{
    if (c->device >= 0 && (int)k->deviceId != c->device) return;
    if (grow_acts(c)) {
        c->out_of_memory = 1;
        return;
    }
    rl_kernel_activity *a = &c->acts[c->n];
    memset(a, 0, sizeof *a);
    a->start_ns = k->start, a->end_ns = k->end, a->launch = -1;
    c->act_corr[c->n] = k->correlationId;
    snprintf(c->raw[c->n], RAW_NAME, "%s", k->name ? k->name : "?");
    c->n++;
}

static void add_correlation(rl_cupti *c, const CUpti_ActivityExternalCorrelation *e)
{
    if (e->externalKind != CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0) return;
    if (c->n_corr == c->cap_corr) {
        int cap = c->cap_corr ? 2 * c->cap_corr : 1024;
        correlation *p = (correlation *)realloc(c->corr, sizeof *p * (size_t)cap);
        if (!p) {
            c->out_of_memory = 1;
            return;
        }
        c->corr = p, c->cap_corr = cap;
    }
    c->corr[c->n_corr].cupti_id = e->correlationId;
    c->corr[c->n_corr].launch = e->externalId;
    c->n_corr++;
}

static void CUPTIAPI buffer_completed(CUcontext ctx, uint32_t stream, uint8_t *buf, size_t size, size_t valid)
{
    (void)size;
    pthread_mutex_lock(&collector_lock);
    CUpti_Activity *rec = NULL;
    while (collector && cuptiActivityGetNextRecord(buf, valid, &rec) == CUPTI_SUCCESS) {
        if (rec->kind == CUPTI_ACTIVITY_KIND_CONCURRENT_KERNEL) add_kernel(collector, (const kernel_record *)rec);
        else if (rec->kind == CUPTI_ACTIVITY_KIND_EXTERNAL_CORRELATION)
            add_correlation(collector, (const CUpti_ActivityExternalCorrelation *)rec);
    }
    size_t dropped = 0;
    if (collector && cuptiActivityGetNumDroppedRecords(ctx, stream, &dropped) == CUPTI_SUCCESS)
        collector->dropped += dropped;
    pthread_mutex_unlock(&collector_lock);
    free(buf);
}

static void disable_all(void)
{
    for (int i = 0; i < N_KINDS; i++) cuptiActivityDisable(kinds[i]);
}

int rl_cupti_start(rl_cupti **out, rl_err *err)
{
    *out = NULL;
    rl_cupti *c = (rl_cupti *)calloc(1, sizeof *c);
    if (!c) return rl_fail(err, "CUPTI: out of host memory");
    c->device = -1;
    pthread_mutex_lock(&collector_lock);
    const int busy = collector != NULL;
    if (!busy) collector = c;
    pthread_mutex_unlock(&collector_lock);
    if (busy) {
        free(c);
        return rl_fail(err, "CUPTI: another profile in this process is collecting already");
    }
    CUptiResult r = cuptiActivityRegisterCallbacks(buffer_requested, buffer_completed);
    for (int i = 0; r == CUPTI_SUCCESS && i < N_KINDS; i++) r = cuptiActivityEnable(kinds[i]);
    if (r != CUPTI_SUCCESS) {
        disable_all();
        pthread_mutex_lock(&collector_lock);
        collector = NULL;
        pthread_mutex_unlock(&collector_lock);
        free(c);
        return rl_fail(err, "CUPTI: cannot trace kernels here: %s (another profiler attached, or a driver without "
                            "CUPTI support)",
                       cupti_msg(r));
    }
    *out = c;
    return 0;
}

void rl_cupti_only_device(rl_cupti *c, int device)
{
    pthread_mutex_lock(&collector_lock);
    c->device = device;
    pthread_mutex_unlock(&collector_lock);
}

void rl_cupti_stop(rl_cupti *c)
{
    if (!c) return;
    cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    disable_all();
    pthread_mutex_lock(&collector_lock);
    if (collector == c) collector = NULL;
    pthread_mutex_unlock(&collector_lock);
    free(c->acts), free(c->act_corr), free(c->raw), free(c->corr);
    free(c);
}

int rl_cupti_push(rl_cupti *c, uint64_t id, rl_err *err)
{
    (void)c;
    CUptiResult r = cuptiActivityPushExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, id);
    return r == CUPTI_SUCCESS ? 0 : rl_fail(err, "CUPTI: cuptiActivityPushExternalCorrelationId failed: %s", cupti_msg(r));
}

int rl_cupti_pop(rl_cupti *c, rl_err *err)
{
    (void)c;
    uint64_t last = 0;
    CUptiResult r = cuptiActivityPopExternalCorrelationId(CUPTI_EXTERNAL_CORRELATION_KIND_CUSTOM0, &last);
    return r == CUPTI_SUCCESS ? 0 : rl_fail(err, "CUPTI: cuptiActivityPopExternalCorrelationId failed: %s", cupti_msg(r));
}

static int by_cupti_id(const void *a, const void *b)
{
    uint32_t x = ((const correlation *)a)->cupti_id, y = ((const correlation *)b)->cupti_id;
    return (x > y) - (x < y);
}

// "void gemv_kernel<4, 1>(const __nv_bfloat16 *, ...)" -> "gemv_kernel<4, 1>"; unmangled library
// names ("nvjet_sm90_...") stay as they are.
static void readable_name(const char *raw, char *out, size_t n)
{
    int status = -1;
    char *d = raw[0] == '_' && raw[1] == 'Z' ? abi::__cxa_demangle(raw, NULL, NULL, &status) : NULL;
    const char *s = status == 0 && d ? d : raw;
    if (!strncmp(s, "void ", 5)) s += 5;
    size_t len = strcspn(s, "(");
    if (len >= n) len = n - 1;
    memcpy(out, s, len);
    out[len] = 0;
    free(d);
}

int rl_cupti_collect(rl_cupti *c, rl_kernel_activity **acts, int *n, rl_err *err)
{
    CUptiResult r = cuptiActivityFlushAll(CUPTI_ACTIVITY_FLAG_FLUSH_FORCED);
    if (r != CUPTI_SUCCESS) return rl_fail(err, "CUPTI: cuptiActivityFlushAll failed: %s", cupti_msg(r));
    pthread_mutex_lock(&collector_lock);
    int rc = 0;
    if (c->out_of_memory) rc = rl_fail(err, "CUPTI: out of host memory for activity records");
    else if (c->dropped) rc = rl_fail(err, "CUPTI dropped %zu activity records (its buffers were full)", c->dropped);
    if (rc) {
        pthread_mutex_unlock(&collector_lock);
        return rc;
    }
    qsort(c->corr, (size_t)c->n_corr, sizeof *c->corr, by_cupti_id);
    enum { CACHE = 64 };
    int cached[CACHE], n_cached = 0; // activities whose names were demangled, one per distinct name
    for (int i = 0; i < c->n; i++) {
        correlation key = {c->act_corr[i], 0};
        const correlation *hit =
            (const correlation *)bsearch(&key, c->corr, (size_t)c->n_corr, sizeof *c->corr, by_cupti_id);
        c->acts[i].launch = hit ? (int64_t)hit->launch : -1;
        // A step runs a few dozen distinct functions hundreds of times: demangle each name once.
        int hit_i = -1;
        for (int j = 0; j < n_cached && hit_i < 0; j++)
            if (!strcmp(c->raw[cached[j]], c->raw[i])) hit_i = cached[j];
        if (hit_i >= 0) {
            memcpy(c->acts[i].symbol, c->acts[hit_i].symbol, sizeof c->acts[i].symbol);
        } else {
            readable_name(c->raw[i], c->acts[i].symbol, sizeof c->acts[i].symbol);
            if (n_cached < CACHE) cached[n_cached++] = i;
        }
    }
    *acts = (rl_kernel_activity *)malloc(sizeof **acts * (size_t)(c->n > 0 ? c->n : 1));
    if (!*acts) {
        pthread_mutex_unlock(&collector_lock);
        return rl_fail(err, "CUPTI: out of host memory for activity records");
    }
    if (c->n) memcpy(*acts, c->acts, sizeof **acts * (size_t)c->n);
    *n = c->n;
    c->n = 0;
    c->n_corr = 0;
    pthread_mutex_unlock(&collector_lock);
    return 0;
}
