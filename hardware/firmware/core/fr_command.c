/* The commands: the session's rules (Hello first, no Configure or calibration
 * write while running), validation (fr_validate.h) and the replies; the work
 * itself is the run's (fr_run.h), the store's (fr_nv.h) and the reports'
 * (fr_status.h). Behaviour follows firmware-sim/device/device.ts. */
#include "fr_command.h"

#include <stdio.h>
#include <string.h>

#include "fr_hal.h"
#include "fr_link.h"
#include "fr_nv.h"
#include "fr_run.h"
#include "fr_session.h"
#include "fr_status.h"
#include "fr_validate.h"

static void on_hello(uint32_t id, const fiberrig_v1_Hello *hello) {
  if (!hello->has_protocol || hello->protocol.major != FR_PROTOCOL_MAJOR) {
    fr_issue issue;
    if (hello->has_protocol) {
      fr_issue_set(&issue, fiberrig_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH, "hello.protocol", "host speaks %lu.%lu, device speaks %u.%u",
                   (unsigned long)hello->protocol.major, (unsigned long)hello->protocol.minor, FR_PROTOCOL_MAJOR, FR_PROTOCOL_MINOR);
    } else {
      fr_issue_set(&issue, fiberrig_v1_ErrorCode_ERROR_CODE_VERSION_MISMATCH, "hello.protocol", "host speaks none, device speaks %u.%u",
                   FR_PROTOCOL_MAJOR, FR_PROTOCOL_MINOR);
    }
    fr_link_error(id, &issue);
    return;
  }
  fr_session.handshaken = true;
  if (!fr_session.status_armed) {
    fr_session.status_armed = true;
    fr_session.next_status_ns = fr_now_ns() + fr_status_interval_ns();
  }
  fr_status_device_info(id);
}

static void on_configure(uint32_t id, const fiberrig_v1_Configure *configure) {
  fr_session_t *s = &fr_session;
  if (fr_run.running) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "configure", "Stop before Configure");
    return;
  }
  static fr_norm_config candidate;
  fr_issue issue;
  if (!fr_validate_config(configure, s->board, &s->calibration, &candidate, &issue)) {
    fr_link_error(id, &issue);
    return;
  }
  s->config = candidate;
  s->have_config = true;
  s->config_id = s->next_config_id++;
  for (uint32_t k = 0; k < FR_MAX_LEDS; k++) {
    s->commanded_ma[k] = k < s->config.n_leds ? s->config.leds[k].peak_ma : 0;
    s->commanded_has_uw[k] = k < s->config.n_leds && s->config.leds[k].has_power;
    s->commanded_uw[k] = k < s->config.n_leds ? s->config.leds[k].power_uw : 0;
  }
  uint64_t next = fr_now_ns() + (uint64_t)s->config.status_interval_ms * 1000000u;
  if (s->status_armed && next < s->next_status_ns) s->next_status_ns = next;
  fr_link_ack(id, 0);
}

static void on_start(uint32_t id) {
  if (fr_run.running) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "start", "already running");
    return;
  }
  if (!fr_session.have_config) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED, "start", "Start needs an accepted Configure");
    return;
  }
  fr_run_start(fr_now_ns());
  fr_link_ack_at(id, 0, fr_run.start_ns / 1000u);
  /* the drive applied from sample 0 is part of the record: one LedEvent per configured LED */
  for (uint32_t k = 0; k < fr_session.config.n_leds; k++) fr_run_led_event(k, fr_run.peaks[k], 0);
}

static void on_stop(uint32_t id) {
  if (!fr_run.running) {
    fr_link_ack_at(id, fr_run.last_stop_index, fr_run.last_stop_us); /* idempotent: a repeated Stop gets the same answer */
    return;
  }
  fr_run_stop(fr_now_ns(), id, true);
}

static void on_set_led(uint32_t id, const fiberrig_v1_SetLed *set_led) {
  fr_session_t *s = &fr_session;
  fr_set_led_result r;
  fr_issue issue;
  if (!fr_validate_set_led(set_led, s->board, s->have_config ? &s->config : NULL, &s->calibration, &r, &issue)) {
    fr_link_error(id, &issue);
    return;
  }
  s->commanded_ma[r.led_index] = r.current_ma;
  s->commanded_has_uw[r.led_index] = r.has_power;
  s->commanded_uw[r.led_index] = r.power_uw;
  if (!fr_run.running) {
    fr_link_ack(id, 0);
    return;
  }
  fr_link_ack(id, fr_run_set_led(&r));
}

static void on_heartbeat(uint32_t id, const fiberrig_v1_Heartbeat *hb) {
  uint64_t t = fr_now_ns();
  fr_session.last_hb_ns = t;
  fiberrig_v1_HeartbeatAck ack = fiberrig_v1_HeartbeatAck_init_zero;
  ack.host_time_us = hb->host_time_us;
  ack.sample_index = fr_run_samples_taken(t);
  ack.device_time_us = t / 1000u;
  ack.running = fr_run.running;
  fr_link_heartbeat_ack(id, &ack, t);
}

