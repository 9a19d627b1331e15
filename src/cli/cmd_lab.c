/* cmd_lab.c: placeholder until the lab command lands (owned by another work item). */
#include "cli.h"

int cmd_lab(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "lab: not implemented in this build yet");
}
