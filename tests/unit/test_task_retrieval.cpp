// Task kinds retrieval and sentence-retrieval: features of a pool and of training pairs, exact ranking
// against a brute-force sort (ties, several candidate blocks), mAP@20 and accuracy against hand-computed
// values, the dual encoder's in-batch loss against its definition, the retrieval head (logit_scale, saved
// and loaded as xtreme's *ForRetrieval), and the submission files.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "common/error.h"
#include "eval/metrics.h"
#include "models/pretrained.h"
#include "models/registry.h"
#include "support/data_files.h"
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

const std::vector<std::string> kWords = {"the", "cat", "dog", "sat", "on", "mat", "big", "red", "ran", "."};

const auto error_of = [](auto&& fn) { return testing::input_error_of(fn); };

// A pool of `c` candidates named "c0".. and queries whose gold is `relevant`.
Dataset pool(size_t c, const std::vector<std::vector<int64_t>>& relevant) {
  Dataset d;
  d.retrieval = true;
  d.format = "retrieval-json";
  d.source = "pool.json";
  for (size_t i = 0; i < c; ++i) d.candidates.push_back({"c" + std::to_string(i), "the cat", "en"});
  for (size_t q = 0; q < relevant.size(); ++q) {
    Example ex;
    ex.id = "q" + std::to_string(q);
    ex.text_a = "the dog";
    ex.language = q % 2 ? "de" : "en";
    ex.relevant = relevant[q];
    d.examples.push_back(ex);
  }
  return d;
}

// Features as featurize lays them out for a pool (queries, then candidates), without tokens.
Features pool_features(const Dataset& d) {
  Features f;
  for (size_t i = 0; i < d.examples.size() + d.candidates.size(); ++i) f.example.push_back(static_cast<int64_t>(i));
  return f;
}

TEST(RetrievalMetrics, AveragePrecisionAtKIsXtremesUtilsLareqa) {
  using eval::average_precision_at_k;
  // Relevant at ranks 1 and 3 of 2 relevant: (1/1 + 2/3) / 2.
  EXPECT_DOUBLE_EQ(average_precision_at_k({"a", "x", "b"}, {"a", "b"}, 20), (1.0 + 2.0 / 3.0) / 2.0);
  // Rank 21 is cut; rank 20 counts: 1/20 over min(1, 20).
  std::vector<std::string> ranked(25);
  for (size_t i = 0; i < ranked.size(); ++i) ranked[i] = "n" + std::to_string(i);
  ranked[20] = "g";
  EXPECT_DOUBLE_EQ(average_precision_at_k(ranked, {"g"}, 20), 0.0);
  ranked[19] = "g";
  EXPECT_DOUBLE_EQ(average_precision_at_k(ranked, {"g"}, 20), 1.0 / 20.0);
  // A repeated id counts once but takes its rank: hits at ranks 1 and 3.
  EXPECT_DOUBLE_EQ(average_precision_at_k({"a", "a", "b"}, {"a", "b"}, 20), (1.0 + 2.0 / 3.0) / 2.0);
  // 25 relevant, the first 20 ranks all relevant: divided by min(25, 20) = 20, so 1.
  std::vector<std::string> many(25);
  for (size_t i = 0; i < many.size(); ++i) many[i] = "r" + std::to_string(i);
  EXPECT_DOUBLE_EQ(average_precision_at_k(many, many, 20), 1.0);
  EXPECT_DOUBLE_EQ(average_precision_at_k({"a"}, {}, 20), 0.0);
  EXPECT_TRUE(eval::metric_info("map@20").higher_is_better);
  EXPECT_TRUE(eval::metric_info("map@20").fraction);
}

