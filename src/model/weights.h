/* weights.h: Hugging Face safetensors checkpoints (single file or sharded with
 * model.safetensors.index.json), memory-mapped and validated before use: header length bound,
 * known dtype, offsets inside the file and non-overlapping, and against the config: exactly the
 * tensors of the model-spec table (spec.h: HF names, shapes, which are optional), no more. */
#ifndef RL_WEIGHTS_H
#define RL_WEIGHTS_H
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "config.h"

typedef enum { RL_ST_F32, RL_ST_F16, RL_ST_BF16 } rl_st_dtype;

typedef struct {
    const char *name;
    rl_st_dtype dtype;
    int ndim;
    int64_t shape[4];
    const void *data; /* points into the mapping */
    size_t nbytes;
} rl_tensor_view;

typedef struct rl_weights rl_weights;

/* Opens DIR/model.safetensors or DIR/model.safetensors.index.json (+ shards), validates every
 * tensor the config needs (names, shapes, dtypes) and returns the mapped checkpoint.
 * m may be NULL to skip the config check (headers are still validated).
 * Errors name the file and the tensor or field: "truncated file", "exceeds the 100 MB limit",
 * "dtype 'I64' is not supported", "shape mismatch", "overlapping data_offsets",
 * "run past the end of the data area", "missing tensor", "not in the model spec". */
int rl_weights_open(const char *dir, const rl_model_config *m, rl_weights **out, rl_err *err);
void rl_weights_close(rl_weights *w);

/* Looks a tensor up by HF name. */
int rl_weights_get(const rl_weights *w, const char *name, rl_tensor_view *out, rl_err *err);

/* Element conversion of a whole tensor. */
void rl_tensor_to_f32(const rl_tensor_view *t, float *dst);
void rl_tensor_to_bf16(const rl_tensor_view *t, uint16_t *dst);

/* The file (or index) the checkpoint was opened from, and its number of tensors. */
const char *rl_weights_source(const rl_weights *w);
int rl_weights_count(const rl_weights *w);

/* Bytes per element (4 or 2) and the safetensors spelling ("F32", "F16", "BF16"). */
size_t rl_st_dtype_size(rl_st_dtype d);
const char *rl_st_dtype_name(rl_st_dtype d);

/* Scalar conversions (bf16 rounding: nearest even; nan stays nan). */
float rl_bf16_to_f32(uint16_t b);
float rl_f16_to_f32(uint16_t h);
uint16_t rl_f32_to_bf16(float f);

/* Parses and validates one safetensors file already in memory (used by the fuzz target too).
 * On success *n_tensors is set; no tensor data is touched beyond bounds checks. */
int rl_safetensors_validate(const uint8_t *buf, size_t len, const char *what, int *n_tensors, rl_err *err);

#endif
