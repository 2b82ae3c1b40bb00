// Task kind extractive-qa on hand-made contexts: windows (starts, lengths, labels at window edges, an
// answer no window holds, best-context flags), the answer span transformers' processor trains on,
// decoding (n-best, the length limit, best-context and context-only positions, the text projected back
// onto the context with a lower-casing tokenizer, with CJK text and with SentencePiece), the scorer
// against SQuAD's and MLQA's definitions, the submission file and the loss.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <torch/torch.h>


#include "common/error.h"
#include "common/files.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "tasks/batch.h"
#include "tasks/features.h"
#include "tasks/kind.h"
#include "tasks/kinds/extractive_qa.h"
#include "text/auto.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
namespace qa = kinds::qa;
using ::testing::HasSubstr;
using testing::input_error_of;

// ids: [PAD] 0 [UNK] 1 [CLS] 2 [SEP] 3 [MASK] 4, then these from 5 (the 5, cat 6, dog 7, sat 8, on 9,
// mat 10, ##s 11, . 12, 北 13 ...).
const std::vector<std::string> kWords = {"the", "cat", "dog", "sat", "on", "mat", "##s", ".",
                                         "北", "京", "是", "中", "国", "的", "首", "都", "。"};

std::shared_ptr<text::Tokenizer> uncased_tokenizer(const fs::path& dir) {
  fs::create_directories(dir);
  std::string text = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
  for (const auto& w : kWords) text += w + "\n";
  write_file_atomic(dir / "vocab.txt", text);
  return text::load_tokenizer(dir);  // BertTokenizer's default: do_lower_case
}

Example question(const std::string& id, const std::string& q, const std::string& context,
                 std::vector<Example::Answer> answers = {}) {
  Example ex;
  ex.id = id;
  ex.text_a = q;
  ex.context = context;
  ex.answers = std::move(answers);
  ex.language = "en";
  return ex;
}

Dataset qa_data(std::vector<Example> examples, bool labelled = true) {
  Dataset d;
  d.extractive_qa = true;
  d.answer_normalizer = "squad";
  d.format = "squad";
  d.source = "hand.json";
  d.labelled = labelled;
  d.examples = std::move(examples);
  return d;
}

std::unique_ptr<TaskKind> kind_with(int64_t doc_stride, int64_t max_answer_length = 30, int64_t n_best = 20) {
  KindSettings s;
  s.doc_stride = doc_stride;
  s.max_answer_length = max_answer_length;
  s.n_best = n_best;
  return make_task_kind("extractive-qa", s);
}

TEST(QaWindows, StartEveryStrideUntilOneReachesTheEnd) {
  auto starts = [](const std::vector<qa::Span>& spans) {
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const auto& s : spans) out.emplace_back(s.start, s.length);
    return out;
  };
  using P = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(starts(qa::windows(10, 4, 2)), (P{{0, 4}, {2, 4}, {4, 4}, {6, 4}}));
  EXPECT_EQ(starts(qa::windows(7, 4, 2)), (P{{0, 4}, {2, 4}, {4, 3}}));
  EXPECT_EQ(starts(qa::windows(3, 4, 2)), (P{{0, 3}}));
  EXPECT_EQ(starts(qa::windows(9, 4, 4)), (P{{0, 4}, {4, 4}, {8, 1}}));
  EXPECT_TRUE(qa::windows(0, 4, 2).empty());
}

