#include "analyzer/devices.h"

#include <strings.h>

#define GiB(n) ((uint64_t)(n) << 30)
#define GPU_RESERVE ((uint64_t)512 << 20) /* CUDA context and workspaces */

static const device_profile devices[] = {
    {"iphone-15", "phone", "Apple iPhone 15 (6 GB)", GiB(6), 0, 500},
    {"iphone-15-pro", "phone", "Apple iPhone 15 Pro (8 GB)", GiB(8), 0, 500},
    {"iphone-16", "phone", "Apple iPhone 16 (8 GB)", GiB(8), 0, 500},
    {"pixel-8", "phone", "Google Pixel 8 (8 GB)", GiB(8), 0, 500},
    {"pixel-8-pro", "phone", "Google Pixel 8 Pro (12 GB)", GiB(12), 0, 500},
    {"pixel-9-pro", "phone", "Google Pixel 9 Pro (16 GB)", GiB(16), 0, 500},
    {"galaxy-s24-ultra", "phone", "Samsung Galaxy S24 Ultra (12 GB)", GiB(12), 0, 500},
    {"rpi5-4gb", "board", "Raspberry Pi 5 (4 GB)", GiB(4), 0, 0},
    {"rpi5-8gb", "board", "Raspberry Pi 5 (8 GB)", GiB(8), 0, 0},
    {"rpi5-16gb", "board", "Raspberry Pi 5 (16 GB)", GiB(16), 0, 0},
    {"jetson-orin-nano", "board", "NVIDIA Jetson Orin Nano (8 GB)", GiB(8), 0, 750},
    {"jetson-agx-orin-64gb", "board", "NVIDIA Jetson AGX Orin (64 GB)", GiB(64), 0, 750},
    {"macbook-air-8gb", "laptop", "Apple MacBook Air M2/M3 (8 GB)", GiB(8), 0, 667},
    {"macbook-air-16gb", "laptop", "Apple MacBook Air M3/M4 (16 GB)", GiB(16), 0, 667},
    {"macbook-pro-36gb", "laptop", "Apple MacBook Pro M3 Pro (36 GB)", GiB(36), 0, 667},
    {"macbook-pro-128gb", "laptop", "Apple MacBook Pro M4 Max (128 GB)", GiB(128), 0, 750},
    {"laptop-16gb", "laptop", "Laptop with 16 GB RAM", GiB(16), 0, 0},
    {"rtx-3060", "gpu", "NVIDIA GeForce RTX 3060 (12 GB)", GiB(12), GPU_RESERVE, 0},
    {"rtx-4060", "gpu", "NVIDIA GeForce RTX 4060 (8 GB)", GiB(8), GPU_RESERVE, 0},
    {"rtx-4090", "gpu", "NVIDIA GeForce RTX 4090 (24 GB)", GiB(24), GPU_RESERVE, 0},
    {"rtx-5090", "gpu", "NVIDIA GeForce RTX 5090 (32 GB)", GiB(32), GPU_RESERVE, 0},
    {"t4", "gpu", "NVIDIA T4 (16 GB)", GiB(16), GPU_RESERVE, 0},
    {"l4", "gpu", "NVIDIA L4 (24 GB)", GiB(24), GPU_RESERVE, 0},
    {"a100-40gb", "gpu", "NVIDIA A100 (40 GB)", GiB(40), GPU_RESERVE, 0},
    {"a100-80gb", "gpu", "NVIDIA A100 (80 GB)", GiB(80), GPU_RESERVE, 0},
    {"h100-80gb", "gpu", "NVIDIA H100 (80 GB)", GiB(80), GPU_RESERVE, 0},
    {"rtx-3090", "gpu", "NVIDIA GeForce RTX 3090 (24 GB)", GiB(24), GPU_RESERVE, 0},
    {"rtx-4070", "gpu", "NVIDIA GeForce RTX 4070 (12 GB)", GiB(12), GPU_RESERVE, 0},
    {"rtx-4080", "gpu", "NVIDIA GeForce RTX 4080 (16 GB)", GiB(16), GPU_RESERVE, 0},
    {"rx-7900-xtx", "gpu", "AMD Radeon RX 7900 XTX (24 GB)", GiB(24), GPU_RESERVE, 0},
    {"arc-a770", "gpu", "Intel Arc A770 (16 GB)", GiB(16), GPU_RESERVE, 0},
};

size_t devices_count(void)
{
    return sizeof devices / sizeof devices[0];
}

const device_profile *devices_get(size_t i)
{
    return i < devices_count() ? &devices[i] : NULL;
}

const device_profile *devices_find(const char *name)
{
    for (size_t i = 0; i < devices_count(); i++)
        if (strcasecmp(name, devices[i].name) == 0)
            return &devices[i];
    return NULL;
}
