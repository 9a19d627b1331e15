/* fuzz_safetensors.c: libFuzzer target for the safetensors header parser and validator.
 * Any input must be accepted or refused with a message, never crash, leak or read out of bounds
 * (built with -fsanitize=fuzzer,address,undefined by tests/fuzz/run.sh). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "model/weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rl_err err;
    err.msg[0] = 0;
    int n = -1;
    int rc = rl_safetensors_validate(data, size, "fuzz.safetensors", &n, &err);
    /* Refusals always say something, and name the input; acceptances count their tensors. */
    if (rc != 0 && (strlen(err.msg) == 0 || !strstr(err.msg, "fuzz.safetensors"))) __builtin_trap();
    if (rc == 0 && n < 0) __builtin_trap();
    return 0;
}
