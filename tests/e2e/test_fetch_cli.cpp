// Models by hub id through the CLI: `stilts fetch` from a loopback hub into the Hugging Face cache, then
// `stilts train`, `stilts eval` and `stilts run` naming the model by its id with the hub gone and
// HF_HUB_OFFLINE=1; the run records the snapshot (its commit) it ran on.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "support/fake_hub.h"
#include "support/fixtures.h"
#include "support/http_server.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

TEST(FetchCli, AFetchedModelTrainsAndRunsByIdOffline) {
  const fs::path root = testing::make_temp_dir();
  testing::TinyBert spec;
  spec.words = {"red", "blue", "cat", "dog", "yes", "no", "the", "runs"};
  const fs::path tiny = testing::make_tiny_bert(root / "tiny", spec);
  std::map<std::string, std::string> files;
  for (const auto& entry : fs::directory_iterator(tiny)) files[entry.path().filename().string()] = read_file(entry.path());
  files["README.md"] = "# a model card";

  const fs::path cache = root / "hf" / "hub";
  ::setenv("HF_HUB_CACHE", cache.c_str(), 1);
  ::unsetenv("HF_HUB_OFFLINE");
  {
    testing::FakeHub hub("org/tiny", files);
    testing::HttpServer server([&](const testing::HttpServer::Request& r) { return hub.handle(r); });
    const auto f = run_stilts({"fetch", "org/tiny", "--endpoint", server.url()});
    ASSERT_EQ(f.exit_code, 0) << f.err;
    EXPECT_THAT(f.out, HasSubstr("commit " + testing::FakeHub::kCommit));
  }
  const fs::path snapshot = cache / "models--org--tiny" / "snapshots" / testing::FakeHub::kCommit;
  EXPECT_TRUE(fs::is_symlink(snapshot / "model.safetensors"));

  // The hub is gone; offline from here on.
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  std::string tsv = "sentence\tlabel\n";
  for (int i = 0; i < 40; ++i) tsv += std::string(i % 2 ? "the cat runs yes" : "the dog runs no") + "\t" + (i % 2 ? "1" : "0") + "\n";
  write_file_atomic(root / "train.tsv", tsv);
  const fs::path out = root / "trained";
  const auto t = run_stilts({"train", "--model", "org/tiny", "--task", "classification", "--train",
                             (root / "train.tsv").string(), "--dev", (root / "train.tsv").string(), "--out",
                             out.string(), "--max-steps", "4", "--batch-size", "8", "--max-length", "16", "--set",
                             "text_a_column=sentence", "--set", "cache_dir=" + (root / "cache").string()});
  ASSERT_EQ(t.exit_code, 0) << t.err;
  // The run names the snapshot it trained from: the commit is in its path.
  EXPECT_THAT(read_json_file(out / "config.resolved.json").at("model").get<std::string>(),
              HasSubstr(testing::FakeHub::kCommit));
  const auto inspect = run_stilts({"inspect", "org/tiny", "--json"});
  ASSERT_EQ(inspect.exit_code, 0) << inspect.err;

  write_file_atomic(root / "test-en.tsv", tsv);
  write_file_atomic(root / "study.toml", R"(
[experiment]
name = "hub"
seeds = [1]
languages = ["en"]
train_language = "en"

[model]
path = "org/tiny"

[tasks.toy]
kind = "classification"
format = "tsv"
text_a_column = "sentence"
train = "train.tsv"
test = "test-{lang}.tsv"

[stages.target]
task = "toy"
max_steps = 3
batch_size = 8
max_length = 16
final_model = "last"

[arms]
direct = ["target"]

[bench]
enabled = false
)");
  const fs::path run = root / "run";
  const auto r = run_stilts({"run", (root / "study.toml").string(), "--out", run.string(), "--no-report", "--set",
                             "stages.target.cache_dir=" + (root / "cache").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("org/tiny@main = commit " + testing::FakeHub::kCommit));
  EXPECT_THAT(read_json_file(run / "experiment.resolved.json").at("model").at("path").get<std::string>(),
              HasSubstr(testing::FakeHub::kCommit));

  // A model that is not cached, offline: the error says how to get it.
  const auto missing = run_stilts({"inspect", "org/other"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_THAT(missing.err, HasSubstr("stilts fetch org/other"));
  ::unsetenv("HF_HUB_OFFLINE");
  ::unsetenv("HF_HUB_CACHE");
}

TEST(FetchCli, FetchDataNamesItsTasks) {
  const auto r = run_stilts({"fetch-data", "panx", "--out", (testing::make_temp_dir() / "d").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.err, HasSubstr("manual download"));
  EXPECT_THAT(r.err, HasSubstr("tasks: pawsx, xnli, udpos, squad, xquad, mlqa, tydiqa, xcopa, siqa, tatoeba, lareqa"));
}

}  // namespace
}  // namespace stilts
