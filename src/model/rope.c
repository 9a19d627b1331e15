/* rope.c: RoPE inverse frequencies (rope.h). */
#include "rope.h"

void rl_rope_inv_freq(const rl_model_config *m, float *inv_freq)
{
    const int64_t half = m->head_dim / 2;
    for (int64_t i = 0; i < half; i++) {
        float inv = 1.0f / powf((float)m->rope_theta, (float)(2 * i) / (float)m->head_dim);
        if (m->rope_llama3) {
            /* _compute_llama3_parameters: long wavelengths divided by factor, short ones kept,
             * a smooth blend in between. */
            const float factor = (float)m->rope_factor, lo = (float)m->rope_low_freq_factor;
            const float hi = (float)m->rope_high_freq_factor, old_ctx = (float)m->rope_original_max_positions;
            const float low_freq_wavelen = old_ctx / lo, high_freq_wavelen = old_ctx / hi;
            const float wavelen = (float)(2.0 * M_PI) / inv;
            const float scaled = wavelen > low_freq_wavelen ? inv / factor : inv;
            const float smooth = (old_ctx / wavelen - lo) / (hi - lo);
            const float blended = (1.0f - smooth) * scaled / factor + smooth * scaled;
            const int medium = !(wavelen < high_freq_wavelen) && !(wavelen > low_freq_wavelen);
            inv = medium ? blended : scaled;
        }
        inv_freq[i] = inv;
    }
}
