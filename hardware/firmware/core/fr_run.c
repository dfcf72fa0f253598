/* One run: the sample clock, taking samples into blocks, the LED drive
 * schedule (SetLed changes on block boundaries, the heartbeat watchdog),
 * digital edges, and the ring buffer's admission with overrun accounting.
 * Behaviour follows firmware-sim/device/device.ts; the comments name the
 * simulator's rule where the C code implements one. */
#include "fr_run.h"

#include <stdio.h>
#include <string.h>

#include "fiberrig.pb.h"
#include "fr_link.h"
#include "fr_session.h"

#define NS_PER_S 1000000000ull

fr_run_t fr_run;

/* ------------------------------------------------------------------ time */

/* floor(ns * fs / 1e9) without overflow */
static uint64_t samples_in(uint64_t ns, uint32_t fs) {
  return (ns / NS_PER_S) * fs + ((ns % NS_PER_S) * fs) / NS_PER_S;
}

/* ceil(ns * fs / 1e9) */
static uint64_t samples_in_ceil(uint64_t ns, uint32_t fs) {
  return (ns / NS_PER_S) * fs + ((ns % NS_PER_S) * fs + NS_PER_S - 1u) / NS_PER_S;
}

/* device time of the end of sample n's period, relative to the run start */
static uint64_t sample_time_ns(uint64_t n, uint32_t fs) { return (n / fs) * NS_PER_S + ((n % fs) * NS_PER_S) / fs; }

uint64_t fr_run_samples_taken(uint64_t t_ns) {
  if (!fr_run.running || t_ns < fr_run.start_ns) return 0;
  return samples_in(t_ns - fr_run.start_ns, fr_session.config.sample_rate_hz);
}

/* -------------------------------------------------------------- samples */

static void drive_leds(const double *peaks_config_order) {
  const fr_session_t *s = &fr_session;
  float board_ma[FR_MAX_LEDS] = {0};
  if (fr_run.running && s->have_config) {
    for (uint32_t k = 0; k < s->config.n_leds; k++) board_ma[s->config.leds[k].board_index] = (float)peaks_config_order[k];
  }
  fr_hal_leds(board_ma, s->board->n_leds);
}

static void stage_reset(fr_block *b, uint32_t source, uint64_t first) {
  const fr_norm_config *c = &fr_session.config;
  b->source = source;
  b->config_id = fr_session.config_id;
  b->first = first;
  b->count = 0;
  if (source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) {
    b->n_channels = c->n_detectors;
    for (uint32_t i = 0; i < b->n_channels; i++) b->channel_ids[i] = c->detector_ids[i];
    b->format = fiberrig_v1_SampleFormat_SAMPLE_FORMAT_UINT16_LE;
  } else {
    b->n_channels = c->n_aux;
    for (uint32_t i = 0; i < b->n_channels; i++) b->channel_ids[i] = c->aux_ids[i];
    b->format = fiberrig_v1_SampleFormat_SAMPLE_FORMAT_INT16_LE;
  }
}

/* The ring buffer: a full ring drops the new block and counts it (device.ts admitBlock). */
static void admit(fr_block *b) {
  if (b->count == 0) return;
  if (fr_link_put_block(b)) {
    fr_run.overrun_logged = false;
    return;
  }
  fr_run.blocks_dropped++;
  if (b->source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR) fr_run.samples_dropped += b->count;
  if (!fr_run.overrun_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "ring buffer overrun at %s sample %s",
             b->source == fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR ? "detector" : "aux", fr_u64_text(b->first, num));
    fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
    fr_run.overrun_logged = true;
  }
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The front end lost detector sample n: the block ends before it and the
 * next one starts after it (and ends on the usual block boundary), so the host
 * sees a gap of exactly the lost samples; counted with the dropped samples. */
static void frontend_lost(uint64_t n) {
  admit(&fr_run.det_stage);
  stage_reset(&fr_run.det_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, n + 1u);
  fr_run.samples_dropped++;
  if (!fr_run.loss_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "front end lost detector sample %s (counted in samples_dropped)", fr_u64_text(n, num));
    fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_ERROR, text);
    fr_run.loss_logged = true;
  }
}

