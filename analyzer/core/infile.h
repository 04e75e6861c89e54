/* infile.h — opening input files, and remembering which were opened.
 *
 * Every reader in analyzer/ and probes/ opens its input files here, so that:
 *   - nothing blocks on a FIFO, a terminal or a device: the file is opened
 *     with O_NONBLOCK, checked with fstat, and anything but a regular file is
 *     refused (QKV_ERR_IO, "cannot read 'f': it is a FIFO, not a regular
 *     file") before a byte is read;
 *   - each file read is recorded by device and inode in a process-wide table,
 *     and the CLI asks infile_which about every path it is about to write, so
 *     no output can replace an input, whichever path, link or hard link names
 *     it. The table is the library's second piece of global state (after the
 *     signal-cleanup table of reports/outfile.h); it is guarded by a mutex,
 *     only grows, and holds each file once.
 */
#ifndef QKV_INFILE_H
#define QKV_INFILE_H

#include <stdio.h>

#include "analyzer/core/qkv_error.h"

/* Open path read-only (blocking reads once it is known to be a regular
 * file) into *fd and record it. Errors name the file and the reason. */
qkv_status infile_open(const char *path, int *fd, qkv_error *err);

/* The same as a stdio stream ("rb"); caller fcloses *f. */
qkv_status infile_fopen(const char *path, FILE **f, qkv_error *err);

/* When path names an existing file (following links) that was opened
 * through infile_open, the path it was opened under; else NULL. The
 * returned string lives as long as the process. */
const char *infile_which(const char *path);

#endif
