/* cmd_session.c: the set-up probe, sweep and lab share (session.h). Not a subcommand: the name
 * follows the CMake glob for CLI sources (src/cli/cmd_*.c). */
#include "session.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../analyse/lab_analysis.h"
#include "../common/util.h"
#include "../measure/kernels.h"
#include "../model/tp.h"
#include "../model/weights.h"
#include "cli.h"

int session_open(session *s, const session_args *a, int argc, char **argv, rl_err *err)
{
    memset(s, 0, sizeof *s);
    s->quiet = a->quiet;
    if (a->backend) {
        if (rl_backend_from_name(a->backend, &s->backend, err)) return -1;
    } else {
        s->backend = rl_cuda_available() ? RL_BACKEND_CUDA : RL_BACKEND_CPU;
    }
    rl_results_init(&s->res, argc, argv);
    rl_model_config *m = &s->res.model;
    const char *model = a->model ? a->model : s->backend == RL_BACKEND_CUDA ? "llama-3.1-8b" : "tiny";
    /* Without --model, the checkpoint's own config.json (a directory, never a preset name). */
    if (!a->model && a->weights_dir ? rl_model_from_config_json(a->weights_dir, m, err) : rl_model_resolve(model, m, err))
        return -1;
    if (a->weights_dir) { /* a bad checkpoint fails here, before anything is measured */
        rl_weights *w;
        if (rl_weights_open(a->weights_dir, m, &w, err)) return rl_wrap(err, "--weights %s", a->weights_dir);
        rl_weights_close(w);
    }
    if (s->backend == RL_BACKEND_CUDA) {
        snprintf(s->res.dtype, sizeof s->res.dtype, "bf16");
        s->res.elem_bytes = 2;
    } else {
        snprintf(s->res.dtype, sizeof s->res.dtype, "fp32"); /* the CPU engine computes and stores fp32 */
        s->res.elem_bytes = 4;
    }
    uint64_t seed = a->seed;
    if (a->weights_dir) snprintf(s->res.weights, sizeof s->res.weights, "%s", a->weights_dir);
    else snprintf(s->res.weights, sizeof s->res.weights, "random (seed %llu)", (unsigned long long)seed);
    s->base.backend = s->backend;
    s->base.weights_dir = a->weights_dir;
    s->base.seed = seed;
    s->base.threads = a->threads;
    s->base.quiet = a->quiet;
    s->base.tp = a->tp;
    s->base.nccl_lib = a->nccl_lib;
    s->probe_gpus = a->probe_gpus ? a->probe_gpus : a->tp;
    s->res.tp = a->tp;
    if (a->tp > 0 && s->backend != RL_BACKEND_CUDA)
        return rl_fail(err, "--tp %d: tensor parallelism runs on the cuda backend (GPUs of one host)", a->tp);
    if (a->tp > 0 && rl_tp_check(m, a->tp, err)) return -1;
    if (rl_gpu_table_load(a->gpu_file, &s->table, err)) return -1;
    if (s->backend == RL_BACKEND_CUDA) {
        rl_err terr;
        s->tel = rl_telemetry_open(NULL, &terr);
        if (!s->tel) snprintf(s->res.telemetry_note, sizeof s->res.telemetry_note, "%s", terr.msg);
    } else {
        snprintf(s->res.telemetry_note, sizeof s->res.telemetry_note, "telemetry: none on the cpu backend");
    }
    return 0;
}

void session_close(session *s)
{
    rl_engine_slot_release(&s->slot);
    rl_trace_free(s->trace);
    s->trace = NULL;
    rl_telemetry_close(s->tel);
    rl_gpu_table_free(&s->table);
    rl_results_free(&s->res);
}

static int device_facts(session *s, rl_err *err)
{
    if (s->backend == RL_BACKEND_CPU) {
        rl_cpu_device_info(s->base.threads, &s->res.device);
        return 0;
    }
#ifdef RL_HAVE_CUDA
    if (!rl_cuda_available()) return rl_fail(err, "no CUDA GPU is visible (cudaGetDeviceCount found none); use --backend cpu");
    return rl_cuda_device_info(&s->res.device, err);
#else
    return rl_fail(err, "this build has no CUDA backend (nvcc was not found at configure time); install the CUDA "
                        "toolkit and rebuild, or use --backend cpu");
#endif
}

