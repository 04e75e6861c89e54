#include "cli/lists.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

long cli_split_list(const char *option, const char *list, char *buf, size_t buf_bytes, char **items,
                    size_t max)
{
    const size_t len = strlen(list);
    if (len >= buf_bytes) {
        cli_error("--%s: the list is %zu bytes long; at most %zu are read", option, len,
                  buf_bytes - 1);
        return -1;
    }
    memcpy(buf, list, len + 1);
    size_t n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (n == max) {
            cli_error("--%s: the list has more than %zu entries", option, max);
            return -1;
        }
        items[n++] = tok;
    }
    return (long)n;
}

int cli_parse_tokens(const char *list, int vocab, int min, int max, int *out, int *n)
{
    *n = 0;
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        if (!*p)
            break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ' ' && *end != ',' && *end != '\t')) {
            cli_error("--tokens: '%.*s' is not a token id", (int)strcspn(p, " ,\t"), p);
            return -1;
        }
        if (v < 0 || v >= vocab) {
            cli_error("--tokens: token %ld is outside the vocabulary 0..%d", v, vocab - 1);
            return -1;
        }
        if (*n >= max) {
            cli_error("--tokens: more than %d tokens", max);
            return -1;
        }
        out[(*n)++] = (int)v;
        p = end;
    }
    if (*n < min) {
        if (min == 1)
            cli_error("--tokens: give at least one token id");
        else
            cli_error("--tokens: probing needs at least %d tokens", min);
        return -1;
    }
    return 0;
}
