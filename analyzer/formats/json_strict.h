/* json_strict.h — JSON as Hugging Face and the safetensors format mean it.
 *
 * cJSON alone accepts a duplicated key (and its lookups then see the first
 * value, where Python's json module, hence Hugging Face, keeps the last),
 * ignores anything after the first value, and reports running out of
 * memory as a syntax error. json_strict_parse refuses all three cases, so
 * qkvplan never reads a file differently from the tools that wrote it:
 *   JSON_SYNTAX     not JSON; offset is where cJSON stopped
 *   JSON_TRAILING   something other than white space after the value; offset
 *   JSON_DUPLICATE  an object names key twice (key holds it, truncated)
 *   JSON_NOMEM      an allocation failed
 */
#ifndef QKV_JSON_STRICT_H
#define QKV_JSON_STRICT_H

#include <cjson/cJSON.h>
#include <stddef.h>

typedef enum { JSON_OK, JSON_SYNTAX, JSON_TRAILING, JSON_DUPLICATE, JSON_NOMEM } json_problem;

typedef struct {
    json_problem problem;
    size_t offset; /* JSON_SYNTAX, JSON_TRAILING: byte offset in the text */
    char key[128]; /* JSON_DUPLICATE: the key */
} json_strict_error;

/* Parse len bytes of text as one JSON value into *out (caller frees with
 * cJSON_Delete); on failure *out is NULL and why says what went wrong. */
json_problem json_strict_parse(const char *text, size_t len, cJSON **out, json_strict_error *why);

/* json_strict_parse as a status: QKV_ERR_NOMEM, or QKV_ERR_INVALID saying
 * "not JSON (at byte N)", "... after the JSON value" or "key 'K' twice". */
#include "analyzer/core/qkv_error.h"
qkv_status json_strict_parse_status(const char *text, size_t len, cJSON **out, qkv_error *err);

#endif
