#define _DEFAULT_SOURCE /* madvise MADV_DONTNEED */
#include "analyzer/formats/tensorfile.h"
#include "analyzer/core/infile.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ggml block layouts (llama.cpp ggml-common.h): QK8_0 = QK4_0 = 32,
 * QK_K = 256. Q8_0: f16 d, 32 x i8. Q4_0: f16 d, 16 bytes of nibbles
 * (element j in the low nibble of byte j, element j+16 in its high nibble),
 * value (q − 8)·d. Q4_K: f16 d, f16 dmin, 12 bytes of 6-bit scales and mins
 * for 8 sub-blocks of 32, 128 bytes of nibbles. Q6_K: 128 bytes low 4 bits,
 * 64 bytes high 2 bits, 16 i8 scales, f16 d. */
uint32_t tf_block_elems(tf_type t)
{
    switch (t) {
    case TF_Q8_0:
    case TF_Q4_0:
        return 32;
    case TF_Q4_K:
    case TF_Q6_K:
        return 256;
    default:
        return 1;
    }
}

static uint32_t block_bytes(tf_type t)
{
    switch (t) {
    case TF_F32:
        return 4;
    case TF_F16:
    case TF_BF16:
        return 2;
    case TF_Q8_0:
        return 34;
    case TF_Q4_0:
        return 18;
    case TF_Q4_K:
        return 144;
    case TF_Q6_K:
        return 210;
    default:
        return 0;
    }
}

uint64_t tf_row_bytes(tf_type t, uint64_t n)
{
    uint32_t be = tf_block_elems(t), bb = block_bytes(t);
    if (bb == 0 || n % be != 0 || n / be > UINT64_MAX / bb)
        return 0;
    return n / be * bb;
}

const char *tf_type_name(tf_type t)
{
    static const char *const names[] = {"F32",  "F16",  "BF16", "Q8_0",
                                        "Q4_0", "Q4_K", "Q6_K", "unsupported"};
    return names[t];
}

float tf_f16_to_f32(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h >> 15), exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)man, -24);
    else if (exp == 31)
        v = man ? NAN : INFINITY;
    else
        v = ldexpf((float)(man | 0x400), (int)exp - 25);
    return sign ? -v : v;
}

uint16_t tf_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000;
    uint32_t abs = x & 0x7fffffff;
    if (abs >= 0x7f800000) /* inf or nan */
        return (uint16_t)(sign | 0x7c00 | (abs > 0x7f800000 ? 0x200 : 0));
    if (abs >= 0x477ff000) /* rounds to >= 65520: overflow to inf */
        return (uint16_t)(sign | 0x7c00);
    if (abs < 0x38800000) { /* subnormal half (or zero) */
        float a;
        memcpy(&a, &abs, 4);
        /* a * 2^24 rounded to nearest even integer = the subnormal mantissa */
        float m = a * 16777216.0f;
        uint32_t mi = (uint32_t)m;
        float frac = m - (float)mi;
        if (frac > 0.5f || (frac == 0.5f && (mi & 1)))
            mi++;
        return (uint16_t)(sign | mi);
    }
    /* normal: rebias exponent, round mantissa to 10 bits, nearest even */
    uint32_t v = abs - 0x38000000; /* exponent bias 127 -> 15 */
    uint32_t round = 0x0fff + ((v >> 13) & 1);
    v += round;
    return (uint16_t)(sign | (v >> 13));
}

float tf_bf16_to_f32(uint16_t h)
{
    uint32_t x = (uint32_t)h << 16;
    float f;
    memcpy(&f, &x, 4);
    return f;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static void get_scale_min_k4(int j, const unsigned char *q, unsigned char *d, unsigned char *m)
{
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (unsigned char)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (unsigned char)((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
    }
}

static void from_f32(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)src[4 * i] | (uint32_t)src[4 * i + 1] << 8 |
                     (uint32_t)src[4 * i + 2] << 16 | (uint32_t)src[4 * i + 3] << 24;
        memcpy(&dst[i], &x, 4);
    }
}

static void from_f16(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = tf_f16_to_f32(le16(src + 2 * i));
}

static void from_bf16(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        dst[i] = tf_bf16_to_f32(le16(src + 2 * i));
}

static void from_q8_0(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t b = 0; b < n / 32; b++) {
        const unsigned char *blk = src + b * 34;
        const float d = tf_f16_to_f32(le16(blk));
        for (int j = 0; j < 32; j++)
            dst[b * 32 + j] = d * (float)(int8_t)blk[2 + j];
    }
}

static void from_q4_0(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t b = 0; b < n / 32; b++) {
        const unsigned char *blk = src + b * 18;
        const float d = tf_f16_to_f32(le16(blk));
        for (int j = 0; j < 16; j++) {
            dst[b * 32 + j] = d * (float)((blk[2 + j] & 0x0F) - 8);
            dst[b * 32 + j + 16] = d * (float)((blk[2 + j] >> 4) - 8);
        }
    }
}

