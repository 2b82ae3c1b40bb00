// stilts score --benchmark xtreme|xtreme-r --labels DIR --predictions DIR [--json]
// stilts score --task T --gold FILE --predictions FILE [--language L] [--json]
// The official XTREME / XTREME-R scorer (google-research/xtreme's evaluate.py), plus stilts' own
// LAReQA scorer, which evaluate.py lacks; see eval/xtreme_score.h.
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common/error.h"
#include "eval/xtreme_score.h"

namespace stilts::cli {

void add_score_command(CLI::App& app) {
  struct Args {
    std::string benchmark, task, labels, gold, predictions, language;
    bool json = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "score",
      "Score an XTREME or XTREME-R submission as the official evaluate.py does: a predictions folder\n"
      "against a labels folder, both laid out <task>/test-<language>.<extension>; or one task's\n"
      "predictions file against its gold file. Missing languages are named (on stderr) and left out;\n"
      "group and overall scores need every language of their tasks. evaluate.py cannot score lareqa\n"
      "(XTREME-R): stilts scores it itself (map@20 as xtreme's utils_lareqa.py; lareqa/test-<language>.json\n"
      "{question uid: [candidate uids]}) and marks it, and all_task, as stilts' own.");
  auto* benchmark = cmd->add_option("--benchmark", args->benchmark, "xtreme | xtreme-r: score a whole submission")
                        ->check(CLI::IsMember({"xtreme", "xtreme-r"}));
  auto* task = cmd->add_option("--task", args->task,
                               "score one file of one task: pawsx, xnli, panx, udpos, bucc2018, tatoeba, "
                               "xquad, mlqa, tydiqa, mewslix, xcopa, lareqa (stilts' own scorer)");
  benchmark->excludes(task);
  auto* labels = cmd->add_option("--labels", args->labels, "--benchmark: the gold labels folder")->needs(benchmark);
  auto* gold = cmd->add_option("--gold", args->gold, "--task: the gold file")->needs(task);
  labels->excludes(gold);
  cmd->add_option("--predictions", args->predictions, "the predictions folder (--benchmark) or file (--task)")
      ->required();
  cmd->add_option("--language", args->language, "--task: the file's language (mlqa needs it)")->needs(task);
  cmd->add_flag("--json", args->json,
                "print JSON: evaluate.py's --output_file document (--benchmark) or {metric: value} (--task)");
  cmd->callback([args] {
    if (args->benchmark.empty() == args->task.empty()) {
      throw CLI::ValidationError("score", "give --benchmark (with --labels) or --task (with --gold)");
    }
    if (!args->benchmark.empty()) {
      if (args->labels.empty()) throw CLI::ValidationError("score", "--benchmark needs --labels DIR");
      const eval::BenchmarkResult result = eval::score_benchmark(args->benchmark, args->labels, args->predictions);
      for (const std::string& line : eval::missing_report(result)) std::cerr << "stilts: score: " << line << "\n";
      if (args->json) {
        std::cout << eval::to_evaluate_json(result).dump(2) << "\n";
      } else {
        std::cout << eval::format_benchmark(result);
      }
      return;
    }
    if (args->gold.empty()) throw CLI::ValidationError("score", "--task needs --gold FILE");
    const eval::NamedValues values = eval::score_task_files(args->task, args->gold, args->predictions, args->language);
    if (args->json) {
      std::cout << eval::to_json(values).dump(2) << "\n";
    } else {
      std::cout << eval::format_task_scores(args->task, values);
    }
  });
}

}  // namespace stilts::cli
