/* cli.h: one function per subcommand; main.c dispatches. Each returns the process exit status
 * (0 ok, 1 runtime failure, 2 bad usage) and prints one-line errors to stderr. */
#ifndef RL_CLI_H
#define RL_CLI_H
#include <stdint.h>

#include "../common/err.h"

int cmd_gpus(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_lab(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_step(int argc, char **argv);
int cmd_ncu_check(int argc, char **argv);

/* Prints "ridgeline: <msg>" to stderr and returns status. */
int cli_error(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints a cJSON value to stdout (pretty, one trailing newline); prints nothing when it cannot
 * serialise (out of memory) and returns 1 then. Does not free the value. */
struct cJSON;
int cli_print_json(const struct cJSON *v);

/* --seed S: any integer 0..2^63-1, used as given (0 is a seed like any other); every command that
 * makes random weights defaults to CLI_SEED_DEFAULT, so `logits --model tiny` sees the weights
 * `lab --model tiny` measured. --threads N: 0..CLI_MAX_THREADS, 0 (the default) = every core. */
#define CLI_SEED_DEFAULT 1
#define CLI_MAX_THREADS 1024
/* Their --help lines; PAD is the spaces that align the text with the command's other options. */
#define CLI_HELP_SEED(PAD) "  --seed S" PAD "random-weight seed, 0..2^63-1 (default 1, as in every command)\n"
#define CLI_HELP_THREADS(PAD) "  --threads N" PAD "cpu threads; 0 (the default) = every core, as in every command\n"
int cli_parse_seed(const char *arg, uint64_t *seed, rl_err *err);
int cli_parse_threads(const char *arg, int *threads, rl_err *err);

/* Flushes stdout; a failed write anywhere in the command's output (a full disk, /dev/full) turns
 * status 0 into 1 with a one-line message. main() calls it after every command. */
int cli_finish_stdout(const char *command, int status);

/* Standard handling of a subcommand's --help: prints usage to stdout and returns 1 if argv asks for it. */
int cli_wants_help(int argc, char **argv, const char *usage);

#endif
