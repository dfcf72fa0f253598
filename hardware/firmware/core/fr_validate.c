/* Configure's rules (validate.ts validateConfig), in the simulator's order:
 * mode, detectors, sample rate, oversampling, LED ids, time-division timing,
 * LED drives (fr_validate_led.c), lock-in carriers (fr_validate_lockin.c),
 * block size, aux inputs, digital inputs, sync output, heartbeat and status
 * cadence, then the board's hardware timing (fr_validate_timing.c). The other
 * rule families: fr_validate_cal.c (calibration tables), fr_issue.c (messages). */
#include "fr_validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "fr_validate_rules.h"

#define HEARTBEAT_MIN_MS 100u
#define HEARTBEAT_MAX_MS 60000u
#define STATUS_MIN_MS 50u
#define STATUS_MAX_MS 60000u

typedef bool (*known_fn)(const fr_board *board, uint32_t id);
static bool known_detector(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_detectors; i++) if (b->detectors[i].id == id) return true;
  return false;
}
static bool known_led(const fr_board *b, uint32_t id) { return fr_led_find(b, id, NULL) != NULL; }
static bool known_aux(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_aux; i++) if (b->aux[i].id == id) return true;
  return false;
}
static bool known_digital(const fr_board *b, uint32_t id) {
  for (uint32_t i = 0; i < b->n_digital; i++) if (b->digital[i].id == id) return true;
  return false;
}

/* Unknown id -> UNKNOWN_CHANNEL, repeated id -> INVALID_CONFIG, at "field[i]" + suffix. */
static bool check_ids(const uint32_t *ids, uint32_t n, const fr_board *board, known_fn known, const char *field,
                      const char *suffix, const char *what, fr_issue *issue) {
  char f[112];
  for (uint32_t i = 0; i < n; i++) {
    if (!known(board, ids[i])) {
      snprintf(f, sizeof f, "%s[%u]%s", field, (unsigned)i, suffix);
      fr_issue_set(issue, E_UNKNOWN_CHANNEL, f, "no %s %lu on this board", what, (unsigned long)ids[i]);
      return false;
    }
    for (uint32_t j = 0; j < i; j++) {
      if (ids[j] == ids[i]) {
        snprintf(f, sizeof f, "%s[%u]%s", field, (unsigned)i, suffix);
        fr_issue_set(issue, E_INVALID, f, "%s %lu listed twice", what, (unsigned long)ids[i]);
        return false;
      }
    }
  }
  return true;
}

