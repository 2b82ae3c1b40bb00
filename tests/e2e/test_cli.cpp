// The CLI end to end: forward against the hf-golden fixtures, inspect's counts, tokenize against
// the tokenizer fixtures, and bad input turned into short errors with a non-zero exit.
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "support/fixtures.h"
#include "support/run.h"

namespace stilts {
namespace {

namespace fs = std::filesystem;
using testing::run_stilts;

fs::path golden(const std::string& name) { return testing::test_data_dir() / "hf-golden" / name; }

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

int count_lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n + (!s.empty() && s.back() != '\n');
}

// A short error: non-zero exit, 1-3 lines, no libtorch stack trace, mentioning each of `needles`.
void expect_clean_error(const testing::RunResult& r, const std::vector<std::string>& needles) {
  EXPECT_NE(r.exit_code, 0) << r.err;
  EXPECT_LT(r.exit_code, 128) << "crashed: " << r.err;
  EXPECT_GE(count_lines(r.err), 1);
  EXPECT_LE(count_lines(r.err), 3) << r.err;
  EXPECT_EQ(r.err.find("frame #"), std::string::npos) << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << "expected '" << n << "' in: " << r.err;
}

class CliForward : public ::testing::TestWithParam<std::string> {};

TEST_P(CliForward, MatchesTransformers) {
  const auto dir = golden(GetParam());
  const auto out_path = testing::make_temp_dir() / "out.safetensors";
  const auto r = run_stilts({"forward", dir.string(), "--input", (dir / "inputs.json").string(), "--output",
                             out_path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto got = io::load_safetensors(out_path);
  const auto expected = io::load_safetensors(dir / "expected.safetensors");
  const auto inputs = models::read_inputs_json(dir / "inputs.json");
  const auto mask = inputs.attention_mask.to(torch::kBool).unsqueeze(-1).expand_as(expected.at("last_hidden_state"));
  const double d_last =
      (got.at("last_hidden_state") - expected.at("last_hidden_state")).abs().masked_select(mask).max().item<double>();
  const double d_logits = (got.at("logits") - expected.at("logits")).abs().max().item<double>();
  std::cout << GetParam() << " via stilts forward: last_hidden_state " << d_last << ", logits " << d_logits
            << " (tolerance 1e-5)\n";
  EXPECT_LE(d_last, 1e-5);
  EXPECT_LE(d_logits, 1e-5);
  EXPECT_EQ(got.count("pooler_output"), expected.count("pooler_output"));
  if (expected.count("pooler_output")) {
    EXPECT_LE((got.at("pooler_output") - expected.at("pooler_output")).abs().max().item<double>(), 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(HfGolden, CliForward, ::testing::Values("bert", "bert-nl3", "roberta", "xlm-roberta", "xlnet"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(CliInspect, CountsParametersByGroupFromTheCheckpoint) {
  const auto dir = golden("bert");
  const auto r = run_stilts({"inspect", dir.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  // Independent count from the safetensors header.
  const auto file = io::SafetensorsFile::open(dir / "model.safetensors");
  std::map<std::string, int64_t> expected;
  for (const auto& name : file.names()) {
    int64_t n = 1;
    for (auto d : file.info(name).shape) n *= d;
    std::string group = name.rfind("bert.embeddings.", 0) == 0 ? "embeddings"
                        : name.rfind("bert.encoder.", 0) == 0  ? "encoder"
                        : name.rfind("bert.pooler.", 0) == 0   ? "pooler"
                                                               : "head";
    expected[group] += n;
    expected["total"] += n;
  }
  for (const char* key : {"total", "embeddings", "encoder", "pooler", "head"}) {
    EXPECT_EQ(j["parameters"][key].get<int64_t>(), expected[key]) << key;
  }
  EXPECT_EQ(j["model_type"], "bert");
  EXPECT_EQ(j["dtype"], "Float");
  EXPECT_EQ(j["bytes_on_disk"].get<uint64_t>(),
            fs::file_size(dir / "model.safetensors") + fs::file_size(dir / "config.json"));
}

TEST(CliTokenize, WordPieceOnAVocabularyTheTestWrites) {
  const auto dir = testing::make_temp_dir();
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n");
  const auto r = run_stilts({"tokenize", dir.string(), "--padding", "longest"},
                            "{\"text\": \"Hello worlds\", \"text_pair\": \"hello\"}\n{\"text\": \"World, x\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  auto a = nlohmann::json::parse(line);
  EXPECT_EQ(a["input_ids"], nlohmann::json({2, 5, 6, 7, 3, 5, 3}));
  EXPECT_EQ(a["token_type_ids"], nlohmann::json({0, 0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(a["tokens"], nlohmann::json({"[CLS]", "hello", "world", "##s", "[SEP]", "hello", "[SEP]"}));
  std::getline(lines, line);
  auto b = nlohmann::json::parse(line);
  EXPECT_EQ(b["input_ids"], nlohmann::json({2, 6, 8, 1, 3, 0, 0}));
  EXPECT_EQ(b["attention_mask"], nlohmann::json({1, 1, 1, 1, 1, 0, 0}));
}

// Every tokenizer fixture folder through the CLI (auto-detection of the family included).
class CliTokenizeFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CliTokenizeFixture, MatchesTransformersCases) {
  STILTS_REQUIRE_SHARED("tokenize/" + GetParam());
  const auto dir = testing::fixtures_dir() / "tokenize" / GetParam();
  std::ifstream cases(dir / "cases.jsonl");
  std::string stdin_text;
  std::vector<nlohmann::json> expected;
  std::string line;
  while (std::getline(cases, line)) {
    auto c = nlohmann::json::parse(line);
    if (c["kwargs"]["padding"] != false) continue;  // the CLI's options are global: take the unpadded cases
    nlohmann::json in = {{"text", c["text"]}, {"text_pair", c["text_pair"]}};
    stdin_text += in.dump() + "\n";
    expected.push_back(c);
  }
  ASSERT_GT(expected.size(), 100u);
  const auto r = run_stilts({"tokenize", dir.string()}, stdin_text);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream out(r.out);
  size_t i = 0;
  while (std::getline(out, line)) {
    ASSERT_LT(i, expected.size());
    const auto got = nlohmann::json::parse(line);
    EXPECT_EQ(got["input_ids"], expected[i]["input_ids"]) << expected[i]["id"];
    EXPECT_EQ(got["attention_mask"], expected[i]["attention_mask"]) << expected[i]["id"];
    EXPECT_EQ(got["tokens"], expected[i]["tokens"]) << expected[i]["id"];
    if (expected[i]["token_type_ids"].is_null()) {
      EXPECT_FALSE(got.contains("token_type_ids"));
    } else {
      EXPECT_EQ(got["token_type_ids"], expected[i]["token_type_ids"]) << expected[i]["id"];
    }
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CliTokenizeFixture,
                         ::testing::Values("wordpiece-cased", "wordpiece-uncased", "roberta-bpe", "xlmr-spm",
                                           "xlnet-spm"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

// --words: every word_cases.jsonl sentence through the CLI, whole and truncated to 24 tokens.
class CliTokenizeWordsFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(CliTokenizeWordsFixture, MatchesTransformersIsSplitIntoWords) {
  STILTS_REQUIRE_SHARED("tokenize/" + GetParam() + "/word_cases.jsonl");
  const auto dir = testing::fixtures_dir() / "tokenize" / GetParam();
  std::ifstream cases(dir / "word_cases.jsonl");
  std::string stdin_text;
  std::vector<nlohmann::json> expected;
  std::string line;
  while (std::getline(cases, line)) {
    auto c = nlohmann::json::parse(line);
    stdin_text += nlohmann::json({{"words", c["words"]}}).dump() + "\n";
    expected.push_back(c);
  }
  ASSERT_EQ(expected.size(), 150u);
  const auto whole = run_stilts({"tokenize", dir.string(), "--words"}, stdin_text);
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const auto cut =
      run_stilts({"tokenize", dir.string(), "--words", "--truncation", "longest_first", "--max-length", "24"}, stdin_text);
  ASSERT_EQ(cut.exit_code, 0) << cut.err;
  std::istringstream whole_out(whole.out), cut_out(cut.out);
  size_t i = 0;
  while (std::getline(whole_out, line)) {
    ASSERT_LT(i, expected.size());
    const auto& c = expected[i];
    const auto got = nlohmann::json::parse(line);
    EXPECT_EQ(got["input_ids"], c["input_ids"]) << c["id"];
    EXPECT_EQ(got["tokens"], c["tokens"]) << c["id"];
    // The non-null word_ids are the fixture's words, one per piece; null is a special token.
    nlohmann::json words = nlohmann::json::array(), expected_words = nlohmann::json::array();
    for (const auto& w : got["word_ids"]) {
      if (!w.is_null()) words.push_back(w);
    }
    for (size_t w = 0; w < c["word_tokens"].size(); ++w) {
      for (size_t k = 0; k < c["word_tokens"][w].size(); ++k) expected_words.push_back(w);
    }
    EXPECT_EQ(words, expected_words) << c["id"];
    EXPECT_EQ(got["word_ids"].size(), c["input_ids"].size()) << c["id"];
    std::getline(cut_out, line);
    EXPECT_EQ(nlohmann::json::parse(line)["input_ids"], c["input_ids_max24"]) << c["id"];
    ++i;
  }
  EXPECT_EQ(i, expected.size());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, CliTokenizeWordsFixture,
                         ::testing::Values("wordpiece-cased", "wordpiece-uncased", "roberta-bpe", "xlmr-spm",
                                           "xlnet-spm"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n) if (c == '-') c = '_';
                           return n;
                         });

TEST(CliTokenize, WordsOnAVocabularyTheTestWrites) {
  const auto dir = testing::make_temp_dir();
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nworld\n##s\n,\n");
  // "" has no sub-token: it gets [UNK] (transformers would give it nothing).
  const auto r = run_stilts({"tokenize", dir.string(), "--words", "--padding", "longest"},
                            "{\"words\": [\"Hello\", \"worlds\", \"\"]}\n{\"words\": [\"world\"]}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  std::getline(lines, line);
  auto a = nlohmann::json::parse(line);
  EXPECT_EQ(a["input_ids"], nlohmann::json({2, 5, 6, 7, 1, 3}));
  EXPECT_EQ(a["word_ids"], nlohmann::json({nullptr, 0, 1, 1, 2, nullptr}));
  EXPECT_EQ(a["tokens"], nlohmann::json({"[CLS]", "hello", "world", "##s", "[UNK]", "[SEP]"}));
  std::getline(lines, line);
  auto b = nlohmann::json::parse(line);
  EXPECT_EQ(b["input_ids"], nlohmann::json({2, 6, 3, 0, 0, 0}));
  EXPECT_EQ(b["attention_mask"], nlohmann::json({1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(b["word_ids"], nlohmann::json({nullptr, 0, nullptr, nullptr, nullptr, nullptr}));
}

TEST(CliBadInput, WordsLines) {
  const auto dir = testing::make_temp_dir();
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  const std::string ok = "{\"words\": [\"hello\"]}\n";
  auto words = [&](const std::string& in) { return run_stilts({"tokenize", dir.string(), "--words"}, in); };
  expect_clean_error(words(ok + "\n" + ok), {"stdin line 2", "empty line"});
  expect_clean_error(words(ok + "{\"words\": [\"a\"], \"tags\": [\"X\"]}\n"), {"stdin line 2", "unknown field 'tags'"});
  expect_clean_error(words("{\"words\": [\"a\", 3]}\n"), {"stdin line 1", "words[1]", "string"});
  expect_clean_error(words("{\"words\": \"a b\"}\n"), {"stdin line 1", "array"});
  expect_clean_error(words("{\"text\": \"a b\"}\n"), {"stdin line 1", "unknown field 'text'"});
  expect_clean_error(words(ok + ok + "{\"words\": []}\n"), {"stdin line 3", "no words"});
  expect_clean_error(words(""), {"no input"});
}

// ---- bad input ----

// A copy of the bert fixture to break.
fs::path copy_of_bert() {
  const auto dir = testing::make_temp_dir() / "model";
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors", "inputs.json"}) fs::copy_file(golden("bert") / f, dir / f);
  return dir;
}

testing::RunResult forward(const fs::path& dir, const fs::path& inputs) {
  return run_stilts({"forward", dir.string(), "--input", inputs.string(), "--output",
                     (dir.parent_path() / "out.safetensors").string()});
}

TEST(CliBadInput, MissingDirectory) {
  const auto r = run_stilts({"inspect", "/nonexistent/model"});
  expect_clean_error(r, {"/nonexistent/model", "no such directory"});
}

TEST(CliBadInput, MissingConfig) {
  const auto dir = copy_of_bert();
  fs::remove(dir / "config.json");
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"config.json", "missing"});
}

TEST(CliBadInput, ConfigNotJson) {
  const auto dir = copy_of_bert();
  write(dir / "config.json", "{\"model_type\": \"bert\",");
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"config.json", "not valid JSON"});
}

TEST(CliBadInput, ConfigWrongFieldType) {
  const auto dir = copy_of_bert();
  auto j = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  j["hidden_size"] = "48";
  write(dir / "config.json", j.dump());
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"config.json", "hidden_size", "integer"});
}

TEST(CliBadInput, UnknownModelTypeListsSupported) {
  const auto dir = copy_of_bert();
  auto j = nlohmann::json::parse(std::ifstream(dir / "config.json"));
  j["model_type"] = "gpt-neo";
  write(dir / "config.json", j.dump());
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"config.json", "gpt-neo", "bert", "roberta", "xlm-roberta"});
}

TEST(CliBadInput, TruncatedWeights) {
  const auto dir = copy_of_bert();
  fs::resize_file(dir / "model.safetensors", fs::file_size(dir / "model.safetensors") / 2);
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"model.safetensors"});
}

TEST(CliBadInput, EmptyWeights) {
  const auto dir = copy_of_bert();
  fs::resize_file(dir / "model.safetensors", 0);
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"model.safetensors"});
}

TEST(CliBadInput, HeaderLengthLies) {
  const auto dir = copy_of_bert();
  std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
  const uint64_t huge = 1ull << 40;  // 1 TiB header: must not be allocated
  f.write(reinterpret_cast<const char*>(&huge), 8);
  f.close();
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"model.safetensors"});
}

TEST(CliBadInput, MissingWeightIsNamed) {
  const auto dir = copy_of_bert();
  auto weights = io::load_safetensors(dir / "model.safetensors");
  weights.erase("bert.encoder.layer.1.output.dense.weight");
  std::vector<std::pair<std::string, at::Tensor>> kept(weights.begin(), weights.end());
  io::save_safetensors(dir / "model.safetensors", kept);
  expect_clean_error(run_stilts({"inspect", dir.string()}), {"missing", "bert.encoder.layer.1.output.dense.weight"});
}

TEST(CliBadInput, RaggedRows) {
  const auto dir = copy_of_bert();
  write(dir / "in.json", R"({"input_ids": [[2, 5, 3], [2, 3]], "attention_mask": [[1, 1, 1], [1, 1]]})");
  expect_clean_error(forward(dir, dir / "in.json"), {"in.json", "row 1", "padded"});
}

TEST(CliBadInput, NonIntegerIds) {
  const auto dir = copy_of_bert();
  write(dir / "in.json", R"({"input_ids": [[2, 5.5, 3]], "attention_mask": [[1, 1, 1]]})");
  expect_clean_error(forward(dir, dir / "in.json"), {"in.json", "not an integer"});
}

TEST(CliBadInput, OutOfVocabularyIds) {
  const auto dir = copy_of_bert();
  write(dir / "in.json", R"({"input_ids": [[2, 500, 3]], "attention_mask": [[1, 1, 1]]})");
  expect_clean_error(forward(dir, dir / "in.json"), {"in.json", "500", "vocabulary"});
}

TEST(CliBadInput, EmptyInput) {
  const auto dir = copy_of_bert();
  write(dir / "in.json", R"({"input_ids": [], "attention_mask": []})");
  expect_clean_error(forward(dir, dir / "in.json"), {"in.json", "empty"});
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  expect_clean_error(run_stilts({"tokenize", dir.string()}, ""), {"no input"});
}

TEST(CliBadInput, InvalidUtf8Text) {
  const auto dir = testing::make_temp_dir();
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  expect_clean_error(run_stilts({"tokenize", dir.string()}, "{\"text\": \"bad \xff\xfe byte\"}\n"),
                     {"stdin line 1"});
}

TEST(CliBadInput, DuplicateVocabularyEntry) {
  const auto dir = testing::make_temp_dir();
  write(dir / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nhello\n");
  expect_clean_error(run_stilts({"tokenize", dir.string()}, "{\"text\": \"hello\"}\n"), {"vocab.txt", "hello"});
}

TEST(CliBadInput, UnknownOptionIsAUsageError) {
  const auto r = run_stilts({"forward", "--bogus"});
  EXPECT_EQ(r.exit_code, 2);
}

}  // namespace
}  // namespace stilts
