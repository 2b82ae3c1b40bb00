// stilts demo [--suite nli|xtreme-r] [--out DIR] [--size small|default] [--languages N] [--seeds N]
#include <iostream>

#include "commands.h"
#include "common/error.h"
#include "pipeline/demo.h"
#include "report/report.h"
#include "study_view.h"

namespace stilts::cli {

void add_demo_command(CLI::App& app) {
  auto options = std::make_shared<pipeline::DemoOptions>();
  auto out = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "demo",
      "The whole system on the built-in synthetic multilingual world, nothing downloaded: generates the\n"
      "world, pretrains a tiny encoder with masked-LM, runs direct vs intermediate (sentiment ->\n"
      "NLI) over several seeds with zero-shot evaluation in every synthetic language, benchmarks\n"
      "the arms, writes the report and prints the comparison. The run directory is an ordinary study\n"
      "(stilts results / stilts report read it); rerun after a kill to continue. --suite xtreme-r runs\n"
      "XTREME-R's shape instead: a target of every task kind (classification, multiple choice, tagging,\n"
      "QA, retrieval, Tatoeba-style sentence retrieval) in a direct and an intermediate arm.");
  cmd->add_option("--suite", options->suite, "nli | xtreme-r")->default_val("nli");
  cmd->add_option("--out", *out, "run directory (default runs/demo, or runs/demo-xtreme-r for that suite)");
  cmd->add_option("--size", options->size, "world size: small (a quick look) | default")->default_val("default");
  cmd->add_option("--languages", options->languages, "synthetic languages (2..8; the first is trained on)")
      ->default_val(4);
  cmd->add_option("--seeds", options->seeds, "seeds per arm (default: 3 for nli, 2 for xtreme-r)");
  cmd->add_option("--pretrain-epochs", options->pretrain_epochs, "masked-LM epochs over the corpus")->default_val(4);
  cmd->callback([options, out] {
    options->out = !out->empty() ? *out : options->suite == "nli" ? "runs/demo" : "runs/demo-" + options->suite;
    const pipeline::DemoPaths paths = pipeline::run_demo(*options);
    std::string report_line;
    try {
      report_line = "report: " + report::write_report(paths.run_dir).html.string();
    } catch (const InputError& e) {
      report_line = std::string("report not written: ") + e.what() + " (retry: stilts report " + paths.run_dir.string() + ")";
    }
    std::cout << "\nstilts demo: the synthetic study in " << paths.run_dir.string() << "\n\n";
    print_comparison(paths.run_dir, "direct", 0.95);
    print_benchmark_scores(paths.run_dir, "direct", 0.95);  // several targets (the xtreme-r suite)
    std::cout << "\n" << report_line << "\nmore: stilts results " << paths.run_dir.string()
              << "; rerun the study: stilts run " << paths.config.string() << " --out " << paths.run_dir.string()
              << "\n";
  });
}

}  // namespace stilts::cli
