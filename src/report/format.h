// Number and text formatting for the report: every figure a reader sees goes through these, so the
// tables, the summary and the plot labels print the same value the same way.
#pragma once

#include <string>

namespace stilts::report {

// "n/a" for NaN and infinities everywhere below.
std::string fixed(double v, int digits);
// With an explicit sign: "+3.00".
std::string signed_fixed(double v, int digits);
// A fraction as a percentage: percent(0.8234) = "82.3%".
std::string percent(double fraction, int digits = 1);
// Three significant digits with an SI prefix: si(110123456) = "110M", si(1.234e15) = "1.23P".
std::string si(double v);
// Seconds as "12.3 s", "4.5 min" or "1.20 h".
std::string duration(double seconds);
// "[lo, hi]" with `digits` decimals and explicit signs when `sign`; "n/a" when either bound is undefined.
std::string bracket(double lo, double hi, int digits, bool sign = false);

std::string html_escape(const std::string& s);
// Escapes the characters that would break a Markdown table cell or start formatting.
std::string md_escape(const std::string& s);
// A gnuplot single-quoted string literal.
std::string gp_quote(const std::string& s);

}  // namespace stilts::report
