/* Internal to the core (not for HALs or tests): the state a session keeps
 * from boot to boot, across runs, and the small helpers the core's files
 * share. One run's state is fr_run.h's; the link's queues are fr_link.c's.
 *
 * The core is single-threaded (fr_core.h): these globals are touched from the
 * main loop only. */
#ifndef FR_SESSION_H
#define FR_SESSION_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fiberrig.pb.h"
#include "fr_board.h"
#include "fr_core.h"
#include "fr_hal.h"
#include "fr_validate.h"

#define FR_PROTOCOL_MAJOR 1u
#define FR_PROTOCOL_MINOR 2u

typedef struct {
  const fr_board *board;
  uint64_t boot_ns; /* fr_hal_time_ns() at boot: uptime counts from here */
  uint32_t resets;

  bool handshaken;
  bool bootloader; /* EnterBootloader done and no bootloader: only the link keeps working */
  bool have_config;
  fr_norm_config config;
  uint32_t config_id;
  uint32_t next_config_id;
  /* the drive the host asked for, configuration order (Configure, then SetLed) */
  double commanded_ma[FR_MAX_LEDS];
  bool commanded_has_uw[FR_MAX_LEDS];
  double commanded_uw[FR_MAX_LEDS];
  fr_calibration calibration;

  uint64_t last_hb_ns; /* uptime of the last Heartbeat (or Start, or a SetLed that re-armed the LEDs) */
  bool status_armed;   /* periodic Status, from the first Hello on */
  uint64_t next_status_ns;
  fr_core_action pending_action; /* a Reset or EnterBootloader acked, waiting for its reply to leave */
} fr_session_t;

extern fr_session_t fr_session;

/* Device uptime: ns since boot. */
static inline uint64_t fr_now_ns(void) { return fr_hal_time_ns() - fr_session.boot_ns; }

/* Decimal text of v into buf (24 bytes); newlib-nano's printf has no %llu. */
const char *fr_u64_text(uint64_t v, char *buf);
/* Copies src (NULL = "") into dst of `size` bytes, truncated and terminated. */
void fr_copy_str(char *dst, size_t size, const char *src);

#endif
