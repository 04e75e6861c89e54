/* version.h — qkvplan's version and the version of its JSON schema.
 *
 * QKVPLAN_SCHEMA_VERSION counts incompatible changes of the JSON that plan,
 * models and devices write (a field renamed, retyped or removed); adding a
 * field does not change it. 2: flash_attn is "on"|"off"|"auto" (was a
 * bool), rows carry engine_refusal, the as-built row leads. */
#ifndef QKV_VERSION_H
#define QKV_VERSION_H

#define QKVPLAN_VERSION "0.1.0"
#define QKVPLAN_SCHEMA_VERSION 2

#endif
