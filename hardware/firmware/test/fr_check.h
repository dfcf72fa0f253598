/* The C tests' one assertion: CHECK(condition, printf-style message) counts
 * every check and reports each failure with its place; a test program prints
 * `checks` and `failures` at the end and exits non-zero on any failure. */
#ifndef FR_CHECK_H
#define FR_CHECK_H
#include <stdio.h>

static int failures, checks;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    checks++;                                              \
    if (!(cond)) {                                         \
      failures++;                                          \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                        \
      fprintf(stderr, "\n");                               \
    }                                                      \
  } while (0)

#endif
