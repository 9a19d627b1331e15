/* cmd_logits.c: placeholder until the logits command lands (owned by another work item). */
#include "cli.h"

int cmd_logits(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "logits: not implemented in this build yet");
}
