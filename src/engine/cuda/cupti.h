// cupti.h: CUPTI activity records of the kernels the engine runs, for per-kernel profiles of the
// real step (engine.h, set_profile). CONCURRENT_KERNEL records time each kernel on the GPU without
// serialising it against its neighbours (graphs and PDL stay as they are); external correlation ids
// pushed around each eager launch tie its kernels (cuBLASLt's included) to that launch.
// Internal to src/engine/cuda.
#pragma once
extern "C" {
#include "../engine.h"
}

typedef struct rl_cupti rl_cupti;

// Starts collecting. Fails (with CUPTI's reason: another profiler attached, an old driver, ...)
// when CUPTI cannot trace kernels here; one collector per process at a time.
int rl_cupti_start(rl_cupti **out, rl_err *err);
// Keeps the kernels of one CUDA device only (a tensor-parallel profile is rank 0's GPU).
void rl_cupti_only_device(rl_cupti *c, int device);
// Flushes and stops; NULL is fine.
void rl_cupti_stop(rl_cupti *c);
// Kernels launched between push and pop carry id as their launch (rl_kernel_activity.launch).
int rl_cupti_push(rl_cupti *c, uint64_t id, rl_err *err);
int rl_cupti_pop(rl_cupti *c, rl_err *err);
// Flushes and hands over the kernels finished since the last collect (the stream must be
// synchronised first). The caller frees *acts.
int rl_cupti_collect(rl_cupti *c, rl_kernel_activity **acts, int *n, rl_err *err);
