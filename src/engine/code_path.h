/* code_path.h: which code path the CUDA engine runs on a device, decided once at engine creation
 * from the device's compute capability and the code this build holds for it (the one place that
 * decides; kernels and launchers consult the result, cuda_state.path):
 *   sm80   mma.sync + cp.async kernels, plain launches: A100 (sm_80), A10/A40 (sm_86), L4, L40S,
 *          RTX 4090 (sm_89), and any GPU that runs a compute_80..89 PTX image (JIT by the driver).
 *   sm90   the same kernels chained by programmatic dependent launch (griddepcontrol, sm_90 and
 *          up): a compute_90 PTX image JIT-compiled on a GPU newer than Hopper.
 *   sm90a  sm90 plus the Hopper-only kernels (wgmma, TMA): an sm_90a image on an H100 or H200.
 * Device code guards the same features with RL_DEVICE_PDL / RL_DEVICE_SM90A (cuda/common.cuh),
 * so a target without them compiles without them; the host side launches such a kernel only
 * when the path allows it. */
#ifndef RL_CODE_PATH_H
#define RL_CODE_PATH_H
#include <stdint.h>

#include "../common/err.h"

typedef enum { RL_CODE_SM80, RL_CODE_SM90, RL_CODE_SM90A } rl_code_path_id;

/* Dynamic shared memory per block that the sm80 path's largest kernel shape asks for (the
 * 3-stage / 128-row prefill attention shapes: 96 KiB); every GPU from compute capability 8.0 on
 * offers at least 99 KiB (sm_86, sm_89), A100 163 KiB, Hopper 227 KiB. */
#define RL_CODE_SM80_SMEM_BLOCK_BYTES (96 * 1024)

typedef struct {
    rl_code_path_id id;
    const char *name;              /* "sm80" | "sm90" | "sm90a": results.json device.code_path */
    int pdl;                       /* programmatic dependent launch between our kernels */
    int hopper_kernels;            /* wgmma / TMA kernels may be launched */
    int cc_major, cc_minor;        /* the device's compute capability */
    int image_arch;                /* __CUDA_ARCH__ of the code the driver loaded: 800, 860, 890, 900, ... */
    int64_t smem_block_optin_bytes; /* the most dynamic shared memory one block may ask for */
} rl_code_path;

/* The decision. image_arch / image_sm90a: __CUDA_ARCH__ of the loaded kernels and whether they
 * were compiled with the sm_90a features (__CUDA_ARCH_FEAT_SM90_ALL). Returns -1 with err set
 * when the engine cannot run on this device. */
int rl_code_path_choose(int cc_major, int cc_minor, int image_arch, int image_sm90a, int64_t smem_block_optin_bytes,
                        rl_code_path *out, rl_err *err);

/* CUDA builds (src/engine/cuda/code_path.cu): reads the properties of GPU `device`, finds which
 * code of this build the driver loads for it, and decides. -1 with err set on failure, e.g. when
 * the build holds no code the GPU can run (the message names the build's targets and the fix). */
int rl_cuda_code_path(int device, rl_code_path *out, rl_err *err);

#endif
