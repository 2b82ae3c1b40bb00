// stilts bench through the CLI: the grid and the data settings on tiny models, every output format,
// XLNet, comparisons, --peak, and the errors for bad input.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include <torch/torch.h>

#include <cstdlib>
#include <random>

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/fixtures.h"
#include "support/run.h"
#include "support/torch/tiny_models.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

fs::path golden(const std::string& name) { return testing::test_data_dir() / "hf-golden" / name; }

const std::vector<std::string> kWords = {"red", "blue", "green", "cat", "dog", "bird", "runs", "sits"};

// Pairs in two languages: "de" rows are longer than "en" rows.
fs::path make_tsv(const fs::path& path) {
  std::mt19937 rng(1);
  auto words = [&](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += (i ? " " : "") + kWords[rng() % kWords.size()];
    return out;
  };
  std::string tsv = "sentence1\tsentence2\tlabel\tlang\n";
  for (int i = 0; i < 12; ++i) {
    const bool de = i % 3 == 0;
    tsv += words(de ? 8 : 2) + "\t" + words(de ? 8 : 2) + "\t" + std::to_string(i % 2) + "\t" + (de ? "de" : "en") + "\n";
  }
  write_file_atomic(path, tsv);
  return path;
}

const std::vector<std::string> kQuick = {"--reps", "2", "--min-time", "0", "--warmup", "0"};

std::vector<std::string> with_quick(std::vector<std::string> args) {
  args.insert(args.end(), kQuick.begin(), kQuick.end());
  return args;
}

TEST(BenchCli, GridAsJsonHasOneRecordPerSetting) {
  const auto r = run_stilts(with_quick({"bench", golden("bert").string(), "--batch-sizes", "1,3", "--seq-lens",
                                        "8,16", "--json", "--base", golden("bert").string()}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["schema"], "stilts-bench/1");
  ASSERT_EQ(j["records"].size(), 4u);
  EXPECT_EQ(j["records"][0]["batch_size"], 1);
  EXPECT_EQ(j["records"][0]["seq_len"], 8);
  EXPECT_EQ(j["records"][3]["batch_size"], 3);
  EXPECT_EQ(j["records"][3]["seq_len"], 16);
  EXPECT_EQ(j["records"][0]["mode"], "fp32");
  EXPECT_EQ(j["records"][0]["threads"], 1);
  EXPECT_EQ(j["records"][0]["samples_ms"].size(), 2u);
  EXPECT_GT(j["records"][0]["latency_ms"]["p50"].get<double>(), 0);
  EXPECT_EQ(j["models"][0]["parameters"]["parameters"]["total"], 49394);
  EXPECT_EQ(j["models"][0]["parameters"]["params_differing"], 0);
  EXPECT_TRUE(j["models"][0]["flops_per_example"].contains("16"));
  EXPECT_TRUE(j["fingerprint"].contains("cpu"));
}

TEST(BenchCli, XlnetInEveryFormatAndMode) {
  const auto x = golden("xlnet").string();
  const auto csv = run_stilts(with_quick({"bench", x, "--batch-sizes", "2", "--seq-lens", "12", "--csv"}));
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("model,mode,threads,batch_size,seq_len,language,"));
  EXPECT_THAT(csv.out, HasSubstr(x + ",fp32,1,2,12,,"));
  const auto md = run_stilts(with_quick({"bench", x, "--batch-sizes", "2", "--seq-lens", "12", "--mode", "bf16"}));
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_THAT(md.out, HasSubstr("mode: bf16"));
  EXPECT_THAT(md.out, HasSubstr("| " + x + " | xlnet |"));
  const auto int8 = run_stilts(with_quick({"bench", x, "--batch-sizes", "1", "--seq-lens", "8", "--mode", "int8",
                                           "--json", "--no-samples"}));
  ASSERT_EQ(int8.exit_code, 0) << int8.err;
  const auto j = nlohmann::json::parse(int8.out);
  EXPECT_EQ(j["records"][0]["mode"], "int8");
  EXPECT_FALSE(j["records"][0].contains("samples_ms"));
}

