/* Internal to the core: one run, from Start to Stop. Its state is one struct,
 * fr_run, zeroed at every Start (nothing of a run leaks into the next); after
 * Stop it keeps the run's outcome (where it stopped, what it dropped, whether
 * the watchdog tripped) for Status, SelfTest and a repeated Stop.
 *
 * Clocks: device time is fr_hal_time_ns() since boot. While running, detector
 * sample n is taken at start + (n + 1) / fs; a block [first, first + B) is
 * complete when its last sample is taken, and goes into the ring buffer (or is
 * dropped and counted when the ring is full: the sample index keeps counting so
 * the host sees the gap). */
#ifndef FR_RUN_H
#define FR_RUN_H
#include <stdbool.h>
#include <stdint.h>

#include "fr_board.h"
#include "fr_hal.h"
#include "fr_link.h"
#include "fr_schedule.h"
#include "fr_validate.h"

#define FR_MAX_CHANGES 8u
#define FR_EDGE_WAIT 8u

/* New peak currents (configuration order, mA) from detector sample `at` on. */
typedef struct {
  uint64_t at;
  double peaks[FR_MAX_LEDS];
} fr_change;

typedef struct {
  bool running;
  uint64_t start_ns;    /* uptime at which sample 0 starts */
  uint64_t next_sample; /* next detector sample to take */
  uint64_t next_aux;    /* next aux sample to take */
  uint64_t last_stop_index;
  uint64_t last_stop_us; /* uptime of last_stop_index */
  fr_schedule schedule;
  double peaks[FR_MAX_LEDS]; /* in force now (configuration order) */
  fr_change changes[FR_MAX_CHANGES]; /* scheduled, in sample order */
  uint32_t n_changes;
  bool tripped;      /* the heartbeat watchdog darkened the LEDs */
  bool ever_tripped; /* ... at some time during this run */
  uint64_t blocks_dropped;
  uint64_t samples_dropped;
  bool overrun_logged;
  bool loss_logged;    /* a sample the front end lost was logged this run */
  bool stall_logged;   /* the front end falling a second behind was logged this run */
  uint32_t edges_lost; /* digital edges dropped this run (target queue or event ring full) */
  bool edges_logged;
  fr_hal_edge edge_wait[FR_EDGE_WAIT]; /* edges read from the target, out once their sample is taken */
  uint32_t n_edge_wait;
  fr_block det_stage; /* the detector block being filled */
  fr_block aux_stage; /* the aux block being filled */
} fr_run_t;

/* Written only by fr_run.c; read by the rest of the core. (The pyboard's
 * linker script places it in CCM by its section name, .bss.fr_run.) */
extern fr_run_t fr_run;

/* Detector samples the clock has completed by uptime t_ns (0 when not running). */
uint64_t fr_run_samples_taken(uint64_t t_ns);
/* Peaks in force at sample n (changes scheduled at or before n applied). */
const double *fr_run_peaks_at(uint64_t n);

/* Starts a run of the session's configuration with the commanded drive at uptime t_ns. */
void fr_run_start(uint64_t t_ns);
/* Takes due samples, runs the watchdog and forwards digital edges. */
void fr_run_poll(uint64_t t_ns);
/* Ends the run at uptime t_ns: the samples due, the partial blocks, LEDs dark;
 * ack: Stop's Ack (request `id`) goes out behind them on the stream. */
void fr_run_stop(uint64_t t_ns, uint32_t id, bool ack);
/* Ends the run without its data (Reset, EnterBootloader). */
void fr_run_abort(void);
/* A validated SetLed during a run: scheduled for the next block boundary
 * (re-arming all LEDs if the watchdog tripped); returns the sample it takes
 * effect at. */
uint64_t fr_run_set_led(const fr_set_led_result *r);
/* Queues the LedEvent for configured LED k driven at current_ma from sample `at`. */
void fr_run_led_event(uint32_t k, double current_ma, uint64_t at);

#endif
