/* paths.h — the size of path buffers, named once.
 *
 * QKV_PATH_BYTES is Linux's PATH_MAX. A path built into such a buffer is
 * checked (snprintf's result) and refused as too long, never cut; a buffer
 * that holds a path plus a file name of qkvplan's own (config.json,
 * plots/NAME.png) is QKV_PATH_BYTES + QKV_NAME_BYTES.
 */
#ifndef QKV_PATHS_H
#define QKV_PATHS_H

#define QKV_PATH_BYTES 4096
#define QKV_NAME_BYTES 256

#endif