/* Takes detector sample n = fr_run.next_sample (and the aux sample that goes with it). */
static void take_sample(void) {
  fr_run_t *r = &fr_run;
  const fr_board *board = fr_session.board;
  const fr_norm_config *c = &fr_session.config;
  uint64_t n = r->next_sample;
  bool changed = false;
  while (r->n_changes > 0 && r->changes[0].at <= n) {
    memcpy(r->peaks, r->changes[0].peaks, sizeof r->peaks);
    memmove(&r->changes[0], &r->changes[1], (r->n_changes - 1u) * sizeof r->changes[0]);
    r->n_changes--;
    changed = true;
  }
  if (changed) drive_leds(r->peaks);
  float cfg_ma[FR_MAX_LEDS];
  float board_ma[FR_MAX_LEDS] = {0};
  fr_schedule_next(&r->schedule, r->peaks, cfg_ma);
  for (uint32_t k = 0; k < c->n_leds; k++) board_ma[c->leds[k].board_index] = cfg_ma[k];
  int32_t codes[FR_MAX_DETECTORS] = {0};
  fr_block *d = &r->det_stage;
  if (fr_hal_detectors(n, board_ma, codes)) {
    uint32_t nc = c->n_detectors;
    for (uint32_t ch = 0; ch < nc; ch++) {
      const fr_detector_def *def = &board->detectors[c->detector_board_index[ch]];
      int32_t max = (int32_t)((1u << def->adc_bits) - 1u);
      d->samples[d->count * nc + ch] = (uint16_t)clamp(codes[c->detector_board_index[ch]], 0, max);
    }
    d->count++;
  } else {
    frontend_lost(n); /* the aux input is a front end of its own: it goes on below */
  }
  bool aux_done = false;
  if (c->n_aux > 0 && n % c->aux_divider == 0) {
    int32_t acodes[FR_MAX_AUX] = {0};
    /* on the HAL clock, not uptime: what the input measures goes on through a Reset (as the simulator's world time does) */
    fr_hal_aux(n / c->aux_divider, fr_session.boot_ns + r->start_ns + sample_time_ns(n, c->sample_rate_hz), acodes);
    fr_block *a = &r->aux_stage;
    uint32_t na = c->n_aux;
    for (uint32_t ch = 0; ch < na; ch++) {
      const fr_aux_def *def = &board->aux[c->aux_board_index[ch]];
      int32_t half = (int32_t)(1u << (def->adc_bits - 1u));
      a->samples[a->count * na + ch] = (uint16_t)(int16_t)clamp(acodes[c->aux_board_index[ch]], -half, half - 1);
    }
    a->count++;
    r->next_aux++;
    aux_done = a->count == c->aux_block_samples;
  }
  r->next_sample++;
  if (d->count > 0 && r->next_sample % c->block_samples == 0) { /* blocks end on multiples of block_samples */
    admit(d);
    stage_reset(d, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, r->next_sample);
  }
  if (aux_done) {
    admit(&r->aux_stage);
    stage_reset(&r->aux_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_AUX, r->next_aux);
  }
}

static void take_samples_until(uint64_t t_ns) {
  if (!fr_run.running) return;
  uint64_t due = fr_run_samples_taken(t_ns);
  uint64_t ready = fr_hal_detectors_ready();
  uint64_t target = due < ready ? due : ready;
  while (fr_run.next_sample < target) take_sample();
  if (due > fr_run.next_sample + fr_session.config.sample_rate_hz && !fr_run.stall_logged) {
    char text[96], num[24];
    snprintf(text, sizeof text, "front end stalled: %s samples behind the clock", fr_u64_text(due - fr_run.next_sample, num));
    fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_ERROR, text);
    fr_run.stall_logged = true;
  }
}

/* Digital edges: out as DigitalEvents once the sample they fall in is taken
 * (never ahead of the data they belong to). */
