/* devices.h — named device profiles for --device.
 *
 * Sizes are the nominal memory of each device (unified RAM for phones,
 * boards and Apple laptops; VRAM for GPUs), in the memory convention: an
 * "8 GB" device has 8 x 2^30 bytes. Usable memory is less (the OS, the
 * driver, ECC); --reserve keeps that share free.
 */
#ifndef QKV_DEVICES_H
#define QKV_DEVICES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name;  /* lower-case id, e.g. "rpi5-8gb" */
    const char *kind;  /* "phone", "board", "laptop", "gpu" */
    const char *desc;  /* human name */
    uint64_t bytes;
} device_profile;

size_t devices_count(void);
const device_profile *devices_get(size_t i);
/* Case-insensitive lookup; NULL if none. */
const device_profile *devices_find(const char *name);

#endif