TEST(QaWindows, BestContextIsTheWindowWithMostContextOnTheShorterSide) {
  const auto spans = qa::windows(7, 4, 2);  // [0,4) [2,6) [4,7)
  // Token 3: window 0 min(3, 0) + .04, window 1 min(1, 2) + .04 -> window 1.
  EXPECT_FALSE(qa::is_best_context(spans, 0, 3, 2));
  EXPECT_TRUE(qa::is_best_context(spans, 1, 3, 2));
  // Token 5: window 1 min(3, 0) + .04, window 2 min(1, 1) + .03 -> window 2.
  EXPECT_TRUE(qa::is_best_context(spans, 2, 5, 2));
  // Token 2: window 0 min(2, 1) + .04 beats window 1 min(0, 3) + .04.
  EXPECT_TRUE(qa::is_best_context(spans, 0, 2, 2));
  // Token 6 of [0,8) [4,12): min(6, 1) + .08 = 1.08 vs min(2, 5) + .08 = 2.08 -> the second.
  const auto wide = qa::windows(12, 8, 4);
  EXPECT_TRUE(qa::is_best_context(wide, 1, 6, 4));
  // [0,6) [2,8): token 4 min(4, 1) vs min(2, 3) -> the second; token 3 min(3, 2) vs min(1, 4) -> the first.
  const auto even = qa::windows(8, 6, 2);
  EXPECT_TRUE(qa::is_best_context(even, 1, 4, 2));
  EXPECT_TRUE(qa::is_best_context(even, 0, 3, 2));
  // A tie (token 1 of [0,2) [1,3): 0 + .02 both) goes to the first window.
  const auto tied = qa::windows(4, 2, 1);
  EXPECT_TRUE(qa::is_best_context(tied, 0, 1, 1));
  EXPECT_FALSE(qa::is_best_context(tied, 1, 1, 1));
}

