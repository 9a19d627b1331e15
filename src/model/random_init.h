/* random_init.h: seeded, deterministic random weights for runs without a checkpoint.
 *
 * Counter-based, so any backend (the CPU in fp32, the GPU in bf16) can produce element i of any
 * tensor on its own, in any order and in parallel, and both scale alike:
 *   stream = rl_rand_stream(layer, role)            one stream per tensor
 *   bits   = splitmix64(splitmix64(seed ^ stream * 0x9E3779B97F4A7C15) + i)
 *   u1     = (bits >> 40) * 2^-24,  u2 = ((bits >> 16) & 0xFFFFFF) * 2^-24     two uniforms in [0, 1)
 *   value  = center + std * sqrt(6) * (u1 + u2 - 1)                             triangular: bounded,
 *                                                                               normal-ish, exact std
 * Scales (rl_rand_scale), from the tensor's entry in the model-spec table, chosen so activations
 * stay near unit size through every layer:
 *   matrices [out, in] (q, k, v, o, gate, up, down, router, experts, lm_head): center 0, std 1/sqrt(in)
 *   embedding [vocab, hidden]: center 0, std 1/sqrt(hidden) (tied models read it as lm_head too)
 *   RMSNorm weights (layer norms, q/k norms): center 1, std 0.1 (not all ones, so a forward that
 *   skips the weight multiply gives different logits)
 *   biases: center 0, std 0.1. */
#ifndef RL_RANDOM_INIT_H
#define RL_RANDOM_INIT_H
#include <stdint.h>

#include "spec.h"

/* Stream id of a tensor: layer -1 for the embedding, final norm and lm_head. */
static inline uint64_t rl_rand_stream(int64_t layer, rl_tensor_role role)
{
    return (uint64_t)(layer + 1) << 8 | (uint64_t)role;
}

static inline uint64_t rl_splitmix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

/* Element i of a stream. */
static inline float rl_rand_value(uint64_t seed, uint64_t stream, uint64_t i, float center, float std)
{
    uint64_t bits = rl_splitmix64(rl_splitmix64(seed ^ stream * 0x9E3779B97F4A7C15ull) + i);
    float u1 = (float)(bits >> 40) * 5.9604644775390625e-8f;
    float u2 = (float)((bits >> 16) & 0xFFFFFFu) * 5.9604644775390625e-8f;
    return center + std * 2.449489742783178f * (u1 + u2 - 1.0f);
}

/* dst[k] = element i0 + k of the stream, k < n (ranges let callers split a tensor across threads). */
void rl_rand_fill(float *dst, uint64_t i0, uint64_t n, uint64_t seed, uint64_t stream, float center, float std);

/* center and std of tensor t (see the table above). */
void rl_rand_scale(const rl_tensor_spec *t, float *center, float *std);

#endif
