#define _DEFAULT_SOURCE /* O_NOCTTY, O_CLOEXEC with older headers */
#include "analyzer/core/infile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    dev_t dev;
    ino_t ino;
    char *path;
} input_record;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static input_record *table;
static size_t table_count, table_cap;

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO (named pipe)"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* Record (dev, ino) once; false when out of memory. */
static bool record(const struct stat *st, const char *path)
{
    bool ok = true;
    pthread_mutex_lock(&table_lock);
    size_t i;
    for (i = 0; i < table_count; i++)
        if (table[i].dev == st->st_dev && table[i].ino == st->st_ino)
            break;
    if (i == table_count) {
        if (table_count == table_cap) {
            size_t cap = table_cap ? 2 * table_cap : 16;
            input_record *grown = realloc(table, cap * sizeof *grown);
            if (grown) {
                table = grown;
                table_cap = cap;
            }
        }
        char *copy = table_count < table_cap ? strdup(path) : NULL;
        if (copy)
            table[table_count++] = (input_record){st->st_dev, st->st_ino, copy};
        else
            ok = false;
    }
    pthread_mutex_unlock(&table_lock);
    return ok;
}

qkv_status infile_open(const char *path, int *fd_out, qkv_error *err)
{
    *fd_out = -1;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (fd < 0)
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': it is %s, not a regular file",
                             path, kind_of(st.st_mode));
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return qkv_error_set(err, QKV_ERR_IO, "cannot read '%s': %s", path, strerror(e));
    }
    if (!record(&st, path)) {
        close(fd);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory opening '%s'", path);
    }
    *fd_out = fd;
    return QKV_OK;
}

qkv_status infile_fopen(const char *path, FILE **f, qkv_error *err)
{
    int fd;
    *f = NULL;
    qkv_status s = infile_open(path, &fd, err);
    if (s != QKV_OK)
        return s;
    if (!(*f = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        return qkv_error_set(err, e == ENOMEM ? QKV_ERR_NOMEM : QKV_ERR_IO, "cannot read '%s': %s",
                             path, strerror(e));
    }
    return QKV_OK;
}

const char *infile_which(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return NULL;
    const char *found = NULL;
    pthread_mutex_lock(&table_lock);
    for (size_t i = 0; i < table_count && !found; i++)
        if (table[i].dev == st.st_dev && table[i].ino == st.st_ino)
            found = table[i].path;
    pthread_mutex_unlock(&table_lock);
    return found;
}
