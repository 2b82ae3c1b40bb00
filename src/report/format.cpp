#include "report/format.h"

#include <cmath>
#include <cstdio>

namespace stilts::report {

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  // "-0.0" reads as a finding; print zero plainly.
  std::string s = buf;
  if (s[0] == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string signed_fixed(double v, int digits) {
  std::string s = fixed(v, digits);
  if (s == "n/a" || s[0] == '-' || s.find_first_not_of("0.") == std::string::npos) return s;
  return "+" + s;
}

std::string percent(double fraction, int digits) {
  if (!std::isfinite(fraction)) return "n/a";
  return fixed(100 * fraction, digits) + "%";
}

std::string si(double v) {
  if (!std::isfinite(v)) return "n/a";
  static const char* const kPrefixes[] = {"", "k", "M", "G", "T", "P", "E", "Z"};
  double a = std::fabs(v);
  int p = 0;
  while (a >= 999.5 && p < 7) {
    a /= 1000;
    ++p;
  }
  const int digits = a >= 99.95 ? 0 : a >= 9.995 ? 1 : 2;
  const double scaled = v / std::pow(1000.0, p);
  std::string s = fixed(scaled, p == 0 && scaled == std::floor(scaled) ? 0 : digits);
  return s + kPrefixes[p];
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds)) return "n/a";
  if (std::fabs(seconds) < 120) return fixed(seconds, seconds < 10 ? 2 : 1) + " s";
  if (std::fabs(seconds) < 7200) return fixed(seconds / 60, 1) + " min";
  return fixed(seconds / 3600, 2) + " h";
}

std::string bracket(double lo, double hi, int digits, bool sign) {
  if (!std::isfinite(lo) || !std::isfinite(hi)) return "n/a";
  return "[" + (sign ? signed_fixed(lo, digits) : fixed(lo, digits)) + ", " +
         (sign ? signed_fixed(hi, digits) : fixed(hi, digits)) + "]";
}

std::string html_escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|' || c == '*' || c == '`' || c == '\\' || c == '<') out += '\\';
    if (c == '\n') {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

std::string gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "''";
    else if (c != '\n')
      out += c;
  }
  return out + "'";
}

}  // namespace stilts::report
