/* Host-build tests of the pyboard's LED tables (pyboard/fr_drive.c): every
 * table entry is the core's schedule at the sample it drives, over passes;
 * the lock-in sine's amplitude and frequency against the requested carrier;
 * time-division slots; where a change can land; and the validator's
 * hardware-timing rules for a board with an 84 MHz sample clock. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fr_drive.h"
#include "fr_schedule.h"

#define FR_PI 3.14159265358979323846

#include "fr_check.h"

/* the pyPhotometry board's published LED driver scaling */
static const fr_dac_scale PYB = {6.26, 38.15, 4095u};

static fr_norm_config lockin(uint32_t fs, double f0, double f1) {
  fr_norm_config c = {0};
  c.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_LOCK_IN;
  c.sample_rate_hz = fs;
  c.n_leds = 2;
  c.leds[0] = (fr_norm_led){.channel = 0, .board_index = 0, .carrier_hz = f0};
  c.leds[1] = (fr_norm_led){.channel = 1, .board_index = 1, .carrier_hz = f1};
  return c;
}

static void test_pass_length(void) {
  fr_norm_config c = {0};
  c.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_CONTINUOUS;
  c.sample_rate_hz = 1000;
  c.n_leds = 1;
  CHECK(fr_drive_pass_samples(&c, 20, 2048) == 20, "DC: a pass of the minimum length");
  c.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION;
  c.time_division = true;
  c.slot_samples = 3;
  c.on_samples = 2;
  c.cycle_samples = 6;
  uint32_t p = fr_drive_pass_samples(&c, 20, 2048);
  CHECK(p == 24, "TDM cycle 6, at least 20: 24 (%u)", p);
  fr_norm_config l = lockin(10000, 500.0, 1250.0); /* periods 20 and 8 samples: together 40 */
  p = fr_drive_pass_samples(&l, 20, 2048);
  CHECK(p == 40, "lock-in 500 + 1250 Hz at 10 kHz: 40 (%u)", p);
  l = lockin(10000, 648.0, 1150.0); /* 1250 and 200: together 5000 */
  CHECK(fr_drive_pass_samples(&l, 20, 2048) == 0, "carriers whose joint period exceeds the table: no pass");
  l = lockin(10000, 531.0, 500.0); /* 531 Hz repeats every 10000 samples */
  CHECK(fr_drive_pass_samples(&l, 20, 2048) == 0, "a carrier whose period exceeds the table: no pass");
}

/* Entry i of pass p must be the schedule at sample p * L + i + LEAD, for several passes. */
static void check_tables_follow_schedule(const fr_norm_config *c, const double *peaks, const char *what) {
  uint32_t L = fr_drive_pass_samples(c, 20, FR_DRIVE_MAX_SAMPLES);
  CHECK(L > 0, "%s: a pass", what);
  if (L == 0) return;
  static uint16_t t[2 * FR_DRIVE_MAX_SAMPLES];
  fr_drive_fill(c, peaks, &PYB, 2, FR_DRIVE_LEAD, L, t, FR_DRIVE_MAX_SAMPLES);
  uint16_t pre[2];
  fr_drive_fill(c, peaks, &PYB, 2, 0, 1, pre, 1);
  fr_schedule s;
  fr_schedule_init(&s, c, 0);
  uint32_t wrong = 0;
  float ma[FR_MAX_LEDS];
  for (uint64_t n = 0; n < 4u * L + FR_DRIVE_LEAD; n++) {
    fr_schedule_next(&s, peaks, ma);
    if (n < FR_DRIVE_LEAD) {
      for (uint32_t k = 0; k < c->n_leds; k++) {
        if (pre[c->leds[k].board_index] != fr_drive_code(&PYB, ma[k])) wrong++;
      }
      continue;
    }
    uint64_t i = (n - FR_DRIVE_LEAD) % L;
    for (uint32_t k = 0; k < c->n_leds; k++) {
      if (t[c->leds[k].board_index * FR_DRIVE_MAX_SAMPLES + i] != fr_drive_code(&PYB, ma[k])) wrong++;
    }
  }
  CHECK(wrong == 0, "%s: 4 passes of the table drive exactly the schedule (%u samples differ)", what, wrong);
}

