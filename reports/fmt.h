/* fmt.h — number formatting shared by the writers (locale-independent). */
#ifndef QKV_REPORT_FMT_H
#define QKV_REPORT_FMT_H

#include <stddef.h>
#include <stdint.h>

#define FMT_BYTES 48

/* Binary-unit size with three significant digits: "5.50 GiB", "176 KiB", "812 B". */
void fmt_size(uint64_t bytes, char *buf, size_t buf_bytes);

/* Signed size: "-1.25 GiB". */
void fmt_size_signed(int64_t bytes, char *buf, size_t buf_bytes);

/* Integer with thousands separators: "5,905,580,032". */
void fmt_grouped(uint64_t v, char *buf, size_t buf_bytes);

/* Token count: exact below 1024 and otherwise "32k", "1M" when whole, else exact. */
void fmt_tokens(uint64_t v, char *buf, size_t buf_bytes);

/* Shortest decimal text that reads back as the same double ("0.875", "3.1");
 * "nan"/"inf" never appear: non-finite values give an empty string and 0. */
int fmt_double(double d, char *buf, size_t buf_bytes);

#endif