static void forward_edges(void) {
  fr_run_t *r = &fr_run;
  if (!r->running) return;
  uint32_t lost = 0;
  uint32_t room = FR_EDGE_WAIT - r->n_edge_wait;
  if (room > 0) r->n_edge_wait += fr_hal_edges(&r->edge_wait[r->n_edge_wait], room, &lost);
  r->edges_lost += lost;
  uint32_t kept = 0;
  for (uint32_t i = 0; i < r->n_edge_wait; i++) {
    const fr_hal_edge *e = &r->edge_wait[i];
    if (e->sample_index >= r->next_sample) {
      r->edge_wait[kept++] = *e;
      continue;
    }
    fr_event ev = {.kind = FR_EV_DIGITAL, .a = e->line, .config_id = fr_session.config_id, .index = e->sample_index,
                   .ticks = e->subsample_ticks, .rising = e->rising};
    if (!fr_link_push_event(&ev)) r->edges_lost++;
  }
  r->n_edge_wait = kept;
  if (r->edges_lost > 0 && !r->edges_logged) {
    char text[96];
    snprintf(text, sizeof text, "%lu digital edges lost (too many too fast)", (unsigned long)r->edges_lost);
    fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
    r->edges_logged = true;
  }
}

/* ------------------------------------------------------------ LED drive */

const double *fr_run_peaks_at(uint64_t n) {
  const double *p = fr_run.peaks;
  for (uint32_t i = 0; i < fr_run.n_changes; i++) {
    if (fr_run.changes[i].at <= n) p = fr_run.changes[i].peaks;
  }
  return p;
}

/* Schedules new peaks from sample `at` (not before the last scheduled change);
 * on_block: `at` is a block boundary and the change should land on one. */
static uint64_t schedule_change(uint64_t at, const double *peaks, bool on_block) {
  fr_run_t *r = &fr_run;
  if (r->n_changes > 0 && r->changes[r->n_changes - 1u].at > at) at = r->changes[r->n_changes - 1u].at;
  at = fr_hal_drive(&fr_session.config, peaks, at, on_block); /* a real board may only switch later, never earlier */
  if (r->n_changes > 0 && r->changes[r->n_changes - 1u].at == at) {
    memcpy(r->changes[r->n_changes - 1u].peaks, peaks, sizeof r->changes[0].peaks);
    return at;
  }
  if (r->n_changes == FR_MAX_CHANGES) {
    /* cannot happen (one change per block boundary at most); merge into the last */
    memcpy(r->changes[r->n_changes - 1u].peaks, peaks, sizeof r->changes[0].peaks);
    return r->changes[r->n_changes - 1u].at;
  }
  r->changes[r->n_changes].at = at;
  memcpy(r->changes[r->n_changes].peaks, peaks, sizeof r->changes[0].peaks);
  r->n_changes++;
  return at;
}

void fr_run_led_event(uint32_t k, double current_ma, uint64_t at) {
  const fr_session_t *s = &fr_session;
  const fr_norm_led *led = &s->config.leds[k];
  double power = 0;
  if (current_ma != 0) {
    power = s->commanded_has_uw[k] ? s->commanded_uw[k] : fr_cal_power_for_current(&s->calibration, led->channel, current_ma);
  }
  fr_event e = {.kind = FR_EV_LED, .a = led->channel, .config_id = s->config_id, .current_ma = (float)current_ma,
                .power_uw = (float)power, .index = at};
  fr_link_push_event(&e);
}

/* The heartbeat watchdog: LEDs dark from the first sample at or after the deadline. */
static void trip_watchdog(uint64_t deadline_ns) {
  const fr_norm_config *c = &fr_session.config;
  uint64_t rel = deadline_ns > fr_run.start_ns ? deadline_ns - fr_run.start_ns : 0;
  uint64_t at = samples_in_ceil(rel, c->sample_rate_hz);
  if (at < fr_run.next_sample) at = fr_run.next_sample;
  double zeros[FR_MAX_LEDS] = {0};
  at = schedule_change(at, zeros, false);
  fr_run.tripped = true;
  fr_run.ever_tripped = true;
  for (uint32_t k = 0; k < c->n_leds; k++) fr_run_led_event(k, 0, at);
  char text[96], num[24];
  snprintf(text, sizeof text, "heartbeat timeout (%lu ms): LEDs dark from sample %s", (unsigned long)c->heartbeat_timeout_ms,
           fr_u64_text(at, num));
  fr_link_log(fiberrig_v1_LogLevel_LOG_LEVEL_WARN, text);
}

