/* test_results_io.c: results.json through its one field table (results_fields.c): every field of
 * every table survives writer -> reader unchanged (points ok and failed, decode and prefill, a
 * context-sweep point, kernel rows, profiles, kernel choices, roofs, device, tool, model), "not measured" stays null, derived figures are
 * written beside them, a wrong type is named by its path; and the counters check (ncu_check.c) on
 * the committed fixtures: a graphed decode step attributed by kernel counts (a cuBLASLt launch with
 * two kernels), an eager prefill by its NVTX launch names, mismatched files refused. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "common/util.h"
#include "measure/ncu_check.h"
#include "measure/results.h"
#include "measure/results_fields.h"

static const char *data_dir;

/* Every field of table t is equal in a and b. */
static void same_fields(const rl_field_table *t, const void *a, const void *b, unsigned ctx, const char *what)
{
    for (int i = 0; i < t->n; i++) {
        const rl_field *f = &t->f[i];
        const unsigned cond = f->flags & (RL_FF_IF_OK | RL_FF_IF_FAILED | RL_FF_DECODE);
        if (cond & ~ctx) continue;
        const char *x = (const char *)a + f->offset, *y = (const char *)b + f->offset;
        if (f->type == RL_FT_STR) CHECK(!strcmp(x, y), "%s.%s: '%s' != '%s'", what, f->name, x, y);
        else CHECK(!memcmp(x, y, f->size), "%s.%s differs after the round trip", what, f->name);
    }
}