TEST(RetrievalKind, RanksExactlyAcrossCandidateBlocksWithTiesInPoolOrder) {
  // 9,000 candidates (two blocks of 8,192) of 3-D unit vectors; candidate 8,500 duplicates candidate 7.
  const size_t c = 9000, q = 5;
  Dataset d = pool(c, {{7}, {8500}, {1}, {2}, {3}});
  torch::manual_seed(3);
  torch::Tensor emb = torch::nn::functional::normalize(torch::randn({static_cast<int64_t>(q + c), 3}),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
  emb[static_cast<int64_t>(q) + 8500] = emb[static_cast<int64_t>(q) + 7];
  emb[0] = emb[static_cast<int64_t>(q) + 7];  // query 0 is candidate 7 (and 8,500): a tie at the top
  std::vector<std::vector<float>> outputs(q + c);
  for (size_t i = 0; i < q + c; ++i) {
    const auto row = emb[static_cast<int64_t>(i)];
    outputs[i] = {row[0].item<float>(), row[1].item<float>(), row[2].item<float>()};
  }
  const Predictions p = task_kind("retrieval").decode(d, pool_features(d), outputs,
                                                      *text::load_tokenizer(testing::make_tiny_bert(
                                                          testing::make_temp_dir() / "m", {kWords})),
                                                      false);
  ASSERT_EQ(p.predicted.size(), q);
  for (size_t i = 0; i < q; ++i) {
    // Brute force in double: every candidate's score, sorted descending, ties by index.
    std::vector<double> score(c);
    for (size_t j = 0; j < c; ++j) {
      double s = 0;
      for (size_t k = 0; k < 3; ++k) s += static_cast<double>(outputs[i][k]) * outputs[q + j][k];
      score[j] = s;
    }
    std::vector<size_t> order(c);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return score[a] > score[b]; });
    ASSERT_EQ(p.predicted[i].size(), 20u);
    for (size_t k = 0; k < 20; ++k) {
      const std::string got = p.predicted[i][k].get<std::string>();
      const size_t got_index = std::stoul(got.substr(1));
      // fp32 matmul against double: the same candidate, or one whose score differs by rounding only.
      EXPECT_NEAR(score[got_index], score[order[k]], 1e-6) << "query " << i << " rank " << k;
    }
  }
  EXPECT_EQ(p.predicted[0][0], "c7");  // the tie with c8500 goes to the earlier candidate
  EXPECT_EQ(p.predicted[0][1], "c8500");
  EXPECT_EQ(p.gold[1], nlohmann::json::array({"c8500"}));
}

