/* test_trace.c: the Chrome trace-event writer (trace.c): complete events with name, ts, dur in us
 * and args.ops; the step and its layers as parents that contain their kernels; kernel bars that do
 * not overlap (PDL overlap clipped, the true start kept in args) so Perfetto nests them; and a
 * step profiled with events. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/util.h"
#include "measure/trace.h"

static rl_kernel_record rec(const char *k, unsigned mask, int layer, double start_ms, double busy_ms, double ms)
{
    rl_kernel_record r;
    memset(&r, 0, sizeof r);
    snprintf(r.kernel, sizeof r.kernel, "%s", k);
    snprintf(r.symbol, sizeof r.symbol, "%s_kernel", k);
    r.op_mask = mask, r.layer = layer, r.start_ms = start_ms, r.busy_ms = busy_ms, r.ms = ms;
    return r;
}

static const cJSON *find(const cJSON *events, const char *name, const char *cat, int pid)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const cJSON *n = cJSON_GetObjectItem(e, "name"), *c = cJSON_GetObjectItem(e, "cat");
        if (cJSON_IsString(n) && !strcmp(n->valuestring, name) && cJSON_IsString(c) && !strcmp(c->valuestring, cat) &&
            cJSON_GetObjectItem(e, "pid")->valueint == pid)
            return e;
    }
    return NULL;
}

static double num(const cJSON *e, const char *k) { return cJSON_GetObjectItem(e, k)->valuedouble; }

int main(void)
{
    rl_err err;
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    log.timing = RL_TIMING_CUPTI;
    /* layer 0: norm 0-3 us, gemv 3-20; layer 1: attn starts at 18 (PDL), ends 30; head: lm 31-40 */
    rl_kernel_record r[] = {rec("rmsnorm", RL_OPMASK(RL_OP_ATTN_NORM), 0, 0, 0.003, 0.003),
                            rec("gemv_tc", RL_OPMASK(RL_OP_QKV), 0, 0.003, 0.017, 0.017),
                            rec("attn", RL_OPMASK(RL_OP_ROPE) | RL_OPMASK(RL_OP_ATTENTION), 1, 0.018, 0.012, 0.010),
                            rec("lm_head", RL_OPMASK(RL_OP_LM_HEAD), -1, 0.031, 0.009, 0.010)};
    for (int i = 0; i < 4; i++) CHECK(rl_kernel_log_add(&log, &r[i], &err) == 0, "%s", err.msg);
    rl_trace *t = rl_trace_new();
    CHECK(t != NULL, "trace");
    CHECK(rl_trace_add_step(t, "decode B=1", &log, 0, &err) == 0, "%s", err.msg);
    CHECK(rl_trace_add_step(t, "decode B=1", &log, 5, &err) == -1 && strstr(err.msg, "step 5"), "an empty step is refused");
    rl_kernel_log ev;
    memset(&ev, 0, sizeof ev);
    ev.timing = RL_TIMING_EVENTS;
    rl_kernel_log_push(&ev, "rmsnorm", RL_OPMASK(RL_OP_ATTN_NORM), 0, 0.006);
    rl_kernel_log_push(&ev, "gemv_tc", RL_OPMASK(RL_OP_QKV), 0, 0.020);
    CHECK(rl_trace_add_step(t, "prefill L=1024", &ev, 0, &err) == 0, "%s", err.msg);
    CHECK(rl_trace_steps(t) == 2, "two steps");
    char path[] = "/tmp/rl_test_trace_XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    CHECK(rl_trace_save(t, path, &err) == 0, "%s", err.msg);
    cJSON *root = rl_json_load(path, &err);
    CHECK(root != NULL, "%s", err.msg);
    const cJSON *events = root ? cJSON_GetObjectItem(root, "traceEvents") : NULL;
    CHECK(cJSON_IsArray(events), "traceEvents array");
    if (cJSON_IsArray(events)) {
        int meta = 0, complete = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, events)
        {
            const char *ph = cJSON_GetObjectItem(e, "ph")->valuestring;
            meta += !strcmp(ph, "M");
            if (!strcmp(ph, "X")) {
                complete++;
                CHECK(cJSON_IsNumber(cJSON_GetObjectItem(e, "ts")) && num(e, "dur") >= 0, "ts and dur");
            }
        }
        CHECK(meta == 4 && complete == 1 + 2 + 4 + 1 + 1 + 2, "events: %d metadata, %d complete", meta, complete);
        const cJSON *step = find(events, "decode B=1 step", "step", 1), *l0 = find(events, "layer 0", "layer", 1),
                    *l1 = find(events, "layer 1", "layer", 1), *gemv = find(events, "gemv_tc", "kernel", 1),
                    *attn = find(events, "attn", "kernel", 1), *lm = find(events, "lm_head", "kernel", 1);
        CHECK(step && l0 && l1 && gemv && attn && lm, "step, layers, kernels");
        if (step && l0 && l1 && gemv && attn && lm) {
            CHECK(fabs(num(step, "ts")) < 1e-9 && fabs(num(step, "dur") - 40) < 1e-9, "step spans 0-40 us");
            CHECK(fabs(num(l0, "ts")) < 1e-9 && fabs(num(l0, "dur") - 20) < 1e-9, "layer 0: 0-20 us");
            CHECK(fabs(num(attn, "ts") - 20) < 1e-9 && fabs(num(attn, "dur") - 10) < 1e-9,
                  "PDL overlap clipped: the bar starts where gemv ended (%g)", num(attn, "ts"));
            CHECK(fabs(num(l1, "ts") - 20) < 1e-9 && fabs(num(l1, "dur") - 10) < 1e-9, "layer 1 contains its kernel");
            const cJSON *args = cJSON_GetObjectItem(attn, "args");
            CHECK(!strcmp(cJSON_GetObjectItem(args, "ops")->valuestring, "rope+attention"), "args.ops");
            CHECK(fabs(num(args, "start_us") - 18) < 1e-9 && fabs(num(args, "run_us") - 12) < 1e-9,
                  "the true start and run time in args");
            CHECK(!strcmp(cJSON_GetObjectItem(args, "symbol")->valuestring, "attn_kernel"), "symbol");
            CHECK(fabs(num(lm, "ts") - 31) < 1e-9 && num(lm, "ts") >= num(attn, "ts") + num(attn, "dur"),
                  "a gap stays a gap");
        }
        const cJSON *pn = find(events, "prefill L=1024 step", "step", 2), *g2 = find(events, "gemv_tc", "kernel", 2);
        CHECK(pn && g2 && fabs(num(g2, "ts") - 6) < 1e-9 && fabs(num(g2, "dur") - 20) < 1e-9,
              "events: bars one after the other");
        const cJSON *m;
        int named = 0;
        cJSON_ArrayForEach(m, events)
        {
            const cJSON *a = cJSON_GetObjectItem(m, "args"), *n = a ? cJSON_GetObjectItem(a, "name") : NULL;
            if (n && strstr(n->valuestring, "decode B=1 (cupti)")) named++;
            if (n && strstr(n->valuestring, "prefill L=1024 (events)")) named++;
        }
        CHECK(named == 2, "process names carry the timing");
    }
    cJSON_Delete(root);
    unlink(path);
    rl_trace_free(t);
    rl_kernel_log_free(&log);
    rl_kernel_log_free(&ev);
    return CHECK_DONE();
}
