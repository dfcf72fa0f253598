/* The host target: the firmware core as a POSIX process, for fast tests.
 *
 *   fiberrig-fw-host --tcp PORT [--bind ADDR]   serve one client on TCP (PORT 0: any free port)
 *   fiberrig-fw-host --pty PATH                 make a pseudo-terminal and link it at PATH
 *   fiberrig-fw-host --stdio                    the link on stdin/stdout
 *   fiberrig-fw-host --lockstep                 the link on stdin/stdout in records, on a virtual clock
 *   options: --nv FILE   non-volatile storage in FILE (default: in memory, lost at exit)
 *
 * It prints one line "fiberrig-fw-host: link LINK" on stderr once the link is
 * ready (LINK: tcp://ADDR:PORT, the pty path, or "stdio"). The clock is
 * CLOCK_MONOTONIC; samples come from the synthetic front end (fr_synth.h) on
 * that clock, as fast as the real board would take them. A Reset restarts the
 * core in the same process (the link stays up, NV is kept). The process ends
 * on SIGTERM/SIGINT, when stdin closes in --stdio mode, and when its parent
 * dies (so a test runner never leaves one behind). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fr_core.h"
#include "fr_hal.h"

static int listen_fd = -1;
static int in_fd = -1;  /* link input (client socket, pty master, stdin) */
static int out_fd = -1; /* link output */
static const char *nv_path;
static uint8_t nv_mem[8192];
static size_t nv_len;
static uint32_t resets;
static uint32_t sampling_hz;
static volatile sig_atomic_t stop_requested;
static char pty_link[512];
/* --lockstep (test/differential/): the clock is virtual and moves only when the driver says so */
static bool lockstep;
static uint64_t virtual_ns;
static uint8_t ls_rx[1u << 16];
static size_t ls_rx_len, ls_rx_pos;
static bool ls_stalled;

static void on_signal(int sig) {
  (void)sig;
  stop_requested = 1;
}

static void die(const char *what) {
  fprintf(stderr, "fiberrig-fw-host: %s: %s\n", what, strerror(errno));
  exit(1);
}

/* ------------------------------------------------------------------ HAL */

uint64_t fr_hal_time_ns(void) {
  if (lockstep) return virtual_ns;
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t fr_hal_sampling(const fr_norm_config *config) {
  sampling_hz = config ? config->sample_rate_hz : 0;
  return config ? fr_hal_time_ns() : 0;
}

/* the front end (detectors, aux, LEDs, digital inputs): synth/hal_synth.c */

static void ls_record(uint8_t tag, const uint8_t *buf, size_t len);

size_t fr_hal_link_read(uint8_t *buf, size_t max) {
  if (lockstep) {
    size_t n = ls_rx_len - ls_rx_pos;
    if (n > max) n = max;
    memcpy(buf, ls_rx + ls_rx_pos, n);
    ls_rx_pos += n;
    return n;
  }
  if (in_fd < 0) return 0;
  ssize_t n = read(in_fd, buf, max);
  if (n > 0) return (size_t)n;
  if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != EIO)) {
    if (listen_fd >= 0) {
      /* the client went away: the device keeps running, like a pulled cable */
      close(in_fd);
      in_fd = out_fd = -1;
    } else if (n == 0 && in_fd == STDIN_FILENO) {
      stop_requested = 1;
    }
  }
  return 0;
}

size_t fr_hal_link_write(const uint8_t *buf, size_t len) {
  if (lockstep) {
    if (ls_stalled) return 0; /* the host is not reading: the link is busy */
    ls_record('L', buf, len); /* an ideal link: every byte leaves at once */
    return len;
  }
  if (out_fd < 0) return len; /* nobody listening: the bytes go nowhere, as on an unplugged UART */
  ssize_t n = write(out_fd, buf, len);
  if (n >= 0) return (size_t)n;
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return 0;
  if (listen_fd >= 0) {
    close(in_fd);
    in_fd = out_fd = -1;
  }
  return len;
}

bool fr_hal_nv_read(uint8_t *buf, size_t max, size_t *len) {
  if (!nv_path) {
    size_t n = nv_len < max ? nv_len : max;
    memcpy(buf, nv_mem, n);
    *len = n;
    return true;
  }
  FILE *f = fopen(nv_path, "rb");
  if (!f) {
    *len = 0;
    return errno == ENOENT;
  }
  *len = fread(buf, 1, max, f);
  bool ok = !ferror(f);
  fclose(f);
  return ok;
}