static void on_read_calibration(uint32_t id) {
  fiberrig_v1_Envelope *m = fr_link_begin(id, fiberrig_v1_Envelope_calibration_table_tag);
  bool present = false;
  const char *why = "";
  if (!fr_nv_load(&m->body.calibration_table, &present, &why)) {
    char text[96];
    snprintf(text, sizeof text, "calibration read failed: %s", why);
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_STORAGE, "read_calibration", text);
    return;
  }
  fr_link_send();
}

static void on_write_calibration(uint32_t id, const fiberrig_v1_WriteCalibration *w) {
  if (fr_run.running) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_BUSY, "write_calibration", "Stop before writing calibration");
    return;
  }
  static const fiberrig_v1_CalibrationTable empty = fiberrig_v1_CalibrationTable_init_zero;
  const fiberrig_v1_CalibrationTable *table = w->has_table ? &w->table : &empty;
  fr_issue issue;
  if (!fr_validate_calibration(table, fr_session.board, &issue)) {
    fr_link_error(id, &issue);
    return;
  }
  if (!fr_nv_write(table)) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_STORAGE, "write_calibration", "calibration write failed: flash write failed");
    return;
  }
  fr_session.calibration.table = *table;
  fr_link_ack(id, 0);
}

static const char *body_name(pb_size_t tag) {
  switch (tag) {
    case fiberrig_v1_Envelope_ack_tag: return "ack";
    case fiberrig_v1_Envelope_error_tag: return "error";
    case fiberrig_v1_Envelope_device_info_tag: return "device_info";
    case fiberrig_v1_Envelope_heartbeat_ack_tag: return "heartbeat_ack";
    case fiberrig_v1_Envelope_self_test_report_tag: return "self_test_report";
    case fiberrig_v1_Envelope_calibration_table_tag: return "calibration_table";
    case fiberrig_v1_Envelope_sample_block_tag: return "sample_block";
    case fiberrig_v1_Envelope_digital_event_tag: return "digital_event";
    case fiberrig_v1_Envelope_led_event_tag: return "led_event";
    case fiberrig_v1_Envelope_status_tag: return "status";
    case fiberrig_v1_Envelope_log_tag: return "log";
    default: return "";
  }
}

static bool is_command(pb_size_t tag) { return tag >= fiberrig_v1_Envelope_hello_tag && tag <= fiberrig_v1_Envelope_enter_bootloader_tag; }

static bool allowed_before_hello(pb_size_t tag) {
  return tag == fiberrig_v1_Envelope_hello_tag || tag == fiberrig_v1_Envelope_get_info_tag || tag == fiberrig_v1_Envelope_heartbeat_tag ||
         tag == fiberrig_v1_Envelope_reset_tag || tag == fiberrig_v1_Envelope_enter_bootloader_tag;
}

void fr_command_dispatch(const fiberrig_v1_Envelope *m) {
  uint32_t id = m->request_id;
  pb_size_t tag = m->which_body;
  if (!is_command(tag)) {
    char text[96];
    const char *name = body_name(tag);
    if (name[0]) {
      snprintf(text, sizeof text, "%s is not a command", name);
    } else {
      snprintf(text, sizeof text, "envelope has no body this device knows");
    }
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_UNKNOWN_COMMAND, name, text);
    return;
  }
  if (!fr_session.handshaken && !allowed_before_hello(tag)) {
    fr_link_issue(id, fiberrig_v1_ErrorCode_ERROR_CODE_NOT_CONFIGURED, "hello", "send Hello first (device restarted or new session)");
    return;
  }
  switch (tag) {
    case fiberrig_v1_Envelope_hello_tag: on_hello(id, &m->body.hello); break;
    case fiberrig_v1_Envelope_get_info_tag: fr_status_device_info(id); break;
    case fiberrig_v1_Envelope_configure_tag: on_configure(id, &m->body.configure); break;
    case fiberrig_v1_Envelope_start_tag: on_start(id); break;
    case fiberrig_v1_Envelope_stop_tag: on_stop(id); break;
    case fiberrig_v1_Envelope_set_led_tag: on_set_led(id, &m->body.set_led); break;
    case fiberrig_v1_Envelope_heartbeat_tag: on_heartbeat(id, &m->body.heartbeat); break;
    case fiberrig_v1_Envelope_self_test_tag: fr_status_self_test(id); break;
    case fiberrig_v1_Envelope_read_calibration_tag: on_read_calibration(id); break;
    case fiberrig_v1_Envelope_write_calibration_tag: on_write_calibration(id, &m->body.write_calibration); break;
    case fiberrig_v1_Envelope_reset_tag:
    case fiberrig_v1_Envelope_enter_bootloader_tag:
      fr_link_ack(id, fr_run_samples_taken(fr_now_ns()));
      fr_link_drop_stream(); /* queued stream output is lost, as on a real reset */
      fr_run_abort();
      fr_session.pending_action = tag == fiberrig_v1_Envelope_reset_tag ? FR_CORE_REBOOT : FR_CORE_BOOTLOADER;
      break;
    default: break;
  }
}
