/* Status, DeviceInfo and SelfTest: the device's account of itself, from the
 * session, the run, the link's counters and the calibration store. */
#include "fr_status.h"

#include <stdio.h>
#include <string.h>

#include "fr_frame.h"
#include "fr_link.h"
#include "fr_nv.h"
#include "fr_run.h"
#include "fr_session.h"

void fr_status_fill(fiberrig_v1_Status *s, uint64_t t_ns) {
  const fr_session_t *ses = &fr_session;
  const fr_board *board = ses->board;
  uint64_t taken = fr_run_samples_taken(t_ns);
  s->sample_index = fr_run.running ? taken : 0;
  s->device_time_us = t_ns / 1000u;
  s->running = fr_run.running;
  s->config_id = ses->config_id;
  s->buffer_fill = (float)fr_link_blocks_held() / (float)board->buffer_blocks;
  s->blocks_dropped = fr_run.blocks_dropped;
  s->samples_dropped = fr_run.samples_dropped;
  fr_link_rejects rejected = fr_link_rejected();
  s->has_frames_rejected = true;
  s->frames_rejected.crc = rejected.crc;
  s->frames_rejected.oversize = rejected.oversize;
  s->frames_rejected.cobs = rejected.cobs;
  s->frames_rejected.decode = rejected.decode;
  double now_ma[FR_MAX_LEDS] = {0};
  if (fr_run.running && ses->have_config) {
    const double *p = fr_run_peaks_at(taken);
    for (uint32_t k = 0; k < ses->config.n_leds; k++) now_ma[ses->config.leds[k].board_index] = p[k];
  }
  double sum = 0;
  s->leds_count = (pb_size_t)board->n_leds;
  for (uint32_t i = 0; i < board->n_leds; i++) {
    s->leds[i].channel = board->leds[i].id;
    s->leds[i].current_ma = (float)now_ma[i];
    s->leds[i].power_uw = (float)fr_cal_power_for_current(&ses->calibration, board->leds[i].id, now_ma[i]);
    sum += now_ma[i];
  }
  s->temperature_c = (float)((double)board->ambient_temperature_c + 0.05 * sum);
  uint64_t age_ns = t_ns > ses->last_hb_ns ? t_ns - ses->last_hb_ns : 0;
  s->heartbeat_age_ms = (uint32_t)((age_ns + 500000u) / 1000000u);
  s->dark_reason = !fr_run.running ? fiberrig_v1_DarkReason_DARK_REASON_STOPPED
                   : fr_run.tripped ? fiberrig_v1_DarkReason_DARK_REASON_HEARTBEAT_TIMEOUT
                                    : fiberrig_v1_DarkReason_DARK_REASON_NONE;
  s->resets = ses->resets;
}

uint64_t fr_status_interval_ns(void) {
  uint32_t ms = fr_session.have_config ? fr_session.config.status_interval_ms : fr_session.board->default_status_interval_ms;
  return (uint64_t)ms * 1000000u;
}

void fr_status_tick(uint64_t t_ns) {
  fr_session_t *s = &fr_session;
  if (!s->status_armed || t_ns < s->next_status_ns) return;
  s->next_status_ns += fr_status_interval_ns();
  if (s->next_status_ns <= t_ns) s->next_status_ns = t_ns + fr_status_interval_ns();
  fiberrig_v1_Envelope *m = fr_link_begin(0, fiberrig_v1_Envelope_status_tag);
  fr_status_fill(&m->body.status, t_ns);
  fr_link_send();
}

static void fill_device_info(fiberrig_v1_DeviceInfo *info) {
  const fr_board *b = fr_session.board;
  info->has_protocol = true;
  info->protocol.major = FR_PROTOCOL_MAJOR;
  info->protocol.minor = FR_PROTOCOL_MINOR;
  fr_copy_str(info->firmware_name, sizeof info->firmware_name, b->firmware_name);
  fr_copy_str(info->firmware_version, sizeof info->firmware_version, b->firmware_version);
  fr_copy_str(info->build_id, sizeof info->build_id, b->build_id);
  fr_copy_str(info->board_model, sizeof info->board_model, b->model);
  fr_copy_str(info->serial_number, sizeof info->serial_number, b->serial_number);
  bool any = false;
  info->leds_count = (pb_size_t)b->n_leds;
  for (uint32_t i = 0; i < b->n_leds; i++) {
    fiberrig_v1_LedChannelInfo *l = &info->leds[i];
    l->id = b->leds[i].id;
    l->wavelength_nm = b->leds[i].wavelength_nm;
    l->max_current_continuous_ma = b->leds[i].max_current_continuous_ma;
    l->max_current_pulsed_ma = b->leds[i].max_current_pulsed_ma;
    l->driver = (fiberrig_v1_LedDriverKind)b->leds[i].driver;
    l->dac_bits = b->leds[i].dac_bits;
    l->calibrated = fr_cal_has(&fr_session.calibration, b->leds[i].id);
    any = any || l->calibrated;
  }
  info->detectors_count = (pb_size_t)b->n_detectors;
  for (uint32_t i = 0; i < b->n_detectors; i++) {
    fiberrig_v1_DetectorInfo *d = &info->detectors[i];
    d->id = b->detectors[i].id;
    d->adc_bits = b->detectors[i].adc_bits;
    d->full_scale_v = b->detectors[i].full_scale_v;
    d->max_rate_hz = b->detectors[i].max_rate_hz;
    fr_copy_str(d->label, sizeof d->label, b->detectors[i].label);
  }
  info->aux_inputs_count = (pb_size_t)b->n_aux;
  for (uint32_t i = 0; i < b->n_aux; i++) {
    fiberrig_v1_AuxInputInfo *a = &info->aux_inputs[i];
    a->id = b->aux[i].id;
    fr_copy_str(a->label, sizeof a->label, b->aux[i].label);
    a->adc_bits = b->aux[i].adc_bits;
    a->full_scale_v = b->aux[i].full_scale_v;
    a->max_rate_hz = b->aux[i].max_rate_hz;
    /* the same double arithmetic as the simulator's auxElectrodeVoltsPerCode (3.3f widened first) */
    a->electrode_volts_per_code = (double)b->aux[i].full_scale_v / (double)(1ull << b->aux[i].adc_bits) / b->aux[i].gain_v_per_v;
  }
  info->digital_lines_count = (pb_size_t)b->n_digital;
  for (uint32_t i = 0; i < b->n_digital; i++) {
    info->digital_lines[i].id = b->digital[i].id;
    info->digital_lines[i].direction = b->digital[i].output ? fiberrig_v1_DigitalDirection_DIGITAL_DIRECTION_OUTPUT
                                                            : fiberrig_v1_DigitalDirection_DIGITAL_DIRECTION_INPUT;
    fr_copy_str(info->digital_lines[i].label, sizeof info->digital_lines[i].label, b->digital[i].label);
  }
  info->modes_count = (pb_size_t)b->n_modes;
  for (uint32_t i = 0; i < b->n_modes; i++) info->modes[i] = (fiberrig_v1_ModulationMode)b->modes[i];
  info->max_frame_bytes = (uint32_t)FR_COBS_MAX(b->max_message_bytes + FR_CRC_BYTES);
  info->max_message_bytes = b->max_message_bytes;
  info->calibration_stored = any;
  info->max_sample_rate_hz = b->max_sample_rate_hz;
  info->timer_clock_hz = b->timer_clock_hz;
  info->max_block_samples = b->max_block_samples;
  info->buffer_blocks = b->buffer_blocks;
}

