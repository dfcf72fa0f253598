/* The board of the host and qemu builds: the simulator's default board
 * (firmware-sim/device/board.ts DEFAULT_BOARD) with this build's names, so the
 * same conformance suite holds both to one behaviour. A real board (pyboard)
 * brings its own definition. */
#include "fr_board.h"
#include "fiberrig.pb.h"

#ifndef FR_BOARD_MODEL
#define FR_BOARD_MODEL "fiberrig-host-4x2"
#endif
#ifndef FR_SERIAL_NUMBER
#define FR_SERIAL_NUMBER "HOST-0001"
#endif
#ifndef FR_BUILD_ID
#define FR_BUILD_ID "dev"
#endif
#ifndef FR_FIRMWARE_VERSION
#define FR_FIRMWARE_VERSION "0.1.0"
#endif
#ifndef FR_BUFFER_BLOCKS
#define FR_BUFFER_BLOCKS 32u
#endif
#ifndef FR_LED_DRIVER
#define FR_LED_DRIVER fiberrig_v1_LedDriverKind_LED_DRIVER_KIND_SIMULATED
#endif

const fr_board fr_board_this = {
  .model = FR_BOARD_MODEL,
  .firmware_name = "fiberrig-fw",
  .firmware_version = FR_FIRMWARE_VERSION,
  .build_id = FR_BUILD_ID,
  .serial_number = FR_SERIAL_NUMBER,
  .n_leds = 4,
  .leds = {
    {0, 405, 50.0f, 100.0f, 12, FR_LED_DRIVER},
    {1, 470, 50.0f, 100.0f, 12, FR_LED_DRIVER},
    {2, 560, 50.0f, 100.0f, 12, FR_LED_DRIVER},
    {3, 630, 50.0f, 100.0f, 12, FR_LED_DRIVER},
  },
  .n_detectors = 2,
  .detectors = {
    {0, 16, 3.3f, 20000, "PD0"},
    {1, 16, 3.3f, 20000, "PD1"},
  },
  .n_aux = 2,
  .aux = {
    {0, "EEG", 16, 3.3f, 2000, 1000.0},
    {1, "EMG", 16, 3.3f, 2000, 1000.0},
  },
  .n_digital = 3,
  .digital = {
    {0, false, "TTL0"},
    {1, false, "TTL1"},
    {2, true, "SYNC"},
  },
  .n_modes = 3,
  .modes = {
    fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS,
    fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION,
    fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN,
  },
  .max_sample_rate_hz = 20000,
  .max_conversion_rate_hz = 1000000,
  .max_oversampling = 64,
  .timer_clock_hz = 84000000,
  .max_block_samples = 1024,
  .buffer_blocks = FR_BUFFER_BLOCKS,
  .max_message_bytes = 4352,
  .max_sample_bytes = FR_MAX_SAMPLE_BYTES,
  .default_heartbeat_timeout_ms = 2000,
  .default_status_interval_ms = 500,
  .ambient_temperature_c = 25.0f,
};
