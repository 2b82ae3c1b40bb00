// SQuAD v1.1 and MLQA answer normalisation and EM/F1. The normalised strings are what the official
// scripts' normalize_answer returns for the same input (checked with CPython 3.11); F1 values are
// worked by hand from token counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"
#include "eval/squad.h"

namespace stilts::eval {
namespace {

using ::testing::ElementsAre;

TEST(SquadNormalizer, EnglishArticlesAsciiPunctuationWhitespace) {
  const AnswerNormalizer n = AnswerNormalizer::squad();
  EXPECT_EQ(n.normalize("The Eiffel Tower!"), "eiffel tower");
  EXPECT_EQ(n.normalize("  an apple,  a   pear "), "apple pear");
  EXPECT_EQ(n.normalize("Théa the"), "théa");     // "the" inside a word stays
  EXPECT_EQ(n.normalize("a_b the_x"), "ab thex");  // '_' is ASCII punctuation, removed before articles
  // NBSP and U+3000 are whitespace, U+200B is not.
  EXPECT_EQ(n.normalize("x\u00a0the\u3000y\u200bz"), "x y\u200bz");
  // Unicode punctuation stays: only string.punctuation is removed.
  EXPECT_EQ(n.normalize("«the» — ‘a’"), "« » — ‘ ’");
  // A combining mark is not a word character, so "the" before it is a whole word.
  EXPECT_EQ(n.normalize("the\u0301 end"), "\u0301 end");
  EXPECT_EQ(n.normalize("ΟΔΟΣ ΣΑΣ"), "οδος σας");
  EXPECT_EQ(n.normalize("İstanbul"), "i\u0307stanbul");
}

TEST(MlqaNormalizer, PerLanguageArticlesAndUnicodePunctuation) {
  EXPECT_EQ(AnswerNormalizer::mlqa("es").normalize("el pájaro, ¿dónde?"), "pájaro dónde");
  EXPECT_EQ(AnswerNormalizer::mlqa("es").normalize("Unos los"), "");
  EXPECT_EQ(AnswerNormalizer::mlqa("de").normalize("Der Hund und die Katze"), "hund und katze");
  EXPECT_EQ(AnswerNormalizer::mlqa("de").normalize("des Deutschen"), "deutschen");
  EXPECT_EQ(AnswerNormalizer::mlqa("vi").normalize("cái bàn của tôi"), "bàn tôi");
  EXPECT_EQ(AnswerNormalizer::mlqa("vi").normalize("những người"), "người");
  // Arabic: every "ال" becomes a space, even inside a word.
  EXPECT_EQ(AnswerNormalizer::mlqa("ar").normalize("الكتاب في المكتبة"), "كتاب في مكتبة");
  // Chinese: punctuation (incl. full-width) removed, each CJK character its own token.
  EXPECT_EQ(AnswerNormalizer::mlqa("zh").normalize("电动势（英语：emf）"), "电 动 势 英 语 emf");
  EXPECT_EQ(AnswerNormalizer::mlqa("zh").normalize("中国 abc的 def"), "中 国 abc 的 def");
  EXPECT_EQ(AnswerNormalizer::mlqa("en").normalize("The «quoted» word"), "quoted word");
  EXPECT_EQ(AnswerNormalizer::mlqa("hi").normalize("यह एक किताब है।"), "यह एक किताब है");
  EXPECT_THAT(AnswerNormalizer::mlqa("zh").tokens("电动势"), ElementsAre("电", "动", "势"));
  EXPECT_THROW(AnswerNormalizer::mlqa("fr"), InputError);
}

TEST(QaMetrics, ExactMatchAndTokenF1) {
  const AnswerNormalizer n = AnswerNormalizer::squad();
  // pred: cat sat on mat (4 tokens); gold: cat sat on red mat (5): 4 shared; p 1, r 4/5, F1 8/9.
  EXPECT_DOUBLE_EQ(token_f1("the cat sat on the mat", "a cat sat on a red mat", n), 2 * 1.0 * 0.8 / 1.8);
  // multiset overlap: {cat, cat, dog} vs {cat, dog, dog}: 2 shared of 3 and 3 -> 2/3.
  EXPECT_DOUBLE_EQ(token_f1("cat cat dog", "cat dog dog", n), 2.0 / 3.0);
  // 电动势 vs 电动: 2 shared; p 2/3, r 1 -> 0.8.
  EXPECT_DOUBLE_EQ(token_f1("电动势", "电动", AnswerNormalizer::mlqa("zh")), 2 * (2.0 / 3.0) / (2.0 / 3.0 + 1));
  // An empty prediction: exact only when the gold normalises to "", F1 0 either way.
  EXPECT_TRUE(exact_match("", "the", n));
  EXPECT_FALSE(exact_match("", "x", n));
  EXPECT_EQ(token_f1("", "the", n), 0.0);
  EXPECT_TRUE(exact_match("The  Tower.", "tower", n));
}

TEST(QaMetrics, ScoreQaBestAnswerUnansweredAndExtraIds) {
  const std::vector<QaQuestion> questions = {
      {"q1", {"Paris", "the city of Paris"}},  // exact with the first answer
      {"q2", {"red mat"}},                      // "mat": p 1, r 1/2 -> F1 2/3, not exact
      {"q3", {"x"}},                            // unanswered: 0 and still counted
  };
  const std::unordered_map<std::string, std::string> predictions = {
      {"q1", "paris"}, {"q2", "the mat"}, {"not-a-question", "ignored"}};
  const QaScores s = score_qa(questions, predictions, AnswerNormalizer::squad());
  EXPECT_EQ(s.questions, 3);
  EXPECT_EQ(s.unanswered, 1);
  EXPECT_DOUBLE_EQ(s.exact_match, 100.0 * 1 / 3);
  EXPECT_DOUBLE_EQ(s.f1, 100.0 * (1.0 + 2.0 / 3.0) / 3);
  EXPECT_THROW(score_qa({}, predictions, AnswerNormalizer::squad()), InputError);
  EXPECT_THROW(score_qa({{"q1", {}}}, predictions, AnswerNormalizer::squad()), InputError);
}

}  // namespace
}  // namespace stilts::eval