static void test_round_trip(void)
{
    rl_results r, back;
    rl_err err;
    char *argv[] = {"lab", "--out", "x"};
    rl_results_init(&r, 3, argv);
    CHECK(rl_model_preset("tiny", &r.model, &err) == 0, "%s", err.msg);
    snprintf(r.weights, sizeof r.weights, "random (seed 1)");
    snprintf(r.device.name, sizeof r.device.name, "NVIDIA H200");
    snprintf(r.device.backend, sizeof r.device.backend, "cuda");
    snprintf(r.device.driver, sizeof r.device.driver, "580.1");
    r.device.sm_count = 132, r.device.memory_gb = 150.1, r.device.l2_mb = -1;
    r.have_probe = 1;
    r.probe.read_gbps = 4577, r.probe.gemm_tflops = 783, r.probe.write_gbps = -1, r.probe.copy_gbps = 4000;
    r.probe.buffer_bytes = 2e9, r.probe.gemm_square_tflops = 783, r.probe.gemm_square_n = 8192;
    r.probe.launch_us = 4.5, r.probe.graph_node_us = 0.54, r.probe.empty_node_us = 1.1, r.probe.kernel_min_us = 2.2;
    r.probe.reps = 20;
    r.tp = 2, r.probe.interconnect_gbps = 371.2, r.probe.allreduce_latency_us = 11.8, r.probe.interconnect_gpus = 2;
    snprintf(r.probe.interconnect_note, sizeof r.probe.interconnect_note, "NCCL test");
    snprintf(r.probe.dtype, sizeof r.probe.dtype, "bf16");
    snprintf(r.probe.method, sizeof r.probe.method, "test");
    r.input_len = 128, r.output_len = 64;
    rl_point p[4];
    rl_point_init(&p[0], RL_PHASE_DECODE, 64);
    p[0].ok = 1, p[0].ms = 5.4, p[0].p10 = 5.3, p[0].p90 = 5.6, p[0].min_ms = 5.2, p[0].max_ms = 6;
    p[0].predicted_ms = 4.1, p[0].estimated_ms = 4.9, p[0].estimated_latency_ms = 0.3, p[0].estimated_kernels = 229;
    p[0].compute_bound = 0, p[0].intensity = 60, p[0].flops = 1e12, p[0].bytes = 16e9, p[0].tokens_per_s = 11000;
    p[0].prefill_ms = 40, p[0].seed_ms_per_token = 6.1, p[0].input_len = 128, p[0].output_len = 64;
    p[0].context = 160, p[0].reps = 63;
    rl_point_init(&p[1], RL_PHASE_PREFILL, 4096);
    p[1].ok = 1, p[1].ms = 110, p[1].p10 = 109, p[1].p90 = 111, p[1].compute_bound = 1, p[1].reps = 5;
    p[1].predicted_ms = 80, p[1].predicted_datasheet_ms = 70;
    rl_point_init(&p[2], RL_PHASE_DECODE, 512);
    snprintf(p[2].error, sizeof p[2].error, "out of GPU memory");
    p[2].input_len = 128, p[2].output_len = 64, p[2].context = 160;
    rl_point_init(&p[3], RL_PHASE_DECODE, 16); /* a context-sweep point: filled cache, no prefill */
    p[3].ok = 1, p[3].ms = 19.5, p[3].p10 = 19.4, p[3].p90 = 19.7, p[3].predicted_ms = 17.9, p[3].reps = 63;
    p[3].context_sweep = 1, p[3].context = 32768, p[3].input_len = 32736, p[3].output_len = 64;
    for (int i = 0; i < 4; i++) CHECK(rl_results_add_point(&r, &p[i], &err) == 0, "%s", err.msg);
    rl_linear_choice ch[3] = {{"qkv_proj", 1, 6144, 4096, "gemm_stream", 0.052, 0.061},
                              {"lm_head", 64, 128256, 4096, "cublaslt", 0.3, -1},
                              {"qkv_proj", 1, 6144, 4096, "cublaslt", 0.06, 0.05}}; /* a shape met again */
    CHECK(rl_results_add_choices(&r, ch, 3, &err) == 0 && r.n_choices == 2, "choices: one per shape (%d)", r.n_choices);
    rl_kernel_row k;
    memset(&k, 0, sizeof k);
    k.phase = RL_PHASE_DECODE, k.x = 1, k.op_mask = RL_OPMASK(RL_OP_ROPE) | RL_OPMASK(RL_OP_ATTENTION), k.calls = 32;
    k.ms = 0.1, k.busy_ms = 0.12, k.flops = 1e8, k.bytes = 2e7, k.shared = 1, k.link_bytes = 5.2e5;
    snprintf(k.kernel, sizeof k.kernel, "attn_decode_splitkv");
    snprintf(k.symbol, sizeof k.symbol, "attn_decode_kernel<32, 4>");
    CHECK(rl_results_add_kernel(&r, &k, &err) == 0, "%s", err.msg);
    rl_profile pr;
    memset(&pr, 0, sizeof pr);
    pr.phase = RL_PHASE_DECODE, pr.x = 1, pr.timing = RL_TIMING_CUPTI, pr.kernels_ms = 4.39, pr.step_ms = 4.42;
    pr.steps = 4, pr.kernels = 229;
    CHECK(rl_results_add_profile(&r, &pr, &err) == 0, "%s", err.msg);

    cJSON *doc = rl_results_to_json(&r);
    char *text = cJSON_Print(doc);
    cJSON *parsed = cJSON_Parse(text);
    rl_results_init(&back, 0, NULL);
    CHECK(rl_results_from_json(parsed, "mem.json", &back, &err) == 0, "%s", err.msg);
    CHECK(back.n_points == 4 && back.n_kernels == 1 && back.n_profiles == 1 && back.n_choices == 2,
          "counts %d %d %d %d", back.n_points, back.n_kernels, back.n_profiles, back.n_choices);
    for (int i = 0; i < back.n_choices && i < 2; i++)
        same_fields(&rl_choice_fields, &r.choices[i], &back.choices[i], 0, "kernel_choices");
    CHECK(back.n_points == 4 && back.points[3].context_sweep && !back.points[0].context_sweep &&
              rl_point_in_sweep(&back.points[0], RL_PHASE_DECODE) && !rl_point_in_sweep(&back.points[3], RL_PHASE_DECODE),
          "the context-sweep flag survives and separates the series");
    for (int i = 0; i < 4 && i < back.n_points; i++)
        same_fields(&rl_point_fields, &r.points[i], &back.points[i], rl_point_context(&r.points[i]), "point");
    if (back.n_kernels) same_fields(&rl_kernel_fields, &r.kernels[0], &back.kernels[0], 0, "kernel");
    if (back.n_profiles) same_fields(&rl_profile_fields, &r.profiles[0], &back.profiles[0], 0, "profile");
    same_fields(&rl_probe_fields, &r.probe, &back.probe, 0, "roofs");
    same_fields(&rl_device_fields, &r.device, &back.device, 0, "device");
    same_fields(&rl_tool_fields, &r, &back, 0, "tool");
    same_fields(&rl_model_fields, &r, &back, 0, "model");
    CHECK(back.input_len == 128 && back.output_len == 64, "sweeps");
    /* The interconnect the TP predictions use: the probe's, else the GPU table's. */
    rl_roofs rr;
    CHECK(rl_results_roofs(&back, &rr) == 0 && rr.link_gbps == 371.2 && rr.allreduce_us == 11.8, "measured link");
    back.probe.interconnect_gbps = back.probe.allreduce_latency_us = -1;
    back.have_datasheet = 1, back.datasheet.link_gbps = 450, back.datasheet.allreduce_us = 10;
    CHECK(rl_results_roofs(&back, &rr) == 0 && rr.link_gbps == 450 && rr.allreduce_us == 10, "datasheet link");
    /* In the text: nulls for what was not measured, the derived figures beside the fields. */
    const cJSON *pts = cJSON_GetObjectItem(parsed, "points"), *p1 = cJSON_GetArrayItem(pts, 1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(p1, "estimated_ms")), "no estimate: null");
    CHECK(!cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 0), "context_sweep") &&
              cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 3), "context_sweep")) &&
              cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(pts, 3), "prefill_ms")),
          "context_sweep only on the context point, which has no prefill_ms");
    const cJSON *kc1 = cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "kernel_choices"), 1);
    CHECK(kc1 && cJSON_IsNull(cJSON_GetObjectItem(kc1, "alt_ms")) &&
              !strcmp(cJSON_GetObjectItem(kc1, "kernel")->valuestring, "cublaslt"),
          "kernel_choices[1]: alt_ms not timed is null");
    CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(parsed, "roofs"), "write_gbps")), "unmeasured roof: null");
    const cJSON *k0 = cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "kernels"), 0);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(k0, "roof_pct")) && cJSON_IsString(cJSON_GetObjectItem(k0, "bound")),
          "derived roof_pct and bound written");
    CHECK(!strcmp(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "profiles"), 0), "timing")->valuestring,
                  "cupti"),
          "profiles[0].timing");
    /* A wrong type is named by its path. */
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "kernels"), 0), "calls",
                              cJSON_CreateString("many"));
    rl_results_free(&back);
    rl_results_init(&back, 0, NULL);
    CHECK(rl_results_from_json(parsed, "mem.json", &back, &err) == -1 && strstr(err.msg, "mem.json: kernels[0]: field 'calls'"),
          "error names the path: %s", err.msg);
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(parsed, "profiles"), 0), "timing",
                              cJSON_CreateString("guess"));
    cJSON_DeleteItemFromArray(cJSON_GetObjectItem(parsed, "kernels"), 0);
    rl_results_free(&back);
    rl_results_init(&back, 0, NULL);
    CHECK(rl_results_from_json(parsed, "mem.json", &back, &err) == -1 && strstr(err.msg, "'timing'"),
          "timing must be cupti or events: %s", err.msg);
    cJSON_Delete(parsed);
    cJSON_Delete(doc);
    free(text);
    rl_results_free(&back);
    rl_results_free(&r);
}

