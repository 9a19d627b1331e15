// nccl_lib.h: NCCL, opened at run time (dlopen), for the tensor-parallel engine (tp.cu) and the
// interconnect probe (src/measure/probe_nccl.cu). The program links without NCCL and runs without it
// on one GPU; a group of several GPUs needs it and says so in one line where it is missing.
//
// Which library: rl_engine_opts.nccl_lib when set (`--nccl-lib PATH`), else "libnccl.so.2" through
// the standard loader path (LD_LIBRARY_PATH, the ld.so cache), and failing that the libnccl.so.2 CMake
// found when it configured the build (the CUDA toolkit's, or the nvidia-nccl Python package's:
// RL_NCCL_LIB_HINT). Types come from NCCL's own nccl.h at build time (the same places); a build
// without it opens nothing and says to install it.
//
// Before NCCL initialises, rl_nccl_open sets in this process, only where the user has not set them:
//   NCCL_NVLS_ENABLE=0      NVLink SHARP / multicast off: the lent machines are shared, and the engine
//                           never creates multicast objects itself
//   NCCL_GRAPH_REGISTER=0   no user-buffer registration at graph capture, and
//   NCCL_RUNTIME_CONNECT=0  every connection made at communicator creation:
//                           so a rank capturing its decode graph never waits on its peers (the engine
//                           captures rank by rank, e.g. when a profile starts on rank 0 only).
// Communicators are opaque here (void *: ncclComm_t).
#pragma once
#include <cuda_runtime.h>
#include <stddef.h>

extern "C" {
#include "../../common/err.h"
}

typedef struct rl_nccl rl_nccl;

// Opens NCCL (path NULL: "libnccl.so.2"), checks it is 2.9 or newer (graph capture of collectives).
int rl_nccl_open(const char *path, rl_nccl **out, rl_err *err);
void rl_nccl_close(rl_nccl *n);
// "2.28.9 (/path/libnccl.so.2)".
const char *rl_nccl_describe(const rl_nccl *n);

// One communicator per device of devices[0..count) of this process (ncclCommInitAll).
int rl_nccl_comms(rl_nccl *n, int count, const int *devices, void **comms, rl_err *err);
// Aborts whatever the communicator has in flight and frees it (safe from any thread: unblocks ranks
// waiting for a peer that failed).
void rl_nccl_abort(rl_nccl *n, void *comm);
void rl_nccl_destroy(rl_nccl *n, void *comm);

// In-place sum over the group of count bf16 elements (bfloat16 all-reduce), enqueued on st.
int rl_nccl_allreduce_bf16(rl_nccl *n, void *comm, void *buf, size_t count, cudaStream_t st, rl_err *err);
// Every rank's `bytes` at send gathered into recv [ranks][bytes] (recv + rank * bytes may be send).
int rl_nccl_allgather(rl_nccl *n, void *comm, const void *send, void *recv, size_t bytes, cudaStream_t st,
                      rl_err *err);
// Several ranks' calls from one thread (the probe): between group_start and group_end.
int rl_nccl_group_start(rl_nccl *n, rl_err *err);
int rl_nccl_group_end(rl_nccl *n, rl_err *err);
