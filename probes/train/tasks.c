#include "probes/train/tasks.h"
#include "analyzer/core/infile.h"
#include "analyzer/core/safetext.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

static const char *const names[] = {"reverse", "sort", "sub", "swap", "copy"};

const char *task_kind_name(task_kind k)
{
    return k >= TASK_REVERSE && k <= TASK_COPY ? names[k] : "text";
}

const char *task_names(void)
{
    return "reverse, sort, sub, swap, copy, text:FILE, lm";
}

qkv_status task_parse(const char *spec, int len, task *t, qkv_error *err)
{
    memset(t, 0, sizeof *t);
    if (len < 2 || len > 4096)
        return qkv_error_set(err, QKV_ERR_RANGE, "sequence length %d is outside 2..4096", len);
    t->len = len;
    if (strncasecmp(spec, "text:", 5) == 0) {
        const char *path = spec + 5;
        t->kind = TASK_TEXT;
        snprintf(t->name, sizeof t->name, "text:%.58s", path);
        safetext_clean(t->name, sizeof t->name); /* a file name is shown, never obeyed */
        FILE *f;
        qkv_status os = infile_fopen(path, &f, err);
        if (os != QKV_OK)
            return os;
        struct stat st;
        if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
            fclose(f);
            return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': not a regular file", path);
        }
        if ((size_t)st.st_size > TASK_TEXT_MAX_BYTES) {
            fclose(f);
            return qkv_error_set(err, QKV_ERR_INVALID, "'%s' is larger than 1 GiB", path);
        }
        const size_t need = 10 * ((size_t)len + 1) + 1;
        if ((size_t)st.st_size < need) {
            fclose(f);
            return qkv_error_set(err, QKV_ERR_INVALID,
                                 "'%s' has %lld bytes; sequences of %d need at least %zu", path,
                                 (long long)st.st_size, len, need);
        }
        t->text_n = (size_t)st.st_size;
        t->text = malloc(t->text_n);
        if (!t->text) {
            fclose(f);
            return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory reading '%s'", path);
        }
        size_t got = fread(t->text, 1, t->text_n, f);
        fclose(f);
        if (got != t->text_n) {
            task_free(t);
            return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': short read", path);
        }
        t->split = t->text_n - t->text_n / 10;
        return QKV_OK;
    }
    for (int i = 0; i < 5; i++) {
        if (strcasecmp(spec, names[i]) == 0) {
            t->kind = (task_kind)i;
            snprintf(t->name, sizeof t->name, "%s", names[i]);
            if (t->kind == TASK_SWAP && len % 2 != 0)
                return qkv_error_set(err, QKV_ERR_INVALID,
                                     "swap exchanges two halves: the length must be even, not %d",
                                     len);
            return QKV_OK;
        }
    }
    return qkv_error_set(err, QKV_ERR_INVALID, "unknown task '%s' (%s)", spec, task_names());
}

void task_free(task *t)
{
    if (t) {
        free(t->text);
        t->text = NULL;
    }
}

int task_vocab(const task *t)
{
    return t->kind == TASK_TEXT ? 256 : 10;
}

bool task_causal(const task *t)
{
    return t->kind == TASK_TEXT;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

void task_batch(const task *t, rt_rng *rng, int B, bool eval, int *inputs, int *targets)
{
    const int n = t->len;
    for (int b = 0; b < B; b++) {
        int *x = inputs + (size_t)b * n, *y = targets + (size_t)b * n;
        if (t->kind == TASK_TEXT) {
            const size_t lo = eval ? t->split : 0, hi = eval ? t->text_n : t->split;
            const size_t span = hi - lo - (size_t)n - 1;
            const size_t start = lo + (size_t)(rt_rng_next(rng) % (span + 1));
            for (int i = 0; i < n; i++) {
                x[i] = t->text[start + (size_t)i];
                y[i] = t->text[start + (size_t)i + 1];
            }
            continue;
        }
        for (int i = 0; i < n; i++)
            x[i] = (int)(rt_rng_next(rng) % 10);
        switch (t->kind) {
        case TASK_REVERSE:
            for (int i = 0; i < n; i++)
                y[i] = x[n - 1 - i];
            break;
        case TASK_SORT:
            memcpy(y, x, (size_t)n * sizeof(int));
            qsort(y, (size_t)n, sizeof(int), cmp_int);
            break;
        case TASK_SUB:
            for (int i = 0; i < n; i++)
                y[i] = 9 - x[i];
            break;
        case TASK_SWAP:
            for (int i = 0; i < n; i++)
                y[i] = x[(i + n / 2) % n];
            break;
        case TASK_COPY:
        case TASK_TEXT:
            memcpy(y, x, (size_t)n * sizeof(int));
            break;
        }
    }
}
