/* qkvplan convert IN --to safetensors|gguf OUT — write a model the runtime
 * holds in a standard format. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "probes/runtime/checkpoint.h"
#include "reports/bundle.h"
#include "reports/outfile.h"
#include "analyzer/core/paths.h"
#include "cli/cli.h"
#include "cli/doc.h"
#include "cli/options.h"
#include "cli/pathguard.h"

enum { C_TO = 1, C_F16, C_HELP };

const cli_option cli_convert_options[] = {
    {C_TO, "to", 't', "FORMAT", NULL,
     "safetensors (OUT is a directory: model.safetensors + config.json, Hugging Face names and Q/K "
     "row order) or gguf (OUT is a file, llama architecture)"},
    {C_F16, "f16", 0, NULL, NULL, "store tensors as F16 instead of F32"},
    {C_HELP, "help", 'h', NULL, NULL, "show this help"},
    {0, NULL, 0, NULL, NULL, NULL},
};

typedef struct {
    const char *to;
    bool f16, help;
} convert_state;

static int on_option(void *vs, int id, const char *name, const char *value)
{
    convert_state *st = vs;
    (void)name;
    if (id == C_TO)
        st->to = value;
    else if (id == C_F16)
        st->f16 = true;
    else if (id == C_HELP)
        st->help = true;
    return 0;
}

static int print_help(void)
{
    printf("Usage: qkvplan convert IN --to safetensors|gguf OUT [--f16]\n\n"
           "Writes a Llama-family model the runtime holds (a llama2.c checkpoint, a .qkvm\n"
           "from qkvplan study, or a safetensors or GGUF file) in a standard format, so\n"
           "files round-trip: loading OUT gives the same logits as IN.\n");
    cli_print_options(stdout, cli_convert_options);
    printf("\nExit codes: 0 written; 1 output could not be written; 2 bad command line;\n"
           "3 unreadable or unsupported input.\n");
    return cli_finish_stdout(EXIT_OK);
}

/* A writer's failure: a model the format cannot hold is the input's fault. */
static int write_failed(const qkv_error *err)
{
    cli_error("convert: %s", err->msg);
    return err->code == QKV_ERR_UNSUPPORTED ? EXIT_INPUT : EXIT_FAIL;
}

/* OUT as a directory of model.safetensors and config.json, both committed
 * only when both are written. a and b are aborted by the caller. */
static int write_safetensors(const rt_model *m, const char *out, bool f16, outfile *a, outfile *b)
{
    qkv_error err;
    char pa[QKV_PATH_BYTES + QKV_NAME_BYTES], pb[QKV_PATH_BYTES + QKV_NAME_BYTES];
    if (report_make_dir(out, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    snprintf(pa, sizeof pa, "%s/model.safetensors", out);
    snprintf(pb, sizeof pb, "%s/config.json", out);
    if (outfile_open(a, pa, &err) != QKV_OK || outfile_open(b, pb, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    if (ckpt_write_safetensors(a->f, b->f, m, f16, &err) != QKV_OK)
        return write_failed(&err);
    if (outfile_commit(a, &err) != QKV_OK || outfile_commit(b, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    return EXIT_OK;
}

/* OUT as one GGUF file. a is aborted by the caller. */
static int write_gguf(const rt_model *m, const char *out, bool f16, outfile *a)
{
    qkv_error err;
    if (outfile_open(a, out, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    if (ckpt_write_gguf(a->f, m, f16, &err) != QKV_OK)
        return write_failed(&err);
    if (outfile_commit(a, &err) != QKV_OK)
        return cli_fail(&err, EXIT_FAIL);
    return EXIT_OK;
}

int cmd_convert(int argc, char **argv)
{
    convert_state st = {0};
    /* IN and OUT are positional, wherever they stand among the options */
    cli_positional args = {.max = 2};
    if (cli_parse_positional(cli_convert_options, argc, argv, on_option, &st, &args) != 0)
        return EXIT_USAGE;
    const char *pos[2] = {args.arg[0], args.arg[1]};
    if (st.help)
        return print_help();
    if (args.n != 2 || !st.to) {
        cli_error("convert: give IN, --to safetensors|gguf and OUT (see 'qkvplan convert --help')");
        return EXIT_USAGE;
    }
    const bool to_st = strcasecmp(st.to, "safetensors") == 0,
               to_gg = strcasecmp(st.to, "gguf") == 0;
    if (!to_st && !to_gg) {
        cli_error("--to '%s': use safetensors or gguf", st.to);
        return EXIT_USAGE;
    }
    qkv_error err;
    ckpt ck;
    rt_model m;
    if (ckpt_open(pos[0], &ck, &err) != QKV_OK)
        return cli_fail(&err, EXIT_INPUT);
    if (ckpt_load_model(&ck, &m, &err) != QKV_OK) {
        cli_error("%s", err.msg);
        ckpt_close(&ck);
        return EXIT_INPUT;
    }
    ckpt_close(&ck);
    /* OUT, or the files written into it, against every file read. */
    cli_outputs outs = {0};
    if (to_st) {
        cli_outputs_add(&outs, "convert OUT", "%s/model.safetensors", pos[1]);
        cli_outputs_add(&outs, "convert OUT", "%s/config.json", pos[1]);
    } else {
        cli_outputs_add(&outs, "convert OUT", "%s", pos[1]);
    }
    int code = cli_outputs_check(&outs);
    if (code != EXIT_OK) {
        rt_model_free(&m);
        return code;
    }
    struct stat out_st;
    const bool out_existed = stat(pos[1], &out_st) == 0; /* else a failure removes what it made */
    outfile a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    code =
        to_st ? write_safetensors(&m, pos[1], st.f16, &a, &b) : write_gguf(&m, pos[1], st.f16, &a);
    outfile_abort(&a);
    outfile_abort(&b);
    if (code != EXIT_OK && to_st && !out_existed)
        rmdir(pos[1]); /* empty after the aborts: leave nothing behind */
    rt_model_free(&m);
    return code;
}
