// Task kinds tagging and multiple-choice: features (word windows, first-sub-token labels, choice rows),
// collation, losses against their definitions, decoding back to one prediction per example, scorers
// against the metric functions, submission files, the features cache, and head transfer by head kind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <cmath>
#include <tuple>

#include "common/error.h"
#include "common/files.h"
#include "eval/seqeval.h"
#include "support/fixtures.h"
#include "support/torch/tiny_models.h"
#include "tasks/batch.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "text/auto.h"
#include "train/evaluate.h"
#include "train/head.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

const std::vector<std::string> kWords = {"the", "cat", "dog", "sat", "on", "mat", "big", "red", "ran", "##s", "."};

fs::path tokenizer_dir(const fs::path& dir) {
  fs::create_directories(dir);
  std::string text = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : kWords) text += w + "\n";
  write_file_atomic(dir / "vocab.txt", text);
  return dir;
}

std::vector<Value> values(const std::vector<double>& v) { return {v.begin(), v.end()}; }

TEST(Classification, ScorersGiveTheMetricsTheKindsReport) {
  const TaskKind& classes = task_kind("classification");
  EXPECT_EQ(classes.metrics(), (std::vector<std::string>{"accuracy", "macro_f1"}));
  const auto p = values({0, 1, 1, 1, 2, 0}), g = values({0, 0, 1, 1, 2, 2});
  const std::vector<size_t> six = {0, 1, 2, 3, 4, 5};
  EXPECT_DOUBLE_EQ(classes.scorer("accuracy", p, g)(six), 4.0 / 6.0);
  EXPECT_DOUBLE_EQ(classes.scorer("macro_f1", p, g)(six), (0.5 + 0.8 + 2.0 / 3.0) / 3.0);
  EXPECT_THROW(classes.scorer("accuracy", values({0.5, 1}), values({0, 1})), InputError);
  EXPECT_THROW(classes.scorer("bleu", p, g), InputError);

  const TaskKind& scores = task_kind("regression");
  EXPECT_EQ(scores.metrics(), (std::vector<std::string>{"pearson", "spearman", "mse"}));
  const auto sp = values({1, 2, 3, 4, 5}), sg = values({2, 4, 5, 4, 5});
  const std::vector<size_t> five = {0, 1, 2, 3, 4};
  EXPECT_NEAR(scores.scorer("pearson", sp, sg)(five), std::sqrt(0.6), 1e-15);
  EXPECT_NEAR(scores.scorer("spearman", sp, sg)(five), 0.7378647873726218, 1e-14);
  EXPECT_DOUBLE_EQ(scores.scorer("mse", values({1, 0}), values({1, 2}))({0, 1}), 2.0);
}

