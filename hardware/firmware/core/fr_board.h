/* Board definitions: what a board has and its limits (the C twin of
 * firmware-sim/device/board.ts). The core enforces them and describes them
 * in DeviceInfo. */
#ifndef FR_BOARD_H
#define FR_BOARD_H
#include <stdbool.h>
#include <stdint.h>

/* nanopb bounds (protocol/fiberrig.options) */
#define FR_MAX_LEDS 8u
#define FR_MAX_DETECTORS 4u
#define FR_MAX_AUX 4u
#define FR_MAX_DIGITAL 8u
#define FR_MAX_SAMPLE_BYTES 4096u
#define FR_MAX_CAL_POINTS 24u

typedef struct {
  uint32_t id;
  uint32_t wavelength_nm;
  float max_current_continuous_ma; /* CONTINUOUS levels, LOCK_IN peaks, TDM average */
  float max_current_pulsed_ma;     /* TIME_DIVISION pulse peaks */
  uint32_t dac_bits;
  uint32_t driver; /* fiberrig_v1_LedDriverKind */
} fr_led_def;

typedef struct {
  uint32_t id;
  uint32_t adc_bits;
  float full_scale_v;
  uint32_t max_rate_hz;
  const char *label;
} fr_detector_def;

typedef struct {
  uint32_t id;
  const char *label;
  uint32_t adc_bits;
  float full_scale_v; /* ADC input span: signed codes cover -full_scale_v/2 .. +full_scale_v/2 */
  uint32_t max_rate_hz;
  /* amplifier gain, V at the ADC per V at the electrode: DeviceInfo reports
   * electrode_volts_per_code = full_scale_v / 2^adc_bits / gain_v_per_v */
  double gain_v_per_v;
} fr_aux_def;

typedef struct {
  uint32_t id;
  bool output;
  const char *label;
} fr_digital_def;

typedef struct {
  const char *model;
  const char *firmware_name;
  const char *firmware_version;
  const char *build_id;
  const char *serial_number;
  uint32_t n_leds;
  fr_led_def leds[FR_MAX_LEDS];
  uint32_t n_detectors;
  fr_detector_def detectors[FR_MAX_DETECTORS];
  uint32_t n_aux;
  fr_aux_def aux[FR_MAX_AUX];
  uint32_t n_digital;
  fr_digital_def digital[FR_MAX_DIGITAL];
  uint32_t n_modes;
  uint32_t modes[3];
  uint32_t max_sample_rate_hz;
  uint32_t max_conversion_rate_hz;
  uint32_t max_oversampling;
  uint32_t timer_clock_hz;
  /* Hardware timing limits of a real front end (0 = none: the host and qemu
   * targets compute samples and LED currents, so any rate and carrier works).
   * sample_clock_hz: the timer clock that paces samples and conversions; the
   * sample rate and sample rate x oversampling must divide it, so the sample
   * clock is exact and locked to the device clock. max_drive_period_samples:
   * the longest LED waveform (a lock-in carrier's exact period, a TDM cycle)
   * the board's DAC tables hold. max_sync_period_samples: the sync-out
   * counter's range. */
  uint32_t sample_clock_hz;
  uint32_t max_drive_period_samples;
  uint32_t max_sync_period_samples;
  uint32_t max_block_samples;
  uint32_t buffer_blocks;
  uint32_t max_message_bytes; /* largest encoded Envelope; DeviceInfo.max_frame_bytes is its frame */
  uint32_t max_sample_bytes;
  uint32_t default_heartbeat_timeout_ms;
  uint32_t default_status_interval_ms;
  float ambient_temperature_c;
} fr_board;

/* The board this image was built for (fr_board.c, shaped by FR_BOARD_* macros). */
extern const fr_board fr_board_this;

#endif