static void test_tables(void) {
  double peaks[2] = {40.0, 25.0};
  fr_norm_config l = lockin(10000, 500.0, 1250.0);
  check_tables_follow_schedule(&l, peaks, "lock-in");
  fr_norm_config d = {0};
  d.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION;
  d.time_division = true;
  d.sample_rate_hz = 130;
  d.n_leds = 2;
  d.leds[0].board_index = 1; /* configuration order differs from board order */
  d.leds[1].board_index = 0;
  d.slot_samples = 2;
  d.on_samples = 1;
  d.cycle_samples = 4;
  check_tables_follow_schedule(&d, peaks, "time division");
  uint32_t L = fr_drive_pass_samples(&d, 20, FR_DRIVE_MAX_SAMPLES);
  static uint16_t t[2 * FR_DRIVE_MAX_SAMPLES];
  fr_drive_fill(&d, peaks, &PYB, 2, FR_DRIVE_LEAD, L, t, FR_DRIVE_MAX_SAMPLES);
  /* entry i drives sample i + 1: slot of config LED 0 (board 1) at cycle positions 0, of LED 1 (board 0) at 2 */
  CHECK(t[FR_DRIVE_MAX_SAMPLES + 3] == fr_drive_code(&PYB, 40.0) && t[FR_DRIVE_MAX_SAMPLES + 0] == 0, "board LED 1 on at samples 4k only");
  CHECK(t[1] == fr_drive_code(&PYB, 25.0) && t[3] == 0, "board LED 0 on at samples 4k + 2 only");
}

/* The lock-in sine in one LED's table: amplitude and frequency vs the requested carrier. */
static void test_sine_amplitude_frequency(void) {
  const double carriers[] = {500.0, 531.25, 1250.0, 205.078125 /* 21 x 10 kHz / 1024 */};
  for (size_t j = 0; j < sizeof carriers / sizeof carriers[0]; j++) {
    double fc = carriers[j];
    fr_norm_config c = lockin(10000, fc, fc);
    c.n_leds = 1;
    double peaks[1] = {40.0};
    uint32_t L = fr_drive_pass_samples(&c, 1, FR_DRIVE_MAX_SAMPLES);
    CHECK(L > 0, "%g Hz fits the table", fc);
    if (L == 0) continue;
    static uint16_t t[FR_DRIVE_MAX_SAMPLES];
    fr_drive_fill(&c, peaks, &PYB, 1, 0, L, t, FR_DRIVE_MAX_SAMPLES);
    /* the table holds a whole number of cycles: the carrier is exactly k * fs / L */
    double k = fc * L / 10000.0;
    CHECK(fabs(k - floor(k + 0.5)) < 1e-12, "%g Hz: %.6f cycles in %u samples (frequency error %.3g Hz)", fc, k, L,
          (k - floor(k + 0.5)) * 10000.0 / L);
    /* DFT at the carrier: amplitude = (code(peak) - code(0+)) / 2 within quantisation, nothing at 2 f */
    double re = 0, im = 0, re2 = 0, im2 = 0, mean = 0, mn = 1e9, mx = -1e9;
    for (uint32_t i = 0; i < L; i++) {
      double v = t[i], ph = 2 * FR_PI * fc * i / 10000.0;
      re += v * cos(ph);
      im += v * sin(ph);
      re2 += v * cos(2 * ph);
      im2 += v * sin(2 * ph);
      mean += v / L;
      mn = fmin(mn, v);
      mx = fmax(mx, v);
    }
    double amp = 2 * sqrt(re * re + im * im) / L, h2 = 2 * sqrt(re2 * re2 + im2 * im2) / L;
    double want = 38.15 * 40.0 / 2; /* peak 40 mA: the sine swings 0..40 mA */
    CHECK(fabs(amp - want) / want < 2e-3, "%g Hz: amplitude %.2f codes vs %.2f (< 0.2%%)", fc, amp, want);
    CHECK(h2 / want < 2e-3, "%g Hz: second harmonic %.2e of the fundamental", fc, h2 / want);
    CHECK(fabs(mean - (6.26 + want)) < 2.0, "%g Hz: mean %.1f codes vs %.1f", fc, mean, 6.26 + want);
  }
}

static void test_landing(void) {
  uint64_t pass;
  uint64_t at = fr_drive_landing(5, 0, 40, 40, true, &pass);
  CHECK(at == 80 && pass == 2, "early in the run: no sooner than 2 passes on (%llu, pass %llu)", (unsigned long long)at,
        (unsigned long long)pass);
  at = fr_drive_landing(1000, 3, 40, 40, true, &pass);
  CHECK(at == 1000 && pass == 25, "a later wish on a pass start lands there (%llu)", (unsigned long long)at);
  at = fr_drive_landing(1002, 3, 40, 40, false, &pass);
  CHECK(at == 1040 && pass == 26, "between pass starts: the next one (%llu)", (unsigned long long)at);
  at = fr_drive_landing(100, 30, 40, 40, true, &pass);
  CHECK(at == 32u * 40u, "a wish the hardware is past lands two passes on (%llu)", (unsigned long long)at);
  at = fr_drive_landing(100, 0, 40, 50, true, &pass); /* passes of 40, blocks of 50: every 5th pass starts a block */
  CHECK(at == 200 && at % 50 == 0, "SetLed: the next pass start that is a block boundary (%llu)", (unsigned long long)at);
  at = fr_drive_landing(100, 0, 40, 50, false, &pass); /* the watchdog's deadline, here on a block multiple */
  CHECK(at == 120, "a deadline lands on the earliest pass start, block boundary or not (%llu)", (unsigned long long)at);
  at = fr_drive_landing(0, 0, 1000, 1024, true, &pass); /* lock-in period 1000, blocks of 1024: aligned only every 128 passes */
  CHECK(at == 2000, "no block-aligned pass start within 4 blocks: the earliest pass start (%llu)", (unsigned long long)at);
  /* continuous at 100 Hz (1-sample passes), blocks of 1000: the watchdog darkens within 2 samples, not a block */
  at = fr_drive_landing(1001, 1000, 1, 1000, false, &pass);
  CHECK(at == 1002, "the watchdog darkens 2 passes (samples) after it asks (%llu)", (unsigned long long)at);
}

