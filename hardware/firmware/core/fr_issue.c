/* How a rejected command is told: fr_issue_set and fr_num, the number
 * formatting of the simulator's messages (validate.ts num()). */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fr_validate.h"

void fr_issue_set(fr_issue *out, uint32_t code, const char *field, const char *fmt, ...) {
  out->code = code;
  snprintf(out->field, sizeof out->field, "%s", field);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(out->message, sizeof out->message, fmt, ap);
  va_end(ap);
}

const char *fr_num(double value, char *buf, unsigned size) {
  if (size < 2) return "";
  if (isnan(value)) {
    snprintf(buf, size, "NaN");
    return buf;
  }
  if (isinf(value)) {
    snprintf(buf, size, value > 0 ? "Infinity" : "-Infinity");
    return buf;
  }
  if (value == 0) {
    snprintf(buf, size, "0");
    return buf;
  }
  const char *sign = value < 0 ? "-" : "";
  double a = fabs(value);
  int e = (int)floor(log10(a));
  double scaled = floor(a / pow(10.0, e - 5) + 0.5); /* 6 significant digits */
  if (scaled >= 1e6) {
    scaled = floor(scaled / 10.0 + 0.5);
    e++;
  }
  unsigned long digits = (unsigned long)scaled;
  if (e >= 21 || e < -6) {
    /* exponent form d.ddddde+X, trailing zeros trimmed */
    char m[16];
    snprintf(m, sizeof m, "%lu", digits);
    int len = (int)strlen(m);
    while (len > 1 && m[len - 1] == '0') m[--len] = 0;
    if (len > 1) {
      snprintf(buf, size, "%s%c.%se%c%d", sign, m[0], m + 1, e < 0 ? '-' : '+', e < 0 ? -e : e);
    } else {
      snprintf(buf, size, "%s%ce%c%d", sign, m[0], e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    return buf;
  }
  if (e >= 5) {
    /* an integer: the 6 digits followed by e-5 zeros */
    char zeros[24] = {0};
    for (int i = 0; i < e - 5 && i < 22; i++) zeros[i] = '0';
    snprintf(buf, size, "%s%lu%s", sign, digits, zeros);
    return buf;
  }
  /* decimal: 6 digits with the point after (e + 1) digits */
  char d[8];
  snprintf(d, sizeof d, "%06lu", digits);
  char tmp[40];
  int pos = 0;
  if (e < 0) {
    tmp[pos++] = '0';
    tmp[pos++] = '.';
    for (int i = 0; i < -e - 1; i++) tmp[pos++] = '0';
    for (int i = 0; i < 6; i++) tmp[pos++] = d[i];
  } else {
    for (int i = 0; i < 6; i++) {
      tmp[pos++] = d[i];
      if (i == e) tmp[pos++] = '.';
    }
  }
  tmp[pos] = 0;
  /* trim trailing zeros after the point, then a bare point */
  if (strchr(tmp, '.')) {
    while (pos > 0 && tmp[pos - 1] == '0') tmp[--pos] = 0;
    if (pos > 0 && tmp[pos - 1] == '.') tmp[--pos] = 0;
  }
  snprintf(buf, size, "%s%s", sign, tmp);
  return buf;
}
