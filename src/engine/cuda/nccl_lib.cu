// nccl_lib.cu: NCCL through dlopen (nccl_lib.h). The one file that includes NCCL's header.
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nccl_lib.h"

#define NCCL_INSTALL                                                                                          \
    "install NCCL (pip install nvidia-nccl-cu13, or the distribution's libnccl2) and put libnccl.so.2 on the " \
    "loader path (LD_LIBRARY_PATH), or name it with --nccl-lib PATH"

#ifdef RL_HAVE_NCCL_H
#include <nccl.h>

struct rl_nccl {
    void *lib;
    char describe[320];
    decltype(&ncclGetVersion) get_version;
    decltype(&ncclGetErrorString) error_string;
    decltype(&ncclCommInitAll) init_all;
    decltype(&ncclCommDestroy) destroy;
    decltype(&ncclCommAbort) abort;
    decltype(&ncclAllReduce) all_reduce;
    decltype(&ncclAllGather) all_gather;
    decltype(&ncclGroupStart) group_start;
    decltype(&ncclGroupEnd) group_end;
    const char *(*last_error)(ncclComm_t); // ncclGetLastError, 2.13 and newer; NULL before
};

// The process environment NCCL reads at initialisation (nccl_lib.h says why each is set).
static void nccl_defaults(void)
{
    static const char *const vars[][2] = {
        {"NCCL_NVLS_ENABLE", "0"}, {"NCCL_GRAPH_REGISTER", "0"}, {"NCCL_RUNTIME_CONNECT", "0"}};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) setenv(vars[i][0], vars[i][1], 0); // 0: keep the user's
}

static int sym(rl_nccl *n, const char *name, void **out, rl_err *err)
{
    dlerror();
    *out = dlsym(n->lib, name);
    if (!*out) return rl_fail(err, "NCCL: %s has no symbol %s (%s); " NCCL_INSTALL, n->describe, name, dlerror());
    return 0;
}

int rl_nccl_open(const char *path, rl_nccl **out, rl_err *err)
{
    *out = NULL;
    const char *name = path && path[0] ? path : "libnccl.so.2";
    rl_nccl *n = (rl_nccl *)calloc(1, sizeof *n);
    if (!n) return rl_fail(err, "NCCL: out of host memory");
    n->lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    char why[320];
    snprintf(why, sizeof why, "%s", n->lib ? "" : dlerror());
#ifdef RL_NCCL_LIB_HINT
    if (!n->lib && !(path && path[0])) { // not on the loader path: the library CMake found at configure time
        n->lib = dlopen(RL_NCCL_LIB_HINT, RTLD_NOW | RTLD_LOCAL);
        if (n->lib) name = RL_NCCL_LIB_HINT;
    }
#endif
    if (!n->lib) {
        free(n);
        return rl_fail(err, "NCCL: dlopen(\"%s\") failed: %s; " NCCL_INSTALL, name, why[0] ? why : "unknown error");
    }
    snprintf(n->describe, sizeof n->describe, "%s", name);
    int rc = sym(n, "ncclGetVersion", (void **)&n->get_version, err) ||
             sym(n, "ncclGetErrorString", (void **)&n->error_string, err) ||
             sym(n, "ncclCommInitAll", (void **)&n->init_all, err) ||
             sym(n, "ncclCommDestroy", (void **)&n->destroy, err) || sym(n, "ncclCommAbort", (void **)&n->abort, err) ||
             sym(n, "ncclAllReduce", (void **)&n->all_reduce, err) ||
             sym(n, "ncclAllGather", (void **)&n->all_gather, err) ||
             sym(n, "ncclGroupStart", (void **)&n->group_start, err) ||
             sym(n, "ncclGroupEnd", (void **)&n->group_end, err);
    int v = 0;
    if (!rc && n->get_version(&v) != ncclSuccess) rc = rl_fail(err, "NCCL: ncclGetVersion failed (%s)", name);
    // 2.9 and newer number versions major * 10000 + minor * 100 + patch.
    if (!rc && v < 20900)
        rc = rl_fail(err, "NCCL: %s is version code %d; the engine needs NCCL 2.9 or newer (collectives in CUDA "
                          "graphs); " NCCL_INSTALL, name, v);
    if (rc) {
        rl_nccl_close(n);
        return -1;
    }
    n->last_error = (const char *(*)(ncclComm_t))dlsym(n->lib, "ncclGetLastError");
    snprintf(n->describe, sizeof n->describe, "%d.%d.%d (%s)", v / 10000, v / 100 % 100, v % 100, name);
    nccl_defaults();
    *out = n;
    return 0;
}