TEST(RetrievalKind, ScorersAndSubmissions) {
  const TaskKind& kind = task_kind("retrieval");
  const TaskKind& sentence = task_kind("sentence-retrieval");
  EXPECT_EQ(kind.metrics().front(), "map@20");
  EXPECT_EQ(sentence.metrics().front(), "accuracy");
  const std::vector<Value> predicted = {Value::array({"a", "x", "b"}), Value::array({"y", "c"}),
                                        Value::array({"z"})};
  const std::vector<Value> gold = {Value::array({"a", "b"}), Value::array({"c"}), Value()};
  const std::vector<size_t> all = {0, 1, 2};
  EXPECT_DOUBLE_EQ(kind.scorer("map@20", predicted, gold)(all), ((1.0 + 2.0 / 3.0) / 2.0 + 0.5 + 0.0) / 3.0);
  EXPECT_DOUBLE_EQ(kind.scorer("accuracy", predicted, gold)(all), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(kind.scorer("map@20", predicted, gold)({1, 1}), 0.5);
  EXPECT_THAT(error_of([&] { kind.scorer("map@20", {Value(3)}, {Value::array({"a"})}); }),
              HasSubstr("expected a list of candidate ids"));
  EXPECT_THAT(error_of([&] { kind.scorer("f1", predicted, gold); }), HasSubstr("does not report metric 'f1'"));

  Dataset d = pool(3, {{0}, {1}});
  Predictions p;
  p.predicted = {Value::array({"c2", "c0"}), Value::array({"c1"})};
  EXPECT_EQ(kind.submission(d, p), R"({"q0":["c2","c0"],"q1":["c1"]})" "\n");
  EXPECT_EQ(kind.submission_extension(), "json");
  EXPECT_EQ(sentence.submission(d, p), "c2\nc1\n");
  EXPECT_EQ(sentence.submission_extension(), "tsv");
}

TEST(RetrievalKind, ChecksTheDataAndHeads) {
  const TaskKind& kind = task_kind("retrieval");
  const TaskKind& sentence = task_kind("sentence-retrieval");
  Dataset classes;
  classes.source = "x.tsv";
  classes.format = "tsv";
  EXPECT_THAT(error_of([&] { kind.check(classes, false); }), HasSubstr("needs queries and a candidate pool"));
  Dataset outside = pool(2, {{2}});
  EXPECT_THAT(error_of([&] { kind.check(outside, false); }), HasSubstr("relevant candidate 2 is outside the pool of 2"));
  Dataset no_gold = pool(2, {{}});
  EXPECT_NO_THROW(kind.check(no_gold, false));
  EXPECT_THAT(error_of([&] { kind.check(no_gold, true); }), HasSubstr("no relevant candidate"));
  Dataset pairs;
  pairs.retrieval = true;
  pairs.source = "pairs.json";
  pairs.examples.push_back(Example{});
  pairs.examples.back().text_a = "the cat";
  pairs.examples.back().text_b = "the dog";
  EXPECT_NO_THROW(kind.check(pairs, true));
  EXPECT_THAT(error_of([&] { sentence.check(pairs, false); }), HasSubstr("sentence-retrieval trains nothing"));

  EXPECT_TRUE(kind.accepts_head(models::HeadKind::kRetrieval));
  EXPECT_FALSE(kind.accepts_head(models::HeadKind::kNone));
  EXPECT_TRUE(sentence.accepts_head(models::HeadKind::kNone));
  EXPECT_TRUE(sentence.accepts_head(models::HeadKind::kSequenceClassification));
  EXPECT_FALSE(kind.decodes_in_pieces());
  KindSettings below;
  below.layer = -2;
  EXPECT_THAT(error_of([&] { make_task_kind("sentence-retrieval", below); }), HasSubstr("layer must be -1"));
}

// The dual encoder on a tiny BERT: pair features, the [2B, T] batch, the retrieval head, the in-batch loss.
TEST(RetrievalKind, DualEncoderLossIsTheInBatchSoftmaxOfScaledCosines) {
  const fs::path tmp = testing::make_temp_dir();
  const fs::path dir = testing::make_tiny_bert(tmp / "m", {kWords});
  const auto tokenizer = text::load_tokenizer(dir);
  models::LoadOptions load;
  load.head = models::HeadPolicy::kWith;
  load.head_kind = models::HeadKind::kRetrieval;
  load.mode = models::LoadMode::kEncoderOnly;
  auto model = models::load_pretrained(dir, load).model;
  model->eval();  // dropout off: the hand computation below runs the same forward
  EXPECT_EQ(model->head_kind(), models::HeadKind::kRetrieval);
  EXPECT_DOUBLE_EQ(models::logit_scale_of(*model, "test").item<double>(), 100.0);
  EXPECT_EQ(models::count_parameters(*model).head, 1);
  EXPECT_EQ(model->config_json()["architectures"][0], "BertForRetrieval");

  Dataset pairs;
  pairs.retrieval = true;
  pairs.source = "pairs.json";
  const std::vector<std::pair<std::string, std::string>> texts = {
      {"the cat sat", "the cat sat on the mat"}, {"big red dog", "the dog ran"}, {"the mat", "red mat ."}};
  for (const auto& [a, b] : texts) {
    Example ex;
    ex.id = a;
    ex.text_a = a;
    ex.text_b = b;
    pairs.examples.push_back(ex);
  }
  const TaskKind& kind = task_kind("retrieval");
  const Features f = kind.featurize(pairs, *tokenizer, 32);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f.rows_per_feature, 2);
  const Batch batch = kind.collate(f, {0, 1, 2}, torch::kCPU);
  EXPECT_EQ(batch.inputs.input_ids.size(0), 6);
  const torch::Tensor scores = kind.forward(*model, batch);  // [3, 3]
  ASSERT_EQ(scores.sizes(), (std::vector<int64_t>{3, 3}));
  const torch::Tensor loss = kind.loss(scores, batch);

  // By hand: each text alone (no padding), pooled [CLS] normalised, cosines × 100, cross-entropy on the diagonal.
  auto embed = [&](const std::string& text) {
    const text::Encoding enc = tokenizer->encode(text, std::nullopt, text::EncodeOptions{});
    models::Inputs in;
    in.input_ids = torch::tensor(enc.input_ids, torch::kLong).unsqueeze(0);
    in.attention_mask = torch::ones_like(in.input_ids);
    in.token_type_ids = torch::zeros_like(in.input_ids);
    const torch::Tensor pooled = model->forward(in).pooler_output.to(torch::kDouble)[0];  // [H]
    return pooled / pooled.norm();
  };
  double want = 0;
  for (size_t i = 0; i < 3; ++i) {
    const torch::Tensor q = embed(texts[i].first);
    std::vector<double> row;
    for (size_t j = 0; j < 3; ++j) {
      row.push_back(100.0 * q.dot(embed(texts[j].second)).item<double>());
      EXPECT_NEAR(scores[static_cast<int64_t>(i)][static_cast<int64_t>(j)].item<double>(), row.back(), 2e-4);
    }
    const double m = *std::max_element(row.begin(), row.end());
    double z = 0;
    for (double r : row) z += std::exp(r - m);
    want += -(row[i] - m - std::log(z));
  }
  want /= 3;
  EXPECT_NEAR(loss.item<double>(), want, 1e-4);

  // The scale learns: its gradient is that of the loss through every score.
  loss.backward();
  const torch::Tensor grad = models::logit_scale_of(*model, "test").grad();
  ASSERT_TRUE(grad.defined());
  EXPECT_GT(std::abs(grad.item<double>()), 0.0);

  // Saved and loaded as BertForRetrieval, logit_scale included.
  {
    torch::NoGradGuard no_grad;
    models::logit_scale_of(*model, "test").fill_(37.5);
  }
  const fs::path saved = tmp / "saved";
  models::save_pretrained(*model, saved);
  fs::copy_file(dir / "vocab.txt", saved / "vocab.txt");
  EXPECT_TRUE(train::has_task_head(saved));
  models::LoadOptions again;
  again.head = models::HeadPolicy::kWith;
  auto reloaded = models::load_pretrained(saved, again).model;
  EXPECT_EQ(reloaded->head_kind(), models::HeadKind::kRetrieval);
  EXPECT_DOUBLE_EQ(models::logit_scale_of(*reloaded, "test").item<double>(), 37.5);
}