TEST(BenchCli, TwoModelsAreCompared) {
  const auto r = run_stilts(with_quick({"bench", golden("bert").string(), golden("bert-nl3").string(),
                                        "--batch-sizes", "1", "--seq-lens", "8", "--json", "--margin", "0.1"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["records"].size(), 2u);
  ASSERT_EQ(j["comparisons"].size(), 1u);
  EXPECT_EQ(j["comparisons"][0]["pairs"], 2);
  EXPECT_EQ(j["comparisons"][0]["margin"], 0.1);
  EXPECT_TRUE(j["comparisons"][0]["ratio"].contains("ci_lower"));
}

TEST(BenchCli, DataSettingsPerLanguage) {
  const auto dir = testing::make_temp_dir();
  const auto model = testing::make_tiny_bert(dir / "model", {kWords, 16, 1, 2, 32, /*with_head=*/true});
  const auto data = make_tsv(dir / "dev.tsv");
  const auto r = run_stilts(with_quick({"bench", model.string(), "--data", data.string(), "--format", "tsv",
                                        "--text-b-column", "sentence2", "--language-column", "lang",
                                        "--batch-sizes", "4", "--pooled", "--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["records"].size(), 3u);  // de, en (first appearance order), pooled
  EXPECT_EQ(j["records"][0]["language"], "de");
  EXPECT_EQ(j["records"][1]["language"], "en");
  EXPECT_EQ(j["records"][2]["language"], "");
  EXPECT_EQ(j["records"][0]["seq_len"], 0);
  EXPECT_EQ(j["records"][0]["examples"], 4);
  // [CLS] 8 words [SEP] 8 words [SEP] vs [CLS] 2 [SEP] 2 [SEP]
  EXPECT_DOUBLE_EQ(j["records"][0]["tokens_per_example"].get<double>(), 19.0);
  EXPECT_DOUBLE_EQ(j["records"][1]["tokens_per_example"].get<double>(), 7.0);
}

// XLNet on data: SentencePiece tokenizer, left padding, token types (issue #8: bench works with XLNet).
TEST(BenchCli, XlnetOnDataPerLanguage) {
  STILTS_REQUIRE_SHARED("tokenize/xlnet-spm");
  const auto dir = testing::make_temp_dir();
  const auto spm = testing::fixtures_dir() / "tokenize" / "xlnet-spm";
  const nlohmann::json config = {{"model_type", "xlnet"}, {"vocab_size", 8000}, {"d_model", 16},
                                 {"n_layer", 1},          {"n_head", 2},        {"d_head", 8},
                                 {"d_inner", 32},         {"mem_len", nullptr}, {"pad_token_id", 5}};
  torch::manual_seed(0);
  models::BuildOptions build;
  build.head = models::HeadKind::kSequenceClassification;
  auto model = models::create_model(config, "tiny xlnet", build);
  models::save_pretrained(*model, dir / "model");
  for (const char* f : {"spiece.model", "tokenizer_config.json", "special_tokens_map.json"}) {
    fs::copy_file(spm / f, dir / "model" / f);
  }
  const auto data = make_tsv(dir / "dev.tsv");
  const auto r = run_stilts(with_quick({"bench", (dir / "model").string(), "--data", data.string(), "--text-b-column",
                                        "sentence2", "--language-column", "lang", "--batch-sizes", "4", "--json",
                                        "--mode", "bf16"}));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["records"].size(), 2u);
  EXPECT_EQ(j["records"][0]["language"], "de");
  EXPECT_GT(j["records"][0]["tokens_per_example"].get<double>(), j["records"][1]["tokens_per_example"].get<double>());
  EXPECT_EQ(j["models"][0]["parameters"]["model_type"], "xlnet");
}

TEST(BenchCli, PeakIsMeasuredOnceAndCached) {
  const auto dir = testing::make_temp_dir();
  const auto r = testing::run_command("env", {"XDG_CACHE_HOME=" + dir.string(), testing::cli_path().string(),
                                              "bench", "--peak", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["fp32"].get<double>(), 0);
  EXPECT_GT(j["bf16"].get<double>(), 0);
  EXPECT_FALSE(j["from_cache"].get<bool>());
  EXPECT_TRUE(fs::exists(dir / "stilts" / "peak.json"));
  const auto again = testing::run_command("env", {"XDG_CACHE_HOME=" + dir.string(), testing::cli_path().string(),
                                                  "bench", "--peak", "--json"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(nlohmann::json::parse(again.out)["from_cache"].get<bool>());
}

TEST(BenchCli, BadInputIsAClearError) {
  const auto b = golden("bert").string();
  struct Case {
    std::vector<std::string> args;
    int code;
    std::string message;
    bool quick = true;  // add the short-measurement options
  };
  const std::vector<Case> cases = {
      {{"bench", "/nonexistent/model"}, 1, "/nonexistent/model: no such directory"},
      {{"bench", b, "--batch-sizes", "1,x"}, 1, "--batch-sizes: '1,x' is not a comma-separated list"},
      {{"bench", b, "--batch-sizes", "1,"}, 1, "--batch-sizes: '1,' is not"},
      {{"bench", b, "--seq-lens", "0"}, 1, "--seq-lens: '0' is not"},
      {{"bench", b, "--seq-lens", "100000"}, 1, "exceeds the model's"},
      {{"bench", b, "--mode", "fp16"}, 1, "mode 'fp16' is not one of fp32, bf16, int8"},
      {{"bench", b, "--threads", "-1"}, 1, "--threads must be >= 1"},
      {{"bench", b, "--reps", "0"}, 1, "min_reps must be >= 1", false},
      {{"bench", b, "--margin", "2"}, 1, "equivalence margin must be in (0, 1)"},
      {{"bench", b, "--base", "/nonexistent/base"}, 1, "/nonexistent/base: no such base directory"},
      {{"bench", b, "--seq-lens", "8", "--base", golden("xlnet").string()}, 1, "the base model is 'xlnet'"},
      {{"bench", b, "--data", "/nonexistent/dev.tsv"}, 1, "/nonexistent/dev.tsv"},
      {{"bench", b, "--json", "--csv"}, 2, "excludes"},
      {{"bench"}, 2, "give at least one MODEL_DIR"},
  };
  for (const auto& c : cases) {
    const auto r = run_stilts(c.quick ? with_quick(c.args) : c.args);
    std::string joined;
    for (const auto& a : c.args) joined += a + " ";
    EXPECT_EQ(r.exit_code, c.code) << joined << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << joined;
  }
}

}  // namespace
}  // namespace stilts