TEST(Classification, MetricsPerLanguagePlusAll) {
  Dataset d;
  for (const char* language : {"de", "de", "de", "fr", "fr", "fr"}) {
    Example ex;
    ex.language = language;
    d.examples.push_back(ex);
  }
  Predictions p;
  p.gold = values({0, 1, 1, 0, 1, 0});
  p.predicted = values({0, 1, 0, 0, 0, 1});
  const auto by = train::metrics_by_language(task_kind("classification"), p, d);
  ASSERT_EQ(by.size(), 3u);
  EXPECT_DOUBLE_EQ(by.at("de").at("accuracy"), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(by.at("fr").at("accuracy"), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(by.at("all").at("accuracy"), 0.5);
  // fr: gold {0,1,0} pred {0,0,1}: class 0 tp1 fp1 fn1 -> 1/2; class 1 fp1 fn1 -> 0.
  EXPECT_DOUBLE_EQ(by.at("fr").at("macro_f1"), 0.25);
  d.examples[1].language = "all";  // the overall group's name
  EXPECT_THROW(train::metrics_by_language(task_kind("classification"), p, d), InputError);
}

Dataset tagged(const std::vector<std::vector<std::string>>& sentences, const std::vector<std::vector<int64_t>>& tags) {
  Dataset d;
  d.tagging = true;
  d.format = "xtreme-tagging";
  d.source = "tags.tsv";
  d.label_names = {"B-X", "I-X", "O"};
  for (size_t i = 0; i < sentences.size(); ++i) {
    Example ex;
    ex.id = std::to_string(i);
    ex.words = sentences[i];
    if (!tags.empty()) ex.word_labels = tags[i];
    ex.language = "en";
    d.examples.push_back(ex);
  }
  d.labelled = !tags.empty();
  return d;
}

TEST(Tagging, FirstSubTokenCarriesTheTagAndLongSentencesBecomeWindows) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(tokenizer_dir(dir / "tok"));
  const TaskKind& kind = task_kind("tagging");
  // "cats" -> cat ##s: the tag sits on "cat" only; "zebra" has no piece but [UNK].
  const Dataset d = tagged({{"the", "cats", "sat", "zebra"}}, {{2, 0, 2, 1}});
  const Features f = kind.featurize(d, *tokenizer, 16);
  ASSERT_EQ(f.size(), 1u);
  // [CLS] the cat ##s sat [UNK] [SEP]
  EXPECT_EQ(f.input_ids[0], (std::vector<int32_t>{2, 5, 6, 14, 8, 1, 3}));
  EXPECT_EQ(f.word_ids[0], (std::vector<int32_t>{-1, 0, 1, -1, 2, 3, -1}));
  EXPECT_EQ(f.token_labels[0], (std::vector<int32_t>{-100, 2, 0, -100, 2, 1, -100}));

  // max_length 6 leaves 4 pieces a window: words are never split across windows.
  const Features w = kind.featurize(d, *tokenizer, 6);
  ASSERT_EQ(w.size(), 2u);
  EXPECT_EQ(w.example, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(w.input_ids[0], (std::vector<int32_t>{2, 5, 6, 14, 8, 3}));  // the cats sat
  EXPECT_EQ(w.word_ids[1], (std::vector<int32_t>{-1, 3, -1}));           // zebra
  EXPECT_EQ(w.truncated, 0);

  // Decoding re-joins the windows: one tag per word, from its first sub-token.
  std::vector<std::vector<float>> outputs = {{2, 2, 0, 1, 2, 2}, {2, 1, 2}};
  const Predictions p = kind.decode(d, w, outputs, *tokenizer, false);
  EXPECT_EQ(p.predicted[0], nlohmann::json({"O", "B-X", "O", "I-X"}));
  EXPECT_EQ(p.gold[0], nlohmann::json({"O", "B-X", "O", "I-X"}));
  EXPECT_EQ(kind.submission(d, p), "O\nB-X\nO\nI-X\n\n");
}

TEST(Tagging, CollateAndLossIgnoreEverythingButFirstSubTokens) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(tokenizer_dir(dir / "tok"));
  const TaskKind& kind = task_kind("tagging");
  const Dataset d = tagged({{"the", "cats"}, {"red", "dog", "ran", "."}}, {{2, 0}, {0, 1, 2, 2}});
  const Features f = kind.featurize(d, *tokenizer, 16);
  const Batch b = kind.collate(f, {0, 1}, torch::kCPU);
  ASSERT_EQ(b.labels.sizes(), (std::vector<int64_t>{2, 6}));
  EXPECT_TRUE(torch::equal(b.labels[0], torch::tensor({-100, 2, 0, -100, -100, -100}, torch::kLong)));
  torch::manual_seed(1);
  const auto logits = torch::randn({2, 6, 3});
  const auto loss = kind.loss(logits, b);
  // Mean cross-entropy over the 6 labelled positions.
  double sum = 0;
  int count = 0;
  const auto logp = torch::log_softmax(logits, -1);
  for (int64_t r = 0; r < 2; ++r) {
    for (int64_t t = 0; t < 6; ++t) {
      const int64_t y = b.labels[r][t].item<int64_t>();
      if (y < 0) continue;
      sum -= logp[r][t][y].item<double>();
      ++count;
    }
  }
  EXPECT_EQ(count, 6);
  EXPECT_NEAR(loss.item<double>(), sum / count, 1e-6);
  // feature_outputs drops the padding: one argmax per real token.
  const auto rows = kind.feature_outputs(logits, b);
  EXPECT_EQ(rows[0].size(), f.input_ids[0].size());
  EXPECT_EQ(rows[1].size(), f.input_ids[1].size());
}

TEST(Tagging, ScorersAreSeqevalsAndUnlabelledFilesArePredictedOnly) {
  const TaskKind& kind = task_kind("tagging");
  const std::vector<Value> gold = {nlohmann::json({"B-X", "I-X", "O"}), nlohmann::json({"O", "B-X"})};
  const std::vector<Value> predicted = {nlohmann::json({"B-X", "O", "O"}), nlohmann::json({"O", "B-X"})};
  const eval::TagSentences g = {{"B-X", "I-X", "O"}, {"O", "B-X"}}, p = {{"B-X", "O", "O"}, {"O", "B-X"}};
  const std::vector<size_t> all = {0, 1};
  EXPECT_DOUBLE_EQ(kind.scorer("f1", predicted, gold)(all), eval::seqeval_f1(p, g));
  EXPECT_DOUBLE_EQ(kind.scorer("accuracy", predicted, gold)(all), eval::seqeval_accuracy(p, g));
  EXPECT_DOUBLE_EQ(kind.scorer("f1", predicted, gold)({1, 1}), 1.0);
  // Resamples (repeats, a sentence left out) score as seqeval scores the picked sentences, through the
  // per-sentence counts; and through chunking when a tag has O's type ("X").
  for (const std::vector<size_t>& pick : std::vector<std::vector<size_t>>{{0, 0}, {1, 0, 1}, {0}}) {
    eval::TagSentences pp, gg;
    for (const size_t i : pick) pp.push_back(p[i]), gg.push_back(g[i]);
    EXPECT_EQ(kind.scorer("f1", predicted, gold)(pick), eval::seqeval_f1(pp, gg));
    EXPECT_EQ(kind.scorer("precision", predicted, gold)(pick), eval::seqeval_precision(pp, gg));
    EXPECT_EQ(kind.scorer("recall", predicted, gold)(pick), eval::seqeval_recall(pp, gg));
    EXPECT_EQ(kind.scorer("accuracy", predicted, gold)(pick), eval::seqeval_accuracy(pp, gg));
  }
  const std::vector<Value> x_predicted = {nlohmann::json({"X", "NOUN"}), nlohmann::json({"X"})};
  const std::vector<Value> x_gold = {nlohmann::json({"X", "X"}), nlohmann::json({"X"})};
  EXPECT_EQ(kind.scorer("f1", x_predicted, x_gold)({0, 1}),
            eval::seqeval_f1({{"X", "NOUN"}, {"X"}}, {{"X", "X"}, {"X"}}));
  EXPECT_EQ(kind.metrics().front(), "f1");
  EXPECT_THROW(kind.scorer("pearson", predicted, gold), InputError);

  const Dataset unlabelled = tagged({{"the", "cat"}}, {});
  EXPECT_THAT([&] {
    try {
      kind.check(unlabelled, true);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  }(), HasSubstr("no tags"));
  EXPECT_NO_THROW(kind.check(unlabelled, false));
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(tokenizer_dir(dir / "tok"));
  const Features f = kind.featurize(unlabelled, *tokenizer, 16);
  EXPECT_EQ(f.token_labels[0], (std::vector<int32_t>(4, -100)));
  const Predictions pred = kind.decode(unlabelled, f, {{2, 0, 1, 2}}, *tokenizer, false);
  EXPECT_TRUE(pred.gold[0].is_null());
  EXPECT_EQ(pred.predicted[0], nlohmann::json({"B-X", "I-X"}));
}

Dataset choices(int k) {
  Dataset d;
  d.multiple_choice = true;
  d.format = "copa";
  d.source = "copa.jsonl";
  d.label_names = {"0", "1"};
  for (int i = 0; i < 3; ++i) {
    Example ex;
    ex.id = std::to_string(i);
    ex.text_a = "the cat sat";
    for (int c = 0; c < k; ++c) ex.choices.push_back(c % 2 ? "the dog ran" : "red mat");
    ex.label = i % k;
    d.examples.push_back(ex);
  }
  return d;
}

TEST(MultipleChoice, RowsPerChoiceCollateToBKT) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = text::load_tokenizer(tokenizer_dir(dir / "tok"));
  const TaskKind& kind = task_kind("multiple-choice");
  const Dataset d = choices(3);
  const Features f = kind.featurize(d, *tokenizer, 16);
  EXPECT_EQ(f.size(), 3u);
  EXPECT_EQ(f.rows_per_feature, 3);
  EXPECT_EQ(f.input_ids.size(), 9u);
  // [CLS] the cat sat [SEP] red mat [SEP]
  EXPECT_EQ(f.input_ids[0], (std::vector<int32_t>{2, 5, 6, 8, 3, 12, 10, 3}));
  const Batch b = kind.collate(f, {2, 0}, torch::kCPU);
  ASSERT_EQ(b.inputs.input_ids.sizes(), (std::vector<int64_t>{2, 3, 9}));
  EXPECT_TRUE(torch::equal(b.inputs.input_ids[1][0].slice(0, 0, 8),
                           torch::tensor({2, 5, 6, 8, 3, 12, 10, 3}, torch::kLong)));
  EXPECT_TRUE(torch::equal(b.labels, torch::tensor({2, 0}, torch::kLong)));
  const auto logits = torch::tensor({{0.1f, 0.2f, 3.0f}, {1.0f, -1.0f, 0.0f}});
  EXPECT_NEAR(kind.loss(logits, b).item<double>(),
              torch::nn::functional::cross_entropy(logits, b.labels).item<double>(), 1e-7);
  const Predictions p = kind.decode(d, f, {{0, 1, 0}, {2, 1, 0}, {0, 0, 5}}, *tokenizer, true);
  EXPECT_EQ(p.predicted, (std::vector<Value>{1, 0, 2}));
  EXPECT_EQ(p.gold, (std::vector<Value>{0, 1, 2}));
  EXPECT_DOUBLE_EQ(kind.scorer("accuracy", p.predicted, p.gold)({0, 1, 2}), 1.0 / 3.0);
  EXPECT_EQ(kind.submission(d, p), "{\"label\":1}\n{\"label\":0}\n{\"label\":2}\n");

  Dataset mixed = choices(2);
  mixed.examples[1].choices.push_back("a third");
  EXPECT_THROW(kind.featurize(mixed, *tokenizer, 16), InputError);
}

TEST(Features, TaggingAndChoiceFeaturesRoundTripThroughTheCache) {
  const fs::path dir = testing::make_temp_dir();
  const fs::path tok = tokenizer_dir(dir / "tok");
  const auto tokenizer = text::load_tokenizer(tok);
  struct Case {
    const TaskKind& kind;
    Dataset data;
  };
  for (const Case& c : {Case{task_kind("tagging"), tagged({{"the", "cats", "sat"}, {"red", "dog"}}, {{2, 0, 2}, {0, 1}})},
                        Case{task_kind("multiple-choice"), choices(2)}}) {
    bool hit = true;
    const Features first = load_or_featurize(c.data, c.kind, *tokenizer, tok, 6, dir / "cache", &hit);
    EXPECT_FALSE(hit);
    const Features second = load_or_featurize(c.data, c.kind, *tokenizer, tok, 6, dir / "cache", &hit);
    EXPECT_TRUE(hit) << c.kind.name();
    // Every field these kinds fill comes back from the cache as it was computed.
    const auto fields = [](const Features& f) {
      return std::tie(f.input_ids, f.token_type_ids, f.word_ids, f.token_labels, f.example, f.labels, f.rows_per_feature);
    };
    EXPECT_TRUE(fields(first) == fields(second)) << c.kind.name();
  }
}

TEST(HeadTransfer, FollowsHeadKinds) {
  using train::LabelSpace;
  const LabelSpace siqa{false, {}, models::HeadKind::kMultipleChoice};
  const LabelSpace xcopa{false, {}, models::HeadKind::kMultipleChoice};
  const LabelSpace pos{false, {"ADJ", "NOUN"}, models::HeadKind::kTokenClassification};
  const LabelSpace ner{false, {"B-PER", "O"}, models::HeadKind::kTokenClassification};
  const LabelSpace nli{false, {"entailment", "neutral"}};
  std::string why;
  EXPECT_TRUE(train::label_spaces_match(siqa, xcopa, &why));  // 3 choices -> 2: the same head
  EXPECT_FALSE(train::label_spaces_match(pos, ner, &why));
  EXPECT_THAT(why, HasSubstr("token-classification, 2 labels (ADJ, NOUN)"));
  EXPECT_FALSE(train::label_spaces_match(nli, siqa, &why));
  EXPECT_THAT(why, HasSubstr("the head is sequence-classification, the task needs multiple-choice"));

  // A sequence-classification checkpoint: auto gives a tagging task a new token head, reuse is an error.
  const fs::path dir = testing::make_temp_dir();
  testing::TinyBert spec;
  spec.words = kWords;
  spec.with_head = true;
  testing::make_tiny_bert(dir / "m", spec);
  const train::TaskModel m = train::load_for_task(dir / "m", train::HeadTransfer::kAuto, pos);
  EXPECT_EQ(m.applied, train::HeadTransfer::kReinit);
  EXPECT_EQ(m.loaded.model->head_kind(), models::HeadKind::kTokenClassification);
  EXPECT_EQ(m.loaded.model->num_labels(), 2);
  try {
    train::load_for_task(dir / "m", train::HeadTransfer::kReuse, pos);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("cannot reuse the head"));
    EXPECT_THAT(e.what(), HasSubstr("token-classification"));
  }
}

}  // namespace
}  // namespace stilts::tasks
