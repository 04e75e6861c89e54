/* qkvplan models | devices — list the built-in catalog and device profiles. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyzer/catalog.h"
#include "analyzer/devices.h"
#include "analyzer/kvplan.h"
#include "reports/fmt.h"
#include "cli/cli.h"

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
    printf("%-18s %6s %6s %5s %4s %5s %7s %8s %10s  %s\n", "name", "layers", "d_model", "heads",
           "kv", "hdim", "window", "params", "KV/token", "source");
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
        printf("%-18s %6" PRIu64 " %6" PRIu64 " %5" PRIu64 " %4s %5" PRIu64 " %7s %8s %10s  %s\n",
               m->name, m->n_layers, m->d_model, m->n_heads, kvh, m->head_dim, window, params, kv,
               m->source);
    }
    printf("\nwindow: sliding-window size / number of sliding layers. KV/token: f16, all layers, "
           "one sequence, as built.\n");
    return cli_finish_stdout(EXIT_OK);
}

int cmd_devices(int argc, char **argv)
{
    int a = no_args(argc, argv, "devices",
                    "Usage: qkvplan devices\nLists the device profiles --device accepts.\n");
    if (a != 0)
        return a > 0 ? cli_finish_stdout(EXIT_OK) : EXIT_USAGE;
    printf("%-22s %-7s %16s %11s %9s  %s\n", "name", "kind", "bytes", "gpu_reserve",
           "gpu_share", "device");
    for (size_t i = 0; i < devices_count(); i++) {
        const device_profile *d = devices_get(i);
        char share[16] = "-";
        if (d->gpu_share_permille)
            snprintf(share, sizeof share, "%u.%u%%", d->gpu_share_permille / 10,
                     d->gpu_share_permille % 10);
        printf("%-22s %-7s %16" PRIu64 " %11" PRIu64 " %9s  %s\n", d->name, d->kind, d->bytes,
               d->gpu_reserve_bytes, share, d->desc);
    }
    printf("\nNominal memory in the memory convention (8 GB = 8 x 2^30 bytes); what an app can use "
           "is less, which --reserve accounts for.\n"
           "As --gpu: a discrete card keeps gpu_reserve bytes free for the runtime's context "
           "(--gpu-reserve overrides; a size given to --gpu keeps 512 MiB); a unified-memory "
           "device is one pool whose GPU may use gpu_share of it (macOS: about 2/3 of RAM up to "
           "36 GB, 3/4 above; Jetson 3/4 and phones 1/2 are assumptions).\n");
    return cli_finish_stdout(EXIT_OK);
}
