/* random_init.c: the seeded weight generator described in random_init.h. */
#include "random_init.h"

#include <math.h>

void rl_rand_fill(float *dst, uint64_t i0, uint64_t n, uint64_t seed, uint64_t stream, float center, float std)
{
    for (uint64_t k = 0; k < n; k++) dst[k] = rl_rand_value(seed, stream, i0 + k, center, std);
}

void rl_rand_scale(const rl_tensor_spec *t, float *center, float *std)
{
    const rl_tensor_role r = t->role;
    const int norm = r == RL_T_ATTN_NORM || r == RL_T_FFN_NORM || r == RL_T_FINAL_NORM || r == RL_T_Q_NORM ||
                     r == RL_T_K_NORM;
    *center = norm ? 1.0f : 0.0f;
    *std = t->cols > 0 ? (float)(1.0 / sqrt((double)t->cols)) : 0.1f;
}
