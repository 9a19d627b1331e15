/* cmd_report.c: placeholder until the report command lands (owned by another work item). */
#include "cli.h"

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return cli_error(1, "report: not implemented in this build yet");
}
