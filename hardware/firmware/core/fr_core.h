/* The portable firmware core: the wire protocol (framing, nanopb messages),
 * command handling and validation, the modulation schedule, sample packing
 * into SampleBlocks, the ring buffer with overrun accounting, the heartbeat
 * watchdog, LED limits, calibration in non-volatile storage and Status. The
 * behavioural specification is the simulator (firmware-sim/device/device.ts);
 * the conformance suite (test/conformance) holds both to it.
 *
 * Single-threaded: the target's main loop calls fr_core_poll() over and over;
 * everything the core needs from the hardware goes through fr_hal.h. */
#ifndef FR_CORE_H
#define FR_CORE_H
#include <stdbool.h>
#include <stdint.h>
#include "fr_board.h"

typedef enum {
  FR_CORE_RUN = 0,        /* keep calling fr_core_poll() */
  FR_CORE_REBOOT = 1,     /* Reset was acked and flushed: restart the firmware (then fr_core_boot) */
  FR_CORE_BOOTLOADER = 2, /* EnterBootloader was acked and flushed: jump to the bootloader if there is one */
} fr_core_action;

/* Starts (or restarts) the firmware: state cleared, calibration loaded from
 * non-volatile storage, uptime restarted; announces itself with a Log that
 * starts with `reason` (e.g. "power on", "reset (command)"). */
void fr_core_boot(const fr_board *board, const char *reason);

/* One round of work: takes due samples, runs the watchdog, handles input,
 * sends output. */
fr_core_action fr_core_poll(void);

/* True while output is waiting for the link or input is waiting for room. */
bool fr_core_busy(void);

#endif
