#define _DEFAULT_SOURCE /* mkdtemp */
#include "reports/gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyzer/core/paths.h"
#include "reports/outfile.h"
#include "reports/safename.h"

qkv_status report_write_text(const char *dir, const char *name,
                             void (*fn)(FILE *f, const void *ctx), const void *ctx, qkv_error *err)
{
    char path[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    outfile of;
    qkv_status s = outfile_open(&of, path, err);
    if (s != QKV_OK)
        return s;
    fn(of.f, ctx);
    return outfile_commit(&of, err);
}

qkv_status report_figure(const char *dir, const char *base, void (*dat)(FILE *f, const void *ctx),
                         void (*gp)(FILE *f, const void *ctx), const void *ctx, qkv_status *tool,
                         qkv_error *tool_err, qkv_error *err)
{
    char name[256];
    qkv_status s;
    snprintf(name, sizeof name, "%s.dat", base);
    if ((s = report_write_text(dir, name, dat, ctx, err)) != QKV_OK)
        return s;
    snprintf(name, sizeof name, "%s.gp", base);
    if ((s = report_write_text(dir, name, gp, ctx, err)) != QKV_OK)
        return s;
    if (*tool != QKV_OK)
        return QKV_OK;
    s = report_gnuplot_run(dir, base, tool_err);
    if (s == QKV_ERR_IO) {
        if (err)
            *err = *tool_err;
        return s;
    }
    *tool = s;
    return QKV_OK;
}

void report_gp_outputs(FILE *f, const char *base)
{
    fprintf(f,
            "if (!exists(\"outpng\")) outpng = \"%s.png\"\n"
            "if (!exists(\"outsvg\")) outsvg = \"%s.svg\"\n",
            base, base);
}

void report_gp_draw(FILE *f, const char *plot, int width, int height, int font_pt)
{
    for (int pass = 0; pass < 2; pass++)
        fprintf(f, "set terminal %s size %d,%d font \"DejaVu Sans,%d\"\nset output %s\n%s\n",
                pass ? "svg" : "pngcairo", width, height, font_pt, pass ? "outsvg" : "outpng",
                plot);
    fputs("set output\n", f);
}

static qkv_status run_and_rename(const char *dir, const char *base, const char *set,
                                 const char *script, const char *png_tmp, const char *svg_tmp,
                                 qkv_error *err);

qkv_status report_gnuplot_run(const char *dir, const char *base, qkv_error *err)
{
    /* gnuplot draws into a private directory (mkdtemp: an unpredictable
     * name, created exclusively, mode 0700) beside the targets, so no link
     * planted in dir can redirect its writes and concurrent runs into one
     * folder do not meet; the images are renamed out of it when complete. */
    char tmp_dir[QKV_PATH_BYTES], tmp_name[64], png_tmp[512], svg_tmp[512], set[1400], script[512];
    int k = snprintf(tmp_dir, sizeof tmp_dir, "%s/.qkvplan-XXXXXX", dir);
    if (k < 0 || (size_t)k >= sizeof tmp_dir)
        return qkv_error_set(err, QKV_ERR_IO, "cannot draw into '%s': path too long", dir);
    sigset_t saved;
    outfile_hold_signals(&saved); /* created and tracked with the cleanup signals held */
    const bool made = mkdtemp(tmp_dir) != NULL;
    const int made_errno = errno;
    if (made)
        outfile_track_dir(tmp_dir);
    sigprocmask(SIG_SETMASK, &saved, NULL);
    if (!made)
        return qkv_error_set(err, QKV_ERR_IO, "cannot draw into '%s': %s", dir,
                             strerror(made_errno));
    snprintf(tmp_name, sizeof tmp_name, "%s", strrchr(tmp_dir, '/') + 1);
    snprintf(png_tmp, sizeof png_tmp, "%s/%s.png", tmp_name, base);
    snprintf(svg_tmp, sizeof svg_tmp, "%s/%s.svg", tmp_name, base);
    snprintf(set, sizeof set, "outpng=\"%s\"; outsvg=\"%s\"", png_tmp, svg_tmp);
    snprintf(script, sizeof script, "%s.gp", base);
    char track_png[QKV_PATH_BYTES + QKV_NAME_BYTES], track_svg[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(track_png, sizeof track_png, "%s/%s", dir, png_tmp);
    snprintf(track_svg, sizeof track_svg, "%s/%s", dir, svg_tmp);
    outfile_track(track_png);
    outfile_track(track_svg);
    qkv_status st = run_and_rename(dir, base, set, script, png_tmp, svg_tmp, err);
    unlink(track_png); /* gone after a rename; left over after a failure */
    unlink(track_svg);
    outfile_untrack(track_png);
    outfile_untrack(track_svg);
    rmdir(tmp_dir);
    outfile_untrack_dir(tmp_dir);
    return st;
}

/* fork and exec gnuplot in dir with its stderr into *err_fd; signals that
 * clean up are held until the child is recorded, so an interrupt cannot
 * leave it running unrecorded. Returns the pid, or -1 with errno set. */
static pid_t spawn_gnuplot(const char *dir, const char *set, const char *script, int *err_fd)
{
    int pipefd[2];
    if (pipe(pipefd) != 0)
        return -1;
    sigset_t hold, old;
    sigemptyset(&hold);
    sigaddset(&hold, SIGINT);
    sigaddset(&hold, SIGTERM);
    sigaddset(&hold, SIGHUP);
    sigprocmask(SIG_BLOCK, &hold, &old);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        sigprocmask(SIG_SETMASK, &old, NULL);
        close(pipefd[0]);
        dup2(pipefd[1], STDERR_FILENO);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, STDOUT_FILENO);
        if (chdir(dir) != 0)
            _exit(126);
        execlp("gnuplot", "gnuplot", "-e", set, script, (char *)NULL);
        _exit(127);
    }
    int e = errno;
    if (pid > 0)
        outfile_track_child(pid);
    sigprocmask(SIG_SETMASK, &old, NULL);
    close(pipefd[1]);
    if (pid < 0) {
        close(pipefd[0]);
        errno = e;
        return -1;
    }
    *err_fd = pipefd[0];
    return pid;
}

