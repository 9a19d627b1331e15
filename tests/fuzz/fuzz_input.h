/* fuzz_input.h: the report's loaders read files by path (through rl_open_regular and its size
 * checks, which are part of what is tested), so a fuzz input is written to one temporary file per
 * process first. */
#ifndef RL_FUZZ_INPUT_H
#define RL_FUZZ_INPUT_H
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_path[64];

static void fuzz_unlink(void) { unlink(fuzz_path); }

/* Writes the input to the process's temporary file and returns its path (aborts on I/O errors:
 * those are the harness's, not the parser's). */
static const char *fuzz_input_file(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        strcpy(fuzz_path, "/tmp/rl_fuzz_input.XXXXXX");
        fd = mkstemp(fuzz_path);
        if (fd < 0) abort();
        atexit(fuzz_unlink);
    }
    if (ftruncate(fd, 0) != 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size)) abort();
    return fuzz_path;
}

#endif
