/* outfile.h — write a file atomically: into a temporary file beside the
 * target, renamed over it only when everything was written and closed. A
 * failure or an abort leaves the target as it was and removes the temporary.
 * A target that exists and is not a regular file (a device such as
 * /dev/stdout, a FIFO) is written directly, as renaming over it would
 * replace it. A symbolic link is kept: the file it names (also when that
 * does not exist yet) is written the same way, beside itself. A replaced
 * file keeps its permission bits; a new one gets 0666 under the umask.
 */
#ifndef QKV_OUTFILE_H
#define QKV_OUTFILE_H

#include <stdio.h>
#include <signal.h>
#include <sys/types.h>

#include "analyzer/core/qkv_error.h"

typedef struct {
    FILE *f;          /* write here between open and commit */
    char *tmp_path;   /* owned; NULL when writing a non-regular file directly */
    char *final_path; /* owned */
} outfile;

/* Create the temporary file for path. On failure nothing is left behind. */
qkv_status outfile_open(outfile *o, const char *path, qkv_error *err);

/* For writers that take a file name (libxlsxwriter): reserve a temporary
 * file beside path, named in o->tmp_path, for the writer to fill; o->f is
 * NULL. The target must be a regular file or not exist yet. Commit renames
 * the temporary into place. */
qkv_status outfile_open_path(outfile *o, const char *path, qkv_error *err);

/* Flush, sync, close and rename into place; on any failure the temporary is
 * removed and err names the file and the reason. Frees o's strings. */
qkv_status outfile_commit(outfile *o, qkv_error *err);

/* Close and remove the temporary file; o may be zeroed or already committed. */
void outfile_abort(outfile *o);

/* Interrupted runs leave nothing half-written: every temporary file in
 * flight (outfile's own, and those registered with outfile_track, such as
 * the images gnuplot draws) is recorded in a small process-wide table, and
 * outfile_install_signal_cleanup() makes SIGINT, SIGTERM and SIGHUP remove
 * them before the process dies of the signal. The table is the one piece of
 * global state in the library: a signal handler cannot be given context. */
void outfile_install_signal_cleanup(void);

/* Hold SIGINT, SIGTERM and SIGHUP (restore with sigprocmask(SIG_SETMASK,
 * saved, NULL)): a temporary is created and tracked between the two, so
 * that no signal can come after the one and before the other. */
void outfile_hold_signals(sigset_t *saved);
void outfile_track(const char *path);
void outfile_untrack(const char *path);
/* A private temporary directory, removed (once its tracked files are) on a
 * signal; and the one child process writing into tracked files (gnuplot),
 * killed and reaped on a signal before the files are removed. pid 0 clears. */
void outfile_track_dir(const char *path);
void outfile_untrack_dir(const char *path);
void outfile_track_child(pid_t pid);

#endif
