// Features: tokenization against Tokenizer::encode, truncation counts, kind checks, the on-disk cache
// (hits, misses on changed inputs, corrupt entries), bucketed batch order and collation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <random>
#include <set>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "tasks/batch.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "text/auto.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using testing::input_error_of;
using ::testing::HasSubstr;

const std::vector<std::string> kVocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the",  "a",    "cat",
                                         "dog",   "sat",   "on",    "mat",   "big",    "small", "red",  "blue",
                                         "ran",   "to",    "house", "and",   "##s",    "is",    "was",  "."};

fs::path write_tokenizer(const fs::path& dir, const std::vector<std::string>& vocab = kVocab) {
  fs::create_directories(dir);
  std::string text;
  for (const auto& token : vocab) text += token + "\n";
  write_file_atomic(dir / "vocab.txt", text);
  return dir;
}

// A sentence of `words` words drawn from the vocabulary (and an unknown word now and then).
std::string sentence(std::mt19937& rng, int words) {
  static const std::vector<std::string> pool = {"the", "a",   "cat",  "dogs", "sat", "on",    "mat", "big",
                                                "small", "red", "blue", "ran",  "to",  "house", "and", "zebra"};
  std::string out;
  for (int i = 0; i < words; ++i) out += (i ? " " : "") + pool[rng() % pool.size()];
  return out + " .";
}

// A pair TSV of `rows` rows with lengths 1..20 words per sentence, labels "0"/"1".
std::string pair_tsv(int rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::string text = "sentence1\tsentence2\tlabel\n";
  for (int i = 0; i < rows; ++i) {
    text += sentence(rng, 1 + static_cast<int>(rng() % 20)) + "\t" + sentence(rng, 1 + static_cast<int>(rng() % 20)) +
            "\t" + std::to_string(i % 2) + "\n";
  }
  return text;
}

Dataset read_pairs(const fs::path& file) {
  ReadOptions options;
  options.text_b_column = "sentence2";
  return read_dataset(file, "tsv", options);
}

void expect_same(const Features& a, const Features& b) {
  EXPECT_EQ(a.input_ids, b.input_ids);
  EXPECT_EQ(a.token_type_ids, b.token_type_ids);
  EXPECT_EQ(a.labels, b.labels);
  EXPECT_EQ(a.scores, b.scores);
  EXPECT_EQ(a.languages, b.languages);
  EXPECT_EQ(a.label_names, b.label_names);
  EXPECT_EQ(a.example, b.example);
  EXPECT_EQ(a.rows_per_feature, b.rows_per_feature);
  EXPECT_EQ(a.word_ids, b.word_ids);
  EXPECT_EQ(a.token_labels, b.token_labels);
  EXPECT_EQ(a.pad_id, b.pad_id);
  EXPECT_EQ(a.pad_type_id, b.pad_type_id);
  EXPECT_EQ(a.left_padding, b.left_padding);
  EXPECT_EQ(a.truncated, b.truncated);
}

