/* test_code_path.c: the CUDA engine's code-path decision (engine/code_path.h) for the GPUs of the
 * seed and the builds that run on them; plain C, no GPU needed. */
#include <string.h>

#include "check.h"
#include "engine/code_path.h"

#define KIB 1024

/* One case: device compute capability, the loaded image, opt-in shared memory per block. */
static void expect_path(const char *what, int major, int minor, int image_arch, int sm90a, int64_t smem, const char *name,
                        int pdl, int hopper)
{
    rl_code_path cp;
    rl_err err = {{0}};
    const int rc = rl_code_path_choose(major, minor, image_arch, sm90a, smem, &cp, &err);
    CHECK(rc == 0, "%s: %s", what, err.msg);
    if (rc) return;
    CHECK(!strcmp(cp.name, name), "%s: path %s, want %s", what, cp.name, name);
    CHECK(cp.pdl == pdl, "%s: pdl %d, want %d", what, cp.pdl, pdl);
    CHECK(cp.hopper_kernels == hopper, "%s: hopper kernels %d, want %d", what, cp.hopper_kernels, hopper);
    CHECK(cp.cc_major == major && cp.cc_minor == minor && cp.image_arch == image_arch && cp.smem_block_optin_bytes == smem,
          "%s: the device facts are kept", what);
}

static void expect_refused(const char *what, int major, int minor, int image_arch, int64_t smem, const char *fragment)
{
    rl_code_path cp;
    rl_err err = {{0}};
    CHECK(rl_code_path_choose(major, minor, image_arch, 0, smem, &cp, &err) == -1, "%s: must be refused", what);
    CHECK(strstr(err.msg, fragment) != NULL, "%s: message '%s' lacks '%s'", what, err.msg, fragment);
}

int main(void)
{
    /* Each GPU running the SASS a default fat build holds for it. */
    expect_path("A100 (sm_80 SASS)", 8, 0, 800, 0, 163 * KIB, "sm80", 0, 0);
    expect_path("A10 / A40 (sm_86 SASS)", 8, 6, 860, 0, 99 * KIB, "sm80", 0, 0);
    expect_path("L40S / L4 / RTX 4090 (sm_89 SASS)", 8, 9, 890, 0, 99 * KIB, "sm80", 0, 0);
    expect_path("H100 / H200 (sm_90a SASS)", 9, 0, 900, 1, 227 * KIB, "sm90a", 1, 1);
    /* The portable proof: compute_80 PTX JIT-compiled on the H200 has no griddepcontrol, so no PDL. */
    expect_path("H200 running compute_80 PTX", 9, 0, 800, 0, 227 * KIB, "sm80", 0, 0);
    expect_path("H200 running compute_89 PTX", 9, 0, 890, 0, 227 * KIB, "sm80", 0, 0);
    /* compute_90 PTX (the fat build's forward-compatible image) on Hopper and on Blackwell. */
    expect_path("H200 running compute_90 PTX", 9, 0, 900, 0, 227 * KIB, "sm90", 1, 0);
    expect_path("B200 running compute_90 PTX", 10, 0, 900, 0, 227 * KIB, "sm90", 1, 0);
    expect_path("B200 never gets the Hopper kernels", 10, 0, 900, 1, 227 * KIB, "sm90", 1, 0);

    expect_refused("T4 (7.5)", 7, 5, 750, 64 * KIB, "8.0 or newer");
    expect_refused("a compute_75 image", 8, 0, 750, 163 * KIB, "compute_75");
    expect_refused("too little shared memory", 8, 9, 890, 48 * KIB, "shared memory per block");
    CHECK(RL_CODE_SM80_SMEM_BLOCK_BYTES <= 99 * KIB, "the sm80 path fits sm_86/sm_89's 99 KiB per block");
    return CHECK_DONE();
}