static unsigned varint_len(uint64_t v) {
  unsigned n = 1;
  while (v >= 0x80u) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Largest SampleBlock envelope for the given shape (worst-case varints), as validate.ts computes it. */
static uint32_t sample_block_envelope_bytes(uint32_t samples, const uint32_t *ids, uint32_t n_ids, uint32_t sample_bytes) {
  uint64_t inner = 0;
  inner += 1 + varint_len(0xFFFFFFFFu);             /* config_id */
  inner += 2;                                       /* source */
  inner += 1 + varint_len((1ull << 53) - 1);        /* first_sample_index */
  if (samples) inner += 1 + varint_len(samples);    /* sample_count */
  if (n_ids) {
    uint64_t packed = 0;
    for (uint32_t i = 0; i < n_ids; i++) packed += varint_len(ids[i]);
    inner += 1 + varint_len(packed) + packed;       /* channel_ids */
  }
  inner += 2;                                       /* format */
  if (sample_bytes) inner += 1 + varint_len(sample_bytes) + sample_bytes;
  return (uint32_t)(varint_len((60u << 3) | 2u) + varint_len(inner) + inner);
}

static bool check_block_size(const fr_board *board, uint32_t samples, const uint32_t *ids, uint32_t n_ids,
                             const char *field, const char *what, fr_issue *issue) {
  uint64_t bytes = (uint64_t)samples * n_ids * 2u;
  if (bytes > board->max_sample_bytes) {
    fr_issue_set(issue, E_UNSUPPORTED, field, "%s block of %lu sample bytes exceeds %lu", what,
                 (unsigned long)bytes, (unsigned long)board->max_sample_bytes);
    return false;
  }
  uint32_t envelope = sample_block_envelope_bytes(samples, ids, n_ids, (uint32_t)bytes);
  if (envelope > board->max_message_bytes) {
    fr_issue_set(issue, E_UNSUPPORTED, field, "%s block message of %lu B exceeds %lu B", what,
                 (unsigned long)envelope, (unsigned long)board->max_message_bytes);
    return false;
  }
  return true;
}

bool fr_validate_config(const fiberrig_v1_Configure *configure, const fr_board *board, const fr_calibration *cal,
                        fr_norm_config *out, fr_issue *issue) {
  char f[112], root[64];
  memset(out, 0, sizeof *out);
  if (!configure->has_config) {
    fr_issue_set(issue, E_INVALID, "config", "Configure carries no config");
    return false;
  }
  const fiberrig_v1_AcquisitionConfig *c = &configure->config;

  /* mode */
  uint32_t mode = (uint32_t)c->mode;
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_UNSPECIFIED) {
    fr_issue_set(issue, E_INVALID, "config.mode", "mode is unspecified");
    return false;
  }
  bool mode_ok = false;
  for (uint32_t i = 0; i < board->n_modes; i++) mode_ok = mode_ok || board->modes[i] == mode;
  if (!mode_ok) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.mode", "mode %ld is not supported by this board", (long)(int32_t)mode);
    return false;
  }

  /* detectors (before the rate: the rate limit is per detector) */
  if (c->detector_ids_count == 0) {
    fr_issue_set(issue, E_INVALID, "config.detector_ids", "at least one detector is needed");
    return false;
  }
  if (!check_ids(c->detector_ids, c->detector_ids_count, board, known_detector, "config.detector_ids", "", "detector", issue)) {
    return false;
  }
  out->n_detectors = c->detector_ids_count;
  uint32_t max_rate = board->max_sample_rate_hz;
  for (uint32_t i = 0; i < out->n_detectors; i++) {
    out->detector_ids[i] = c->detector_ids[i];
    for (uint32_t b = 0; b < board->n_detectors; b++) {
      if (board->detectors[b].id == c->detector_ids[i]) {
        out->detector_board_index[i] = b;
        if (board->detectors[b].max_rate_hz < max_rate) max_rate = board->detectors[b].max_rate_hz;
      }
    }
  }

  /* sample rate */
  uint32_t fs = c->sample_rate_hz;
  if (!(fs > 0)) {
    fr_issue_set(issue, E_INVALID, "config.sample_rate_hz", "sample rate must be > 0");
    return false;
  }
  if (fs > max_rate) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.sample_rate_hz", "%lu Hz exceeds the %lu Hz maximum", (unsigned long)fs,
                 (unsigned long)max_rate);
    return false;
  }

  /* oversampling */
  uint32_t os = c->oversampling;
  if (os < 1) {
    fr_issue_set(issue, E_INVALID, "config.oversampling", "oversampling must be >= 1");
    return false;
  }
  if (os > board->max_oversampling) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.oversampling", "oversampling %lu exceeds %lu", (unsigned long)os,
                 (unsigned long)board->max_oversampling);
    return false;
  }
  if ((uint64_t)fs * os > board->max_conversion_rate_hz) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.oversampling", "%lu Hz x %lu exceeds %lu conversions/s", (unsigned long)fs,
                 (unsigned long)os, (unsigned long)board->max_conversion_rate_hz);
    return false;
  }

  /* LEDs: ids and drives present */
  if (c->leds_count == 0 && mode != fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS) {
    fr_issue_set(issue, E_INVALID, "config.leds", "this mode needs at least one LED");
    return false;
  }
  uint32_t led_ids[FR_MAX_LEDS];
  for (pb_size_t i = 0; i < c->leds_count; i++) led_ids[i] = c->leds[i].channel;
  if (!check_ids(led_ids, c->leds_count, board, known_led, "config.leds", ".channel", "LED", issue)) return false;

  /* time-division timing (needed for the pulse limits) */
  double duty = 1;
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION) {
    if (!c->has_time_division) {
      fr_issue_set(issue, E_INVALID, "config.time_division", "TIME_DIVISION needs time_division timing");
      return false;
    }
    const fiberrig_v1_TimeDivisionTiming *td = &c->time_division;
    uint32_t slot = td->slot_samples, on = td->on_samples, settle = td->settle_samples, window = td->window_samples;
    if (slot < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.slot_samples", "slot_samples must be >= 1");
      return false;
    }
    if (on < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.on_samples", "on_samples must be >= 1");
      return false;
    }
    if (on > slot) {
      fr_issue_set(issue, E_INVALID, "config.time_division.on_samples", "on_samples %lu exceeds slot_samples %lu",
                   (unsigned long)on, (unsigned long)slot);
      return false;
    }
    if (window < 1) {
      fr_issue_set(issue, E_INVALID, "config.time_division.window_samples", "window_samples must be >= 1");
      return false;
    }
    if ((uint64_t)settle + window > on) {
      fr_issue_set(issue, E_INVALID, "config.time_division.window_samples", "settle %lu + window %lu exceeds on_samples %lu",
                   (unsigned long)settle, (unsigned long)window, (unsigned long)on);
      return false;
    }
    uint32_t slots = c->leds_count + (td->dark_slot ? 1u : 0u);
    uint64_t cycle = (uint64_t)slots * slot;
    if (cycle > fs) {
      fr_issue_set(issue, E_INVALID, "config.time_division.slot_samples", "%lu slots x %lu samples exceed one second (%lu samples)",
                   (unsigned long)slots, (unsigned long)slot, (unsigned long)fs);
      return false;
    }
    out->time_division = true;
    out->slot_samples = slot;
    out->on_samples = on;
    out->settle_samples = settle;
    out->window_samples = window;
    out->dark_slot = td->dark_slot;
    out->cycle_samples = (uint32_t)cycle;
    duty = (double)on / (double)cycle;
  }

  /* LED drives and limits */
  out->n_leds = c->leds_count;
  for (pb_size_t i = 0; i < c->leds_count; i++) {
    const fiberrig_v1_LedDrive *l = &c->leds[i];
    fr_norm_led *n = &out->leds[i];
    snprintf(root, sizeof root, "config.leds[%u]", (unsigned)i);
    int which = l->which_drive == fiberrig_v1_LedDrive_current_ma_tag ? DRIVE_CURRENT
                : l->which_drive == fiberrig_v1_LedDrive_power_uw_tag  ? DRIVE_POWER
                                                                        : DRIVE_NONE;
    if (!fr_resolve_drive(board, cal, l->channel, which, l->drive.current_ma, l->drive.power_uw, mode, duty, root,
                          &n->peak_ma, &n->has_power, &n->power_uw, issue)) {
      return false;
    }
    n->channel = l->channel;
    fr_led_find(board, l->channel, &n->board_index);
    n->carrier_hz = mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN ? (double)l->carrier_hz : 0.0;
  }

  /* lock-in carriers */
  if (mode == fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN && !fr_check_carriers(out, fs, issue)) return false;

  /* block size */
  uint32_t block = c->block_samples;
  if (block < 1) {
    fr_issue_set(issue, E_INVALID, "config.block_samples", "block_samples must be >= 1");
    return false;
  }
  if (block > board->max_block_samples) {
    fr_issue_set(issue, E_UNSUPPORTED, "config.block_samples", "block_samples %lu exceeds %lu", (unsigned long)block,
                 (unsigned long)board->max_block_samples);
    return false;
  }
  if (!check_block_size(board, block, out->detector_ids, out->n_detectors, "config.block_samples", "detector", issue)) return false;

  /* aux inputs */
  uint32_t aux_n = c->has_aux ? c->aux.input_ids_count : 0;
  uint32_t aux_rate = c->has_aux ? c->aux.rate_hz : 0;
  uint32_t aux_block_in = c->has_aux ? c->aux.block_samples : 0;
  if (aux_n > 0) {
    if (!check_ids(c->aux.input_ids, aux_n, board, known_aux, "config.aux.input_ids", "", "aux input", issue)) return false;
    uint32_t aux_max = UINT32_MAX;
    for (uint32_t i = 0; i < aux_n; i++) {
      for (uint32_t b = 0; b < board->n_aux; b++) {
        if (board->aux[b].id == c->aux.input_ids[i]) {
          out->aux_board_index[i] = b;
          if (board->aux[b].max_rate_hz < aux_max) aux_max = board->aux[b].max_rate_hz;
        }
      }
      out->aux_ids[i] = c->aux.input_ids[i];
    }
    if (aux_rate < 1) {
      fr_issue_set(issue, E_INVALID, "config.aux.rate_hz", "aux rate must be > 0");
      return false;
    }
    if (aux_rate > aux_max) {
      fr_issue_set(issue, E_UNSUPPORTED, "config.aux.rate_hz", "aux rate %lu Hz exceeds %lu Hz", (unsigned long)aux_rate,
                   (unsigned long)aux_max);
      return false;
    }
    if (fs % aux_rate != 0) {
      fr_issue_set(issue, E_INVALID, "config.aux.rate_hz", "aux rate %lu Hz does not divide %lu Hz", (unsigned long)aux_rate,
                   (unsigned long)fs);
      return false;
    }
    /* aux block size: its own (1.2) or, when 0, the detectors' block_samples as before */
    const char *aux_block_field = aux_block_in > 0 ? "config.aux.block_samples" : "config.block_samples";
    uint32_t aux_block = aux_block_in > 0 ? aux_block_in : block;
    if (aux_block > board->max_block_samples) {
      fr_issue_set(issue, E_UNSUPPORTED, aux_block_field, "aux block_samples %lu exceeds %lu", (unsigned long)aux_block,
                   (unsigned long)board->max_block_samples);
      return false;
    }
    if (!check_block_size(board, aux_block, out->aux_ids, aux_n, aux_block_field, "aux", issue)) return false;
    out->n_aux = aux_n;
    out->aux_rate_hz = aux_rate;
    out->aux_divider = fs / aux_rate;
    out->aux_block_samples = aux_block;
  } else if (aux_rate != 0) {
    fr_issue_set(issue, E_INVALID, "config.aux.input_ids", "aux rate given but no aux inputs");
    return false;
  } else if (aux_block_in != 0) {
    fr_issue_set(issue, E_INVALID, "config.aux.input_ids", "aux block_samples given but no aux inputs");
    return false;
  }

  /* digital inputs */
  if (!check_ids(c->digital_input_ids, c->digital_input_ids_count, board, known_digital, "config.digital_input_ids", "",
                 "digital line", issue)) {
    return false;
  }
  for (pb_size_t i = 0; i < c->digital_input_ids_count; i++) {
    for (uint32_t b = 0; b < board->n_digital; b++) {
      if (board->digital[b].id == c->digital_input_ids[i] && board->digital[b].output) {
        snprintf(f, sizeof f, "config.digital_input_ids[%u]", (unsigned)i);
        fr_issue_set(issue, E_INVALID, f, "line %lu is an output", (unsigned long)board->digital[b].id);
        return false;
      }
    }
    out->digital_input_ids[i] = c->digital_input_ids[i];
  }
  out->n_digital_inputs = c->digital_input_ids_count;

  /* sync output */
  if (c->has_sync_out && c->sync_out.enabled) {
    const fiberrig_v1_SyncOutConfig *s = &c->sync_out;
    const fr_digital_def *def = NULL;
    for (uint32_t b = 0; b < board->n_digital; b++) {
      if (board->digital[b].id == s->line) def = &board->digital[b];
    }
    if (!def) {
      fr_issue_set(issue, E_UNKNOWN_CHANNEL, "config.sync_out.line", "no digital line %lu on this board", (unsigned long)s->line);
      return false;
    }
    if (!def->output) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.line", "line %lu is not an output", (unsigned long)s->line);
      return false;
    }
    if (s->period_samples < 2) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.period_samples", "period_samples must be >= 2");
      return false;
    }
    if (s->pulse_samples < 1 || s->pulse_samples >= s->period_samples) {
      fr_issue_set(issue, E_INVALID, "config.sync_out.pulse_samples", "pulse_samples must be 1..%lu",
                   (unsigned long)(s->period_samples - 1));
      return false;
    }
    out->sync_out = true;
    out->sync_line = s->line;
    out->sync_period_samples = s->period_samples;
    out->sync_pulse_samples = s->pulse_samples;
  }

  /* heartbeat watchdog and status cadence (0 = device default) */
  uint32_t hb = c->heartbeat_timeout_ms ? c->heartbeat_timeout_ms : board->default_heartbeat_timeout_ms;
  if (hb < HEARTBEAT_MIN_MS || hb > HEARTBEAT_MAX_MS) {
    fr_issue_set(issue, E_INVALID, "config.heartbeat_timeout_ms", "heartbeat timeout must be %u..%u ms", HEARTBEAT_MIN_MS,
                 HEARTBEAT_MAX_MS);
    return false;
  }
  uint32_t st = c->status_interval_ms ? c->status_interval_ms : board->default_status_interval_ms;
  if (st < STATUS_MIN_MS || st > STATUS_MAX_MS) {
    fr_issue_set(issue, E_INVALID, "config.status_interval_ms", "status interval must be %u..%u ms", STATUS_MIN_MS,
                 STATUS_MAX_MS);
    return false;
  }
  out->mode = mode;
  out->sample_rate_hz = fs;
  out->oversampling = os;
  out->block_samples = block;
  out->heartbeat_timeout_ms = hb;
  out->status_interval_ms = st;
  return fr_check_hardware_timing(out, board, issue);
}
