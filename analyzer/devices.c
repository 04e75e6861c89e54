#include "analyzer/devices.h"

#include <strings.h>

#define GiB(n) ((uint64_t)(n) << 30)

static const device_profile devices[] = {
    {"iphone-15", "phone", "Apple iPhone 15 (6 GB)", GiB(6)},
    {"iphone-15-pro", "phone", "Apple iPhone 15 Pro (8 GB)", GiB(8)},
    {"iphone-16", "phone", "Apple iPhone 16 (8 GB)", GiB(8)},
    {"pixel-8", "phone", "Google Pixel 8 (8 GB)", GiB(8)},
    {"pixel-8-pro", "phone", "Google Pixel 8 Pro (12 GB)", GiB(12)},
    {"pixel-9-pro", "phone", "Google Pixel 9 Pro (16 GB)", GiB(16)},
    {"galaxy-s24-ultra", "phone", "Samsung Galaxy S24 Ultra (12 GB)", GiB(12)},
    {"rpi5-4gb", "board", "Raspberry Pi 5 (4 GB)", GiB(4)},
    {"rpi5-8gb", "board", "Raspberry Pi 5 (8 GB)", GiB(8)},
    {"rpi5-16gb", "board", "Raspberry Pi 5 (16 GB)", GiB(16)},
    {"jetson-orin-nano", "board", "NVIDIA Jetson Orin Nano (8 GB)", GiB(8)},
    {"jetson-agx-orin-64gb", "board", "NVIDIA Jetson AGX Orin (64 GB)", GiB(64)},
    {"macbook-air-8gb", "laptop", "Apple MacBook Air M2/M3 (8 GB)", GiB(8)},
    {"macbook-air-16gb", "laptop", "Apple MacBook Air M3/M4 (16 GB)", GiB(16)},
    {"macbook-pro-36gb", "laptop", "Apple MacBook Pro M3 Pro (36 GB)", GiB(36)},
    {"macbook-pro-128gb", "laptop", "Apple MacBook Pro M4 Max (128 GB)", GiB(128)},
    {"laptop-16gb", "laptop", "Laptop with 16 GB RAM", GiB(16)},
    {"rtx-3060", "gpu", "NVIDIA GeForce RTX 3060 (12 GB)", GiB(12)},
    {"rtx-4060", "gpu", "NVIDIA GeForce RTX 4060 (8 GB)", GiB(8)},
    {"rtx-4090", "gpu", "NVIDIA GeForce RTX 4090 (24 GB)", GiB(24)},
    {"rtx-5090", "gpu", "NVIDIA GeForce RTX 5090 (32 GB)", GiB(32)},
    {"t4", "gpu", "NVIDIA T4 (16 GB)", GiB(16)},
    {"l4", "gpu", "NVIDIA L4 (24 GB)", GiB(24)},
    {"a100-40gb", "gpu", "NVIDIA A100 (40 GB)", GiB(40)},
    {"a100-80gb", "gpu", "NVIDIA A100 (80 GB)", GiB(80)},
    {"h100-80gb", "gpu", "NVIDIA H100 (80 GB)", GiB(80)},
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
