/* devices.h — named device profiles for --device.
 *
 * Sizes are the nominal memory of each device (unified RAM for phones,
 * boards and Apple laptops; VRAM for GPUs), in the memory convention: an
 * "8 GB" device has 8 x 2^30 bytes. Usable memory is less (the OS, the
 * driver, ECC); --reserve keeps that share free.
 *
 * As a GPU (--gpu): a discrete card keeps gpu_reserve_bytes free for the
 * runtime's context (CUDA/ROCm/Vulkan context, cuBLAS workspaces; 512 MiB
 * unless stated, --gpu-reserve overrides). A unified-memory device (Apple
 * silicon, Jetson, phones) has one pool: its GPU may use gpu_share_permille
 * of it — macOS lets Metal wire about 2/3 of RAM up to 36 GB and 3/4 above
 * (recommendedMaxWorkingSetSize); Jetson's CUDA allocations come from the
 * same RAM (3/4 assumed, the rest for the OS); phones 1/2 (assumed, app
 * memory limits) — and host + GPU together must fit the pool.
 */
#ifndef QKV_DEVICES_H
#define QKV_DEVICES_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *name; /* lower-case id, e.g. "rpi5-8gb" */
    const char *kind; /* "phone", "board", "laptop", "gpu" */
    const char *desc; /* human name */
    uint64_t bytes;
    uint64_t gpu_reserve_bytes;  /* discrete GPU: kept free for the runtime */
    unsigned gpu_share_permille; /* unified memory: the GPU's usable share (0: not unified) */
} device_profile;

size_t devices_count(void);
const device_profile *devices_get(size_t i);
/* Case-insensitive lookup; NULL if none. */
const device_profile *devices_find(const char *name);

#endif