bool fr_hal_nv_write(const uint8_t *buf, size_t len) {
  if (!nv_path) {
    if (len > sizeof nv_mem) return false;
    memcpy(nv_mem, buf, len);
    nv_len = len;
    return true;
  }
  char tmp[1024];
  snprintf(tmp, sizeof tmp, "%s.tmp", nv_path);
  FILE *f = fopen(tmp, "wb");
  if (!f) return false;
  bool ok = fwrite(buf, 1, len, f) == len;
  ok = (fflush(f) == 0) && ok;
  ok = (fsync(fileno(f)) == 0) && ok;
  ok = (fclose(f) == 0) && ok;
  return ok && rename(tmp, nv_path) == 0;
}

uint32_t fr_hal_resets(void) { return resets; }

/* ----------------------------------------------------------------- link */

static void nonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl");
}

static void open_tcp(const char *bind_addr, int port) {
  listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd < 0) die("socket");
  int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in addr = {0};
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, bind_addr, &addr.sin_addr) != 1) {
    fprintf(stderr, "fiberrig-fw-host: bad address %s\n", bind_addr);
    exit(2);
  }
  if (bind(listen_fd, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listen_fd, 1) < 0) die("listen");
  socklen_t alen = sizeof addr;
  getsockname(listen_fd, (struct sockaddr *)&addr, &alen);
  nonblocking(listen_fd);
  fprintf(stderr, "fiberrig-fw-host: link tcp://%s:%d\n", bind_addr, ntohs(addr.sin_port));
}

