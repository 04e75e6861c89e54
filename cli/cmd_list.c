/* qkvplan models | devices — list the built-in catalog and device profiles. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "analyzer/devices.h"
#include "analyzer/kvplan.h"
#include "reports/fmt.h"
#include "reports/plan/lists.h"
#include "reports/textwrap.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "cli/term.h"

enum { L_FORMAT = 1, L_HELP };

static const cli_option list_options[] = {
    {L_FORMAT, "format", 'f', "FMT", "table", "table or json"},
    {L_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    bool json, help;
} list_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    list_state *st = vs;
    (void)name;
    if (id == L_HELP) {
        st->help = true;
        return 0;
    }
    if (strcmp(value, "table") != 0 && strcmp(value, "json") != 0) {
        cli_error("--format '%s': use table or json", value);
        return -1;
    }
    st->json = strcmp(value, "json") == 0;
    return 0;
}

/* Options of a listing command; 1 when --help was answered, -1 on a bad
 * command line, 0 to go on. */
static int list_args(int argc, char **argv, const char *usage, list_state *st)
{
    if (cli_apply_defaults(list_options, on_option, st) != 0 ||
        cli_parse(list_options, argc, argv, on_option, st) != 0)
        return -1;
    if (st->help) {
        printf("%s", usage);
        cli_print_options(stdout, list_options);
        return 1;
    }
    return 0;
}

/* The catalog as JSON, each entry planned as built as the table does. */
static int models_json(void)
{
    const size_t n = catalog_count();
    report_model_entry *e = calloc(n ? n : 1, sizeof *e);
    if (!e) {
        cli_error("out of memory");
        return EXIT_FAIL;
    }
    kvplan_params p = kvplan_params_default();
    for (size_t i = 0; i < n; i++) {
        const model_shape *m = catalog_get(i);
        variant v = variant_as_built(m);
        kvplan_row row;
        e[i].model = m;
        e[i].has_plan = kvplan_row_eval(m, &v, &p, false, &row, NULL) == QKV_OK;
        e[i].params = row.params;
        e[i].kv_bytes_per_token = row.kv_bytes_per_token;
    }
    qkv_error err;
    const qkv_status s = report_models_json(stdout, e, n, &err);
    free(e);
    if (s != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    return cli_finish_stdout(EXIT_OK);
}

int cmd_models(int argc, char **argv)
{
    list_state st = {0};
    int a =
        list_args(argc, argv,
                  "Usage: qkvplan models [-f json]\n\nLists the built-in model catalog: shape, "
                  "parameters, f16 KV cache per token as built,\nand the source of each entry.\n\n",
                  &st);
    if (a != 0)
        return a > 0 ? cli_finish_stdout(EXIT_OK) : EXIT_USAGE;
    if (st.json)
        return models_json();
    /* 79 columns a row; each entry's source below it, wrapped to the terminal */
    const size_t width = cli_term_width(STDOUT_FILENO);
    printf("%-18s %6s %6s %5s %4s %5s %7s %8s %10s\n", "name", "layers", "d_model", "heads", "kv",
           "hdim", "window", "params", "KV/token");
    kvplan_params p = kvplan_params_default();
    for (size_t i = 0; i < catalog_count(); i++) {
        const model_shape *m = catalog_get(i);
        variant v = variant_as_built(m);
        kvplan_row row;
        qkv_error err;
        char params[32] = "?", kv[FMT_BYTES] = "?", window[24] = "-";
        if (kvplan_row_eval(m, &v, &p, false, &row, &err) == QKV_OK) {
            snprintf(params, sizeof params, "%.2fB", (double)row.params / 1e9);
            fmt_size(row.kv_bytes_per_token, kv, sizeof kv);
        }
        if (m->n_swa_layers > 0)
            snprintf(window, sizeof window, "%" PRIu64 "/%" PRIu64, m->window, m->n_swa_layers);
        char kvh[24];
        if (model_is_mla(m))
            snprintf(kvh, sizeof kvh, "MLA");
        else
            snprintf(kvh, sizeof kvh, "%" PRIu64, m->n_kv_heads);
        printf("%-18s %6" PRIu64 " %6" PRIu64 " %5" PRIu64 " %4s %5" PRIu64 " %7s %8s %10s\n",
               m->name, m->n_layers, m->d_model, m->n_heads, kvh, m->head_dim, window, params, kv);
        fputs("  ", stdout);
        report_wrap_from(stdout, m->source, 2, width, 4);
    }
    fputc('\n', stdout);
    report_wrap(stdout,
                "window: sliding-window size / number of sliding layers. KV/token: f16, "
                "all layers, one sequence, as built. Below each model: its source.",
                width, 0);
    return cli_finish_stdout(EXIT_OK);
}

int cmd_devices(int argc, char **argv)
{
    list_state st = {0};
    int a = list_args(argc, argv,
                      "Usage: qkvplan devices [-f json]\n\nLists the device profiles --device "
                      "accepts.\n\n",
                      &st);
    if (a != 0)
        return a > 0 ? cli_finish_stdout(EXIT_OK) : EXIT_USAGE;
    if (st.json) {
        qkv_error err;
        if (report_devices_json(stdout, &err) != QKV_OK)
            return cli_fail(&err, EXIT_FAIL);
        return cli_finish_stdout(EXIT_OK);
    }
    /* 71 columns a row; each profile's description below it, wrapped */
    const size_t width = cli_term_width(STDOUT_FILENO);
    printf("%-22s %-7s %16s %11s %9s\n", "name", "kind", "bytes", "gpu_reserve", "gpu_share");
    for (size_t i = 0; i < devices_count(); i++) {
        const device_profile *d = devices_get(i);
        char share[16] = "-";
        if (d->gpu_share_permille)
            snprintf(share, sizeof share, "%u.%u%%", d->gpu_share_permille / 10,
                     d->gpu_share_permille % 10);
        printf("%-22s %-7s %16" PRIu64 " %11" PRIu64 " %9s\n", d->name, d->kind, d->bytes,
               d->gpu_reserve_bytes, share);
        fputs("  ", stdout);
        report_wrap_from(stdout, d->desc, 2, width, 2);
    }
    fputc('\n', stdout);
    report_wrap(stdout,
                "Nominal memory in the memory convention (8 GB = 8 x 2^30 bytes); what an app can "
                "use is less, which --reserve accounts for. As --gpu: a discrete card keeps "
                "gpu_reserve bytes free for the runtime's context (--gpu-reserve overrides; a size "
                "given to --gpu keeps 512 MiB); a unified-memory device is one pool whose GPU may "
                "use gpu_share of it (macOS: about 2/3 of RAM up to 36 GB, 3/4 above; Jetson 3/4 "
                "and phones 1/2 are assumptions).",
                width, 0);
    return cli_finish_stdout(EXIT_OK);
}
