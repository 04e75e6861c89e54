/* qkvplan models | devices — list the built-in catalog and device profiles. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "analyzer/catalog.h"
#include "analyzer/devices.h"
#include "analyzer/kvplan.h"
#include "reports/fmt.h"
#include "reports/textwrap.h"
#include "cli/cli.h"
#include "cli/term.h"

static int no_args(int argc, char **argv, const char *cmd, const char *help)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("%s", help);
            return 1;
        }
        cli_error("%s: unexpected argument '%s'", cmd, argv[i]);
        return -1;
    }
    return 0;
}

int cmd_models(int argc, char **argv)
{
    int a = no_args(argc, argv, "models",
                    "Usage: qkvplan models\nLists the built-in model catalog: shape, "
                    "parameters, f16 KV cache per token as built, and the source of each entry.\n");
    if (a != 0)
        return a > 0 ? cli_finish_stdout(EXIT_OK) : EXIT_USAGE;
    /* 79 columns a row; each entry's source below it, wrapped to the terminal */
    const size_t width = cli_term_width(STDOUT_FILENO);
    printf("%-18s %6s %6s %5s %4s %5s %7s %8s %10s\n", "name", "layers", "d_model", "heads",
           "kv", "hdim", "window", "params", "KV/token");
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
    report_wrap(stdout, "window: sliding-window size / number of sliding layers. KV/token: f16, "
                        "all layers, one sequence, as built. Below each model: its source.",
                width, 0);
    return cli_finish_stdout(EXIT_OK);
}

int cmd_devices(int argc, char **argv)
{
    int a = no_args(argc, argv, "devices",
                    "Usage: qkvplan devices\nLists the device profiles --device accepts.\n");
    if (a != 0)
        return a > 0 ? cli_finish_stdout(EXIT_OK) : EXIT_USAGE;
    const size_t width = cli_term_width(STDOUT_FILENO);
    printf("%-22s %-7s %16s  %s\n", "name", "kind", "bytes", "device");
    for (size_t i = 0; i < devices_count(); i++) {
        const device_profile *d = devices_get(i);
        printf("%-22s %-7s %16" PRIu64 "  ", d->name, d->kind, d->bytes);
        report_wrap_from(stdout, d->desc, 49, width, 49);
    }
    fputc('\n', stdout);
    report_wrap(stdout, "Nominal memory in the memory convention (8 GB = 8 x 2^30 bytes); what an "
                        "app can use is less, which --reserve accounts for.",
                width, 0);
    return cli_finish_stdout(EXIT_OK);
}