/* A change staged for pass q: the idle buffer gets pass q, the playing buffer's last entry sample q * L. */
static void test_change_lands_on_the_block(void) {
  fr_norm_config d = {0};
  d.mode = fiberrig_v1_ModulationMode_MODULATION_MODE_TIME_DIVISION;
  d.time_division = true;
  d.sample_rate_hz = 1000;
  d.block_samples = 50;
  d.n_leds = 1;
  d.slot_samples = 5;
  d.on_samples = 2;
  d.cycle_samples = 5;
  uint32_t L = fr_drive_pass_samples(&d, 20, FR_DRIVE_MAX_SAMPLES);
  CHECK(L == 20, "TDM cycle 5, at least 20 samples: passes of 20 (%u)", L);
  static uint16_t buf[2][FR_DRIVE_MAX_SAMPLES], staged[FR_DRIVE_MAX_SAMPLES];
  double before[1] = {10.0}, after[1] = {30.0};
  fr_drive_fill(&d, before, &PYB, 1, FR_DRIVE_LEAD, L, buf[0], FR_DRIVE_MAX_SAMPLES);
  memcpy(buf[1], buf[0], sizeof buf[0]);
  fr_drive_fill(&d, after, &PYB, 1, FR_DRIVE_LEAD, L, staged, FR_DRIVE_MAX_SAMPLES);
  uint64_t q;
  uint64_t at = fr_drive_landing(50, 0, L, 50, true, &q); /* SetLed at block boundary 50 while pass 0 plays */
  CHECK(at == 100 && q == 5, "lands at 100, a pass start and a block boundary (%llu)", (unsigned long long)at);
  /* play passes as the DMA does; at the switch into pass q - 1 the interrupt stages it */
  uint32_t wrong = 0;
  fr_schedule s1, s2;
  fr_schedule_init(&s1, &d, 0);
  fr_schedule_init(&s2, &d, 0);
  float m1[1], m2[1];
  fr_schedule_next(&s1, before, m1); /* sample 0: the preload */
  fr_schedule_next(&s2, after, m2);
  for (uint64_t p = 0; p < q + 3u; p++) {
    uint32_t reading = (uint32_t)(p & 1u);
    if (p == q - 1u) {
      memcpy(buf[reading ^ 1u], staged, sizeof staged);
      buf[reading][L - 1u] = staged[L - 1u];
    }
    for (uint32_t i = 0; i < L; i++) {
      uint64_t n = p * L + i + FR_DRIVE_LEAD;
      fr_schedule_next(&s1, before, m1);
      fr_schedule_next(&s2, after, m2);
      uint16_t want = fr_drive_code(&PYB, n < at ? m1[0] : m2[0]);
      if (buf[reading][i] != want) wrong++;
    }
    if (p == q) memcpy(buf[reading ^ 1u], buf[reading], sizeof buf[0]); /* the refresh after landing */
  }
  CHECK(wrong == 0, "old levels before sample %llu, new ones from it on (%u samples differ)", (unsigned long long)at, wrong);
}

static void test_codes(void) {
  CHECK(fr_drive_code(&PYB, 0.0) == 0, "0 mA is code 0 (not the 6.26 offset)");
  CHECK(fr_drive_code(&PYB, 10.0) == 388, "10 mA: round(6.26 + 381.5) = 388 (%u)", fr_drive_code(&PYB, 10.0));
  CHECK(fr_drive_code(&PYB, 500.0) == 4095, "beyond the DAC: clipped at 4095");
}

int main(void) {
  test_pass_length();
  test_tables();
  test_sine_amplitude_frequency();
  test_landing();
  test_change_lands_on_the_block();
  test_codes();
  printf("pyboard drive: %d checks, %d failures\n", checks, failures);
  return failures ? 1 : 0;
}
