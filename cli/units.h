/* units.h — parsing of sizes, token counts and counts given on the command line.
 *
 * Sizes follow the memory convention: K, M, G, T, P with or without "B" or
 * "iB" all mean powers of 1024 ("8GB" = "8GiB" = 8 x 2^30 bytes); a bare
 * number is bytes. A fractional value ("1.5GB") is allowed with a unit and
 * rounded down to whole bytes.
 * Token counts take k (x 1024), M (x 2^20) or G (x 2^30): "32k" = 32768.
 *
 * Each parser returns 0 and the value, or -1 with a reason in why
 * ("unknown unit 'XB'"); it never clamps. All are locale-independent.
 */
#ifndef QKV_UNITS_H
#define QKV_UNITS_H

#include <stddef.h>
#include <stdint.h>

int units_parse_size(const char *s, uint64_t *bytes, char *why, size_t why_bytes);
int units_parse_tokens(const char *s, uint64_t *tokens, char *why, size_t why_bytes);
/* A whole number in [lo, hi]. */
int units_parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why,
                      size_t why_bytes);

/* A shard "I/N" (1 <= I <= N <= 4096): *index gets I - 1, *count N. */
#define UNITS_SHARDS_MAX 4096
int units_parse_shard(const char *s, int *index, int *count, char *why, size_t why_bytes);

#endif