int session_roofs(session *s, const char *roofs_file, int quick, rl_err *err)
{
    rl_results *r = &s->res;
    if (roofs_file) {
        rl_roofs roofs;
        if (rl_roofs_load(roofs_file, &roofs, err)) return -1;
        if (device_facts(s, err)) return -1;
        memset(&r->probe, 0, sizeof r->probe);
        r->probe.read_gbps = roofs.bandwidth_gbps;
        r->probe.gemm_tflops = roofs.peak_tflops;
        r->probe.write_gbps = r->probe.copy_gbps = r->probe.buffer_bytes = r->probe.gemm_square_tflops = -1;
        r->probe.launch_us = r->probe.graph_node_us = r->probe.empty_node_us = -1;
        r->probe.kernel_min_us = roofs.kernel_min_us > 0 ? roofs.kernel_min_us : -1;
        r->probe.interconnect_gbps = roofs.link_gbps > 0 ? roofs.link_gbps : -1;
        r->probe.allreduce_latency_us = roofs.allreduce_us > 0 ? roofs.allreduce_us : -1;
        snprintf(r->probe.dtype, sizeof r->probe.dtype, "%s", r->dtype);
        snprintf(r->probe.method, sizeof r->probe.method, "loaded from %s", roofs_file);
    } else {
        rl_probe_opts o = {.model = &r->model, .prefill_tokens = s->backend == RL_BACKEND_CUDA ? 4096 : 256,
                           .threads = s->base.threads, .quick = quick, .quiet = s->quiet, .gpus = s->probe_gpus,
                           .nccl_lib = s->base.nccl_lib};
        if (rl_probe_run(s->backend, &o, &r->device, &r->probe, err)) return -1;
    }
    r->have_probe = 1;
    r->have_datasheet = rl_device_match_table(&r->device, &s->table, &r->datasheet);
    if (s->tel) {
        rl_nvml_sample smp;
        rl_telemetry_sample(s->tel, &smp);
        rl_results_add_sample(r, &smp);
        if (!r->device.driver[0]) snprintf(r->device.driver, sizeof r->device.driver, "%s", rl_telemetry_driver(s->tel));
    }
    if (s->backend == RL_BACKEND_CPU && s->base.threads <= 0) s->base.threads = r->device.threads;
    return 0;
}

int session_trace(session *s, const char *path, rl_err *err)
{
    if (!(s->trace = rl_trace_new())) return rl_fail(err, "--trace %s: out of host memory", path);
    s->trace_path = path;
    return 0;
}

int session_checkpoint(void *user, rl_err *err)
{
    session *s = user;
    /* Every engine's projection kernels, taken while it is the slot's (each point ends here). */
    rl_linear_choice ch[256];
    const int n_ch = s->slot.e ? rl_engine_linear_choices(s->slot.e, ch, 256) : 0;
    if (rl_results_add_choices(&s->res, ch, n_ch, err)) return -1;
    rl_analyse_results(&s->res, &s->analysis);
    if (!s->results_path) return 0;
    cJSON *extra = cJSON_CreateObject();
    if (!extra) return rl_fail(err, "%s: out of host memory", s->results_path);
    cJSON_AddItemToObject(extra, "analysis", rl_analysis_to_json(&s->res, &s->analysis));
    int rc = rl_results_save(&s->res, extra, s->results_path, err);
    cJSON_Delete(extra);
    return rc;
}

rl_sweep_ctx session_sweep_ctx(session *s, volatile sig_atomic_t *stop)
{
    rl_sweep_ctx c;
    memset(&c, 0, sizeof c);
    c.model = &s->res.model;
    c.base = s->base;
    c.res = &s->res;
    c.tel = s->tel;
    c.progress = &s->progress;
    c.stop = stop;
    c.warmup = 2;
    c.reps = 5;
    c.point_budget_ms = 20000;
    c.seed = s->base.seed;
    c.checkpoint = session_checkpoint;
    c.user = s;
    return c;
}

void session_kernels(session *s, rl_phase phase, int64_t x, int64_t input_len)
{
    rl_err err;
    int64_t B = phase == RL_PHASE_DECODE ? x : 1, len = phase == RL_PHASE_DECODE ? input_len : x;
    const rl_engine_opts *cur = &s->slot.opts;
    int64_t pb = s->slot.e ? cur->max_batch : 0, pc = s->slot.e ? cur->max_context : 0, pp = s->slot.e ? cur->max_prefill : 0;
    const int64_t context = len + (phase == RL_PHASE_DECODE ? RL_KERNELS_DECODE_STEPS : 0) + 2;
    rl_engine *e = rl_engine_slot_get(&s->slot, &s->base, &s->res.model, B, context, len, pb, pc, pp, &err);
    int rc = e ? rl_kernels_profile(e, phase, x, input_len, s->base.seed, &s->res, s->trace, &err) : -1;
    const char *what = phase == RL_PHASE_DECODE ? "decode B" : "prefill L";
    if (rc) {
        rl_progress_step(&s->progress, 1, "kernels %s=%lld: skipped: %s", what, (long long)x, err.msg);
        return;
    }
    const rl_profile *p = &s->res.profiles[s->res.n_profiles - 1];
    rl_progress_step(&s->progress, 1, "kernels %s=%lld: %d kernels per step (%s), %.3f ms profiled, step %.3f ms", what,
                     (long long)x, p->kernels, rl_timing_name(p->timing), p->kernels_ms, p->step_ms);
    if (session_checkpoint(s, &err)) fprintf(stderr, "ridgeline: %s\n", err.msg);
    if (s->trace && rl_trace_save(s->trace, s->trace_path, &err)) fprintf(stderr, "ridgeline: %s\n", err.msg);
}

