/* Fuzz the safetensors header parser and read every tensor it accepts. */
#include "analyzer/formats/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file f;
    qkv_error err;
    if (st_open(fuzz_file(data, size, ".safetensors"), &f, &err) != QKV_OK)
        return 0;
    for (size_t i = 0; i < f.n_tensors; i++) {
        const st_tensor *t = &f.tensors[i];
        uint64_t rows = t->n_dims ? t->shape[0] : 1, cols = 1;
        for (int d = 1; d < t->n_dims; d++)
            cols *= t->shape[d];
        if (rows == 0 || cols == 0 || cols > (1u << 20))
            continue;
        float *row = malloc(cols * sizeof(float));
        if (row) {
            st_read_rows(&f, t, rows - 1, 1, row, &err);
            free(row);
        }
    }
    st_close(&f);
    return 0;
}
