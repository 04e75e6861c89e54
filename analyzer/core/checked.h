/* checked.h — overflow-checked unsigned 64-bit arithmetic for size planning.
 *
 * Every byte and element count in qkvplan goes through these: a product that
 * does not fit is reported, never wrapped. Each returns 1 on success and 0 on
 * overflow, leaving *out unspecified on overflow.
 */
#ifndef QKV_CHECKED_H
#define QKV_CHECKED_H

#include <stdint.h>

static inline int ck_add(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_add_overflow(a, b, out);
}

static inline int ck_mul(uint64_t a, uint64_t b, uint64_t *out)
{
    return !__builtin_mul_overflow(a, b, out);
}

/* *acc += a * b */
static inline int ck_muladd(uint64_t *acc, uint64_t a, uint64_t b)
{
    uint64_t p;
    return ck_mul(a, b, &p) && ck_add(*acc, p, acc);
}

/* *acc += a * b * c */
static inline int ck_muladd3(uint64_t *acc, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t p, q;
    return ck_mul(a, b, &p) && ck_mul(p, c, &q) && ck_add(*acc, q, acc);
}

/* Round a up to a multiple of m (m > 0). */
static inline int ck_pad(uint64_t a, uint64_t m, uint64_t *out)
{
    uint64_t r = a % m;
    if (r == 0) {
        *out = a;
        return 1;
    }
    return ck_add(a, m - r, out);
}

static inline uint64_t u64_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}
static inline uint64_t u64_max(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

#endif
