/* lists.h — option lists (--share, --kv-heads, --tasks, --variants,
 * --tokens), read whole or refused: never silently cut. */
#ifndef QKV_CLI_LISTS_H
#define QKV_CLI_LISTS_H

#include <stddef.h>

/* Copy list into buf (buf_bytes) and split it at commas into items (empty
 * entries skipped). Returns the count, or -1 after printing an error that
 * names --option when the list does not fit buf or has more than max
 * entries. */
long cli_split_list(const char *option, const char *list, char *buf, size_t buf_bytes, char **items,
                    size_t max);

/* Token ids of --tokens: "1 461, 7" (spaces, tabs or commas between). Each
 * must be a whole number below vocab; at least min and at most max of them.
 * Returns 0 with the ids in out[0..*n), or -1 after printing an error. */
int cli_parse_tokens(const char *list, int vocab, int min, int max, int *out, int *n);

#endif
