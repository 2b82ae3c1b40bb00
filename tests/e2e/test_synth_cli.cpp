// stilts synth: writes a world, reports it as JSON, reuses it, and maps bad input to exit codes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/fixtures.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::run_stilts;

TEST(SynthCli, WritesReusesAndRefuses) {
  const fs::path tmp = testing::make_temp_dir();
  const std::string out = (tmp / "world").string();
  const std::vector<std::string> args = {"synth", "--out", out, "--size", "small", "--language-codes", "en,xa", "--json"};
  auto first = run_stilts(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto j = nlohmann::json::parse(first.out);
  EXPECT_EQ(j.at("reused"), false);
  EXPECT_EQ(j.at("languages"), (std::vector<std::string>{"en", "xa"}));
  EXPECT_EQ(j.at("tasks").at("paws").at("format"), "pawsx");
  EXPECT_TRUE(fs::exists(fs::path(out) / "paws" / "xa" / "dev_2k.tsv"));
  EXPECT_TRUE(fs::exists(fs::path(out) / "model" / "sentencepiece.bpe.model"));

  auto again = run_stilts(args);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(nlohmann::json::parse(again.out).at("reused"), true);

  auto other = run_stilts({"synth", "--out", out, "--size", "small", "--seed", "2"});
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_THAT(other.err, HasSubstr("generated with other options"));

  auto usage = run_stilts({"synth", "--out", out, "--size", "huge"});
  EXPECT_EQ(usage.exit_code, 2);
  auto bad_language = run_stilts({"synth", "--out", (tmp / "b").string(), "--train-language", "de"});
  EXPECT_EQ(bad_language.exit_code, 1);
  EXPECT_THAT(bad_language.err, HasSubstr("'train_language' 'de' is not among the languages"));
  fs::remove_all(tmp);
}

}  // namespace
}  // namespace stilts
