/* The firmware core's entry points (fr_core.h) and the session state. The
 * work is split by reason to change: fr_command.c (the commands and their
 * rules), fr_run.c (one run: sample clock, blocks, LED schedule, watchdog),
 * fr_link.c (framing glue: control queue, stream, transmit and receive),
 * fr_status.c (Status, DeviceInfo, SelfTest), fr_nv.c (calibration in
 * non-volatile storage). Behaviour follows firmware-sim/device/device.ts. */
#include "fr_core.h"

#include <stdio.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fr_hal.h"
#include "fr_link.h"
#include "fr_nv.h"
#include "fr_run.h"
#include "fr_session.h"
#include "fr_status.h"

fr_session_t fr_session;

const char *fr_u64_text(uint64_t v, char *buf) {
  char tmp[24];
  int i = 0;
  do {
    tmp[i++] = (char)('0' + (int)(v % 10u));
    v /= 10u;
  } while (v);
  int j = 0;
  while (i) buf[j++] = tmp[--i];
  buf[j] = 0;
  return buf;
}

void fr_copy_str(char *dst, size_t size, const char *src) {
  if (size == 0) return;
  size_t n = src ? strlen(src) : 0;
  if (n >= size) n = size - 1;
  if (n) memcpy(dst, src, n);
  dst[n] = 0;
}

void fr_core_boot(const fr_board *board, const char *reason) {
  memset(&fr_session, 0, sizeof fr_session);
  memset(&fr_run, 0, sizeof fr_run);
  fr_session.board = board;
  fr_session.boot_ns = fr_hal_time_ns();
  fr_session.resets = fr_hal_resets();
  fr_session.next_config_id = 1;
  fr_link_init(board->max_message_bytes);
  fr_nv_boot(&fr_session.calibration);
  fr_hal_sampling(NULL);
  const float dark[FR_MAX_LEDS] = {0};
  fr_hal_leds(dark, board->n_leds);
  char text[96];
  snprintf(text, sizeof text, "%s: %s %s (%s) on %s", reason, board->firmware_name, board->firmware_version, board->build_id,
           board->model);
  fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_INFO, text);
}

fr_core_action fr_core_poll(void) {
  fr_session_t *s = &fr_session;
  if (s->pending_action != FR_CORE_RUN) {
    fr_link_pump(false);
    if (fr_link_flushed()) {
      fr_core_action a = s->pending_action;
      if (a == FR_CORE_BOOTLOADER) s->bootloader = true;
      s->pending_action = FR_CORE_RUN;
      return a;
    }
    return FR_CORE_RUN;
  }
  uint64_t t = fr_now_ns();
  if (!s->bootloader) {
    fr_run_poll(t);
    fr_status_tick(t);
  }
  fr_link_read();
  fr_link_pump(s->pending_action == FR_CORE_RUN);
  return FR_CORE_RUN;
}

bool fr_core_busy(void) { return fr_link_busy() || fr_session.pending_action != FR_CORE_RUN; }
