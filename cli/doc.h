/* doc.h — the manual page and shell completions, generated from the same
 * option tables that drive parsing and --help (cli/options.h), so the three
 * cannot disagree.
 *
 *   qkvplan man                 roff source of qkvplan(1) on stdout
 *   qkvplan completion bash     a bash completion script
 *   qkvplan completion zsh      a zsh completion function (_qkvplan)
 *
 * `make install` writes these into share/man/man1/qkvplan.1,
 * share/bash-completion/completions/qkvplan and share/zsh/site-functions/_qkvplan.
 */
#ifndef QKV_CLI_DOC_H
#define QKV_CLI_DOC_H

#include "cli/options.h"

/* Each command's option table (defined in cli/cmd_NAME.c). */
extern const cli_option cli_plan_options[];
extern const cli_alias cli_plan_aliases[];
extern const cli_option cli_probe_options[];
extern const cli_option cli_study_options[];
extern const cli_option cli_study_paper_options[];
extern const cli_option cli_study_merge_options[];
extern const cli_option cli_generate_options[];
extern const cli_option cli_convert_options[];

int cmd_man(int argc, char **argv);
int cmd_completion(int argc, char **argv);

#endif
