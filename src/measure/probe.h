/* probe.h: measured roofs of this machine (`ridgeline probe`), the figures predictions use in
 * place of the datasheet: streaming read bandwidth and GEMM FLOP/s at the model's precision.
 *   cpu : probe_cpu.c  - all-thread read/write/copy over a buffer >> last-level cache, fp32 matmul
 *   cuda: probe_cuda.cu - own 16-byte-access stream kernels over >= 1 GiB, bf16 cuBLASLt GEMMs,
 *                         launch latency and CUDA-graph per-node overhead, device facts;
 *         probe_nccl.cu - with two GPUs or more: the interconnect (NCCL bf16 all-reduce bus
 *                         bandwidth and latency at the step's message sizes) */
#ifndef RL_PROBE_H
#define RL_PROBE_H
#include <stdio.h>

#include "../engine/engine.h"
#include "../hw/gpu.h"
#include "../model/config.h"
#include "results.h"

typedef struct {
    const rl_model_config *model; /* GEMM shapes of its prefill (M = prefill_tokens); NULL = square only */
    int64_t prefill_tokens;       /* M of the model-shape GEMMs (4096) */
    int threads;                  /* cpu: threads (0 = every online core) */
    int quick;                    /* fewer repetitions and smaller problems (tests, --quick) */
    int quiet;                    /* no progress lines on stderr */
    int gpus;                     /* cuda: GPUs the interconnect test spans (the lab's --tp); 0 = every visible one */
    const char *nccl_lib;         /* cuda: the NCCL library (NULL: libnccl.so.2 on the loader path) */
} rl_probe_opts;

int rl_probe_cpu(const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err);

/* Fills dev with what the CPU reports (model name, RAM, last-level cache, threads). */
void rl_cpu_device_info(int threads, rl_device_info *dev);

#ifdef RL_HAVE_CUDA
/* Implemented in probe_cuda.cu (C linkage). */
int rl_probe_cuda(const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err);
/* The interconnect roof (probe_nccl.cu): fills out's interconnect fields, or says in
 * interconnect_note why it did not measure (one GPU). -1 when NCCL fails where there are GPUs to
 * measure. */
int rl_probe_interconnect(const rl_probe_opts *o, rl_probe *out, rl_err *err);
/* Device facts only (name, SMs, memory, L2, PCI bus id, runtime/driver versions). */
int rl_cuda_device_info(rl_device_info *dev, rl_err *err);
#endif

/* Runs the probe of a backend (cuda: fails with a clear message where it is not built or no GPU). */
int rl_probe_run(rl_backend backend, const rl_probe_opts *o, rl_device_info *dev, rl_probe *out, rl_err *err);

/* Fills dev->table_name (and *row when non-NULL) with the GPU table row matching the device name;
 * returns 1 when one matches (cuda devices only), else 0. */
int rl_device_match_table(rl_device_info *dev, const rl_gpu_table *t, rl_gpu *row);

/* Human-readable table of the probe to f. */
void rl_probe_print(const rl_probe *p, const rl_device_info *dev, FILE *f);

#endif