TEST(RetrievalKind, PoolFeaturesAreQueriesThenCandidatesAndTheCacheKeepsThem) {
  const fs::path tmp = testing::make_temp_dir();
  const fs::path dir = testing::make_tiny_bert(tmp / "m", {kWords});
  const auto tokenizer = text::load_tokenizer(dir);
  Dataset d = pool(3, {{0}, {2}});
  d.candidates[1].text = "big red dog ran";
  const TaskKind& kind = task_kind("sentence-retrieval");
  const Features f = kind.featurize(d, *tokenizer, 32);
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f.example, (std::vector<int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(f.input_ids[3].size(), 6u);  // [CLS] big red dog ran [SEP]
  EXPECT_EQ(f.languages, (std::vector<std::string>{"en", "de", "en", "en", "en"}));
  const fs::path cache = tmp / "cache";
  bool hit = true;
  load_or_featurize(d, kind, *tokenizer, dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
  const Features cached = load_or_featurize(d, kind, *tokenizer, dir, 32, cache, &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(cached.example, f.example);
  EXPECT_EQ(cached.input_ids, f.input_ids);
  d.candidates[2].text = "the mat";  // a changed pool is another key
  load_or_featurize(d, kind, *tokenizer, dir, 32, cache, &hit);
  EXPECT_FALSE(hit);
}

TEST(RetrievalHead, XlnetHasNone) {
  const nlohmann::json config = {{"model_type", "xlnet"}, {"vocab_size", 10}, {"d_model", 8},  {"n_layer", 1},
                                 {"n_head", 2},           {"d_inner", 16},    {"d_head", 4}};
  models::BuildOptions build;
  build.head = models::HeadKind::kRetrieval;
  EXPECT_THAT(error_of([&] { models::create_model(config, "config.json", build); }),
              HasSubstr("XLNet has no retrieval head"));
}

}  // namespace
}  // namespace stilts::tasks
