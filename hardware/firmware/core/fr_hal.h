/* The hardware abstraction the core runs on. Each target (host, qemu, a real
 * board) implements these functions; the core calls them from its main loop
 * only (never from an interrupt), so implementations need no locking beyond
 * their own interrupt handlers. */
#ifndef FR_HAL_H
#define FR_HAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Clock: monotonic nanoseconds since the target was powered on or reset. */
uint64_t fr_hal_time_ns(void);

/* Sampling timer: paces conversions at rate_hz from now (0 = stop). The core
 * counts samples by the clock (sample n is taken at start + (n + 1) / fs);
 * the timer only has to wake the main loop at least once per sample period. */
void fr_hal_sampling(uint32_t rate_hz);

/* Analog front end. Detector codes for sample n with the given LED currents
 * (board order, mA): codes[d] for every board detector d. The host and qemu
 * targets compute them with a synthetic front end (fr_synth.h); a real board
 * returns its ADC's conversions, averaged over `oversampling`. */
void fr_hal_detectors(uint64_t n, const float *led_ma, uint32_t oversampling, int32_t *codes);
/* Aux codes (board order) for aux sample k, taken at device time t_ns. */
void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes);
/* LED drive: the peak currents commanded now (board order, mA; 0 = dark). */
void fr_hal_leds(const float *peak_ma, uint32_t n);

/* Link: non-blocking. read returns the bytes available (0..max); write
 * returns how many of len bytes it took (0 when the link is busy or down). */
size_t fr_hal_link_read(uint8_t *buf, size_t max);
size_t fr_hal_link_write(const uint8_t *buf, size_t len);

/* Non-volatile storage of one record (the core adds its own header and CRC). */
bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len);
bool fr_hal_nv_write(const uint8_t *buf, size_t len);

/* Resets since power on (kept by the target across resets, not across power loss). */
uint32_t fr_hal_resets(void);

#endif