static void test_ncu_check(void)
{
    char step[1024], csv[1024];
    rl_err err;
    rl_model_config m;
    CHECK(rl_model_preset("tiny", &m, &err) == 0, "%s", err.msg);
    rl_step_plan sp;
    snprintf(step, sizeof step, "%s/ncu/step_decode_b1.json", data_dir);
    snprintf(csv, sizeof csv, "%s/ncu/decode_b1.csv", data_dir);
    CHECK(rl_step_plan_load(step, &sp, &err) == 0, "%s", err.msg);
    CHECK(sp.plan.n == 32 && sp.kernels_known && sp.context == 130 && rl_launch_plan_kernels(&sp.plan) == 33,
          "step file: %d launches", sp.plan.n);
    rl_ncu_launch *v = NULL;
    int n = 0;
    CHECK(rl_ncu_read_launches(csv, &v, &n, &err) == 0 && n == 33, "33 launches in the CSV: %d (%s)", n, err.msg);
    rl_ncu_case c;
    CHECK(rl_ncu_check_case(&sp, &m, v, n, &c, &err) == 0, "%s", err.msg);
    /* The fixture's bytes: embed 2.05 KB, norms 4.1 KB, qkv 0.8 MB, attention 40 KB, o 0.53 MB, gate_up
     * 3.2 MB, down 1.6 MB per layer, lm_head 4.2 MB + 12 KB (split-K reduce), argmax 33,280 B. */
    const double per_layer = 2 * 4.1e3 + 0.8e6 + 40e3 + 0.53e6 + 3.2e6 + 1.6e6;
    CHECK_REL(c.dram_bytes, 2.05e3 + 4 * per_layer + 4.1e3 + 4.2e6 + 12e3 + 33280, 1e-12, "step DRAM bytes");
    CHECK_REL(c.op_dram_bytes[RL_OP_LM_HEAD], 4.212e6, 1e-12, "both kernels of the cuBLASLt launch go to lm_head");
    CHECK_REL(c.op_dram_bytes[RL_OP_ATTN_NORM], 4 * 4.1e3, 1e-12, "attn_norm: four launches");
    CHECK_REL(c.op_dram_bytes[RL_OP_SAMPLE], 33280, 1e-12, "thousands separator");
    rl_workload w = rl_workload_decode(1, 130);
    rl_cost cost;
    rl_cost_step(&m, &w, &cost);
    CHECK_REL(c.model_bytes, cost.total_bytes, 1e-12, "model bytes of the same step");
    const double a3 = cost.bytes[RL_OP_ROPE] + cost.bytes[RL_OP_KV_WRITE] + cost.bytes[RL_OP_ATTENTION];
    CHECK_REL(c.op_dram_bytes[RL_OP_ATTENTION], 4 * 40e3 * cost.bytes[RL_OP_ATTENTION] / a3, 1e-9,
              "a fused launch's bytes shared by the modelled bytes of its ops");
    CHECK(c.kernels == 33 && c.unattributed == 0 && !strcmp(c.attributed_by, "kernel counts"), "by counts");
    cJSON *j = rl_ncu_case_to_json(&c);
    CHECK(cJSON_IsNumber(cJSON_GetObjectItem(j, "model_bytes")) && cJSON_IsArray(cJSON_GetObjectItem(j, "ops")) &&
              !strcmp(cJSON_GetObjectItem(j, "phase")->valuestring, "decode"),
          "case JSON (CONTRACT fields)");
    cJSON_Delete(j);
    free(v);
    rl_step_plan_free(&sp);

    snprintf(step, sizeof step, "%s/ncu/step_prefill_l64.json", data_dir);
    snprintf(csv, sizeof csv, "%s/ncu/prefill_l64_nvtx.csv", data_dir);
    CHECK(rl_step_plan_load(step, &sp, &err) == 0 && !sp.kernels_known, "%s", err.msg);
    CHECK(rl_ncu_read_launches(csv, &v, &n, &err) == 0 && n == 56, "56 launches: %d", n);
    CHECK(rl_ncu_check_case(&sp, &m, v, n, &c, &err) == 0, "%s", err.msg);
    CHECK(c.kernels == 55 && c.unattributed == 1 && !strcmp(c.attributed_by, "NVTX launch ranges"),
          "named kernels: %d attributed, %d not", c.kernels, c.unattributed);
    CHECK_REL(c.op_dram_bytes[RL_OP_QKV], 4 * 2 * 128e3, 1e-12, "two kernels per GEMM launch by name");
    CHECK_REL(c.dram_bytes, 55 * 128e3, 1e-12, "the unattributed kernel stays out of the step");
    free(v);
    /* The decode step file with the prefill's CSV: refused, saying why. */
    rl_step_plan_free(&sp);
    snprintf(step, sizeof step, "%s/ncu/step_decode_b1.json", data_dir);
    CHECK(rl_step_plan_load(step, &sp, &err) == 0, "%s", err.msg);
    CHECK(rl_ncu_read_launches(csv, &v, &n, &err) == 0, "%s", err.msg);
    CHECK(rl_ncu_check_case(&sp, &m, v, n, &c, &err) == -1 && strstr(err.msg, "different steps"),
          "mismatched files: %s", err.msg);
    free(v);
    rl_step_plan_free(&sp);
    CHECK(rl_step_plan_load(csv, &sp, &err) == -1, "a CSV is not a step file");
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "tests/data";
    test_round_trip();
    test_ncu_check();
    return CHECK_DONE();
}
