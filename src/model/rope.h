/* rope.h: rotary-embedding frequencies, computed as transformers computes them in fp32, so golden
 * logits match at every position: inv_freq[i] = 1 / theta^(2i / head_dim), then the llama3
 * scaling (rope_type "llama3") when the config has it; the angle of position p is the fp32 product
 * (float)p * inv_freq[i]. Both engines build their cos/sin tables from these two functions. */
#ifndef RL_ROPE_H
#define RL_ROPE_H
#include <math.h>
#include <stdint.h>

#include "config.h"

/* inv_freq[0 .. head_dim/2 - 1]. */
void rl_rope_inv_freq(const rl_model_config *m, float *inv_freq);

/* cos and sin of position pos at one inverse frequency. */
static inline void rl_rope_cos_sin(float inv_freq, int64_t pos, float *cos_out, float *sin_out)
{
    const float angle = (float)pos * inv_freq;
    *cos_out = (float)cos((double)angle);
    *sin_out = (float)sin((double)angle);
}

#endif