static void accept_client(void) {
  int fd = accept(listen_fd, NULL, NULL);
  if (fd < 0) return;
  if (in_fd >= 0) {
    close(fd); /* one client at a time */
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  nonblocking(fd);
  in_fd = out_fd = fd;
}

static void open_pty(const char *path) {
  int fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (fd < 0 || grantpt(fd) < 0 || unlockpt(fd) < 0) die("posix_openpt");
  struct termios t;
  if (tcgetattr(fd, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(fd, TCSANOW, &t);
  }
  const char *slave = ptsname(fd);
  if (!slave) die("ptsname");
  /* raw mode on the slave side too, so a client that does not set it sees bytes as sent; the
   * slave stays open here so the master never reports a hang-up while no client has it open */
  int s = open(slave, O_RDWR | O_NOCTTY);
  if (s < 0) die("open pty slave");
  if (tcgetattr(s, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(s, TCSANOW, &t);
  }
  unlink(path);
  if (symlink(slave, path) < 0) die("symlink");
  snprintf(pty_link, sizeof pty_link, "%s", path);
  nonblocking(fd);
  in_fd = out_fd = fd;
  fprintf(stderr, "fiberrig-fw-host: link %s\n", path);
}

/* ------------------------------------------------------------- lockstep
 * For differential testing (test/differential/): stdin carries records
 * TAG LEN(u32 LE) PAYLOAD, stdout answers with records of the same shape.
 *   'L' bytes   link bytes from the host, handled at the current virtual time
 *   'A' u32 ms  advance the virtual clock by ms, polling the core every millisecond
 *   'P' -       power cycle: NV erased, reset count 0, clock 0, the core boots
 *   'S' u8      1: the host stops reading (the link takes nothing), 0: it reads again
 * Out: 'L' bytes the device sent; 'K' (empty) after each input record is done.
 * Time moves in whole milliseconds so the core polls at the instants its
 * millisecond deadlines (watchdog, Status) fall due, as the simulator's event
 * loop does. */
static void ls_record(uint8_t tag, const uint8_t *buf, size_t len) {
  uint8_t head[5] = {tag, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16), (uint8_t)(len >> 24)};
  if (fwrite(head, 1, sizeof head, stdout) != sizeof head || (len > 0 && fwrite(buf, 1, len, stdout) != len)) die("lockstep write");
}

static bool ls_read(void *buf, size_t len) {
  return len == 0 || fread(buf, 1, len, stdin) == len;
}

/* polls until the core has taken every byte given and has nothing left to send (or the link is stalled) */
static void ls_settle(void) {
  for (int i = 0; i < 100000; i++) {
    if (fr_core_poll() == FR_CORE_REBOOT) {
      resets++;
      fr_core_boot(&fr_board_this, "reset (command)");
      continue;
    }
    if (ls_rx_pos == ls_rx_len && (ls_stalled || !fr_core_busy())) return;
  }
}

static int run_lockstep(void) {
  static uint8_t payload[sizeof ls_rx];
  fr_core_boot(&fr_board_this, "power on");
  ls_settle();
  for (;;) {
    uint8_t head[5];
    if (!ls_read(head, sizeof head)) return 0; /* driver closed stdin */
    size_t len = (size_t)head[1] | (size_t)head[2] << 8 | (size_t)head[3] << 16 | (size_t)head[4] << 24;
    if (len > sizeof payload || !ls_read(payload, len)) {
      fprintf(stderr, "fiberrig-fw-host: lockstep record of %zu bytes\n", len);
      return 2;
    }
    if (head[0] == 'L') {
      if (ls_rx_pos == ls_rx_len) ls_rx_pos = ls_rx_len = 0;
      if (len > sizeof ls_rx - ls_rx_len) {
        fprintf(stderr, "fiberrig-fw-host: lockstep link input overflows\n");
        return 2;
      }
      memcpy(ls_rx + ls_rx_len, payload, len);
      ls_rx_len += len;
      ls_settle();
    } else if (head[0] == 'A' && len == 4) {
      uint32_t ms = (uint32_t)payload[0] | (uint32_t)payload[1] << 8 | (uint32_t)payload[2] << 16 | (uint32_t)payload[3] << 24;
      for (uint32_t k = 0; k < ms; k++) {
        virtual_ns += 1000000u;
        ls_settle();
      }
    } else if (head[0] == 'S' && len == 1) {
      ls_stalled = payload[0] != 0;
      ls_settle();
    } else if (head[0] == 'P') {
      ls_stalled = false;
      nv_len = 0;
      resets = 0;
      virtual_ns = 0;
      ls_rx_pos = ls_rx_len = 0;
      fr_core_boot(&fr_board_this, "power on");
      ls_settle();
    } else {
      fprintf(stderr, "fiberrig-fw-host: unknown lockstep record %d\n", head[0]);
      return 2;
    }
    ls_record('K', NULL, 0);
    if (fflush(stdout) != 0) die("lockstep flush");
  }
}

static void usage(void) {
  fprintf(stderr, "usage: fiberrig-fw-host (--tcp PORT [--bind ADDR] | --pty PATH | --stdio | --lockstep) [--nv FILE]\n");
  exit(2);
}

int main(int argc, char **argv) {
  const char *bind_addr = "127.0.0.1";
  const char *pty_path = NULL;
  int tcp_port = -1;
  bool stdio_link = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tcp") == 0 && i + 1 < argc) {
      tcp_port = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--bind") == 0 && i + 1 < argc) {
      bind_addr = argv[++i];
    } else if (strcmp(argv[i], "--pty") == 0 && i + 1 < argc) {
      pty_path = argv[++i];
    } else if (strcmp(argv[i], "--stdio") == 0) {
      stdio_link = true;
    } else if (strcmp(argv[i], "--lockstep") == 0) {
      lockstep = true;
    } else if (strcmp(argv[i], "--nv") == 0 && i + 1 < argc) {
      nv_path = argv[++i];
    } else {
      usage();
    }
  }
  if ((tcp_port >= 0) + (pty_path != NULL) + stdio_link + lockstep != 1) usage();
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (lockstep) {
    if (nv_path) usage(); /* NV lives in memory so a power cycle can erase it */
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "fiberrig-fw-host: link lockstep\n");
    return run_lockstep();
  }
  signal(SIGTERM, on_signal);
  signal(SIGINT, on_signal);
  signal(SIGPIPE, SIG_IGN);
  if (tcp_port >= 0) {
    open_tcp(bind_addr, tcp_port);
  } else if (pty_path) {
    open_pty(pty_path);
  } else {
    in_fd = STDIN_FILENO;
    out_fd = STDOUT_FILENO;
    nonblocking(in_fd);
    nonblocking(out_fd);
    fprintf(stderr, "fiberrig-fw-host: link stdio\n");
  }
  fr_core_boot(&fr_board_this, "power on");
  while (!stop_requested) {
    fr_core_action action = fr_core_poll();
    if (action == FR_CORE_REBOOT) {
      resets++;
      fr_core_boot(&fr_board_this, "reset (command)");
      continue;
    }
    struct pollfd fds[2];
    nfds_t nfds = 0;
    if (listen_fd >= 0) fds[nfds++] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
    if (in_fd >= 0) fds[nfds++] = (struct pollfd){.fd = in_fd, .events = (short)(POLLIN | (fr_core_busy() ? POLLOUT : 0))};
    /* wake at least every millisecond while sampling (the "timer"), every 5 ms when idle */
    int timeout_ms = sampling_hz ? 1 : 5;
    int r = poll(fds, nfds, timeout_ms);
    if (r > 0 && listen_fd >= 0 && (fds[0].revents & POLLIN)) accept_client();
    if (r > 0 && in_fd >= 0 && pty_path == NULL && listen_fd < 0 && (fds[nfds - 1].revents & POLLHUP)) stop_requested = 1;
  }
  if (pty_link[0]) unlink(pty_link);
  return 0;
}