TEST(TaskKind, EveryRegisteredNameFindsItsKind) {
  const std::vector<std::string> names = task_kind_names();
  for (const char* expected : {"pair-classification", "classification", "regression", "tagging", "multiple-choice"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
  for (const auto& name : names) EXPECT_EQ(task_kind(name).name(), name);
  EXPECT_THAT(input_error_of([] { task_kind("qa"); }), HasSubstr("pair-classification, classification"));
}

TEST(Sha256, KnownAnswers) {
  EXPECT_EQ(stilts::sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(stilts::sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(stilts::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(stilts::sha256_hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(Featurize, MatchesEncodeAndCountsTruncation) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(write_tokenizer(dir / "tok"));
  write_file_atomic(dir / "train.tsv", pair_tsv(200, 1));
  const Dataset dataset = read_pairs(dir / "train.tsv");
  const int64_t max_length = 24;
  const Features f = task_kind("pair-classification").featurize(dataset, *tokenizer, max_length);
  ASSERT_EQ(f.size(), 200u);
  ASSERT_EQ(f.token_type_ids.size(), 200u);
  EXPECT_EQ(f.pad_id, 0);
  EXPECT_FALSE(f.left_padding);
  EXPECT_EQ(f.label_names, (std::vector<std::string>{"0", "1"}));

  text::EncodeOptions truncating;
  truncating.truncation = text::Truncation::kLongestFirst;
  truncating.max_length = max_length;
  int64_t expected_truncated = 0, tokens = 0, unknown = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const Example& ex = dataset.examples[i];
    const text::Encoding enc = tokenizer->encode(ex.text_a, ex.text_b, truncating);
    ASSERT_EQ(std::vector<int64_t>(f.input_ids[i].begin(), f.input_ids[i].end()), enc.input_ids) << i;
    ASSERT_EQ(std::vector<int64_t>(f.token_type_ids[i].begin(), f.token_type_ids[i].end()), enc.token_type_ids) << i;
    EXPECT_EQ(f.labels[i], ex.label);
    const text::Encoding full = tokenizer->encode(ex.text_a, ex.text_b, text::EncodeOptions{});
    if (full.input_ids.size() > static_cast<size_t>(max_length)) ++expected_truncated;
    tokens += static_cast<int64_t>(enc.input_ids.size());
    unknown += std::count(enc.input_ids.begin(), enc.input_ids.end(), 1);
  }
  EXPECT_GT(expected_truncated, 20);  // the data makes the count meaningful
  EXPECT_LT(expected_truncated, 200);
  EXPECT_EQ(f.truncated, expected_truncated);
  EXPECT_EQ(f.num_tokens(), tokens);
  EXPECT_GT(unknown, 0);  // "zebra"
  std::printf("truncated %lld of 200 at max_length %lld\n", static_cast<long long>(f.truncated),
              static_cast<long long>(max_length));
}

TEST(Featurize, SingleSentencesAndRegression) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(write_tokenizer(dir / "tok"));
  write_file_atomic(dir / "single.tsv", "sentence1\tlabel\nthe cat sat\tpos\na dog ran\tneg\n");
  const Dataset single = read_dataset(dir / "single.tsv", "tsv");
  const Features f = task_kind("classification").featurize(single, *tokenizer, 16);
  EXPECT_EQ(f.input_ids[0], (std::vector<int32_t>{2, 5, 7, 9, 3}));
  EXPECT_EQ(f.token_type_ids[0], (std::vector<int8_t>{0, 0, 0, 0, 0}));
  EXPECT_EQ(f.labels, (std::vector<int64_t>{1, 0}));  // labels sorted: neg, pos
  EXPECT_EQ(f.truncated, 0);

  write_file_atomic(dir / "sts.tsv", "sentence1\tsentence2\tlabel\nthe cat\ta cat\t4.5\nthe dog\tred\t0.25\n");
  ReadOptions options;
  options.text_b_column = "sentence2";
  options.regression = true;
  const Dataset sts = read_dataset(dir / "sts.tsv", "tsv", options);
  const Features r = task_kind("regression").featurize(sts, *tokenizer, 16);
  EXPECT_EQ(r.scores.size(), r.size());
  EXPECT_TRUE(r.labels.empty());
  EXPECT_EQ(r.scores, (std::vector<float>{4.5f, 0.25f}));
  EXPECT_EQ(r.input_ids[1], (std::vector<int32_t>{2, 5, 8, 3, 14, 3}));
  EXPECT_EQ(r.token_type_ids[1], (std::vector<int8_t>{0, 0, 0, 0, 1, 1}));
}

TEST(Featurize, KindMismatchesAreInputErrors) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(write_tokenizer(dir / "tok"));
  write_file_atomic(dir / "pairs.tsv", pair_tsv(4, 2));
  write_file_atomic(dir / "single.tsv", "sentence1\tlabel\nthe cat\t0\n");
  const Dataset pairs = read_pairs(dir / "pairs.tsv");
  const Dataset single = read_dataset(dir / "single.tsv", "tsv");
  ReadOptions regression_options;
  regression_options.regression = true;
  const Dataset scores = read_dataset(dir / "single.tsv", "tsv", regression_options);

  std::string m = input_error_of([&] { task_kind("classification").featurize(pairs, *tokenizer, 32); });
  EXPECT_THAT(m, HasSubstr("pairs.tsv"));
  EXPECT_THAT(m, HasSubstr("use 'pair-classification'"));
  m = input_error_of([&] { task_kind("pair-classification").featurize(single, *tokenizer, 32); });
  EXPECT_THAT(m, HasSubstr("single sentences"));
  m = input_error_of([&] { task_kind("regression").featurize(single, *tokenizer, 32); });
  EXPECT_THAT(m, HasSubstr("regression"));
  m = input_error_of([&] { task_kind("classification").featurize(scores, *tokenizer, 32); });
  EXPECT_THAT(m, HasSubstr("use task kind 'regression'"));
  m = input_error_of([&] { task_kind("pair-classification").featurize(pairs, *tokenizer, 3); });
  EXPECT_THAT(m, HasSubstr("max_length 3"));
  // A pair-kind mismatch is reported before the cache is consulted.
  EXPECT_THROW(load_or_featurize(pairs, task_kind("classification"), *tokenizer, dir / "tok", 32, dir / "cache"),
               InputError);
}

TEST(FeaturesCache, HitsAndMisses) {
  const fs::path dir = testing::make_temp_dir();
  const fs::path tok_dir = write_tokenizer(dir / "tok");
  const fs::path cache = dir / "cache";
  auto tokenizer = text::load_tokenizer(tok_dir);
  write_file_atomic(dir / "train.tsv", pair_tsv(300, 3));
  Dataset dataset = read_pairs(dir / "train.tsv");
  const TaskKind& kind = task_kind("pair-classification");

  bool hit = true;
  const Features first = load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
  const fs::path entry = features_cache_path(dataset, kind, *tokenizer, tok_dir, 32, cache);
  ASSERT_TRUE(fs::exists(entry));
  EXPECT_EQ(entry.extension(), ".features");
  EXPECT_EQ(entry.stem().string().size(), 64u);
  expect_same(first, kind.featurize(dataset, *tokenizer, 32));

  const Features second = load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
  EXPECT_TRUE(hit);
  expect_same(first, second);

  // Another max_length.
  load_or_featurize(dataset, kind, *tokenizer, tok_dir, 16, cache, &hit);
  EXPECT_FALSE(hit);
  load_or_featurize(dataset, kind, *tokenizer, tok_dir, 16, cache, &hit);
  EXPECT_TRUE(hit);

  // A changed data file (one word of one row).
  std::string text = read_file(dir / "train.tsv");
  const size_t at = text.find("cat");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 3, "dog");
  write_file_atomic(dir / "train.tsv", text);
  const Dataset changed = read_pairs(dir / "train.tsv");
  const Features changed_features = load_or_featurize(changed, kind, *tokenizer, tok_dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
  expect_same(changed_features, kind.featurize(changed, *tokenizer, 32));

  // A changed tokenizer file (one more vocabulary entry).
  std::vector<std::string> vocab = kVocab;
  vocab.push_back("zebra");
  write_tokenizer(tok_dir, vocab);
  tokenizer = text::load_tokenizer(tok_dir);
  const Features retokenized = load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
  EXPECT_NE(retokenized.input_ids, first.input_ids);
  // A tokenizer file added beside it.
  write_file_atomic(tok_dir / "tokenizer_config.json", R"({"do_lower_case": true})");
  load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
}

TEST(FeaturesCache, CorruptEntriesAreRecomputed) {
  const fs::path dir = testing::make_temp_dir();
  const fs::path tok_dir = write_tokenizer(dir / "tok");
  const fs::path cache = dir / "cache";
  const auto tokenizer = text::load_tokenizer(tok_dir);
  write_file_atomic(dir / "train.tsv", pair_tsv(100, 4));
  const Dataset dataset = read_pairs(dir / "train.tsv");
  const TaskKind& kind = task_kind("pair-classification");
  const Features fresh = kind.featurize(dataset, *tokenizer, 32);
  bool hit = true;
  load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
  ASSERT_FALSE(hit);
  const fs::path entry = features_cache_path(dataset, kind, *tokenizer, tok_dir, 32, cache);
  const std::string good = read_file(entry);

  const std::vector<std::pair<std::string, std::string>> damages = {
      {"truncated to half", good.substr(0, good.size() / 2)},
      {"last byte missing", good.substr(0, good.size() - 1)},
      {"one byte flipped", [&] { std::string b = good; b[b.size() / 2] ^= 0x10; return b; }()},
      {"header byte flipped", [&] { std::string b = good; b[9] ^= 0x01; return b; }()},
      {"extra byte", good + "x"},
      {"empty", ""},
      {"garbage", "not a features file"},
  };
  for (const auto& [what, bytes] : damages) {
    SCOPED_TRACE(what);
    write_file_atomic(entry, bytes);
    const Features recomputed = load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
    EXPECT_FALSE(hit);
    expect_same(recomputed, fresh);
    EXPECT_EQ(read_file(entry), good);  // overwritten
    load_or_featurize(dataset, kind, *tokenizer, tok_dir, 32, cache, &hit);
    EXPECT_TRUE(hit);
  }
}

// Features with given row lengths (ids = position, types 0).
Features with_lengths(const std::vector<size_t>& lengths) {
  Features f;
  for (size_t i = 0; i < lengths.size(); ++i) {
    std::vector<int32_t> ids(lengths[i]);
    for (size_t t = 0; t < ids.size(); ++t) ids[t] = static_cast<int32_t>(10 + t);
    f.input_ids.push_back(ids);
    f.token_type_ids.emplace_back(lengths[i], 0);
    f.labels.push_back(static_cast<int64_t>(i % 3));
    f.example.push_back(static_cast<int64_t>(i));
    f.languages.emplace_back("en");
  }
  f.label_names = {"a", "b", "c"};
  return f;
}

std::vector<size_t> random_lengths(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::vector<size_t> lengths(n);
  for (auto& length : lengths) length = 5 + rng() % 196;  // 5..200
  return lengths;
}

// Padded positions over all positions of the batches.
double padding_ratio(const Features& f, const std::vector<std::vector<size_t>>& batches) {
  int64_t total = 0, real = 0;
  for (const auto& batch : batches) {
    size_t longest = 0;
    for (size_t i : batch) {
      longest = std::max(longest, f.input_ids[i].size());
      real += static_cast<int64_t>(f.input_ids[i].size());
    }
    total += static_cast<int64_t>(longest * batch.size());
  }
  return 1.0 - static_cast<double>(real) / static_cast<double>(total);
}

TEST(BucketedBatches, DeterministicCompleteAndLowPadding) {
  const Features f = with_lengths(random_lengths(1003, 5));
  const int64_t batch_size = 8;
  const auto batches = bucketed_batches(f, batch_size, /*seed=*/42, /*epoch=*/0, /*shuffle=*/true);
  EXPECT_EQ(batches, bucketed_batches(f, batch_size, 42, 0, true));
  EXPECT_NE(batches, bucketed_batches(f, batch_size, 42, 1, true));
  EXPECT_NE(batches, bucketed_batches(f, batch_size, 43, 0, true));

  // Every index once; all batches full but one.
  std::vector<int> seen(f.size(), 0);
  int partial = 0;
  for (const auto& batch : batches) {
    for (size_t i : batch) ++seen.at(i);
    if (batch.size() != static_cast<size_t>(batch_size)) {
      ++partial;
      EXPECT_EQ(batch.size(), 1003u % 8);
    }
  }
  EXPECT_EQ(batches.size(), (1003u + 7) / 8);
  EXPECT_EQ(partial, 1);
  EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int n) { return n == 1; }));

  // Batch order is random: the first batches of two epochs start with different rows and the batches
  // of one epoch are not sorted by length.
  std::vector<size_t> firsts;
  for (const auto& batch : batches) firsts.push_back(f.input_ids[batch.front()].size());
  EXPECT_FALSE(std::is_sorted(firsts.begin(), firsts.end()));
  EXPECT_FALSE(std::is_sorted(firsts.rbegin(), firsts.rend()));

  // Padding vs the same examples in random order.
  std::vector<size_t> order(f.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937(7));
  std::vector<std::vector<size_t>> random_batches;
  for (size_t s = 0; s < order.size(); s += batch_size) {
    random_batches.emplace_back(order.begin() + s, order.begin() + std::min(order.size(), s + batch_size));
  }
  const double bucketed = padding_ratio(f, batches);
  const double random = padding_ratio(f, random_batches);
  std::printf("padded positions: bucketed %.4f, random order %.4f\n", bucketed, random);
  EXPECT_LT(bucketed, 0.05);
  EXPECT_LT(bucketed, random / 5);
}

