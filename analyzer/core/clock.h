/* clock.h — elapsed time for progress lines, ETAs and throughput figures. */
#ifndef QKV_CLOCK_H
#define QKV_CLOCK_H

/* Seconds on the monotonic clock: differences are elapsed wall time,
 * unaffected by changes to the time of day. */
double qkv_now_s(void);

#endif
