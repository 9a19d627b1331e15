/* test_measure.c: the measurement plumbing that needs no timing: per-kernel aggregation and cost
 * split, the ncu CSV import (long and wide layouts, fixtures in data/ncu), the results.json
 * writer (contract fields, nulls, a round trip through predict's roofs loader), point predictions,
 * and the progress ETA. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/util.h"
#include "measure/kernels.h"
#include "measure/progress.h"
#include "measure/results.h"
#include "measure/sweep.h"

static const char *data_dir;

static void test_aggregate(void)
{
    rl_model_config m;
    rl_err err;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    rl_workload w = rl_workload_decode(4, 33);
    rl_cost c;
    rl_cost_step(&m, &w, &c);
    rl_kernel_log log = {0};
    for (int l = 0; l < 4; l++) {
        rl_kernel_log_push(&log, "rmsnorm", RL_OPMASK(RL_OP_ATTN_NORM), l, 0.01);
        rl_kernel_log_push(&log, "gemv", RL_OPMASK(RL_OP_QKV) | RL_OPMASK(RL_OP_ROPE), l, 0.10);
        rl_kernel_log_push(&log, "attn_split", RL_OPMASK(RL_OP_ATTENTION), l, 0.03);
        rl_kernel_log_push(&log, "attn_combine", RL_OPMASK(RL_OP_ATTENTION), l, 0.01);
        rl_kernel_log_push(&log, "rmsnorm", RL_OPMASK(RL_OP_FFN_NORM), l, 0.01);
    }
    rl_results r;
    char *argv[] = {"test"};
    rl_results_init(&r, 1, argv);
    CHECK(rl_kernels_aggregate(&log, &c, RL_PHASE_DECODE, 4, &r, &err) == 0, "%s", err.msg);
    CHECK(r.n_kernels == 5, "groups per (kernel, ops): %d", r.n_kernels);
    const rl_kernel_row *k = r.kernels;
    CHECK(!strcmp(k[0].kernel, "rmsnorm") && k[0].calls == 4 && fabs(k[0].ms - 0.04) < 1e-12, "rmsnorm row");
    CHECK_REL(k[0].bytes, c.bytes[RL_OP_ATTN_NORM], 1e-12, "attn_norm cost (all layers)");
    CHECK_REL(k[1].flops, c.flops[RL_OP_QKV] + c.flops[RL_OP_ROPE], 1e-12, "fused kernel gets both ops");
    CHECK(!k[1].shared && k[2].shared && k[3].shared, "split attention marked shared");
    CHECK_REL(k[2].bytes, 0.75 * c.bytes[RL_OP_ATTENTION], 1e-9, "shared op split by time (3:1)");
    CHECK_REL(k[2].bytes + k[3].bytes, c.bytes[RL_OP_ATTENTION], 1e-12, "shares add up");
    CHECK(!strcmp(k[4].kernel, "rmsnorm") && (k[4].op_mask & RL_OPMASK(RL_OP_FFN_NORM)), "ffn_norm separate row");
    rl_kernel_log_free(&log);
    rl_results_free(&r);
}

static void test_ncu(void)
{
    char path[1024];
    rl_err err;
    rl_results r;
    char *argv[] = {"test"};
    rl_results_init(&r, 1, argv);
    const char *names[] = {"gemv_bf16", "cublaslt_gemm", "rope_kv_write"};
    for (int i = 0; i < 3; i++) {
        rl_kernel_row ours;
        memset(&ours, 0, sizeof ours);
        snprintf(ours.kernel, sizeof ours.kernel, "%s", names[i]);
        CHECK(rl_results_add_kernel(&r, &ours, &err) == 0, "%s", err.msg);
    }

    snprintf(path, sizeof path, "%s/ncu/long.csv", data_dir);
    CHECK(rl_ncu_import(path, &r, &err) == 0, "%s", err.msg);
    CHECK(r.n_ncu == 4, "four kernels in long.csv: %d", r.n_ncu);
    if (r.n_ncu == 4) {
        CHECK(strstr(r.ncu[0].kernel, "gemv_bf16<128, 4>") != NULL, "quoted name with commas kept: %s", r.ncu[0].kernel);
        CHECK(r.ncu[0].calls == 2, "gemv launches %d", r.ncu[0].calls);
        CHECK_REL(r.ncu[0].ms, 0.030, 1e-9, "gemv ms (usecond)");
        CHECK_REL(r.ncu[0].dram_bytes, 50.46e6 + 12.29e3 + 33.60e6 + 8.19e3, 1e-9, "gemv DRAM bytes (Mbyte + Kbyte)");
        CHECK(!strcmp(r.ncu[0].ours, "gemv_bf16"), "matched to ours: '%s'", r.ncu[0].ours);
        CHECK_REL(r.ncu[1].ms, 2.144e-3, 1e-9, "rmsnorm ms (nsecond, thousands separator)");
        CHECK_REL(r.ncu[1].dram_bytes, 8448 + 8192, 1e-12, "rmsnorm bytes");
        CHECK(r.ncu[1].ours[0] == 0, "no match for rmsnorm");
        CHECK(!strcmp(r.ncu[2].ours, "cublaslt_gemm"), "cuBLAS kernel matched to our GEMM row: '%s'", r.ncu[2].ours);
        CHECK(!strcmp(r.ncu[3].ours, "rope_kv_write"), "function name matched: '%s'", r.ncu[3].ours);
        CHECK_REL(r.ncu[3].dram_bytes, 7680, 1e-12, "rope bytes");
    }
    rl_results_free(&r);
    rl_results_init(&r, 1, argv);
    snprintf(path, sizeof path, "%s/ncu/wide.csv", data_dir);
    CHECK(rl_ncu_import(path, &r, &err) == 0, "%s", err.msg);
    CHECK(r.n_ncu == 2, "two kernels in wide.csv: %d", r.n_ncu);
    if (r.n_ncu == 2) {
        CHECK(!strcmp(r.ncu[0].kernel, "attention_decode") && r.ncu[0].calls == 2, "attention launches");
        CHECK_REL(r.ncu[0].ms, 0.010, 1e-9, "attention ms from the units row");
        CHECK_REL(r.ncu[0].dram_bytes, 2 * (10.5e6 + 64e3), 1e-9, "attention bytes");
        CHECK_REL(r.ncu[1].dram_bytes, 0.51e6 + 4, 1e-9, "argmax bytes");
    }
    /* A real export (ncu --csv of a ridgeline sweep on an H200), cut to its first 10 launches:
     * program output and ==WARNING== lines before the header, "ns" and "byte" units. */
    rl_results_free(&r);
    rl_results_init(&r, 1, argv);
    const char *ours[] = {"embed_gather", "rmsnorm", "cublaslt_gemm"};
    for (int i = 0; i < 3; i++) {
        rl_kernel_row k;
        memset(&k, 0, sizeof k);
        snprintf(k.kernel, sizeof k.kernel, "%s", ours[i]);
        CHECK(rl_results_add_kernel(&r, &k, &err) == 0, "%s", err.msg);
    }
    snprintf(path, sizeof path, "%s/ncu/h200_excerpt.csv", data_dir);
    CHECK(rl_ncu_import(path, &r, &err) == 0, "%s", err.msg);
    CHECK(r.n_ncu == 4, "four kernels in the real excerpt: %d", r.n_ncu);
    if (r.n_ncu == 4) {
        CHECK(r.ncu[0].calls == 1 && r.ncu[2].calls == 4 && r.ncu[3].calls == 4, "launch counts");
        CHECK_REL(r.ncu[0].ms, 0.003136, 1e-9, "embed ms from ns");
        CHECK_REL(r.ncu[2].dram_bytes, 866304, 1e-12, "GEMM bytes");
        CHECK(!strcmp(r.ncu[0].ours, "embed_gather") && !strcmp(r.ncu[1].ours, "rmsnorm") &&
                  !strcmp(r.ncu[2].ours, "cublaslt_gemm"),
              "matches: %s, %s, %s", r.ncu[0].ours, r.ncu[1].ours, r.ncu[2].ours);
    }
    snprintf(path, sizeof path, "%s/ncu/no_kernel_column.csv", data_dir);
    CHECK(rl_ncu_import(path, &r, &err) == -1 && strstr(err.msg, "Kernel Name"), "no header: %s", err.msg);
    CHECK(rl_ncu_import("/nonexistent/ncu.csv", &r, &err) == -1 && strstr(err.msg, "/nonexistent/ncu.csv"),
          "missing file named: %s", err.msg);
    rl_results_free(&r);
}