TEST(QaFeatures, WindowsLabelsAndBestContextAsTheProcessorBuildsThem) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  // 7 context tokens: the cat sat on the mat . ; question "dog" (1 token); max_length 8 leaves 4 a window.
  const Dataset d = qa_data({question("q1", "dog", "the cat sat on the mat .", {{"sat on", 8}}),
                             question("q2", "dog", "the cat sat on the mat .", {{"cat sat on the mat", 4}})});
  const auto kind = kind_with(2);
  const Features f = kind->featurize(d, *tokenizer, 8);
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f.example, (std::vector<int64_t>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(f.pad_to, 8);
  // [CLS] dog [SEP] <4 context tokens> [SEP]
  EXPECT_EQ(f.input_ids[0], (std::vector<int32_t>{2, 7, 3, 5, 6, 8, 9, 3}));
  EXPECT_EQ(f.input_ids[1], (std::vector<int32_t>{2, 7, 3, 8, 9, 5, 10, 3}));
  EXPECT_EQ(f.input_ids[2], (std::vector<int32_t>{2, 7, 3, 5, 10, 12, 3}));
  EXPECT_EQ(f.token_type_ids[0], (std::vector<int8_t>{0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(f.word_ids[1], (std::vector<int32_t>{-1, -1, -1, 2, 3, 4, 5, -1}));
  EXPECT_EQ(f.word_ids[2], (std::vector<int32_t>{-1, -1, -1, 4, 5, 6, -1}));
  // Best context: tokens 0-2 in window 0, 3-4 in window 1, 5-6 in window 2.
  EXPECT_EQ(f.best_context[0], (std::vector<int8_t>{0, 0, 0, 1, 1, 1, 0, 0}));
  EXPECT_EQ(f.best_context[1], (std::vector<int8_t>{0, 0, 0, 0, 1, 1, 0, 0}));
  EXPECT_EQ(f.best_context[2], (std::vector<int8_t>{0, 0, 0, 0, 1, 1, 0}));
  // "sat on" = context tokens 2-3: at window 0's right edge, inside window 1, outside window 2 ([CLS]).
  EXPECT_EQ(f.labels[0], 5);
  EXPECT_EQ(f.end_labels[0], 6);
  EXPECT_EQ(f.labels[1], 3);
  EXPECT_EQ(f.end_labels[1], 4);
  EXPECT_EQ(f.labels[2], 0);
  EXPECT_EQ(f.end_labels[2], 0);
  // Five answer tokens fit in no 4-token window: every window points at [CLS].
  for (size_t w = 3; w < 6; ++w) {
    EXPECT_EQ(f.labels[w], 0) << w;
    EXPECT_EQ(f.end_labels[w], 0) << w;
  }
}

TEST(QaFeatures, AnswerSpanShrinksToTheAnswersOwnTokensAndUnfoundAnswersAreNotTrained) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  // "cat" inside the word "cats" (cat ##s): the processor's span is the word's tokens, improved to "cat".
  // The second question's answer text is not at its offset: no labels.
  const Dataset d = qa_data({question("q1", "dog", "the cats sat", {{"cat", 4}}),
                             question("q2", "dog", "the cats sat", {{"dog", 4}})});
  const auto kind = kind_with(128);
  ::testing::internal::CaptureStderr();
  const Features f = kind->featurize(d, *tokenizer, 32);
  // The unfound answer is a note for the caller to log; the kind itself writes nothing.
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
  ASSERT_EQ(f.notes.size(), 1u);
  EXPECT_THAT(f.notes[0], HasSubstr(": 1 question(s) whose first answer is not in its words"));
  // Cached: the first load featurizes, the second reads the entry back (QA has word ids but no token
  // labels; the cache once expected both and missed every time).
  bool hit = true;
  EXPECT_EQ(load_or_featurize(d, *kind, *tokenizer, dir / "tok", 32, dir / "cache", &hit).notes, f.notes);
  EXPECT_FALSE(hit);
  const Features cached = load_or_featurize(d, *kind, *tokenizer, dir / "tok", 32, dir / "cache", &hit);
  EXPECT_TRUE(hit);
  EXPECT_EQ(cached.notes, f.notes);
  EXPECT_EQ(cached.input_ids, f.input_ids);
  EXPECT_EQ(cached.word_ids, f.word_ids);
  EXPECT_EQ(cached.best_context, f.best_context);
  EXPECT_EQ(cached.labels, f.labels);
  EXPECT_EQ(cached.end_labels, f.end_labels);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f.input_ids[0], (std::vector<int32_t>{2, 7, 3, 5, 6, 11, 8, 3}));
  EXPECT_EQ(f.labels[0], 4);
  EXPECT_EQ(f.end_labels[0], 4);
  EXPECT_EQ(f.labels[1], -1);

  // Collate pads to max_length; the unlabelled row's targets are the ignore index T.
  const Batch b = kind->collate(f, {0, 1}, torch::kCPU);
  EXPECT_EQ(b.inputs.input_ids.size(1), 32);
  EXPECT_EQ(b.labels[0][0].item<int64_t>(), 4);
  EXPECT_EQ(b.labels[1][0].item<int64_t>(), 32);
  EXPECT_EQ(b.labels[1][1].item<int64_t>(), 32);

  // The loss is transformers': mean of the start and end cross-entropies over labelled rows.
  const torch::Tensor logits = torch::randn({2, 32, 2}, torch::TensorOptions().dtype(torch::kFloat));
  const torch::Tensor start = -torch::log_softmax(logits[0].select(1, 0), 0)[4];
  const torch::Tensor end = -torch::log_softmax(logits[0].select(1, 1), 0)[4];
  EXPECT_NEAR(kind->loss(logits, b).item<double>(), ((start + end) / 2).item<double>(), 1e-6);
  // Only unlabelled rows: 0, not NaN.
  const Batch none = kind->collate(f, {1}, torch::kCPU);
  EXPECT_EQ(kind->loss(logits.slice(0, 1, 2), none).item<double>(), 0.0);
}

TEST(QaFeatures, SettingsThatCannotWorkAreClearErrors) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  const Dataset d = qa_data({question("q1", "the cat sat on the mat", "the cat sat")});
  EXPECT_THAT(input_error_of([&] { kind_with(2)->featurize(d, *tokenizer, 8); }),
              HasSubstr("leave no room for the context"));
  // (Only a context that needs several windows: one that fits in a window never strides.)
  const Dataset e = qa_data({question("q1", "dog", "the cat sat on the mat")});
  EXPECT_THAT(input_error_of([&] { kind_with(8)->featurize(e, *tokenizer, 8); }),
              HasSubstr("doc_stride 8 is longer than the 4 context tokens"));
  EXPECT_THAT(input_error_of([] { kind_with(0); }), HasSubstr("doc_stride must be at least 1"));
  Dataset tagged;
  tagged.tagging = true;
  tagged.source = "t.tsv";
  tagged.format = "xtreme-tagging";
  EXPECT_THAT(input_error_of([&] { task_kind("extractive-qa").check(tagged, false); }),
              HasSubstr("formats squad, mlqa"));
}