void fr_status_device_info(uint32_t id) {
  fiberrig_v1_Envelope *m = fr_link_begin(id, fiberrig_v1_Envelope_device_info_tag);
  fill_device_info(&m->body.device_info);
  fr_link_send();
}

static void add_item(fiberrig_v1_SelfTestReport *r, const char *name, fiberrig_v1_SelfTestOutcome outcome, const char *detail,
                     double value, const char *unit) {
  if (r->items_count >= sizeof r->items / sizeof r->items[0]) return;
  fiberrig_v1_SelfTestItem *it = &r->items[r->items_count++];
  fr_copy_str(it->name, sizeof it->name, name);
  it->outcome = outcome;
  fr_copy_str(it->detail, sizeof it->detail, detail);
  it->value = value;
  fr_copy_str(it->unit, sizeof it->unit, unit);
}

void fr_status_self_test(uint32_t id) {
  const fr_session_t *s = &fr_session;
  const fr_board *board = s->board;
  const fr_nv_health *nv = fr_nv_health_now();
  fiberrig_v1_Envelope *m = fr_link_begin(id, fiberrig_v1_Envelope_self_test_report_tag);
  fiberrig_v1_SelfTestReport *r = &m->body.self_test_report;
  char text[64];
  fr_link_rejects rej = fr_link_rejected();
  uint32_t rejected = rej.crc + rej.oversize + rej.cobs + rej.decode;
  snprintf(text, sizeof text, "%s %s", board->firmware_name, board->firmware_version);
  add_item(r, "firmware", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS, text, 0, "");
  add_item(r, "led_driver", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_NOT_APPLICABLE, "synthetic driver: no current sense", 0, "");
  add_item(r, "adc", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_NOT_APPLICABLE, "synthetic front end: no reference input",
           board->detectors[0].adc_bits, "bit");
  if (fr_run.blocks_dropped > 0) {
    char num[24];
    snprintf(text, sizeof text, "%s blocks dropped this run", fr_u64_text(fr_run.blocks_dropped, num));
  } else {
    snprintf(text, sizeof text, "%lu blocks, none dropped", (unsigned long)board->buffer_blocks);
  }
  add_item(r, "buffer",
           fr_run.blocks_dropped > 0 ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           text, (double)fr_run.blocks_dropped, "blocks");
  add_item(r, "calibration_crc",
           !nv->has_calibration ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN
           : nv->intact         ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS
                                : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_FAIL,
           !nv->has_calibration ? "no calibration stored: power_uw unavailable"
           : nv->intact         ? "stored table matches its CRC"
                                : "stored table fails its CRC",
           0, "");
  snprintf(text, sizeof text, "resets %lu", (unsigned long)s->resets);
  add_item(r, "nv_storage", nv->failed ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_FAIL : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           nv->failed ? "flash access fails" : text, s->resets, "");
  uint32_t hb_ms = s->have_config ? s->config.heartbeat_timeout_ms : board->default_heartbeat_timeout_ms;
  add_item(r, "watchdog", fr_run.ever_tripped ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           fr_run.ever_tripped ? "heartbeat timeout tripped this run" : "heartbeat watchdog armed", hb_ms, "ms");
  if (rejected > 0) {
    snprintf(text, sizeof text, "%lu frames rejected", (unsigned long)rejected);
  } else {
    snprintf(text, sizeof text, "no frames rejected");
  }
  add_item(r, "link", rejected > 0 ? fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_WARN : fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS,
           text, rejected, "frames");
  static fiberrig_v1_Status st;
  memset(&st, 0, sizeof st);
  fr_status_fill(&st, fr_now_ns());
  add_item(r, "temperature", fiberrig_v1_SelfTestOutcome_SELF_TEST_OUTCOME_PASS, "board sensor", st.temperature_c, "C");
  fr_link_send();
}
