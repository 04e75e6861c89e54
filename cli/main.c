/* qkvplan — memory planning for attention variants. main parses the command
 * name and dispatches; each command lives in its own file. */
#include <stdio.h>
#include <string.h>

#include "reports/outfile.h"
#include "cli/cli.h"
#include "cli/doc.h"

int main(int argc, char **argv)
{
    outfile_install_signal_cleanup();
    if (argc > 1 && argv[1][0] != '-') {
        const char *cmd = argv[1];
        if (strcmp(cmd, "plan") == 0)
            return cmd_plan(argc - 1, argv + 1);
        if (strcmp(cmd, "models") == 0)
            return cmd_models(argc - 1, argv + 1);
        if (strcmp(cmd, "devices") == 0)
            return cmd_devices(argc - 1, argv + 1);
        if (strcmp(cmd, "probe") == 0)
            return cmd_probe(argc - 1, argv + 1);
        if (strcmp(cmd, "study") == 0)
            return cmd_study(argc - 1, argv + 1);
        if (strcmp(cmd, "convert") == 0)
            return cmd_convert(argc - 1, argv + 1);
        if (strcmp(cmd, "generate") == 0)
            return cmd_generate(argc - 1, argv + 1);
        if (strcmp(cmd, "man") == 0)
            return cmd_man(argc - 1, argv + 1);
        if (strcmp(cmd, "completion") == 0)
            return cmd_completion(argc - 1, argv + 1);
        if (strcmp(cmd, "help") == 0) {
            static char help_flag[] = "--help";
            char *help[] = {argv[0], help_flag, NULL};
            return cmd_plan(2, help);
        }
        cli_error("unknown command '%s' (plan, probe, generate, study, convert, models, devices, "
                  "man, completion, help)",
                  cmd);
        return EXIT_USAGE;
    }
    return cmd_plan(argc, argv);
}
