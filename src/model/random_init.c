/* random_init.c: the seeded weight generator described in random_init.h. */
#include "random_init.h"

#include <math.h>

void rl_rand_fill(float *dst, uint64_t i0, uint64_t n, uint64_t seed, uint64_t stream, float center, float std)
{
    for (uint64_t k = 0; k < n; k++) dst[k] = rl_rand_value(seed, stream, i0 + k, center, std);
}

void rl_rand_scale(const rl_model_config *m, rl_rand_kind kind, float *center, float *std)
{
    int64_t fan_in = m->hidden; /* q, k, v, gate, up, lm_head, embedding read the hidden state */
    if (kind == RL_RAND_WO) fan_in = m->heads * m->head_dim;
    if (kind == RL_RAND_W_DOWN) fan_in = m->intermediate;
    *center = 0.0f;
    *std = (float)(1.0 / sqrt((double)fan_in));
    if (kind == RL_RAND_ATTN_NORM || kind == RL_RAND_FFN_NORM || kind == RL_RAND_FINAL_NORM) {
        *center = 1.0f;
        *std = 0.1f;
    }
}
