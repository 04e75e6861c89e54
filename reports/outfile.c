#define _DEFAULT_SOURCE /* realpath */

#include "reports/outfile.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/core/paths.h"

#define TRACK_MAX 32
#define TRACK_PATH (QKV_PATH_BYTES + QKV_NAME_BYTES)
static char tracked[TRACK_MAX][TRACK_PATH];
static volatile sig_atomic_t tracked_live[TRACK_MAX];

void outfile_track(const char *path)
{
    for (int i = 0; i < TRACK_MAX; i++) {
        if (!tracked_live[i]) {
            snprintf(tracked[i], TRACK_PATH, "%s", path);
            tracked_live[i] = 1;
            return;
        }
    }
}

void outfile_untrack(const char *path)
{
    for (int i = 0; i < TRACK_MAX; i++) {
        if (tracked_live[i] && strcmp(tracked[i], path) == 0) {
            tracked_live[i] = 0;
            return;
        }
    }
}

#define TRACK_DIRS 4
static char tracked_dirs[TRACK_DIRS][TRACK_PATH];
static volatile sig_atomic_t tracked_dir_live[TRACK_DIRS];
static volatile sig_atomic_t tracked_child; /* a pid, 0 when none */

void outfile_track_dir(const char *path)
{
    for (int i = 0; i < TRACK_DIRS; i++) {
        if (!tracked_dir_live[i]) {
            snprintf(tracked_dirs[i], TRACK_PATH, "%s", path);
            tracked_dir_live[i] = 1;
            return;
        }
    }
}

void outfile_untrack_dir(const char *path)
{
    for (int i = 0; i < TRACK_DIRS; i++) {
        if (tracked_dir_live[i] && strcmp(tracked_dirs[i], path) == 0) {
            tracked_dir_live[i] = 0;
            return;
        }
    }
}

void outfile_track_child(pid_t pid)
{
    tracked_child = (sig_atomic_t)pid;
}

static void on_signal(int sig)
{
    /* Stop the child that writes into tracked files first, or it would go on
     * writing (and re-creating) them after they are removed. */
    const pid_t child = (pid_t)tracked_child;
    if (child > 0) {
        kill(child, SIGKILL); /* all async-signal-safe */
        while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {
        }
    }
    for (int i = 0; i < TRACK_MAX; i++)
        if (tracked_live[i])
            unlink(tracked[i]);
    for (int i = 0; i < TRACK_DIRS; i++)
        if (tracked_dir_live[i])
            rmdir(tracked_dirs[i]);
    signal(sig, SIG_DFL);
    raise(sig);
}

void outfile_hold_signals(sigset_t *saved)
{
    sigset_t hold;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    sigprocmask(SIG_BLOCK, &hold, saved);
}

void outfile_install_signal_cleanup(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static void release(outfile *o)
{
    if (o->tmp_path)
        outfile_untrack(o->tmp_path);
    free(o->tmp_path);
    free(o->final_path);
    o->tmp_path = o->final_path = NULL;
    o->f = NULL;
}

/* Open a non-regular target (a device, a FIFO) for writing in place. */
static qkv_status open_direct(outfile *o, const char *path, qkv_error *err)
{
    o->final_path = strdup(path);
    if (!o->final_path)
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory opening '%s'", path);
    o->f = fopen(path, "w");
    if (!o->f) {
        int e = errno;
        release(o);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return QKV_OK;
}

/* The path a dangling symbolic link names, following a chain of links (up
 * to 40, as the kernel does), relative ones from their own directory. */
static qkv_status outfile_link_target(const char *path, char **out, qkv_error *err)
{
    char cur[QKV_PATH_BYTES], buf[QKV_PATH_BYTES];
    snprintf(cur, sizeof cur, "%s", path);
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            if (!(*out = strdup(cur)))
                return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory opening '%s'", path);
            return QKV_OK;
        }
        ssize_t n = readlink(cur, buf, sizeof buf - 1);
        if (n < 0)
            return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        buf[n] = '\0';
        if (buf[0] == '/') {
            snprintf(cur, sizeof cur, "%s", buf);
        } else {
            char *slash = strrchr(cur, '/');
            char joined[QKV_PATH_BYTES];
            int k = snprintf(joined, sizeof joined, "%.*s%s", slash ? (int)(slash - cur + 1) : 0,
                             cur, buf);
            if (k < 0 || (size_t)k >= sizeof joined)
                return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': path too long", path);
            memcpy(cur, joined, (size_t)k + 1);
        }
    }
    return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': too many levels of symbolic links",
                         path);
}