void session_print_points(const session *s, rl_phase phase, FILE *f)
{
    const rl_results *r = &s->res;
    int any = 0;
    for (int i = 0; i < r->n_points; i++) any |= rl_point_in_sweep(&r->points[i], phase);
    if (!any) return;
    if (phase == RL_PHASE_DECODE) {
        fprintf(f, "\ndecode sweep: %s on %s (%s), input %lld, output %lld; ms = median decode step\n", r->model.name,
                r->device.name, r->device.backend, (long long)r->input_len, (long long)r->output_len);
        fprintf(f, "  %6s %9s %9s %9s %9s %9s %6s %8s %10s %11s %s\n", "batch", "ms/step", "p10", "p90", "pred", "pred_ds",
                "roof%", "bound", "tok/s", "seed_ms/tok", "");
    } else {
        fprintf(f, "\nprefill sweep: %s on %s (%s), batch 1; ms = median whole prefill\n", r->model.name, r->device.name,
                r->device.backend);
        fprintf(f, "  %6s %9s %9s %9s %9s %9s %6s %8s %10s %s\n", "length", "ms", "p10", "p90", "pred", "pred_ds", "roof%",
                "bound", "tok/s", "");
    }
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (!rl_point_in_sweep(p, phase)) continue;
        if (!p->ok) {
            fprintf(f, "  %6lld failed: %s\n", (long long)p->x, p->error);
            continue;
        }
        char ds[16] = "-";
        if (p->predicted_datasheet_ms >= 0) snprintf(ds, sizeof ds, "%.3f", p->predicted_datasheet_ms);
        fprintf(f, "  %6lld %9.3f %9.3f %9.3f %9.3f %9s %5.0f%% %8s %10.1f", (long long)p->x, p->ms, p->p10, p->p90,
                p->predicted_ms, ds, p->predicted_ms >= 0 ? 100 * p->predicted_ms / p->ms : 0,
                p->compute_bound ? "compute" : "memory", p->tokens_per_s);
        if (phase == RL_PHASE_DECODE) fprintf(f, " %11.3f", p->seed_ms_per_token);
        fputc('\n', f);
    }
}

void session_print_context_points(const session *s, FILE *f)
{
    const rl_results *r = &s->res;
    int any = 0;
    for (int i = 0; i < r->n_points; i++) any |= r->points[i].context_sweep;
    if (!any) return;
    fprintf(f, "\ndecode context sweep: %s on %s (%s), KV caches filled to the context, output %lld; ms = median "
               "decode step; attn%% = the cost model's attention share of the step\n",
            r->model.name, r->device.name, r->device.backend, (long long)r->output_len);
    fprintf(f, "  %6s %8s %9s %9s %9s %9s %6s %6s %10s\n", "batch", "context", "ms/step", "p10", "p90", "pred", "roof%",
            "attn%", "tok/s");
    for (int i = 0; i < r->n_points; i++) {
        const rl_point *p = &r->points[i];
        if (!p->context_sweep) continue;
        if (!p->ok) {
            fprintf(f, "  %6lld %8lld skipped: %s\n", (long long)p->x, (long long)p->context, p->error);
            continue;
        }
        const double share = rl_point_attention_share(r, p);
        fprintf(f, "  %6lld %8lld %9.3f %9.3f %9.3f %9.3f %5.0f%% %5.0f%% %10.1f\n", (long long)p->x,
                (long long)p->context, p->ms, p->p10, p->p90, p->predicted_ms,
                p->predicted_ms >= 0 ? 100 * p->predicted_ms / p->ms : 0, share >= 0 ? 100 * share : 0,
                p->tokens_per_s);
    }
}

/* The one piece of process-wide state: the stop signal's number, set by the handler and read
 * between points. SIGTERM (a job scheduler, `timeout`, `kill`) is handled like Ctrl-C. */
static volatile sig_atomic_t stop_signal;
static const int stop_signals[] = {SIGINT, SIGTERM};
static struct sigaction old_actions[2];

