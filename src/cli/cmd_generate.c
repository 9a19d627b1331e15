/* cmd_generate.c: placeholder until the generate command lands (owned by another work item). */
#include "cli.h"

int cmd_generate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "generate: not implemented in this build yet");
}