qkv_status outfile_open(outfile *o, const char *path, qkv_error *err)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    char *resolved = NULL;
    /* Renaming over a symbolic link would replace the link, not what it
     * names: write beside the link's target instead. */
    if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
        resolved = realpath(path, NULL);
        if (!resolved && errno != ENOENT)
            return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(errno));
        if (!resolved && stat(path, &st) == 0) /* /proc/self/fd/N of a pipe */
            return open_direct(o, path, err);
        if (!resolved) {
            /* A dangling link: create the file it names, atomically too. */
            qkv_status s = outfile_link_target(path, &resolved, err);
            if (s != QKV_OK)
                return s;
        }
    }
    const char *target = resolved ? resolved : path;
    mode_t keep_mode = 0; /* a file replaced keeps its permissions */
    if (stat(target, &st) == 0 && !S_ISREG(st.st_mode)) {
        free(resolved);
        if (S_ISDIR(st.st_mode))
            return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': it is a directory", path);
        /* A device, pipe or terminal cannot be replaced by a rename. */
        return open_direct(o, path, err);
    } else if (stat(target, &st) == 0) {
        keep_mode = st.st_mode & 0777;
    }
    size_t n = strlen(target);
    o->final_path = strdup(target);
    o->tmp_path = malloc(n + sizeof ".tmp.XXXXXX");
    free(resolved);
    if (!o->final_path || !o->tmp_path) {
        release(o);
        return qkv_error_set(err, QKV_ERR_NOMEM, "out of memory opening '%s'", path);
    }
    memcpy(o->tmp_path, o->final_path, n);
    memcpy(o->tmp_path + n, ".tmp.XXXXXX", sizeof ".tmp.XXXXXX");
    /* created and tracked with the cleanup signals held */
    sigset_t saved;
    outfile_hold_signals(&saved);
    int fd = mkstemp(o->tmp_path);
    if (fd >= 0)
        outfile_track(o->tmp_path);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (fd < 0) {
        int e = errno;
        release(o);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    /* mkstemp creates 0600; give a new report the usual permissions under
     * umask, and a replaced file its own. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, keep_mode ? keep_mode : 0666 & ~mask) != 0 || (o->f = fdopen(fd, "w")) == NULL) {
        int e = errno;
        close(fd);
        unlink(o->tmp_path);
        release(o);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    return QKV_OK;
}

qkv_status outfile_open_path(outfile *o, const char *path, qkv_error *err)
{
    qkv_status s = outfile_open(o, path, err);
    if (s != QKV_OK)
        return s;
    if (!o->tmp_path) {
        outfile_abort(o);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': not a regular file", path);
    }
    if (fclose(o->f) != 0) {
        int e = errno;
        o->f = NULL;
        outfile_abort(o);
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", path, strerror(e));
    }
    o->f = NULL;
    return QKV_OK;
}

qkv_status outfile_commit(outfile *o, qkv_error *err)
{
    int e = 0;
    errno = 0;
    if (o->f) {
        if (fflush(o->f) != 0 || ferror(o->f))
            e = errno ? errno : EIO;
        else if (o->tmp_path && fsync(fileno(o->f)) != 0 && errno != EINVAL)
            e = errno;
        if (fclose(o->f) != 0 && e == 0)
            e = errno ? errno : EIO;
    }
    o->f = NULL;
    if (e == 0 && o->tmp_path && rename(o->tmp_path, o->final_path) != 0)
        e = errno;
    if (e != 0) {
        if (o->tmp_path)
            unlink(o->tmp_path);
        qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", o->final_path, strerror(e));
        release(o);
        return QKV_ERR_IO;
    }
    release(o);
    return QKV_OK;
}

void outfile_abort(outfile *o)
{
    if (!o)
        return;
    if (o->f)
        fclose(o->f);
    if (o->tmp_path)
        unlink(o->tmp_path);
    release(o);
}
