/* cli.h: one function per subcommand; main.c dispatches. Each returns the process exit status
 * (0 ok, 1 runtime failure, 2 bad usage) and prints one-line errors to stderr. */
#ifndef RL_CLI_H
#define RL_CLI_H

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

/* Standard handling of a subcommand's --help: prints usage to stdout and returns 1 if argv asks for it. */
int cli_wants_help(int argc, char **argv, const char *usage);

#endif
