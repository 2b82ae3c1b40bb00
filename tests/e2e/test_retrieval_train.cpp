// The dual encoder trained end to end on the synthetic world's retrieval task (query-positive paraphrase
// pairs, retrieval-json): `stilts train --task retrieval` then `stilts eval`, against the same encoder
// before training (its retrieval head fresh), on the same dev queries, compared by a paired bootstrap of
// mAP@20. The submission file is the one `stilts score --task lareqa` reads.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include "common/files.h"
#include "eval/metrics.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "synth/world.h"
#include "tasks/kind.h"
#include "train/evaluate.h"
#include "train/head.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;

TEST(RetrievalTraining, DualEncoderBeatsTheUntrainedEncoderWithAnIntervalAboveZero) {
  const fs::path tmp = testing::make_temp_dir();
  // The small world with more retrieval pairs and queries: a tiny encoder from random weights needs a few
  // hundred steps to leave the collapsed start (every embedding alike), and 300 queries narrow the interval.
  synth::WorldOptions options = synth::WorldOptions::small();
  options.retrieval_train = 2000;
  options.retrieval_eval = 300;
  options.retrieval_distractors = 300;
  const synth::WorldFiles world = synth::generate_world(options, tmp / "world");
  const synth::TaskFiles& task = world.task("retrieval");
  EXPECT_EQ(task.kind, "retrieval");
  EXPECT_EQ(task.format, "retrieval-json");
  auto in_language = [](std::string pattern, const std::string& language) {
    return pattern.replace(pattern.find("{lang}"), 6, language);
  };

  // The untrained encoder: the world's tiny XLM-R config with random weights, and its tokenizer.
  const fs::path base = tmp / "base";
  {
    torch::manual_seed(5);
    models::BuildOptions build;
    build.head = models::HeadKind::kNone;
    auto model = models::create_model(read_json_file(world.model_dir / "config.json"), "config.json", build);
    models::save_pretrained(*model, base);
    for (const auto& entry : fs::directory_iterator(world.model_dir)) {
      if (entry.path().filename() != "config.json") fs::copy_file(entry.path(), base / entry.path().filename());
    }
  }

  const std::string train = in_language(task.train, world.train_language);
  const std::string dev = in_language(task.dev, world.train_language);
  const fs::path out = tmp / "trained";
  const testing::RunResult trained =
      testing::run_stilts({"train", "--model", base.string(), "--task", "retrieval", "--format", "retrieval-json",
                        "--train", train, "--dev", dev, "--out", out.string(), "--epochs", "8", "--batch-size", "32",
                        "--lr", "1e-3", "--warmup-ratio", "0.1", "--eval-every", "100", "--seed", "1"});
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const nlohmann::json config = read_json_file(out / "config.json");
  EXPECT_EQ(config.at("architectures").at(0), "XLMRobertaForRetrieval");

  // stilts eval on the trained model writes the LAReQA/Mewsli-X submission layout.
  const fs::path submission = tmp / "pred.json";
  const testing::RunResult evaluated =
      testing::run_stilts({"eval", "--model", out.string(), "--data", dev, "--format", "retrieval-json", "--task",
                        "retrieval", "--json", "--predictions", submission.string()});
  ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
  const nlohmann::json predictions = read_json_file(submission);
  EXPECT_EQ(predictions.size(), 300u);  // the dev queries
  EXPECT_EQ(predictions.begin().value().size(), 20u);

  // Both models on the same queries, through the library.
  const auto kind = tasks::make_task_kind("retrieval", {});
  train::DataFile file;
  file.path = dev;
  file.format = "retrieval-json";
  train::EvalModel after = train::load_eval_model(out);
  train::EvalSettings run;
  run.batch_size = 64;
  const train::FileEvaluation a = train::evaluate_file(after, *kind, file, run);
  train::LabelSpace head;
  head.head = models::HeadKind::kRetrieval;
  train::TaskModel fresh = train::load_for_task(base, train::HeadTransfer::kReinit, head);
  train::EvalModel before = train::load_eval_model(base, fresh.loaded.model);
  before.head = head;
  const train::FileEvaluation b = train::evaluate_file(before, *kind, file, run);
  ASSERT_EQ(a.predictions.gold, b.predictions.gold);

  // The eval CLI's figure is the library's.
  const nlohmann::json cli = nlohmann::json::parse(evaluated.out);
  EXPECT_DOUBLE_EQ(cli.at("metrics").at("all").at("map@20").at("value").get<double>(),
                   a.metrics.at("all").at("map@20"));

  const eval::PairedInterval diff =
      eval::paired_bootstrap(a.predictions.predicted.size(), kind->scorer("map@20", a.predictions.predicted, a.predictions.gold),
                             kind->scorer("map@20", b.predictions.predicted, b.predictions.gold));
  std::cout << "synthetic retrieval dev (" << world.train_language << ", pool "
            << a.data.candidates.size() << "): mAP@20 trained " << diff.value_a << ", untrained " << diff.value_b
            << ", difference " << diff.difference << " [" << diff.lower << ", " << diff.upper << "]; chance "
            << 1.0 / static_cast<double>(a.data.candidates.size()) << "\n";
  EXPECT_GT(diff.lower, 0.0);
}

}  // namespace
}  // namespace stilts
