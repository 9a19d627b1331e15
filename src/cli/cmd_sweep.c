/* cmd_sweep.c: placeholder until the sweep command lands (owned by another work item). */
#include "cli.h"

int cmd_sweep(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "sweep: not implemented in this build yet");
}
