// Plots rendered by gnuplot, run as a separate process on a generated script and data files: one
// process renders every figure of a report to SVG (and PNG with the pngcairo terminal).
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace stilts::report {

struct Figure {
  std::string name;     // file stem, e.g. "fig-accuracy"
  std::string caption;  // one line shown under the figure
  int width = 860, height = 440;
  // gnuplot commands after the terminal is set, ending in one `plot` (no multiplot: the PNG is a
  // `replot`). Data files are referred to as DATA(<key>), replaced by the quoted absolute path.
  std::string script;
  std::vector<std::pair<std::string, std::string>> data;  // key -> file contents
};

struct RenderedFigure {
  std::string name;
  std::string caption;
  std::filesystem::path svg;  // in the work directory
  std::filesystem::path png;  // empty without PNG
};

struct GnuplotOptions {
  std::string program = "gnuplot";  // looked up on PATH
  bool png = true;
  int timeout_s = 120;
};

// Writes the data files and the script into `work_dir`, runs gnuplot and checks every output exists.
// A missing gnuplot is an InputError naming the Debian package; a failing script an InputError with
// gnuplot's messages and the script's path.
std::vector<RenderedFigure> render_figures(const std::vector<Figure>& figures, const std::filesystem::path& work_dir,
                                           const GnuplotOptions& options = {});

}  // namespace stilts::report
