#define _GNU_SOURCE /* getopt_long */
#include "cli/options.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/term.h"
#include "reports/textwrap.h"

#define MAX_OPTS 96

static int parse(const cli_option *table, int argc, char **argv, cli_handler h, void *state,
                 cli_positional *pos);

static const cli_option *option_of(const cli_option *table, int id)
{
    for (const cli_option *o = table; o->id || o->help; o++)
        if (o->id == id)
            return o;
    return NULL;
}

int cli_parse(const cli_option *table, int argc, char **argv, cli_handler h, void *state)
{
    return cli_parse_aliases(table, NULL, argc, argv, h, state);
}

int cli_parse_positional(const cli_option *table, int argc, char **argv, cli_handler h, void *state,
                         cli_positional *pos)
{
    pos->n = 0;
    return parse(table, argc, argv, h, state, pos);
}

/* argv with every single-dash alias word ("-np") rewritten to its option's
 * long name, and "--" aliases to theirs; NULL when out of memory. The
 * strings are argv's or the rewritten words in buf[i], so only the array is
 * freed. */
static char **rewrite_aliases(const cli_option *table, const cli_alias *aliases, int argc,
                              char **argv, char (*buf)[72])
{
    char **out = calloc((size_t)argc + 1, sizeof *out);
    if (!out)
        return NULL;
    for (int i = 0; i < argc; i++) {
        out[i] = argv[i];
        for (const cli_alias *a = aliases; i > 0 && a && a->spelling; a++) {
            const size_t n = strlen(a->spelling);
            if (strncmp(argv[i], a->spelling, n) != 0 || (argv[i][n] != '\0' && argv[i][n] != '='))
                continue;
            const cli_option *o = option_of(table, a->id);
            if (!o)
                continue;
            snprintf(buf[i], sizeof buf[i], "--%s", o->long_name);
            if (argv[i][n] == '=') {
                /* keep "=value": point into argv for the value */
                size_t used = strlen(buf[i]);
                snprintf(buf[i] + used, sizeof buf[i] - used, "=");
                used++;
                if (strlen(argv[i] + n + 1) >= sizeof buf[i] - used)
                    break; /* too long to rewrite: left as typed, reported as unknown */
                snprintf(buf[i] + used, sizeof buf[i] - used, "%s", argv[i] + n + 1);
            }
            out[i] = buf[i];
            break;
        }
    }
    return out;
}

/* The rewritten words. Handlers keep pointers to option values, and a value
 * can be one of these words (an alias's "=value", or an alias spelling given
 * as another option's value), so they outlive the parse: they are kept until
 * the next call. */
static char (*alias_words)[72];
static size_t alias_words_n;

int cli_parse_aliases(const cli_option *table, const cli_alias *aliases, int argc, char **argv,
                      cli_handler h, void *state)
{
    char **av = NULL;
    if (aliases) {
        if ((size_t)argc + 1 > alias_words_n) {
            void *p = realloc(alias_words, ((size_t)argc + 1) * sizeof *alias_words);
            if (!p) {
                cli_error("out of memory");
                return -1;
            }
            alias_words = p;
            alias_words_n = (size_t)argc + 1;
        }
        if (!(av = rewrite_aliases(table, aliases, argc, argv, alias_words))) {
            cli_error("out of memory");
            return -1;
        }
    }
    int rc = parse(table, argc, av ? av : argv, h, state, NULL);
    free(av);
    return rc;
}

static int parse(const cli_option *table, int argc, char **argv, cli_handler h, void *state,
                 cli_positional *pos)
{
    struct option longs[MAX_OPTS + 1];
    char shorts[2 * MAX_OPTS + 2];
    size_t n = 0, ns = 0;
    shorts[ns++] = ':'; /* report missing values ourselves */
    for (const cli_option *o = table; o->id || o->help; o++) {
        if (o->id == 0)
            continue;
        if (n >= MAX_OPTS)
            abort(); /* a table larger than MAX_OPTS is a programming error */
        longs[n].name = o->long_name;
        longs[n].has_arg = o->arg ? required_argument : no_argument;
        longs[n].flag = NULL;
        longs[n].val = 1000 + o->id;
        n++;
        if (o->short_name) {
            shorts[ns++] = o->short_name;
            if (o->arg)
                shorts[ns++] = ':';
        }
    }
    memset(&longs[n], 0, sizeof longs[n]);
    shorts[ns] = '\0';

    optind = 0; /* glibc: 0 re-initialises getopt fully, so commands can parse again */
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, shorts, longs, NULL);
        if (c == -1)
            break;
        if (c == '?') {
            if (optopt)
                cli_error("unknown option '-%c' (see --help)", optopt);
            else
                cli_error("unknown option '%s' (see --help)", argv[optind - 1]);
            return -1;
        }
        if (c == ':') {
            cli_error("option '%s' needs a value (see --help)", argv[optind - 1]);
            return -1;
        }
        const cli_option *hit = NULL;
        for (const cli_option *o = table; o->id || o->help; o++) {
            if (o->id && (c == 1000 + o->id || (o->short_name && c == o->short_name))) {
                hit = o;
                break;
            }
        }
        if (!hit) {
            cli_error("unknown option '%s' (see --help)", argv[optind - 1]);
            return -1;
        }
        if (h(state, hit->id, hit->long_name, optarg) != 0)
            return -1;
    }
    /* getopt_long has moved the arguments that are not options to the end */
    for (; optind < argc; optind++) {
        if (!pos || pos->n >= pos->max || pos->n >= CLI_POSITIONAL_MAX) {
            cli_error("unexpected argument '%s' (see --help)", argv[optind]);
            return -1;
        }
        pos->arg[pos->n++] = argv[optind];
    }
    return 0;
}

