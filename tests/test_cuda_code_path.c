/* test_cuda_code_path.c: on a GPU, the code path found at run time (engine/code_path.h) is the one
 * this build's CUDA targets imply: sm80 when every target is below sm_90 (the A100 / L40S code, as
 * scripts/portable-check.sh builds it with 80-virtual), sm90a for an sm_90a build on a Hopper.
 * Exits 77 (skipped) without a CUDA GPU. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "engine/code_path.h"
#include "engine/engine.h"

#ifndef RL_TEST_CUDA_ARCHS
#define RL_TEST_CUDA_ARCHS ""
#endif

/* The build's targets (CMAKE_CUDA_ARCHITECTURES, ';' made ','): the highest arch number and
 * whether one of them is sm_90a. */
static void build_targets(int *highest, int *has_90a)
{
    char list[256];
    snprintf(list, sizeof list, "%s", RL_TEST_CUDA_ARCHS);
    *highest = 0, *has_90a = 0;
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        const int n = atoi(t);
        if (n > *highest) *highest = n;
        if (!strncmp(t, "90a", 3)) *has_90a = 1;
    }
}

int main(void)
{
#ifndef RL_HAVE_CUDA
    printf("skipped: a CPU-only build; this test needs the CUDA engine\n");
    return 77;
#else
    if (!rl_cuda_available()) {
        printf("skipped: no CUDA GPU; this test needs one\n");
        return 77;
    }
    rl_code_path cp;
    rl_err err = {{0}};
    CHECK(rl_cuda_code_path(0, &cp, &err) == 0, "%s", err.msg);
    int highest = 0, has_90a = 0;
    build_targets(&highest, &has_90a);
    printf("device compute capability %d.%d, loaded code compute_%d%s, build targets %s: code path %s (pdl %d)\n",
           cp.cc_major, cp.cc_minor, cp.image_arch / 10, cp.hopper_kernels ? "a" : "", RL_TEST_CUDA_ARCHS,
           cp.name ? cp.name : "?", cp.pdl);
    CHECK(highest > 0, "the build's targets are known (%s)", RL_TEST_CUDA_ARCHS);
    CHECK(cp.image_arch >= 800 && cp.image_arch <= highest * 10, "loaded code compute_%d is one of the build's (%s)",
          cp.image_arch / 10, RL_TEST_CUDA_ARCHS);
    if (highest < 90)
        CHECK(cp.name && !strcmp(cp.name, "sm80") && !cp.pdl, "targets below sm_90 run the sm80 path without PDL");
    if (has_90a && cp.cc_major == 9 && cp.cc_minor == 0)
        CHECK(cp.name && !strcmp(cp.name, "sm90a") && cp.pdl && cp.hopper_kernels, "an sm_90a build on Hopper runs sm90a");
    CHECK(cp.smem_block_optin_bytes >= RL_CODE_SM80_SMEM_BLOCK_BYTES, "shared memory per block %lld",
          (long long)cp.smem_block_optin_bytes);
    return CHECK_DONE();
#endif
}
