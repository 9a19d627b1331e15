/* cmd_probe.c: placeholder until the probe command lands (owned by another work item). */
#include "cli.h"

int cmd_probe(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "probe: not implemented in this build yet");
}
