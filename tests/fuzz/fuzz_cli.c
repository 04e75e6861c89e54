/* Fuzz the plan command's option table: the input, split at NUL and
 * newline bytes, is argv. Output goes to /dev/null; the exit code must be
 * one of the documented ones.
 *
 * The harness runs in a scratch directory of its own and drops arguments
 * that could reach outside it (absolute paths, "..", "~") or ask for output
 * files (-o in any bundle of short options, and every abbreviation getopt
 * accepts of --output, --xlsx, --plot and --report). */
#define _DEFAULT_SOURCE   /* mkdtemp */
#define _XOPEN_SOURCE 700 /* nftw */
#include <fcntl.h>
#include <ftw.h>

#include "cli/cli.h"
#include "tests/fuzz/fuzz_common.h"

static int writes_files(const char *a)
{
    if (a[0] == '/' || a[0] == '~' || strstr(a, ".."))
        return 1;
    if (a[0] == '-' && a[1] != '-')
        return strchr(a, 'o') != NULL;
    if (a[0] == '-' && a[1] == '-') {
        static const char *const opts[] = {"output", "xlsx", "plot", "report"};
        size_t n = strcspn(a + 2, "=");
        for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
            if (n > 0 && n <= strlen(opts[i]) && strncmp(a + 2, opts[i], n) == 0)
                return 1;
    }
    return 0;
}

static char scratch[] = "/tmp/qkvplan-fuzz-cli-XXXXXX";

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

/* the scratch directory goes when the fuzzer exits, whatever it holds */
static void remove_scratch(void)
{
    nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        if (!mkdtemp(scratch) || !freopen("/dev/null", "w", stdout))
            abort();
        atexit(remove_scratch);
        ready = 1;
    }
    if (size > 512)
        return 0;
    char *s = fuzz_string(data, size);
    if (!s)
        return 0;
    char *argv[34] = {"qkvplan"};
    int argc = 1;
    for (char *p = s, *start = s; argc < 33; p++) {
        if (*p == '\n' || *p == '\0') {
            int end = *p == '\0';
            *p = '\0';
            if (!writes_files(start) && !strstr(start, "all"))
                argv[argc++] = start;
            start = p + 1;
            if (end)
                break;
        }
    }
    argv[argc] = NULL;
    /* run inside the scratch directory; libFuzzer's own paths are relative
     * to where it started, so come back afterwards */
    int here = open(".", O_RDONLY);
    if (here < 0 || chdir(scratch) != 0)
        abort();
    int code = cmd_plan(argc, argv);
    if (fchdir(here) != 0)
        abort();
    close(here);
    if (code != EXIT_OK && code != EXIT_FAIL && code != EXIT_USAGE && code != EXIT_INPUT)
        abort();
    free(s);
    return 0;
}