// Runs `kind` on `d` with logits set by `set` ([1, T, 2] per feature) and decodes.
template <typename Set>
Predictions decode_with(const TaskKind& kind, const Dataset& d, const Features& f, const text::Tokenizer& tokenizer,
                        Set set) {
  std::vector<std::vector<float>> outputs;
  for (size_t i = 0; i < f.size(); ++i) {
    const Batch b = kind.collate(f, {i}, torch::kCPU);
    torch::Tensor logits = torch::zeros({1, b.inputs.input_ids.size(1), 2});
    set(i, logits);
    outputs.push_back(kind.feature_outputs(logits, b)[0]);
  }
  return kind.decode(d, f, outputs, tokenizer, false);
}

TEST(QaDecoding, BestSpanOfTheNBestWithinTheLengthLimitProjectedOntoTheContext) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  // [CLS] dog [SEP] the cat sat on the mat . [SEP]: context tokens at 3..9.
  const Dataset d = qa_data({question("q1", "dog", "The Cat SAT on the mat.", {{"Cat SAT", 4}})});
  const Features f = kind_with(128)->featurize(d, *tokenizer, 16);
  ASSERT_EQ(f.size(), 1u);

  auto logits_at = [](std::vector<std::pair<int64_t, float>> starts, std::vector<std::pair<int64_t, float>> ends) {
    return [=](size_t, torch::Tensor& z) {
      for (auto [i, v] : starts) z[0][i][0] = v;
      for (auto [i, v] : ends) z[0][i][1] = v;
    };
  };
  // "cat sat" (4..5): the tokens' text "cat sat" is found in the lower-cased words "Cat SAT" and mapped
  // back to the original characters, case and all.
  const auto kind = kind_with(128);
  Predictions p = decode_with(*kind, d, f, *tokenizer, logits_at({{4, 5}}, {{5, 5}}));
  EXPECT_EQ(p.predicted[0], "Cat SAT");
  EXPECT_EQ(p.gold[0], nlohmann::json({{"answers", {"Cat SAT"}}, {"normalizer", "squad"}}));
  // "mat ." (8..9) is one word "mat." in the context: projected to "mat.".
  p = decode_with(*kind, d, f, *tokenizer, logits_at({{8, 5}}, {{9, 5}}));
  EXPECT_EQ(p.predicted[0], "mat.");
  // "mat" alone (8..8): the word "mat." is cut to the predicted characters.
  p = decode_with(*kind, d, f, *tokenizer, logits_at({{8, 5}}, {{8, 5}}));
  EXPECT_EQ(p.predicted[0], "mat");

  // The best start is in the question (position 1): with n_best 1 there is no valid pair ("empty"); with
  // n_best 2 the second start (4) pairs with the end.
  const auto set = logits_at({{1, 9}, {4, 5}}, {{5, 5}});
  EXPECT_EQ(decode_with(*kind_with(128, 30, 1), d, f, *tokenizer, set).predicted[0], "empty");
  EXPECT_EQ(decode_with(*kind_with(128, 30, 2), d, f, *tokenizer, set).predicted[0], "Cat SAT");

  // Starts the 3 (5), on 7 (1); ends . 9 (5), cat 4 (2). The 7-token span 3..9 wins when allowed; with
  // at most 6 tokens, 3..4 (7) beats 7..9 (6); with 1 token, 3..3 and 9..9 tie at 5 and the first
  // start in n-best order wins. 7..4 (3) ends before it starts and never counts.
  const auto longer = logits_at({{3, 5}, {7, 1}}, {{9, 5}, {4, 2}});
  EXPECT_EQ(decode_with(*kind_with(128, 7), d, f, *tokenizer, longer).predicted[0], "The Cat SAT on the mat.");
  EXPECT_EQ(decode_with(*kind_with(128, 6), d, f, *tokenizer, longer).predicted[0], "The Cat");
  EXPECT_EQ(decode_with(*kind_with(128, 1), d, f, *tokenizer, longer).predicted[0], "The");
}