void rl_nccl_close(rl_nccl *n)
{
    if (!n) return;
    if (n->lib) dlclose(n->lib);
    free(n);
}

const char *rl_nccl_describe(const rl_nccl *n) { return n ? n->describe : "not loaded"; }

// "<call> failed: <NCCL's string> (<its last error>)".
static int nccl_fail(const rl_nccl *n, ncclComm_t comm, const char *call, ncclResult_t r, rl_err *err)
{
    const char *last = n->last_error ? n->last_error(comm) : NULL;
    return rl_fail(err, "NCCL: %s failed: %s%s%s%s", call, n->error_string(r), last && last[0] ? " (" : "",
                   last && last[0] ? last : "", last && last[0] ? ")" : "");
}

int rl_nccl_comms(rl_nccl *n, int count, const int *devices, void **comms, rl_err *err)
{
    ncclComm_t c[64];
    if (count < 1 || count > 64) return rl_fail(err, "NCCL: %d devices: 1 to 64", count);
    const ncclResult_t r = n->init_all(c, count, devices);
    if (r != ncclSuccess) return nccl_fail(n, NULL, "ncclCommInitAll", r, err);
    for (int i = 0; i < count; i++) comms[i] = c[i];
    return 0;
}

void rl_nccl_abort(rl_nccl *n, void *comm)
{
    if (n && comm) n->abort((ncclComm_t)comm);
}

void rl_nccl_destroy(rl_nccl *n, void *comm)
{
    if (n && comm) n->destroy((ncclComm_t)comm);
}

int rl_nccl_allreduce_bf16(rl_nccl *n, void *comm, void *buf, size_t count, cudaStream_t st, rl_err *err)
{
    const ncclResult_t r = n->all_reduce(buf, buf, count, ncclBfloat16, ncclSum, (ncclComm_t)comm, st);
    return r == ncclSuccess ? 0 : nccl_fail(n, (ncclComm_t)comm, "ncclAllReduce (bf16, sum)", r, err);
}

int rl_nccl_allgather(rl_nccl *n, void *comm, const void *send, void *recv, size_t bytes, cudaStream_t st, rl_err *err)
{
    const ncclResult_t r = n->all_gather(send, recv, bytes, ncclUint8, (ncclComm_t)comm, st);
    return r == ncclSuccess ? 0 : nccl_fail(n, (ncclComm_t)comm, "ncclAllGather", r, err);
}

int rl_nccl_group_start(rl_nccl *n, rl_err *err)
{
    const ncclResult_t r = n->group_start();
    return r == ncclSuccess ? 0 : nccl_fail(n, NULL, "ncclGroupStart", r, err);
}

int rl_nccl_group_end(rl_nccl *n, rl_err *err)
{
    const ncclResult_t r = n->group_end();
    return r == ncclSuccess ? 0 : nccl_fail(n, NULL, "ncclGroupEnd", r, err);
}

#else // built without nccl.h: nothing can be opened

struct rl_nccl {
    int unused;
};

int rl_nccl_open(const char *path, rl_nccl **out, rl_err *err)
{
    (void)path;
    *out = NULL;
    return rl_fail(err, "NCCL: this build found no nccl.h at configure time (pip install nvidia-nccl-cu13, or the "
                        "distribution's libnccl-dev, then configure again)");
}
void rl_nccl_close(rl_nccl *n) { (void)n; }
const char *rl_nccl_describe(const rl_nccl *n) { return (void)n, "not built"; }
int rl_nccl_comms(rl_nccl *n, int count, const int *devices, void **comms, rl_err *err)
{
    (void)n, (void)count, (void)devices, (void)comms;
    return rl_fail(err, "NCCL: not built");
}
void rl_nccl_abort(rl_nccl *n, void *comm) { (void)n, (void)comm; }
void rl_nccl_destroy(rl_nccl *n, void *comm) { (void)n, (void)comm; }
int rl_nccl_allreduce_bf16(rl_nccl *n, void *comm, void *buf, size_t count, cudaStream_t st, rl_err *err)
{
    (void)n, (void)comm, (void)buf, (void)count, (void)st;
    return rl_fail(err, "NCCL: not built");
}
int rl_nccl_allgather(rl_nccl *n, void *comm, const void *send, void *recv, size_t bytes, cudaStream_t st, rl_err *err)
{
    (void)n, (void)comm, (void)send, (void)recv, (void)bytes, (void)st;
    return rl_fail(err, "NCCL: not built");
}
int rl_nccl_group_start(rl_nccl *n, rl_err *err) { return (void)n, rl_fail(err, "NCCL: not built"); }
int rl_nccl_group_end(rl_nccl *n, rl_err *err) { return (void)n, rl_fail(err, "NCCL: not built"); }
#endif
