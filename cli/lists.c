#include "cli/lists.h"

#include <stdio.h>
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
