/* test_kernel_match.c: matching kernels as the GPU ran them to the engine's launches
 * (kernel_match.c) on synthetic CUPTI-like records: a replayed graph matched by position and kernel
 * counts (a cuBLASLt launch with two kernels), PDL overlap counted once so a step's rows add up to
 * its span, gaps charged to the kernel after them, eager launches matched by correlation with
 * kernels outside them left out, mismatches refused; and the plan a log holds (rl_kernel_log_plan). */
#include <string.h>

#include "check.h"
#include "engine/engine.h"

static rl_launch_plan plan3(void)
{
    rl_launch_plan p = {0};
    rl_err err;
    CHECK(rl_launch_plan_push(&p, "rmsnorm", RL_OPMASK(RL_OP_ATTN_NORM), 0, 1, 1, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_push(&p, "cublaslt_gemm", RL_OPMASK(RL_OP_QKV), 0, 1, 2, &err) == 0, "%s", err.msg);
    CHECK(rl_launch_plan_push(&p, "attn", RL_OPMASK(RL_OP_ROPE) | RL_OPMASK(RL_OP_ATTENTION), 0, 1, 1, &err) == 0,
          "%s", err.msg);
    return p;
}

static rl_kernel_activity act(const char *sym, uint64_t start, uint64_t end, int64_t launch)
{
    rl_kernel_activity a;
    memset(&a, 0, sizeof a);
    snprintf(a.symbol, sizeof a.symbol, "%s", sym);
    a.start_ns = start, a.end_ns = end, a.launch = launch;
    return a;
}

static void test_graph_counts(void)
{
    rl_launch_plan p = plan3();
    /* Out of order as CUPTI may deliver them; the attention kernel starts (PDL) 1 us before the
     * reduction ends, and there is a 2 us gap before the GEMM. */
    rl_kernel_activity a[4] = {act("attn_kernel", 30000, 40000, -1), act("rmsnorm_kernel", 1000, 4000, -1),
                               act("nvjet_gemm", 6000, 25000, -1), act("splitKreduce", 25000, 31000, -1)};
    rl_err err;
    CHECK(rl_kernel_assign(&p, a, 4, &err) == 4, "all four assigned: %s", err.msg);
    CHECK(a[0].launch == 0 && a[1].launch == 1 && a[2].launch == 1 && a[3].launch == 2,
          "by position and counts: %lld %lld %lld %lld", (long long)a[0].launch, (long long)a[1].launch,
          (long long)a[2].launch, (long long)a[3].launch);
    CHECK(!strcmp(a[0].symbol, "rmsnorm_kernel") && !strcmp(a[3].symbol, "attn_kernel"), "sorted by start");
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    log.steps = 3;
    CHECK(rl_kernel_log_activities(&log, &p, a, 4, &err) == 0, "%s", err.msg);
    CHECK(log.n == 4, "one record per kernel: %d", log.n);
    const rl_kernel_record *r = log.recs;
    CHECK(fabs(r[0].ms - 0.003) < 1e-12 && fabs(r[0].start_ms) < 1e-12, "first kernel: its own run");
    CHECK(fabs(r[1].ms - 0.021) < 1e-12 && fabs(r[1].busy_ms - 0.019) < 1e-12, "gap before the GEMM charged to it");
    CHECK(fabs(r[3].ms - 0.009) < 1e-12 && fabs(r[3].busy_ms - 0.010) < 1e-12, "PDL overlap counted once");
    double sum = 0;
    for (int i = 0; i < log.n; i++) sum += r[i].ms;
    CHECK(fabs(sum - 0.039) < 1e-12, "a step's records add up to its span on the GPU: %g", sum);
    CHECK(r[1].launch == 1 && r[2].launch == 1 && !strcmp(r[2].kernel, "cublaslt_gemm") &&
              !strcmp(r[2].symbol, "splitKreduce"),
          "the library's second kernel attaches to its call");
    CHECK(r[3].op_mask == (RL_OPMASK(RL_OP_ROPE) | RL_OPMASK(RL_OP_ATTENTION)) && r[3].step == 3, "ops and step");
    rl_launch_plan back = {0};
    CHECK(rl_kernel_log_plan(&log, 3, &back, &err) == 0 && back.n == 3, "the log's plan: %d launches", back.n);
    CHECK(back.n == 3 && back.v[1].n_kernels == 2 && back.v[0].n_kernels == 1, "kernels per launch from the records");
    CHECK(rl_launch_plan_kernels(&back) == 4, "plan kernels");
    rl_launch_plan_free(&back);
    rl_kernel_log_free(&log);

    rl_kernel_activity b[3] = {act("x", 0, 1, -1), act("y", 2, 3, -1), act("z", 4, 5, -1)};
    CHECK(rl_kernel_assign(&p, b, 3, &err) == -1 && strstr(err.msg, "3 kernels ran") && strstr(err.msg, "4"),
          "counts that do not add up are refused: %s", err.msg);
    rl_launch_plan_free(&p);
}

static void test_correlated(void)
{
    rl_launch_plan p = plan3();
    p.v[1].n_kernels = 0; /* eager: counts unknown, each kernel carries its launch */
    rl_kernel_activity a[5] = {act("rmsnorm_kernel", 0, 2000, 0), act("tuning_kernel", 100, 200, -1),
                               act("nvjet_gemm", 3000, 9000, 1), act("splitKreduce", 9000, 9500, 1),
                               act("attn_kernel", 9600, 12000, 2)};
    rl_err err;
    CHECK(rl_kernel_assign(&p, a, 5, &err) == 4, "kernels outside the launches left out");
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    CHECK(rl_kernel_log_activities(&log, &p, a, 5, &err) == 0 && log.n == 4, "four records: %d", log.n);
    CHECK(log.n == 4 && log.recs[1].launch == 1 && log.recs[2].launch == 1 && log.recs[3].launch == 2, "launches kept");
    rl_kernel_log_free(&log);
    rl_kernel_activity c[1] = {act("x", 0, 1, 7)};
    CHECK(rl_kernel_assign(&p, c, 1, &err) == 0 && c[0].launch == -1, "a launch beyond the plan is not ours");
    rl_launch_plan_free(&p);
}

static void test_push_steps(void)
{
    rl_kernel_log log;
    memset(&log, 0, sizeof log);
    rl_kernel_log_push(&log, "a", 1, 0, 0.5);
    rl_kernel_log_push(&log, "b", 2, 0, 0.25);
    rl_kernel_log_next_step(&log);
    rl_kernel_log_push(&log, "a", 1, 0, 0.5);
    CHECK(log.n == 3 && log.recs[1].start_ms == 0.5 && log.recs[1].launch == 1, "events: starts follow the records");
    CHECK(log.recs[2].step == 1 && log.recs[2].start_ms == 0 && log.recs[2].launch == 0, "a new step starts at 0");
    rl_kernel_log_clear(&log);
    CHECK(log.n == 0 && log.steps == 0, "cleared");
    rl_kernel_log_free(&log);
}

int main(void)
{
    test_graph_counts();
    test_correlated();
    test_push_steps();
    return CHECK_DONE();
}
