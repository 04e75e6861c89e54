#include "analyzer/formats/json_strict.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cJSON cannot say that it ran out of memory; allocations go through this
 * wrapper, which notes a failure for the thread that met it. */
static _Thread_local bool alloc_failed;

static void *noting_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        alloc_failed = true;
    return p;
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void)
{
    cJSON_Hooks hooks = {noting_malloc, free};
    cJSON_InitHooks(&hooks);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* First key named twice in any object under v; NULL when none. *nomem on
 * an allocation failure. */
static const char *duplicate_key(const cJSON *v, bool *nomem)
{
    if (cJSON_IsObject(v)) {
        size_t n = 0;
        for (const cJSON *c = v->child; c; c = c->next)
            n++;
        if (n > 1) {
            const char **keys = malloc(n * sizeof *keys);
            if (!keys) {
                *nomem = true;
                return NULL;
            }
            size_t i = 0;
            for (const cJSON *c = v->child; c; c = c->next)
                keys[i++] = c->string ? c->string : "";
            qsort(keys, n, sizeof *keys, cmp_key);
            const char *dup = NULL;
            for (i = 1; i < n && !dup; i++)
                if (strcmp(keys[i - 1], keys[i]) == 0)
                    dup = keys[i];
            free(keys);
            if (dup)
                return dup;
        }
    }
    if (cJSON_IsObject(v) || cJSON_IsArray(v))
        for (const cJSON *c = v->child; c; c = c->next) {
            const char *dup = duplicate_key(c, nomem);
            if (dup || *nomem)
                return dup;
        }
    return NULL;
}

json_problem json_strict_parse(const char *text, size_t len, cJSON **out, json_strict_error *why)
{
    pthread_once(&hooks_once, install_hooks);
    memset(why, 0, sizeof *why);
    *out = NULL;
    alloc_failed = false;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        if (alloc_failed)
            return why->problem = JSON_NOMEM;
        const char *at = cJSON_GetErrorPtr();
        why->offset = (at && at >= text && at <= text + len) ? (size_t)(at - text) : 0;
        return why->problem = JSON_SYNTAX;
    }
    size_t off = end && end >= text && end <= text + len ? (size_t)(end - text) : len;
    while (off < len &&
           (text[off] == ' ' || text[off] == '\t' || text[off] == '\n' || text[off] == '\r'))
        off++;
    if (off < len) {
        cJSON_Delete(root);
        why->offset = off;
        return why->problem = JSON_TRAILING;
    }
    bool nomem = false;
    const char *dup = duplicate_key(root, &nomem);
    if (dup || nomem) {
        if (dup)
            snprintf(why->key, sizeof why->key, "%s", dup);
        cJSON_Delete(root);
        return why->problem = nomem ? JSON_NOMEM : JSON_DUPLICATE;
    }
    *out = root;
    return JSON_OK;
}

qkv_status json_strict_parse_status(const char *text, size_t len, cJSON **out, qkv_error *err)
{
    json_strict_error why;
    switch (json_strict_parse(text, len, out, &why)) {
    case JSON_OK:
        return QKV_OK;
    case JSON_NOMEM:
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory");
    case JSON_DUPLICATE:
        return qkv_error_set(err, QKV_ERR_INVALID, "key '%s' twice", why.key);
    case JSON_TRAILING:
        return qkv_error_set(err, QKV_ERR_INVALID, "something after the JSON value (at byte %zu)",
                             why.offset);
    default:
        return qkv_error_set(err, QKV_ERR_INVALID, "not JSON (at byte %zu)", why.offset);
    }
}
