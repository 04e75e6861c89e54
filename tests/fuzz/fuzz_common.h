/* fuzz_common.h — helpers for qkvplan's libFuzzer harnesses. */
#ifndef QKV_FUZZ_COMMON_H
#define QKV_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input; caller frees. */
static inline char *fuzz_string(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (s) {
        memcpy(s, data, size);
        s[size] = '\0';
    }
    return s;
}

static char fuzz_file_path[128];

static inline void fuzz_file_remove(void)
{
    unlink(fuzz_file_path);
}

/* Write the input to a per-process file in /dev/shm (or /tmp) and return its
 * path, for parsers whose entry point takes a file. The file goes when the
 * fuzzer exits. */
static inline const char *fuzz_file(const uint8_t *data, size_t size, const char *suffix)
{
    char *path = fuzz_file_path;
    if (!path[0]) {
        snprintf(fuzz_file_path, sizeof fuzz_file_path, "%s/qkvplan-fuzz-%d%s",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid(), suffix);
        atexit(fuzz_file_remove);
    }
    FILE *f = fopen(path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    if (fclose(f) != 0)
        abort();
    return path;
}

#endif
