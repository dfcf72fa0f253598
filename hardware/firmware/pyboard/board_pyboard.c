/* The pyboard v1.1 + pyPhotometry acquisition board: the C side of
 * hardware/boards/pyboard.json (pins, wavelengths, limits). Keep the two in
 * step: the host checks LED currents against the JSON before the firmware
 * enforces these limits. */
#include "fiberrig.pb.h"
#include "fr_board.h"
#include "fr_drive.h"

#ifndef FR_BUILD_ID
#define FR_BUILD_ID "dev"
#endif
#ifndef FR_FIRMWARE_VERSION
#define FR_FIRMWARE_VERSION "0.1.0"
#endif
#ifndef FR_BOARD_MODEL /* the host build of this board (make host-pyboard) names itself */
#define FR_BOARD_MODEL "pyboard-v1.1-pyphotometry"
#endif
#ifndef FR_SERIAL_NUMBER
#define FR_SERIAL_NUMBER ""
#endif
/* The build's SERIAL; when empty the HAL fills it at boot from the chip's unique id. */
char fr_pyboard_serial[33] = FR_SERIAL_NUMBER;
#ifndef FR_BUFFER_BLOCKS
#define FR_BUFFER_BLOCKS 12u
#endif

/* Found by `fiberrig flash` in the .elf, .bin and .dfu alike (kept by the linker script). */
__attribute__((section(".fr_id"), used)) const char fr_image_id[] = "FRBUILDID:" FR_BUILD_ID "\0FRBOARD:" FR_BOARD_MODEL;

const fr_board fr_board_this = {
  .model = FR_BOARD_MODEL,
  .firmware_name = "fiberrig-fw",
  .firmware_version = FR_FIRMWARE_VERSION,
  .build_id = FR_BUILD_ID,
  .serial_number = fr_pyboard_serial,
  .n_leds = 2,
  .leds = {
    {0, 470, 100.0f, 100.0f, 12, fiberrig_v1_LedDriverKind_LED_DRIVER_KIND_DAC_CURRENT},
    {1, 405, 100.0f, 100.0f, 12, fiberrig_v1_LedDriverKind_LED_DRIVER_KIND_DAC_CURRENT},
  },
  .n_detectors = 2,
  .detectors = {
    {0, 15, 3.3f, 10000, "analog_1"},
    {1, 15, 3.3f, 10000, "analog_2"},
  },
  .n_aux = 0,
  .n_digital = 3,
  .digital = {
    {0, false, "digital_1"},
    {1, false, "digital_2"},
    {2, true, "sync_out"},
  },
  .n_modes = 3,
  .modes = {
    fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS,
    fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION,
    fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN,
  },
  .max_sample_rate_hz = 10000,
  .max_conversion_rate_hz = 200000, /* scans of both inputs: 2 x (28 + 12) ADC cycles at 21 MHz = 3.8 us */
  .max_oversampling = 64,
  .timer_clock_hz = 84000000,
  .sample_clock_hz = 84000000,
  .max_drive_period_samples = FR_DRIVE_MAX_SAMPLES,
  .max_sync_period_samples = 65536, /* TIM4 is 16-bit */
  .max_block_samples = 1024,
  .buffer_blocks = FR_BUFFER_BLOCKS,
  .max_message_bytes = 4352,
  .max_sample_bytes = FR_MAX_SAMPLE_BYTES,
  .default_heartbeat_timeout_ms = 2000,
  .default_status_interval_ms = 500,
  .ambient_temperature_c = 25.0f,
};
