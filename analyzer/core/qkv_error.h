/* qkv_error.h — the project's status codes and error records.
 *
 * Library code (analyzer/, probes/, reports/) never prints and never exits: it
 * returns a qkv_status and, where a person must be told what went wrong, fills a
 * qkv_error with a one-line message naming the file, the field and the reason.
 * Only cli/ prints that message and picks the exit code.
 *
 * The one idiom for checking: a status is tested against QKV_OK,
 *     if ((s = step(...)) != QKV_OK) return s;        (or goto the cleanup label)
 * and a sequence of steps that share one failure path chains them, relying
 * on QKV_OK being 0 so that the first failure stops the chain:
 *     if ((s = a(...)) || (s = b(...)) || (s = c(...))) goto fail;
 */
#ifndef QKV_ERROR_H
#define QKV_ERROR_H

#include <stddef.h>

typedef enum {
    QKV_OK = 0,
    QKV_ERR_NOMEM,       /* an allocation failed */
    QKV_ERR_IO,          /* a read, write, rename or close failed */
    QKV_ERR_PARSE,       /* input is not well-formed (JSON syntax, bad number text) */
    QKV_ERR_INVALID,     /* well-formed but meaningless (zero layers, heads not dividing) */
    QKV_ERR_RANGE,       /* a value outside its documented range */
    QKV_ERR_OVERFLOW,    /* a size product does not fit in 64 bits */
    QKV_ERR_UNSUPPORTED, /* a valid request this build cannot serve */
    QKV_ERR_NOTFOUND,    /* a named model, device or file does not exist */
    QKV_ERR_TOOL         /* an external program (gnuplot) is missing or failed */
} qkv_status;

#define QKV_ERROR_MSG_BYTES 512

/* One error record; callers keep it on the stack. msg is always NUL-terminated. */
typedef struct {
    qkv_status code;
    char msg[QKV_ERROR_MSG_BYTES];
} qkv_error;

/* Short, static description of a status ("out of memory"). Never NULL. */
const char *qkv_strerror(qkv_status s);

/* Record code and a printf-style message in err (NULL err is allowed) and
 * return code, so callers can write `return qkv_error_set(err, ...)`. */
qkv_status qkv_error_set(qkv_error *err, qkv_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Clear err to QKV_OK with an empty message (NULL allowed). */
void qkv_error_clear(qkv_error *err);

#endif
