/* Fuzz the GGUF reader: metadata, tensor infos, and a row of every tensor,
 * then the planner's view of the file. */
#include "analyzer/formats/modelfile.h"
#include "probes/runtime/checkpoint.h"
#include "analyzer/formats/gguf.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gguf_file f;
    qkv_error err;
    const char *path = fuzz_file(data, size, ".gguf");
    if (gguf_open(path, &f, &err) == QKV_OK) {
        char buf[64];
        uint64_t v;
        gguf_get_str(&f, "general.architecture", buf, sizeof buf);
        gguf_get_uint(&f, "llama.block_count", &v);
        for (size_t i = 0; i < f.n_tensors; i++) {
            const gguf_tensor *t = &f.tensors[i];
            if (t->ne[0] == 0 || t->ne[0] > (1u << 20))
                continue;
            uint64_t rows = 1;
            for (uint32_t d = 1; d < t->n_dims; d++)
                rows *= t->ne[d];
            if (rows == 0)
                continue;
            float *row = malloc(t->ne[0] * sizeof(float));
            if (row) {
                gguf_read_rows(&f, t, rows - 1, 1, row, &err);
                free(row);
            }
        }
        gguf_close(&f);
    }
    model_shape ms;
    modelfile_shape(path, &ms, &err);
    return 0;
}