int cli_apply_defaults(const cli_option *table, cli_handler h, void *state)
{
    for (const cli_option *o = table; o->id || o->help; o++)
        if (o->id && o->arg && o->def && h(state, o->id, o->long_name, o->def) != 0)
            return -1;
    return 0;
}

/* Print text wrapped at width, each continuation line indented by indent.
 * A word wider than a line (a default list) is broken after its commas. */
static void wrap(FILE *f, const char *text, size_t col, size_t indent, size_t width)
{
    const char *p = text;
    bool glued = false; /* continuing a word broken after a comma: no space */
    while (*p) {
        const char *w = p;
        while (*w && *w != ' ')
            w++;
        size_t len = (size_t)(w - p);
        if (len > width - indent) {
            /* the longest piece up to a comma that fits the rest of this line,
             * else of a fresh line */
            size_t room = col + (glued ? 0 : 1) < width ? width - col - (glued ? 0 : 1) : 0;
            size_t cut = 0;
            for (size_t k = 0; k < len; k++)
                if (p[k] == ',' && k + 1 <= room)
                    cut = k + 1;
            if (cut == 0)
                for (size_t k = 0; k < len; k++)
                    if (p[k] == ',' && k + 1 <= width - indent)
                        cut = k + 1;
            if (cut > 0)
                len = cut, w = p + cut;
        }
        if (col + len + (glued ? 0 : 1) > width && col > indent) {
            fprintf(f, "\n%*s", (int)indent, "");
            col = indent;
        } else if (col > indent && !glued) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, len, f);
        col += len;
        glued = *w && *w != ' ';
        p = w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', f);
}

void cli_print_options(FILE *f, const cli_option *table)
{
    cli_print_options_aliases(f, table, NULL);
}

void cli_print_options_aliases(FILE *f, const cli_option *table, const cli_alias *aliases)
{
    /* fitted to COLUMNS or the terminal (80 in a pipe); narrow screens get
     * the help under each option rather than a column of a few letters */
    const size_t width = cli_term_width(fileno(f)), indent = width >= 72 ? 28 : 8;
    for (const cli_option *o = table; o->id || o->help; o++) {
        if (o->id == 0) {
            fputc('\n', f);
            report_wrap(f, o->help, width, 2);
            continue;
        }
        char head[64];
        if (o->short_name)
            snprintf(head, sizeof head, "  -%c, --%s%s%s", o->short_name, o->long_name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(head, sizeof head, "      --%s%s%s", o->long_name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        size_t col = strlen(head);
        fputs(head, f);
        if (col + 2 > indent) {
            fprintf(f, "\n%*s", (int)indent, "");
        } else {
            fprintf(f, "%*s", (int)(indent - col), "");
        }
        char text[1024], also[160] = "";
        size_t used = 0;
        for (const cli_alias *a = aliases; a && a->spelling; a++) {
            if (a->id != o->id)
                continue;
            int k = snprintf(also + used, sizeof also - used, "%s%s", used ? ", " : " (also ",
                             a->spelling);
            if (k > 0 && (size_t)k < sizeof also - used)
                used += (size_t)k;
        }
        if (used)
            snprintf(also + used, sizeof also - used, ")");
        if (o->def)
            snprintf(text, sizeof text, "%s%s [default: %s]", o->help, also, o->def);
        else
            snprintf(text, sizeof text, "%s%s", o->help, also);
        wrap(f, text, indent, indent, width);
    }
}
