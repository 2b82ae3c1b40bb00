// stilts report: RUN_DIR/report/report.md and a self-contained report.html (inline SVG and CSS, no
// external files) built from RUN_DIR/results.sqlite, with the figures as fig-*.svg and fig-*.png beside
// them. Every sentence, table and plot is computed from the database; sections without data say so.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/equivalence.h"
#include "pipeline/headline.h"

namespace stilts::report {

struct ReportOptions {
  std::filesystem::path out_dir;     // default RUN_DIR/report
  bool png = true;                   // fig-*.png beside the SVGs (gnuplot's pngcairo terminal)
  std::string baseline;              // default: "direct" if present, else the first arm by name
  double level = 0.95;               // confidence level of every interval
  double equivalence_margin = pipeline::kEquivalenceMargin;  // relative (see pipeline/equivalence.h)
  pipeline::HeadlineMetrics headline_metrics;  // task -> its declared headline metric (pipeline/headline.h)
  std::string gnuplot = "gnuplot";   // program, looked up on PATH
  void validate() const;
};

struct ReportPaths {
  std::filesystem::path dir, markdown, html;
  std::vector<std::filesystem::path> svgs, pngs;  // the figures written, in report order
};

// Reads RUN_DIR/results.sqlite and writes the report; every file is written atomically (temp + rename).
// A missing run directory, a missing or foreign results.sqlite and an unknown baseline are InputErrors
// naming the path; a missing gnuplot an InputError naming the Debian package.
ReportPaths write_report(const std::filesystem::path& run_dir, const ReportOptions& options = {});

}  // namespace stilts::report