TEST(QaDecoding, OnlyTheStartsBestContextWindowAnswers) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  // Windows [0,4) [2,6) [4,7) as above; token 3 ("on") has its best context in window 1.
  const Dataset d = qa_data({question("q1", "dog", "the cat sat on the mat .")}, /*labelled=*/false);
  const auto kind = kind_with(2);
  const Features f = kind->featurize(d, *tokenizer, 8);
  ASSERT_EQ(f.size(), 3u);
  // Window 0 scores a start at "on" (row 6) far higher, but only window 1 (row 4) may start there.
  const Predictions p = decode_with(*kind, d, f, *tokenizer, [](size_t w, torch::Tensor& z) {
    if (w == 0) z[0][6][0] = 50;
    if (w == 1) {
      z[0][4][0] = 1;
      z[0][5][1] = 1;
    }
  });
  EXPECT_EQ(p.predicted[0], "on the");
  EXPECT_TRUE(p.gold[0].is_null());
}

TEST(QaDecoding, ChineseSpansAreCutOutOfTheirWhitespaceWord) {
  const fs::path dir = testing::make_temp_dir();
  const auto tokenizer = uncased_tokenizer(dir / "tok");
  // One whitespace word; BERT splits every ideograph: [CLS] dog [SEP] 北 京 是 中 国 的 首 都 。 [SEP].
  const Dataset d = qa_data({question("q1", "dog", "北京是中国的首都。")}, false);
  const auto kind = kind_with(128);
  const Features f = kind->featurize(d, *tokenizer, 32);
  const Predictions p = decode_with(*kind, d, f, *tokenizer, [](size_t, torch::Tensor& z) {
    z[0][6][0] = 3;  // 中
    z[0][7][1] = 3;  // 国
  });
  EXPECT_EQ(p.predicted[0], "中国");
}

TEST(QaDecoding, SentencePieceTokensComeBackAsText) {
  STILTS_REQUIRE_SHARED("tokenize/xlmr-spm");
  const auto tokenizer = text::load_tokenizer(testing::fixtures_dir() / "tokenize" / "xlmr-spm");
  EXPECT_FALSE(tokenizer->lowercases());
  const Dataset d = qa_data({question("q1", "Who?", "Hello world, this is a test.")}, false);
  const auto kind = kind_with(128);
  const Features f = kind->featurize(d, *tokenizer, 64);
  ASSERT_EQ(f.size(), 1u);
  // The span from the first token of word 1 ("world,") to the last token of word 3 ("is").
  const auto& words = f.word_ids[0];
  const auto first = std::find(words.begin(), words.end(), 1) - words.begin();
  const auto last = std::find(words.rbegin(), words.rend(), 3).base() - words.begin() - 1;
  const Predictions p = decode_with(*kind, d, f, *tokenizer, [&](size_t, torch::Tensor& z) {
    z[0][first][0] = 3;
    z[0][last][1] = 3;
  });
  EXPECT_EQ(p.predicted[0], "world, this is");
}