static void check_watchdog(uint64_t t_ns) {
  if (!fr_run.running || fr_run.tripped) return;
  uint64_t timeout = (uint64_t)fr_session.config.heartbeat_timeout_ms * 1000000u;
  if (t_ns > fr_session.last_hb_ns + timeout) trip_watchdog(fr_session.last_hb_ns + timeout);
}

uint64_t fr_run_set_led(const fr_set_led_result *res) {
  fr_run_t *r = &fr_run;
  fr_session_t *s = &fr_session;
  /* the change takes effect at the next block boundary */
  uint32_t b = s->config.block_samples;
  uint64_t in_block = r->det_stage.count;
  uint64_t at = in_block == 0 ? r->next_sample : r->next_sample - in_block + b;
  bool restore = r->tripped;
  double peaks[FR_MAX_LEDS];
  if (restore) {
    memcpy(peaks, s->commanded_ma, sizeof peaks);
  } else {
    memcpy(peaks, r->n_changes > 0 ? r->changes[r->n_changes - 1u].peaks : r->peaks, sizeof peaks);
  }
  peaks[res->led_index] = res->current_ma;
  at = schedule_change(at, peaks, true);
  if (restore) {
    r->tripped = false;
    s->last_hb_ns = fr_now_ns(); /* re-arming proves the host is there: the watchdog restarts */
  }
  for (uint32_t k = 0; k < s->config.n_leds; k++) {
    if (!restore && k != res->led_index) continue;
    fr_run_led_event(k, peaks[k], at);
  }
  return at;
}

/* ------------------------------------------------------------ lifecycle */

void fr_run_start(uint64_t t_ns) {
  fr_session_t *s = &fr_session;
  memset(&fr_run, 0, sizeof fr_run); /* a fresh run: nothing of the last one carries over */
  fr_run.running = true;
  memcpy(fr_run.peaks, s->commanded_ma, sizeof fr_run.peaks);
  s->last_hb_ns = t_ns;
  fr_schedule_init(&fr_run.schedule, &s->config, 0);
  stage_reset(&fr_run.det_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_DETECTOR, 0);
  stage_reset(&fr_run.aux_stage, fiberrig_v1_SampleSource_SAMPLE_SOURCE_AUX, 0);
  (void)fr_hal_drive(&s->config, fr_run.peaks, 0, false); /* the waveform is in place before the clock starts */
  fr_run.start_ns = fr_hal_sampling(&s->config) - s->boot_ns; /* sample 0 starts when the hardware says */
  drive_leds(fr_run.peaks);
}

void fr_run_poll(uint64_t t_ns) {
  check_watchdog(t_ns);
  take_samples_until(t_ns);
  forward_edges();
}

void fr_run_stop(uint64_t t_ns, uint32_t id, bool ack) {
  fr_run_t *r = &fr_run;
  take_samples_until(t_ns);
  forward_edges();
  uint64_t next = r->next_sample;
  r->last_stop_index = next;
  r->last_stop_us = (r->start_ns + sample_time_ns(next, fr_session.config.sample_rate_hz)) / 1000u;
  admit(&r->det_stage); /* the partial last block(s) */
  admit(&r->aux_stage);
  r->det_stage.count = 0;
  r->aux_stage.count = 0;
  r->running = false;
  r->n_changes = 0;
  r->tripped = false;
  fr_hal_sampling(NULL);
  drive_leds(r->peaks);
  if (ack) {
    fr_event e = {.kind = FR_EV_STOP_ACK, .a = id, .config_id = fr_session.config_id, .index = next, .time_us = r->last_stop_us};
    fr_link_push_event(&e);
  }
}

void fr_run_abort(void) {
  fr_run.running = false;
  fr_hal_sampling(NULL);
}