static void from_q4_k(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t b = 0; b < n / 256; b++) {
        const unsigned char *blk = src + b * 144;
        const float d = tf_f16_to_f32(le16(blk)), dmin = tf_f16_to_f32(le16(blk + 2));
        const unsigned char *scales = blk + 4, *q = blk + 16;
        float *y = dst + b * 256;
        for (int j = 0, is = 0; j < 256; j += 64, is += 2) {
            unsigned char sc, m;
            get_scale_min_k4(is, scales, &sc, &m);
            const float d1 = d * sc, m1 = dmin * m;
            get_scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc, m2 = dmin * m;
            for (int l = 0; l < 32; l++)
                *y++ = d1 * (float)(q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++)
                *y++ = d2 * (float)(q[l] >> 4) - m2;
            q += 32;
        }
    }
}

static void from_q6_k(const unsigned char *src, float *dst, uint64_t n)
{
    for (uint64_t b = 0; b < n / 256; b++) {
        const unsigned char *blk = src + b * 210;
        const unsigned char *ql = blk, *qh = blk + 128;
        const int8_t *sc = (const int8_t *)(blk + 192);
        const float d = tf_f16_to_f32(le16(blk + 208));
        float *y = dst + b * 256;
        for (int half = 0; half < 2; half++) {
            for (int l = 0; l < 32; l++) {
                const int is = l / 16;
                const int q1 = (int)((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int q2 = (int)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int q3 = (int)((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int q4 = (int)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l] = d * sc[is] * (float)q1;
                y[l + 32] = d * sc[is + 2] * (float)q2;
                y[l + 64] = d * sc[is + 4] * (float)q3;
                y[l + 96] = d * sc[is + 6] * (float)q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
        }
    }
}

/* Convert n elements (a whole number of blocks) of type t at src into dst;
 * an unsupported type gives zeros (the readers refuse those before). */
void tf_to_f32(tf_type t, const void *srcv, float *dst, uint64_t n)
{
    const unsigned char *src = srcv;
    switch (t) {
    case TF_F32:
        from_f32(src, dst, n);
        return;
    case TF_F16:
        from_f16(src, dst, n);
        return;
    case TF_BF16:
        from_bf16(src, dst, n);
        return;
    case TF_Q8_0:
        from_q8_0(src, dst, n);
        return;
    case TF_Q4_0:
        from_q4_0(src, dst, n);
        return;
    case TF_Q4_K:
        from_q4_k(src, dst, n);
        return;
    case TF_Q6_K:
        from_q6_k(src, dst, n);
        return;
    case TF_UNSUPPORTED:
        break;
    }
    memset(dst, 0, n * sizeof(float));
}

qkv_status tf_map_open(const char *path, tf_map *m, qkv_error *err)
{
    m->data = NULL;
    m->size = 0;
    int fd;
    qkv_status os = infile_open(path, &fd, err); /* regular files only, never blocks */
    if (os != QKV_OK)
        return os;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    if (st.st_size == 0) {
        close(fd);
        return qkv_error_set(err, QKV_ERR_INVALID, "'%s' is empty", path);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return qkv_error_set(err, QKV_ERR_IO, "cannot map '%s': %s", path, strerror(errno));
    m->data = p;
    m->size = (size_t)st.st_size;
    return QKV_OK;
}

void tf_map_close(tf_map *m)
{
    if (m && m->data) {
        munmap((void *)m->data, m->size);
        m->data = NULL;
        m->size = 0;
    }
}

void tf_map_release(const void *p, size_t n)
{
    const long page = sysconf(_SC_PAGESIZE);
    if (page <= 0 || n == 0)
        return;
    const uintptr_t a = ((uintptr_t)p + (uintptr_t)page - 1) / (uintptr_t)page * (uintptr_t)page;
    const uintptr_t z = ((uintptr_t)p + n) / (uintptr_t)page * (uintptr_t)page;
    if (z > a)
        (void)madvise((void *)a, z - a, MADV_DONTNEED); /* advice only: failure changes nothing */
}

static int cmp_place(const void *a, const void *b)
{
    const tf_span *x = a, *y = b;
    if (x->shard != y->shard)
        return x->shard - y->shard;
    return (x->begin > y->begin) - (x->begin < y->begin);
}

bool tf_spans_overlap(tf_span *spans, size_t n, const tf_span **a, const tf_span **b)
{
    qsort(spans, n, sizeof *spans, cmp_place);
    const tf_span *reach = NULL; /* the furthest end so far in this shard */
    for (size_t i = 0; i < n; i++) {
        const tf_span *t = &spans[i];
        if (reach && reach->shard != t->shard)
            reach = NULL;
        if (t->end == t->begin)
            continue;
        if (reach && t->begin < reach->end) {
            *a = reach;
            *b = t;
            return true;
        }
        if (!reach || t->end > reach->end)
            reach = t;
    }
    return false;
}

static int cmp_span_name(const void *a, const void *b)
{
    return strcmp(((const tf_span *)a)->name, ((const tf_span *)b)->name);
}

const tf_span *tf_spans_by_name(tf_span *spans, size_t n)
{
    qsort(spans, n, sizeof *spans, cmp_span_name);
    for (size_t i = 1; i < n; i++)
        if (strcmp(spans[i - 1].name, spans[i].name) == 0)
            return &spans[i];
    return NULL;
}

const tf_span *tf_spans_find(const tf_span *spans, size_t n, const char *name)
{
    size_t lo = 0, hi = spans ? n : 0;
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        const int c = strcmp(spans[mid].name, name);
        if (c == 0)
            return &spans[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
