/* probe.c: backend dispatch of the probe, the GPU-table match, and the probe's text table. */
#include "probe.h"

#include <string.h>

#include "../engine/engine.h"

int rl_probe_run(rl_backend backend, const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err)
{
    memset(dev, 0, sizeof *dev);
    memset(out, 0, sizeof *out);
    if (backend == RL_BACKEND_CPU) return rl_probe_cpu(o, dev, out, err);
#ifdef RL_HAVE_CUDA
    if (!rl_cuda_available())
        return rl_fail(err, "no CUDA GPU is visible (cudaGetDeviceCount found none); use --backend cpu");
    return rl_probe_cuda(o, dev, out, err);
#else
    return rl_fail(err, "this build has no CUDA backend (nvcc was not found at configure time); install the "
                        "CUDA toolkit and rebuild, or use --backend cpu");
#endif
}

int rl_device_match_table(rl_device_info *dev, const rl_gpu_table *t, rl_gpu *row)
{
    dev->table_name[0] = 0;
    if (strcmp(dev->backend, "cuda")) return 0;
    const rl_gpu *g = rl_gpu_match_device(t, dev->name);
    if (!g) return 0;
    snprintf(dev->table_name, sizeof dev->table_name, "%s", g->name);
    if (row) *row = *g;
    return 1;
}

void rl_probe_print(const rl_probe *p, const rl_device_info *dev, FILE *f)
{
    fprintf(f, "device: %s (%s", dev->name, dev->backend);
    if (dev->sm_count) fprintf(f, ", %d SMs", dev->sm_count);
    if (dev->threads) fprintf(f, ", %d threads", dev->threads);
    if (dev->memory_gb > 0) fprintf(f, ", %.1f GB", dev->memory_gb);
    if (dev->table_name[0]) fprintf(f, ", table row %s", dev->table_name);
    if (dev->code_path[0]) fprintf(f, ", code path %s", dev->code_path);
    fprintf(f, ")\n");
    fprintf(f, "  read      %10.1f GB/s   (read-only stream: the bandwidth roof)\n", p->read_gbps);
    if (p->write_gbps > 0) fprintf(f, "  write     %10.1f GB/s   (write-only)\n", p->write_gbps);
    if (p->copy_gbps > 0) fprintf(f, "  copy      %10.1f GB/s   (read + write bytes counted)\n", p->copy_gbps);
    fprintf(f, "  gemm      %10.4g TFLOP/s (%s, the FLOPs roof)\n", p->gemm_tflops, p->dtype);
    for (int i = 0; i < p->n_shapes; i++)
        fprintf(f, "    %-12s M=%-6lld N=%-6lld K=%-6lld %8.4g TFLOP/s\n", p->shapes[i].name, (long long)p->shapes[i].m,
                (long long)p->shapes[i].n, (long long)p->shapes[i].k, p->shapes[i].tflops);
    if (p->launch_us > 0) fprintf(f, "  launch    %10.2f us per kernel (back-to-back empty kernels)\n", p->launch_us);
    if (p->graph_node_us > 0) fprintf(f, "  graph     %10.2f us per kernel node (CUDA graph replay)\n", p->graph_node_us);
    if (p->empty_node_us > 0) fprintf(f, "  pdl node  %10.2f us per empty kernel node chained with PDL\n", p->empty_node_us);
    if (p->kernel_min_us > 0)
        fprintf(f, "  t_min     %10.2f us per kernel node moving 8 KB, chained with PDL (the latency roof)\n",
                p->kernel_min_us);
    if (p->interconnect_gbps > 0) {
        fprintf(f, "  link      %10.1f GB/s   (NCCL bf16 all-reduce bus bandwidth at 256 MB over %d GPUs)\n",
                p->interconnect_gbps, p->interconnect_gpus);
        fprintf(f, "  allreduce %10.2f us     (one 8 KB all-reduce: the latency per collective)\n", p->allreduce_latency_us);
        for (int i = 0; i < p->n_allreduce; i++)
            fprintf(f, "    %10.0f KB %9.2f us %8.1f GB/s bus\n", p->allreduce[i].bytes / 1024, p->allreduce[i].us,
                    p->allreduce[i].busbw_gbps);
    } else if (p->interconnect_note[0]) {
        fprintf(f, "  link      interconnect %s\n", p->interconnect_note);
    }
    const rl_roofs measured = {.bandwidth_gbps = p->read_gbps, .peak_tflops = p->gemm_tflops, .origin = "measured"};
    if (p->read_gbps > 0 && p->gemm_tflops > 0)
        fprintf(f, "  ridge     %10.1f FLOP/byte (measured)\n", rl_roofs_ridge(&measured));
}
