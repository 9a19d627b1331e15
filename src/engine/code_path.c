/* code_path.c: the CUDA engine's code-path decision (code_path.h), plain C so it is unit-tested
 * on machines without a GPU. */
#include "code_path.h"

#include <string.h>

int rl_code_path_choose(int cc_major, int cc_minor, int image_arch, int image_sm90a, int64_t smem_block_optin_bytes,
                        rl_code_path *out, rl_err *err)
{
    memset(out, 0, sizeof *out);
    out->cc_major = cc_major, out->cc_minor = cc_minor;
    out->image_arch = image_arch;
    out->smem_block_optin_bytes = smem_block_optin_bytes;
    if (cc_major < 8)
        return rl_fail(err, "cuda engine: the GPU has compute capability %d.%d; the engine's kernels need 8.0 or newer "
                            "(bf16 tensor cores, cp.async): run with --backend cpu",
                       cc_major, cc_minor);
    if (image_arch < 800)
        return rl_fail(err, "cuda engine: the driver loaded code built for compute_%d, the engine needs compute_80 or "
                            "newer: rebuild without -DCMAKE_CUDA_ARCHITECTURES (targets the GPU present)",
                       image_arch / 10);
    if (smem_block_optin_bytes < RL_CODE_SM80_SMEM_BLOCK_BYTES)
        return rl_fail(err, "cuda engine: the GPU allows %lld bytes of shared memory per block, the engine's kernels "
                            "need up to %d: this GPU is not supported (use --backend cpu)",
                       (long long)smem_block_optin_bytes, RL_CODE_SM80_SMEM_BLOCK_BYTES);
    /* griddepcontrol is compiled in only for sm_90+ images (a compute_80 PTX JIT-compiled on a
     * Hopper has none): launching with the PDL attribute without it would let a kernel read what
     * its predecessor has not finished writing. */
    out->pdl = image_arch >= 900;
    /* sm_90a code runs on compute capability 9.0 only; the check keeps the rule in one line. */
    out->hopper_kernels = image_sm90a && cc_major == 9 && cc_minor == 0;
    out->id = out->hopper_kernels ? RL_CODE_SM90A : out->pdl ? RL_CODE_SM90 : RL_CODE_SM80;
    static const char *const names[] = {"sm80", "sm90", "sm90a"};
    out->name = names[out->id];
    return 0;
}
