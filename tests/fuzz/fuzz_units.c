/* Fuzz the command line's size, token-count and count parsers. */
#include "cli/units.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_string(data, size), why[160];
    if (!s)
        return 0;
    uint64_t v;
    if (units_parse_size(s, &v, why, sizeof why) != 0 && why[0] == '\0')
        abort(); /* a refusal always says why */
    units_parse_tokens(s, &v, why, sizeof why);
    units_parse_count(s, 1, 1000, &v, why, sizeof why);
    free(s);
    return 0;
}