static void on_stop_signal(int sig) { stop_signal = sig; }

volatile sig_atomic_t *session_install_stop(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal ends the program at once */
    sigemptyset(&sa.sa_mask);
    stop_signal = 0;
    for (int i = 0; i < 2; i++) sigaction(stop_signals[i], &sa, &old_actions[i]);
    return &stop_signal;
}

void session_restore_stop(void)
{
    for (int i = 0; i < 2; i++) sigaction(stop_signals[i], &old_actions[i], NULL);
}

int session_measure_option(int ch, const char *arg, measure_args *m, rl_err *err)
{
    switch (ch) {
    case 'b': m->s.backend = arg; return 1;
    case 'm': m->s.model = arg; return 1;
    case 'w': m->s.weights_dir = arg; return 1;
    case 'B': m->batches = arg; return 1;
    case 'L': m->lengths = arg; return 1;
    case 'i': return rl_parse_i64(arg, 1, 1 << 20, "--input-len", &m->input_len, err) ? -1 : 1;
    case 'o': return rl_parse_i64(arg, 1, 1 << 20, "--output-len", &m->output_len, err) ? -1 : 1;
    case 'r': return rl_parse_i64(arg, 1, 1000, "-r", &m->reps, err) ? -1 : 1;
    case 'W': return rl_parse_i64(arg, 0, 1000, "--warmup", &m->warmup, err) ? -1 : 1;
    case 'R': m->roofs = arg; return 1;
    case 'n': m->ncu = arg; return 1;
    case 't': return cli_parse_threads(arg, &m->s.threads, err) ? -1 : 1;
    case 's': return cli_parse_seed(arg, &m->s.seed, err) ? -1 : 1;
    case 'q': m->quick = 1; return 1;
    case 'Q': m->s.quiet = 1; return 1;
    case 'g': m->s.gpu_file = arg; return 1;
    case 'T': m->trace = arg; return 1;
    case 'P': {
        int64_t v;
        if (rl_parse_i64(arg, 1, RL_TP_MAX, "--tp", &v, err)) return -1;
        m->s.tp = (int)v;
        return 1;
    }
    case 'Y': m->s.nccl_lib = arg; return 1;
    }
    return 0;
}

int session_check_inputs(const measure_args *m, rl_err *err)
{
    rl_roofs roofs;
    if (m->roofs && rl_roofs_load(m->roofs, &roofs, err)) return rl_wrap(err, "--roofs %s", m->roofs);
    return m->ncu ? rl_ncu_check(m->ncu, err) : 0;
}

int session_check_backend(const measure_args *m, rl_err *err)
{
    rl_backend b;
    return m->s.backend ? rl_backend_from_name(m->s.backend, &b, err) : 0;
}

int session_grid(const measure_args *m, int cuda, rl_phase phase, int small, int64_t *xs, rl_err *err)
{
    const int64_t *cuda_b = rl_seed_decode_grid, *cuda_l = rl_seed_prefill_grid; /* the seed's */
    static const int64_t cpu_b[] = {1, 2, 4, 8, 16, 32}, cpu_l[] = {16, 32, 64, 128, 256};
    static const int64_t cuda_qb[] = {1, 16, 64}, cuda_ql[] = {64, 256, 1024};
    static const int64_t cpu_qb[] = {1, 4, 16}, cpu_ql[] = {16, 64, 128};
    const int decode = phase == RL_PHASE_DECODE;
    const char *list = decode ? m->batches : m->lengths;
    if (list)
        return decode ? rl_parse_i64_list(list, 1, 1 << 16, "--batches", xs, 64, err)
                      : rl_parse_i64_list(list, 1, 1 << 20, "--lengths", xs, 64, err);
    const int64_t *d;
    int n;
    if (small) d = decode ? (cuda ? cuda_qb : cpu_qb) : (cuda ? cuda_ql : cpu_ql), n = 3;
    else if (decode) d = cuda ? cuda_b : cpu_b, n = cuda ? RL_SEED_GRID_N : 6;
    else d = cuda ? cuda_l : cpu_l, n = cuda ? RL_SEED_GRID_N : 5;
    memcpy(xs, d, sizeof *xs * (size_t)n);
    return n;
}

void session_decode_lengths(const measure_args *m, int cuda, int small, int64_t *input_len, int64_t *output_len)
{
    *input_len = m->input_len ? m->input_len : cuda ? RL_SEED_INPUT_LEN : small ? 16 : 32;
    *output_len = m->output_len ? m->output_len : cuda ? (small ? 16 : RL_SEED_OUTPUT_LEN) : small ? 8 : 16;
}