static void test_results_json(void)
{
    rl_results r;
    rl_err err;
    char *argv[] = {"sweep", "--decode"};
    rl_results_init(&r, 2, argv);
    CHECK(rl_model_preset("llama-3.1-8b", &r.model, &err) == 0, "%s", err.msg);
    snprintf(r.device.name, sizeof r.device.name, "NVIDIA H100 80GB HBM3");
    snprintf(r.device.backend, sizeof r.device.backend, "cuda");
    r.input_len = 128, r.output_len = 64;
    r.have_probe = 1;
    r.probe.read_gbps = 3000, r.probe.gemm_tflops = 700, r.probe.write_gbps = -1, r.probe.launch_us = -1;
    snprintf(r.probe.dtype, sizeof r.probe.dtype, "bf16");
    rl_gpu_table t;
    CHECK(rl_gpu_table_load(NULL, &t, &err) == 0, "%s", err.msg);
    r.have_datasheet = 1, r.datasheet = *rl_gpu_match_device(&t, r.device.name);

    rl_point p;
    memset(&p, 0, sizeof p);
    p.sweep = RL_PHASE_DECODE, p.x = p.batch = 64, p.context = 160, p.input_len = 128, p.output_len = 64;
    rl_point_predict(&r, &p);
    rl_workload w = rl_workload_decode(64, 160);
    rl_cost c;
    rl_prediction pr;
    rl_roofs meas = {.bandwidth_gbps = 3000, .peak_tflops = 700, .origin = "m"}, ds;
    rl_cost_step(&r.model, &w, &c);
    rl_predict(&c, &meas, &pr);
    CHECK_REL(p.predicted_ms, pr.total_ms, 1e-12, "predicted with measured roofs");
    CHECK(rl_roofs_from_gpu(&r.datasheet, RL_DT_BF16, &ds, &err) == 0, "%s", err.msg);
    rl_predict(&c, &ds, &pr);
    CHECK_REL(p.predicted_datasheet_ms, pr.total_ms, 1e-12, "predicted with datasheet roofs");
    CHECK_REL(p.flops, c.total_flops, 1e-12, "flops");
    p.ok = 1, p.ms = 6.0, p.p10 = 5.9, p.p90 = 6.3, p.reps = 63, p.seed_ms_per_token = 7.0, p.prefill_ms = 20;
    CHECK(rl_results_add_point(&r, &p, &err) == 0, "%s", err.msg);
    rl_point f;
    memset(&f, 0, sizeof f);
    f.sweep = RL_PHASE_PREFILL, f.x = 8192, f.batch = 1;
    snprintf(f.error, sizeof f.error, "out of GPU memory");
    rl_point_predict(&r, &f);
    CHECK(rl_results_add_point(&r, &f, &err) == 0, "%s", err.msg);

    char path[] = "/tmp/rl_test_measure_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp");
    close(fd);
    CHECK(rl_results_save(&r, NULL, path, &err) == 0, "%s", err.msg);
    cJSON *root = rl_json_load(path, &err);
    CHECK(root != NULL, "%s", err.msg);
    if (root) {
        const cJSON *dev = cJSON_GetObjectItem(root, "device"), *roofs = cJSON_GetObjectItem(root, "roofs");
        CHECK(!strcmp(cJSON_GetObjectItem(dev, "name")->valuestring, "NVIDIA H100 80GB HBM3"), "device.name");
        CHECK(cJSON_GetObjectItem(roofs, "read_gbps")->valuedouble == 3000, "roofs.read_gbps");
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(roofs, "write_gbps")), "unmeasured roof is null");
        const cJSON *pts = cJSON_GetObjectItem(root, "points");
        CHECK(cJSON_GetArraySize(pts) == 2, "two points");
        const cJSON *p0 = cJSON_GetArrayItem(pts, 0), *p1 = cJSON_GetArrayItem(pts, 1);
        CHECK(!strcmp(cJSON_GetObjectItem(p0, "sweep")->valuestring, "decode"), "sweep");
        CHECK(cJSON_GetObjectItem(p0, "x")->valuedouble == 64 && cJSON_GetObjectItem(p0, "ms")->valuedouble == 6.0, "x, ms");
        CHECK(cJSON_GetObjectItem(p0, "p10")->valuedouble == 5.9 && cJSON_GetObjectItem(p0, "p90")->valuedouble == 6.3,
              "p10, p90");
        CHECK(cJSON_IsNumber(cJSON_GetObjectItem(p0, "predicted_ms")), "predicted_ms");
        CHECK(cJSON_GetObjectItem(p0, "seed_ms_per_token")->valuedouble == 7.0, "seed column");
        CHECK(!strcmp(cJSON_GetObjectItem(p1, "status")->valuestring, "failed") && !cJSON_GetObjectItem(p1, "ms"),
              "failed point has status and no ms");
        CHECK(strstr(cJSON_GetObjectItem(p1, "error")->valuestring, "memory") != NULL, "failed point error");
        CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "tool"), "command")->valuestring,
                      "ridgeline sweep --decode"),
              "command line");
        cJSON_Delete(root);
    }
    rl_roofs back;
    CHECK(rl_roofs_load(path, &back, &err) == 0 && back.bandwidth_gbps == 3000 && back.peak_tflops == 700,
          "predict --roofs reads results.json: %s", err.msg);
    unlink(path);
    rl_results_free(&r);
    rl_gpu_table_free(&t);
}

static void test_progress(void)
{
    rl_progress p;
    rl_progress_init(&p, 4, 100, 1);
    CHECK(rl_progress_eta_s(&p, p.start_ms + 1000) < 0, "no ETA before the first step");
    rl_progress_step(&p, 25, "x");
    CHECK(fabs(rl_progress_eta_s(&p, p.start_ms + 1000) - 3.0) < 1e-9, "1 s for 25 of 100 -> 3 s left");
    CHECK(p.done == 1, "steps counted");
    int32_t a[1000];
    uint64_t rng = 5;
    rl_random_tokens(a, 1000, 7, &rng);
    int seen[7] = {0}, ok = 1;
    for (int i = 0; i < 1000; i++) {
        if (a[i] < 0 || a[i] >= 7) ok = 0;
        else seen[a[i]] = 1;
    }
    CHECK(ok, "tokens inside the vocabulary");
    CHECK(seen[0] && seen[6], "tokens spread over the vocabulary");
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_aggregate();
    test_ncu();
    test_results_json();
    test_progress();
    return CHECK_DONE();
}
