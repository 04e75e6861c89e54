/* catalog.h — the built-in model catalog.
 *
 * Each entry is read from a public config (cited in its `source`), so plans of
 * catalog models can be checked against the published files. The paper's own
 * models (arXiv 2606.04032) are GPT-2 style: learned positions, pre-LayerNorm,
 * GELU, biases, tied embeddings, context 2048, vocab 50304.
 */
#ifndef QKV_CATALOG_H
#define QKV_CATALOG_H

#include <stddef.h>

#include "analyzer/model.h"

/* Number of catalog entries. */
size_t catalog_count(void);

/* Entry i (i < catalog_count()); static storage. */
const model_shape *catalog_get(size_t i);

/* Find an entry by name, case-insensitive; NULL if none. */
const model_shape *catalog_find(const char *name);

/* Name of the model planned when none is given: the paper's 1.2B. */
#define CATALOG_DEFAULT "paper-1.2B"

#endif
