// profile.h: the CUDA engine's per-kernel bookkeeping state (engine.h, set_profile; profile.cu).
// Every launch of the engine passes through cuda_prof_begin / cuda_prof_end, the one place where
// it is recorded: into the plan of the graph being captured (with its kernel-node count), and when
// profiling into the log (CUPTI activity, events, or the plan alone). Internal to src/engine/cuda.
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>

extern "C" {
#include "../../predict/launch_plan.h"
}

typedef struct rl_cupti rl_cupti;

typedef enum {
    CUDA_PROF_OFF,
    CUDA_PROF_EVENTS, // events around every launch: serialised, eager, no PDL (CUPTI unavailable)
    CUDA_PROF_CUPTI,  // CUPTI activity of the real step: graphs replayed, PDL on
    CUDA_PROF_PLAN,   // the launch plan only; the step runs untouched
} cuda_prof_mode;

typedef struct {
    cuda_prof_mode mode;
    rl_launch_plan capture; // launches of the graph being captured, n_kernels = its kernel nodes each
    rl_launch_plan eager;   // CUPTI: launches of the current eager step (their correlation ids index it)
    size_t nodes_before;    // nodes of the capturing graph at cuda_prof_begin
    size_t kernel_nodes;    // its kernel nodes after the last launch
    cudaGraphNode_t *nodes; // scratch for telling kernel nodes from others
    size_t nodes_cap;
    rl_cupti *cupti;
    int epoch;              // CUPTI sessions started: a graph from an older one is captured again
} cuda_prof_state;
