/* Internal to the core: what the device reports about itself: the periodic
 * Status, DeviceInfo and the SelfTestReport. */
#ifndef FR_STATUS_H
#define FR_STATUS_H
#include <stdint.h>

#include "fiberrig.pb.h"

/* Status at uptime t_ns. */
void fr_status_fill(fiberrig_v1_Status *s, uint64_t t_ns);
/* The Status period in force (the configuration's, else the board default). */
uint64_t fr_status_interval_ns(void);
/* Sends Status when it is due (after the first Hello). */
void fr_status_tick(uint64_t t_ns);
/* Replies to request `id` with DeviceInfo / a SelfTestReport. */
void fr_status_device_info(uint32_t id);
void fr_status_self_test(uint32_t id);

#endif
