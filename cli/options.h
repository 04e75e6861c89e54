/* options.h — one option table drives parsing and --help.
 *
 * A command describes its options as an array of cli_option ending with
 * {0}; entries with id 0 and a help text are section headings in --help.
 * cli_parse() walks argv with getopt_long and calls the command's handler
 * for each option; the handler validates the value and returns 0 or -1
 * (having printed the error). Defaults live in the table, are printed by
 * --help, and are applied by the handler before parsing through
 * cli_apply_defaults().
 */
#ifndef QKV_CLI_OPTIONS_H
#define QKV_CLI_OPTIONS_H

#include <stdio.h>

typedef struct {
    int id;                /* > 0; 0 marks a section heading */
    const char *long_name; /* without "--" */
    char short_name;       /* 0 for none */
    const char *arg;       /* value placeholder, NULL for a flag */
    const char *def;       /* default as text, NULL for none */
    const char *help;
} cli_option;

typedef int (*cli_handler)(void *state, int id, const char *name, const char *value);

/* Another spelling of option id, e.g. an engine's own: "-np" or "--parallel"
 * (a single dash with several letters is matched as a whole word, as
 * llama.cpp's own parser does). A table of aliases ends with {NULL, 0}. */
typedef struct {
    const char *spelling; /* with its dashes */
    int id;
} cli_alias;

/* cli_parse with aliases (may be NULL). */
int cli_parse_aliases(const cli_option *table, const cli_alias *aliases, int argc, char **argv,
                      cli_handler h, void *state);

/* cli_print_options, naming each option's aliases after its help. */
void cli_print_options_aliases(FILE *f, const cli_option *table, const cli_alias *aliases);

/* Parse argv[first..]; returns 0, or -1 after printing an error. Positional
 * arguments are rejected. */
int cli_parse(const cli_option *table, int argc, char **argv, cli_handler h, void *state);

/* The arguments that are not options (model files, IN and OUT), wherever
 * they stand among the options ("--" ends the options), in order. */
#define CLI_POSITIONAL_MAX 4096
typedef struct {
    const char *arg[CLI_POSITIONAL_MAX];
    int n;   /* how many were given */
    int max; /* how many the command takes (set by the caller); more are an error */
} cli_positional;

/* cli_parse that collects up to pos->max positional arguments into pos. */
int cli_parse_positional(const cli_option *table, int argc, char **argv, cli_handler h, void *state,
                         cli_positional *pos);

/* Call h with every option's default value (entries with a def and an arg). */
int cli_apply_defaults(const cli_option *table, cli_handler h, void *state);

/* Print the option list, wrapped, with defaults. */
void cli_print_options(FILE *f, const cli_option *table);

#endif
