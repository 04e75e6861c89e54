/* Fuzz the llama2.c checkpoint reader (header, size and NaN checks). */
#include "probes/runtime/llama2c.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rt_model m;
    qkv_error err;
    if (llama2c_load(fuzz_file(data, size, ".bin"), &m, &err) == QKV_OK)
        rt_model_free(&m);
    return 0;
}
