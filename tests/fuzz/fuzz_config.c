/* fuzz_config.c: libFuzzer target for Hugging Face config.json parsing (both rope spellings).
 * Accepted configs must satisfy the geometry invariants the engines and the cost model rely on. */
#include <stdint.h>
#include <string.h>

#include "model/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_model_config m;
    rl_err err;
    err.msg[0] = 0;
    if (rl_model_from_config_text((const char *)data, size, "fuzz/config.json", &m, &err) != 0) {
        if (!strstr(err.msg, "fuzz/config.json")) __builtin_trap();
        return 0;
    }
    if (rl_model_validate(&m, "fuzz", &err) != 0) __builtin_trap();
    if (m.heads % m.kv_heads != 0 || m.head_dim % 2 != 0 || m.vocab <= 0) __builtin_trap();
    /* The counts must not overflow for anything the validator lets through. */
    if (rl_model_param_count(&m) <= 0 || rl_model_kv_bytes_per_token(&m, 2) <= 0) __builtin_trap();
    return 0;
}
