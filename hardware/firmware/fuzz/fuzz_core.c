/* libFuzzer target: the frame decoder and the command handler, fed through
 * the link exactly as a host's bytes arrive. Each input is delivered (after a
 * valid Hello, so every command is reachable) in chunks whose sizes come from
 * the input itself, while a fake clock advances so sampling, blocks, Status,
 * the watchdog and the ring buffer all run. Output is discarded (or stalled,
 * to fill the ring). Built with -fsanitize=fuzzer,address,undefined. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fr_core.h"
#include "fr_frame.h"
#include "fr_hal.h"
#include "fr_synth.h"

static const uint8_t *in_data;
static size_t in_len, in_pos, chunk;
static uint64_t clock_ns;
static bool link_stalled;
static bool nv_failing;
static uint8_t nv[4096];
static size_t nv_len;

uint64_t fr_hal_time_ns(void) { return clock_ns; }
uint64_t fr_hal_sampling(const fr_norm_config *config) { return config ? clock_ns : 0; }
bool fr_hal_detectors(uint64_t n, const float *led_ma, int32_t *codes) {
  fr_synth_detectors(fr_board_this.n_detectors, fr_board_this.n_leds, led_ma, codes);
  codes[0] += (int32_t)(n % 7u) * 20000; /* reach the clamps */
  return n % 997u != 0; /* now and then a lost sample */
}
uint64_t fr_hal_detectors_ready(void) { return UINT64_MAX; }
uint64_t fr_hal_drive(const fr_norm_config *config, const double *peaks_ma, uint64_t from, bool on_block) {
  for (uint32_t k = 0; k < config->n_leds; k++) {
    /* the safety property: no LED is ever driven beyond its pulsed limit */
    if (!(peaks_ma[k] <= fr_board_this.leds[config->leds[k].board_index].max_current_pulsed_ma) || peaks_ma[k] < 0) __builtin_trap();
  }
  return from + (on_block ? 0u : from % 3u); /* a board that switches late */
}
uint32_t fr_hal_edges(fr_hal_edge *out, uint32_t max, uint32_t *lost) {
  (void)lost;
  if (max == 0 || clock_ns % 5u != 0) return 0;
  out[0] = (fr_hal_edge){.line = 0, .rising = (clock_ns & 8u) != 0, .sample_index = clock_ns / 1000000u, .subsample_ticks = 7};
  return 1;
}
void fr_hal_aux(uint64_t k, uint64_t t_ns, int32_t *codes) {
  fr_synth_aux(fr_board_this.n_aux, t_ns, codes);
  codes[0] += (int32_t)(k % 5u) * 20000 - 40000;
}
void fr_hal_leds(const float *peak_ma, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    /* the safety property: no LED is ever driven beyond its pulsed limit */
    if (!(peak_ma[i] <= fr_board_this.leds[i].max_current_pulsed_ma) || peak_ma[i] < 0) __builtin_trap();
  }
}
size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  size_t n = in_len - in_pos;
  if (n > chunk) n = chunk;
  if (n > max) n = max;
  memcpy(buf, in_data + in_pos, n);
  in_pos += n;
  return n;
}
size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  (void)buf;
  return link_stalled ? 0 : len;
}
bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  if (nv_failing) return false;
  size_t n = nv_len < max ? nv_len : max;
  memcpy(buf, nv, n);
  *len = n;
  return true;
}
bool fr_hal_nv_write(const uint8_t *buf, size_t len) {
  if (nv_failing || len > sizeof nv) return false; /* a failing flash: ERROR_CODE_STORAGE */
  memcpy(nv, buf, len);
  nv_len = len;
  return true;
}
uint32_t fr_hal_resets(void) { return 0; }

/* Hello { protocol { major: 1 } }, framed */
static uint8_t hello_frame[32];
static size_t hello_len;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (hello_len == 0) {
    static const uint8_t p[] = {0x52, 0x04, 0x0a, 0x02, 0x08, 0x01}; /* field 10 = hello, protocol.major = 1 */
    hello_len = fr_frame_encode(p, sizeof p, hello_frame);
  }
  /* the first byte shapes the run: chunk size, failing NV, clock step, stalled link */
  uint8_t shape = size > 0 ? data[0] : 0;
  chunk = 1u + (shape & 0x1Fu);
  nv_failing = (shape & 0x20u) != 0;
  uint64_t step_ns = (shape & 0x40u) ? 10000000u : 1000000u;
  link_stalled = false;
  clock_ns = 1000;
  nv_len = 0;
  fr_core_boot(&fr_board_this, "fuzz");
  in_data = hello_frame;
  in_len = hello_len;
  in_pos = 0;
  for (int i = 0; i < 8 && in_pos < in_len; i++) fr_core_poll();
  in_data = data + (size > 0);
  in_len = size - (size > 0);
  in_pos = 0;
  for (int i = 0; i < 20000 && in_pos < in_len; i++) {
    if (fr_core_poll() == FR_CORE_REBOOT) fr_core_boot(&fr_board_this, "reset (command)");
    clock_ns += step_ns / 16u;
  }
  /* let time run: blocks, Status, watchdog; stall the link for a while to overrun the ring */
  link_stalled = (shape & 0x80u) != 0;
  for (int i = 0; i < 64; i++) {
    clock_ns += step_ns;
    if (fr_core_poll() == FR_CORE_REBOOT) fr_core_boot(&fr_board_this, "reset (command)");
  }
  link_stalled = false;
  for (int i = 0; i < 16; i++) {
    clock_ns += step_ns;
    fr_core_poll();
  }
  return 0;
}