TEST(BucketedBatches, UnshuffledIsSortedAndFixed) {
  const Features f = with_lengths(random_lengths(101, 6));
  const auto batches = bucketed_batches(f, 10, 1, 0, false);
  EXPECT_EQ(batches, bucketed_batches(f, 10, 99, 7, false));
  ASSERT_EQ(batches.size(), 11u);
  EXPECT_EQ(batches.back().size(), 1u);
  std::vector<size_t> lengths;
  std::set<size_t> seen;
  for (const auto& batch : batches) {
    for (size_t i : batch) {
      lengths.push_back(f.input_ids[i].size());
      seen.insert(i);
    }
  }
  EXPECT_EQ(seen.size(), 101u);
  EXPECT_TRUE(std::is_sorted(lengths.rbegin(), lengths.rend()));  // longest first
}

TEST(BucketedBatches, EdgeCases) {
  EXPECT_TRUE(bucketed_batches(with_lengths({}), 4, 0, 0, true).empty());
  const auto one = bucketed_batches(with_lengths({3, 5}), 4, 0, 0, true);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].size(), 2u);
  EXPECT_THAT(input_error_of([] { bucketed_batches(with_lengths({3}), 0, 0, 0, true); }), HasSubstr("batch size"));
}

TEST(Collate, RightPaddingWithTokenTypes) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(write_tokenizer(dir / "tok"));
  write_file_atomic(dir / "pairs.tsv", "sentence1\tsentence2\tlabel\nthe cat\tsat\t1\nbig red dog ran\ta mat .\t0\n");
  const Features f = task_kind("pair-classification").featurize(read_pairs(dir / "pairs.tsv"), *tokenizer, 64);
  const TaskKind& kind = task_kind("pair-classification");
  const Batch batch = kind.collate(f, {0, 1}, torch::kCPU);
  const models::Inputs& in = batch.inputs;
  ASSERT_EQ(in.input_ids.sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(in.input_ids.dtype(), torch::kLong);
  // [CLS] the cat [SEP] sat [SEP] + 4 pads
  EXPECT_TRUE(torch::equal(in.input_ids[0], torch::tensor({2, 5, 7, 3, 9, 3, 0, 0, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(in.input_ids[1], torch::tensor({2, 12, 14, 8, 16, 3, 6, 11, 23, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(in.attention_mask[0], torch::tensor({1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, torch::kLong)));
  EXPECT_EQ(in.attention_mask[1].sum().item<int64_t>(), 10);
  ASSERT_TRUE(in.token_type_ids.defined());
  EXPECT_TRUE(torch::equal(in.token_type_ids[0], torch::tensor({0, 0, 0, 0, 1, 1, 0, 0, 0, 0}, torch::kLong)));
  EXPECT_TRUE(torch::equal(in.token_type_ids[1], torch::tensor({0, 0, 0, 0, 0, 0, 1, 1, 1, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({1, 0}, torch::kLong)));
  EXPECT_EQ(batch.real_tokens, 16);
  EXPECT_EQ(batch.indices, (std::vector<size_t>{0, 1}));
  // Rows in the order asked.
  const Batch swapped = kind.collate(f, {1, 0}, torch::kCPU);
  EXPECT_TRUE(torch::equal(swapped.inputs.input_ids[1], in.input_ids[0]));
}

TEST(Collate, LeftPaddingRegressionWithoutTokenTypes) {
  Features f;
  f.input_ids = {{7, 8, 9}, {4}, {5, 6}};
  f.scores = {0.5f, -1.0f, 2.0f};
  f.example = {0, 1, 2};
  f.languages = {"", "", ""};
  f.pad_id = 5;
  f.pad_type_id = 3;
  f.left_padding = true;
  const TaskKind& kind = task_kind("regression");
  const Batch batch = kind.collate(f, {1, 0, 2}, torch::kCPU);
  const models::Inputs& in = batch.inputs;
  ASSERT_EQ(in.input_ids.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_TRUE(torch::equal(in.input_ids, torch::tensor({5, 5, 4, 7, 8, 9, 5, 5, 6}, torch::kLong).view({3, 3})));
  EXPECT_TRUE(
      torch::equal(in.attention_mask, torch::tensor({0, 0, 1, 1, 1, 1, 0, 1, 1}, torch::kLong).view({3, 3})));
  EXPECT_FALSE(in.token_type_ids.defined());
  EXPECT_EQ(batch.labels.dtype(), torch::kFloat);
  EXPECT_TRUE(torch::equal(batch.labels, torch::tensor({-1.0f, 0.5f, 2.0f})));
  EXPECT_EQ(batch.real_tokens, 6);

  // Left padding with token types pads them with pad_type_id.
  f.token_type_ids = {{0, 0, 2}, {2}, {1, 2}};
  const Batch typed = kind.collate(f, {1, 2}, torch::kCPU);
  EXPECT_TRUE(torch::equal(typed.inputs.token_type_ids, torch::tensor({3, 2, 1, 2}, torch::kLong).view({2, 2})));
}

TEST(Collate, BatchesOfAFeaturizedDataset) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(write_tokenizer(dir / "tok"));
  write_file_atomic(dir / "train.tsv", pair_tsv(120, 8));
  const Features f = task_kind("pair-classification").featurize(read_pairs(dir / "train.tsv"), *tokenizer, 32);
  int64_t real = 0;
  size_t rows = 0;
  for (const auto& indices : bucketed_batches(f, 16, 3, 2, true)) {
    const Batch batch = task_kind("pair-classification").collate(f, indices, torch::kCPU);
    EXPECT_LE(batch.inputs.input_ids.size(1), 32);
    EXPECT_EQ(batch.inputs.attention_mask.sum().item<int64_t>(), batch.real_tokens);
    real += batch.real_tokens;
    rows += indices.size();
  }
  EXPECT_EQ(rows, f.size());
  EXPECT_EQ(real, f.num_tokens());
}

}  // namespace
}  // namespace stilts::tasks
