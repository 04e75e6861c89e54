/* Helpers shared by the Check suites: private temporary folders under
 * $TMPDIR, removing a tree without a shell, and visible skips. */
#define _XOPEN_SOURCE 700
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tests.h"

static const char *tmp_root(char *buf, size_t buf_bytes, const char *stem)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    const int n = snprintf(buf, buf_bytes, "%s/qkvplan-%s-XXXXXX", tmp, stem);
    ck_assert_msg(n > 0 && (size_t)n < buf_bytes, "temporary path too long");
    return tmp;
}

char *test_mkdtemp(char *buf, size_t buf_bytes, const char *stem)
{
    const char *tmp = tmp_root(buf, buf_bytes, stem);
    ck_assert_msg(mkdtemp(buf) != NULL, "cannot create a folder under '%s'", tmp);
    return buf;
}

int test_mkstemp(char *buf, size_t buf_bytes, const char *stem)
{
    const char *tmp = tmp_root(buf, buf_bytes, stem);
    const int fd = mkstemp(buf);
    ck_assert_msg(fd >= 0, "cannot create a file under '%s'", tmp);
    return fd;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void test_rm_tree(const char *path)
{
    ck_assert_msg(nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0, "cannot remove '%s'",
                  path);
}

int test_count_entries(const char *dir, const char *containing)
{
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot list '%s'", dir);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            (!containing || strstr(e->d_name, containing)))
            n++;
    closedir(d);
    return n;
}

/* Skips are decided while the suites are built, in the runner's process,
 * so that they are counted whatever Check's fork mode. */
#define SKIPS_MAX 32
static struct {
    const char *name, *reason;
} skips[SKIPS_MAX];
static int n_skips;

void test_skip(const char *name, const char *reason)
{
    if (n_skips < SKIPS_MAX) {
        skips[n_skips].name = name;
        skips[n_skips].reason = reason;
    }
    n_skips++;
}

int test_skips_report(FILE *f)
{
    for (int i = 0; i < n_skips && i < SKIPS_MAX; i++)
        fprintf(f, "SKIP: %s: %s\n", skips[i].name, skips[i].reason);
    return n_skips;
}
