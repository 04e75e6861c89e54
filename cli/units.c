#include "cli/units.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WHY(...) (snprintf(why, why_bytes, __VA_ARGS__), -1)

/* Leading digits of s as an unsigned integer; *end after them. */
static int parse_digits(const char *s, uint64_t *v, const char **end, char *why, size_t why_bytes)
{
    if (*s == '-')
        return WHY("must not be negative");
    if (!isdigit((unsigned char)*s))
        return WHY("is not a number");
    errno = 0;
    char *e;
    unsigned long long x = strtoull(s, &e, 10);
    if (errno == ERANGE)
        return WHY("is too large");
    *v = x;
    *end = e;
    return 0;
}

static int shift_for_unit(const char *u, int *shift)
{
    static const char letters[] = "KMGTP";
    if (*u == '\0') {
        *shift = 0;
        return 0;
    }
    if (strcasecmp(u, "B") == 0) {
        *shift = 0;
        return 0;
    }
    const char *p = strchr(letters, toupper((unsigned char)u[0]));
    if (!p || u[0] == '\0')
        return -1;
    const char *rest = u + 1;
    if (*rest != '\0' && strcasecmp(rest, "B") != 0 && strcasecmp(rest, "iB") != 0)
        return -1;
    *shift = 10 * (int)(p - letters + 1);
    return 0;
}

int units_parse_size(const char *s, uint64_t *bytes, char *why, size_t why_bytes)
{
    uint64_t whole;
    const char *end;
    if (parse_digits(s, &whole, &end, why, why_bytes) != 0)
        return -1;
    double frac = 0.0;
    const char *unit = end;
    if (*end == '.') {
        const char *q = end + 1;
        if (!isdigit((unsigned char)*q))
            return WHY("is not a number");
        while (isdigit((unsigned char)*q))
            q++;
        char tmp[64];
        size_t n = (size_t)(q - end);
        if (n + 2 > sizeof tmp) /* '0', the n characters, the NUL */
            return WHY("has too many decimals");
        tmp[0] = '0';
        memcpy(tmp + 1, end, n);
        tmp[n + 1] = '\0';
        frac = strtod(tmp, NULL);
        unit = q;
    }
    int shift;
    if (shift_for_unit(unit, &shift) != 0)
        return WHY("has an unknown unit '%s' (use B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB)",
                   unit);
    if (shift == 0 && frac != 0.0)
        return WHY("is a fraction of a byte");
    if (shift > 0 && whole > (UINT64_MAX >> shift))
        return WHY("is too large");
    uint64_t v = whole << shift;
    uint64_t extra = (uint64_t)floor(frac * ldexp(1.0, shift));
    if (v > UINT64_MAX - extra)
        return WHY("is too large");
    *bytes = v + extra;
    return 0;
}

int units_parse_tokens(const char *s, uint64_t *tokens, char *why, size_t why_bytes)
{
    uint64_t v;
    const char *end;
    if (parse_digits(s, &v, &end, why, why_bytes) != 0)
        return -1;
    int shift = 0;
    if (*end != '\0') {
        switch (*end) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        default:
            return WHY("has an unknown suffix '%s' (use k, M or G: 32k = 32768)", end);
        }
        if (end[1] != '\0')
            return WHY("has an unknown suffix '%s' (use k, M or G: 32k = 32768)", end);
    }
    if (shift > 0 && v > (UINT64_MAX >> shift))
        return WHY("is too large");
    *tokens = v << shift;
    return 0;
}

int units_parse_count(const char *s, uint64_t lo, uint64_t hi, uint64_t *out, char *why,
                      size_t why_bytes)
{
    uint64_t v;
    const char *end;
    if (parse_digits(s, &v, &end, why, why_bytes) != 0)
        return -1;
    if (*end != '\0')
        return WHY("is not a whole number");
    if (v < lo || v > hi)
        return WHY("must be %" PRIu64 " to %" PRIu64, lo, hi);
    *out = v;
    return 0;
}

int units_parse_shard(const char *s, int *index, int *count, char *why, size_t why_bytes)
{
    const char *slash = strchr(s, '/');
    char head[24];
    uint64_t i, n;
    if (!slash || (size_t)(slash - s) >= sizeof head)
        return WHY("write I/N with 1 <= I <= N <= %d", UNITS_SHARDS_MAX);
    memcpy(head, s, (size_t)(slash - s));
    head[slash - s] = '\0';
    if (units_parse_count(slash + 1, 1, UNITS_SHARDS_MAX, &n, why, why_bytes) != 0 ||
        units_parse_count(head, 1, n, &i, why, why_bytes) != 0)
        return WHY("write I/N with 1 <= I <= N <= %d", UNITS_SHARDS_MAX);
    *index = (int)i - 1;
    *count = (int)n;
    return 0;
}
