/* The hardware abstraction the core runs on. Each target (host, qemu, a real
 * board) implements these functions; the core calls them from its main loop
 * only (never from an interrupt), so implementations need no locking beyond
 * their own interrupt handlers. */
#ifndef FR_HAL_H
#define FR_HAL_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fr_validate.h"

/* Clock: monotonic nanoseconds since the target was powered on or reset. */
uint64_t fr_hal_time_ns(void);

/* Sampling: starts the run's sample clock (config->sample_rate_hz,
 * config->oversampling conversions per sample, the digital inputs and the
 * sync output it names) and returns the device time (fr_hal_time_ns) at which
 * sample 0 starts; NULL stops it (returns 0). The core counts samples by the
 * clock from that start (sample n spans [start + n / fs, start + (n + 1) / fs)
 * and is taken at its end); the target only has to wake the main loop at least
 * once per sample. */
uint64_t fr_hal_sampling(const fr_norm_config *config);

/* Analog front end. fr_hal_detectors_ready: how many samples of this run the
 * front end has delivered so far; the core takes sample n only once n is
 * below it (a real ADC hands samples over in DMA batches, after the clock
 * says they are due). Synthetic front ends return UINT64_MAX.
 * fr_hal_detectors: codes for sample n with the given LED currents (board
 * order, mA): codes[d] for every board detector d. The host and qemu targets
 * compute them with a synthetic front end (fr_synth.h); a real board returns
 * its ADC's conversions averaged over the configured oversampling. Returns
 * false when the front end lost sample n (its queue overflowed): the core
 * ends the block there, so the host sees a gap, and counts the loss. */
uint64_t fr_hal_detectors_ready(void);
bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes);
/* Aux codes (board order) for aux sample k, taken at t_ns on the fr_hal_time_ns clock (which runs on
 * through a Reset, unlike the uptime the core reports). */
void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes);
/* LED drive outside a run: DC levels now (board order, mA; 0 = dark). */
void fr_hal_leds(const float *peak_ma, uint32_t n);
/* LED drive in a run: the LEDs play the modulation schedule of `config` with
 * `peaks_ma` (configuration order) from sample `from` on. Called before
 * fr_hal_sampling() at Start (from 0) and for every scheduled change: a
 * SetLed asks for a block boundary (`on_block`: land on one if the hardware
 * can within a few blocks), the heartbeat watchdog for its deadline (as soon
 * as possible). Returns the sample the change really takes effect at: `from`,
 * or later when the hardware can only switch at certain samples or is
 * already past `from`; the core reports that sample in the LedEvent. Targets
 * with a synthetic front end return `from` (fr_hal_detectors gets each
 * sample's currents). */
uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block);

/* Digital input edges captured since the last call, already placed on the
 * run's sample grid (DigitalEvent.sample_index / subsample_ticks). Returns how
 * many were written (0..max); *lost counts edges the target had to drop. */
typedef struct {
  uint32_t line;
  bool rising;
  uint64_t sample_index;
  uint32_t subsample_ticks;
} fr_hal_edge;
uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost);

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
