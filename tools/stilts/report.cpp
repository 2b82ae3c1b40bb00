// stilts report RUN_DIR [--out DIR] [--no-png] [--baseline ARM]
#include "report/report.h"

#include <iostream>

#include "commands.h"

namespace stilts::cli {

void add_report_command(CLI::App& app) {
  struct Args {
    std::string run_dir;
    std::string out;
    bool no_png = false;
    std::string baseline;
    double margin_pct = 5.0;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "report",
      "Write RUN_DIR/report/report.md and a self-contained report.html from RUN_DIR/results.sqlite: the answer\n"
      "(accuracy differences per language with intervals, inference cost, parameters, training cost), plots\n"
      "rendered by gnuplot (fig-*.svg, fig-*.png), the tables, the resolved config and the machine.");
  cmd->add_option("run_dir", args->run_dir, "run directory written by stilts run")->required();
  cmd->add_option("--out", args->out, "output directory (default: RUN_DIR/report)");
  cmd->add_flag("--no-png", args->no_png, "SVG figures only (no fig-*.png)");
  cmd->add_option("--baseline", args->baseline,
                  "arm the others are compared with (default: \"direct\" if present, else the first by name)");
  cmd->add_option("--margin", args->margin_pct,
                  "equivalence margin in percent: inference figures whose interval lies within ±margin are "
                  "reported as equivalent")
      ->default_val(5.0)
      ->check(CLI::Range(0.1, 50.0));
  cmd->callback([args] {
    report::ReportOptions options;
    options.out_dir = args->out;
    options.png = !args->no_png;
    options.baseline = args->baseline;
    options.equivalence_margin = args->margin_pct / 100.0;
    const auto paths = report::write_report(args->run_dir, options);
    std::cout << "wrote " << paths.markdown.string() << "\n"
              << "wrote " << paths.html.string() << "\n"
              << "figures: " << paths.svgs.size() << " SVG, " << paths.pngs.size() << " PNG in " << paths.dir.string()
              << "\n";
  });
}

}  // namespace stilts::cli