TEST(QaDecoding, FinalTextAlignsCharactersIgnoringSpaces) {
  // The reference's own example: the tokens' text is lower-cased, the original keeps its case and loses
  // the characters after the span.
  EXPECT_EQ(qa::final_text("steve smith", "Steve Smith's", true), "Steve Smith");
  EXPECT_EQ(qa::final_text("Steve Smith", "Steve Smith's", false), "Steve Smith");
  // Lower-casing strips accents: "cafe" is found in "café !" and maps back to "Café".
  EXPECT_EQ(qa::final_text("cafe", "Café!", true), "Café");
  // Not found, or the stripped lengths differ: the original words.
  EXPECT_EQ(qa::final_text("xyz", "abc def", false), "abc def");
  EXPECT_EQ(qa::final_text("a", "a\x01" "b", false), "a\x01" "b");
  EXPECT_EQ(qa::final_text("中 国", "北京是中国的首都。", false), "中国");
}

TEST(QaDecoding, TopPositionsKeepTheLowerPositionOnTies) {
  const float logits[] = {1, 3, 3, 2, 3};
  EXPECT_EQ(qa::top_positions(logits, 5, 3), (std::vector<int64_t>{1, 2, 4}));
  EXPECT_EQ(qa::top_positions(logits, 5, 9), (std::vector<int64_t>{1, 2, 4, 3, 0}));
}

TEST(QaContext, WordsSplitOnSquadWhitespaceOnly) {
  // U+00A0 is not SQuAD whitespace (the word keeps it); U+202F is.
  const qa::ContextWords w = qa::split_context("  a\u00A0b c\u202Fd ", "ctx");
  EXPECT_EQ(w.words, (std::vector<std::string>{"a\u00A0b", "c", "d"}));
  EXPECT_EQ(w.char_to_word, (std::vector<int64_t>{-1, -1, 0, 0, 0, 0, 1, 1, 2, 2}));
}

TEST(QaScorer, F1AndExactMatchOverTheBestGoldAnswer) {
  const TaskKind& kind = task_kind("extractive-qa");
  EXPECT_EQ(kind.metrics(), (std::vector<std::string>{"f1", "exact_match"}));
  const std::vector<Value> predicted = {"the cat", "cat sat", "gato"};
  const std::vector<Value> gold = {
      {{"answers", {"a dog", "The cat!"}}, {"normalizer", "squad"}},
      {{"answers", {"the cat"}}, {"normalizer", "squad"}},
      {{"answers", {"el gato"}}, {"normalizer", "mlqa-es"}},
  };
  // SQuAD drops articles and punctuation: "the cat" = "The cat!"; "cat sat" vs "cat": p 1/2, r 1;
  // MLQA's Spanish normaliser drops "el".
  EXPECT_DOUBLE_EQ(kind.scorer("exact_match", predicted, gold)({0, 1, 2}), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(kind.scorer("f1", predicted, gold)({0, 1, 2}), (1.0 + 2.0 / 3.0 + 1.0) / 3.0);
  EXPECT_DOUBLE_EQ(kind.scorer("f1", predicted, gold)({1, 1}), 2.0 / 3.0);
  EXPECT_THROW(kind.scorer("accuracy", predicted, gold), InputError);
  EXPECT_THROW(kind.scorer("f1", {Value(1)}, {gold[0]}), InputError);
  EXPECT_THROW(kind.scorer("f1", {Value("x")}, {Value("x")}), InputError);
}

TEST(QaSubmission, QuestionIdsToAnswersInFileOrder) {
  const TaskKind& kind = task_kind("extractive-qa");
  const Dataset d = qa_data({question("z9", "q", "c"), question("a1", "q", "c")}, false);
  Predictions p;
  p.predicted = {"first", "second"};
  p.gold = {nullptr, nullptr};
  EXPECT_EQ(kind.submission(d, p), "{\n    \"z9\": \"first\",\n    \"a1\": \"second\"\n}\n");
  EXPECT_EQ(kind.submission_extension(), "json");
}

}  // namespace
}  // namespace stilts::tasks