static qkv_status run_and_rename(const char *dir, const char *base, const char *set,
                                 const char *script, const char *png_tmp, const char *svg_tmp,
                                 qkv_error *err)
{
    int err_fd;
    pid_t pid = spawn_gnuplot(dir, set, script, &err_fd);
    if (pid < 0)
        return qkv_error_set(err, QKV_ERR_TOOL, "cannot run gnuplot: %s", strerror(errno));
    char msg[2048];
    size_t used = 0;
    ssize_t n;
    char chunk[512];
    while ((n = read(err_fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR)) {
        if (n <= 0)
            continue;
        size_t take = (size_t)n < sizeof msg - 1 - used ? (size_t)n : sizeof msg - 1 - used;
        memcpy(msg + used, chunk, take);
        used += take;
    }
    msg[used] = '\0';
    close(err_fd);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            outfile_track_child(0);
            return qkv_error_set(err, QKV_ERR_TOOL, "gnuplot: %s", strerror(errno));
        }
    }
    outfile_track_child(0);
    char png_tmp_path[QKV_PATH_BYTES + QKV_NAME_BYTES],
        svg_tmp_path[QKV_PATH_BYTES + QKV_NAME_BYTES], png[QKV_PATH_BYTES + QKV_NAME_BYTES],
        svg[QKV_PATH_BYTES + QKV_NAME_BYTES];
    snprintf(png_tmp_path, sizeof png_tmp_path, "%s/%s", dir, png_tmp);
    snprintf(svg_tmp_path, sizeof svg_tmp_path, "%s/%s", dir, svg_tmp);
    snprintf(png, sizeof png, "%s/%s.png", dir, base);
    snprintf(svg, sizeof svg, "%s/%s.svg", dir, base);
    struct stat st;
    bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat(png_tmp_path, &st) == 0 &&
              st.st_size > 0 && stat(svg_tmp_path, &st) == 0 && st.st_size > 0;
    if (!ok) {
        /* first line of gnuplot's message, without the blank lines it starts with */
        char *m = msg;
        while (*m == '\n' || *m == ' ')
            m++;
        m[strcspn(m, "\n")] = '\0';
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
            return qkv_error_set(err, QKV_ERR_TOOL,
                                 "gnuplot is not installed (install gnuplot-nox); data and scripts "
                                 "are in '%s'",
                                 dir);
        return qkv_error_set(err, QKV_ERR_TOOL, "gnuplot failed on '%s/%s': %.300s", dir, script,
                             *m ? m : "no output");
    }
    if (rename(png_tmp_path, png) != 0 || rename(svg_tmp_path, svg) != 0) {
        int e = errno;
        return qkv_error_set(err, QKV_ERR_IO, "cannot write '%s': %s", png, strerror(e));
    }
    return QKV_OK;
}
