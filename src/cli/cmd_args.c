/* cmd_args.c: the argument rules every subcommand shares, so one value means one thing everywhere
 * (--seed, --threads) and a write error on stdout is never an exit 0. Not a subcommand: the name
 * follows the CMake glob for CLI sources (src/cli/cmd_*.c). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "cli.h"

int cli_parse_seed(const char *arg, uint64_t *seed, rl_err *err)
{
    int64_t v;
    if (rl_parse_i64(arg, 0, INT64_MAX, "--seed", &v, err)) return -1;
    *seed = (uint64_t)v;
    return 0;
}

int cli_parse_threads(const char *arg, int *threads, rl_err *err)
{
    int64_t v;
    if (rl_parse_i64(arg, 0, CLI_MAX_THREADS, "--threads", &v, err)) return -1;
    *threads = (int)v;
    return 0;
}

int cli_finish_stdout(const char *command, int status)
{
    errno = 0;
    int flushed = fflush(stdout) == 0;
    if (flushed && !ferror(stdout)) return status;
    const char *why = !flushed && errno ? strerror(errno) : "a write failed earlier";
    cli_error(1, "%s: writing to stdout failed: %s (disk full, or a closed pipe?); the output is incomplete", command,
              why);
    return status ? status : 1;
}
