// Extractive QA metrics: exact match and token F1 after answer normalisation, as the official SQuAD
// v1.1 script (XQuAD, TyDiQA-GoldP in XTREME) and the MLQA script compute them.
//
// Normalisers (both lower-case with Python's str.lower() first; see eval/python_text.h):
// - squad: drop ASCII punctuation (Python's string.punctuation), replace the English articles a, an,
//   the (whole words: `\b` with Python's Unicode word characters) by a space, split on whitespace.
// - mlqa(language): drop every Unicode punctuation character (category P*) and the ASCII symbols of
//   string.punctuation, replace the language's articles by a space (en: a an the; es: un una unos unas
//   el la los las; de: ein eine einen einem eines einer der die das den dem des; vi: của là cái chiếc
//   những; ar: every occurrence of "ال", also inside words; hi, zh: none), then split on whitespace
//   (zh: every CJK character U+4E00–U+9FA5 is a token of its own). Other languages are an InputError,
//   as the MLQA script raises on them.
//
// exact match = the normalised strings are equal (so an empty prediction matches a gold answer that
// normalises to ""); F1 = 2 p r / (p + r) over the multiset of normalised tokens, 0 when no token is
// shared (also when both are empty). A question scores its best over its gold answers.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace stilts::eval {

class AnswerNormalizer {
 public:
  // SQuAD v1.1's English normaliser.
  static AnswerNormalizer squad();
  // MLQA's normaliser for an answer language: en, es, de, vi, ar, hi, zh.
  static AnswerNormalizer mlqa(const std::string& language);

  // The normalised answer (UTF-8). Invalid UTF-8 is an InputError.
  std::string normalize(std::string_view answer) const;
  // normalize(answer) split on whitespace: the tokens F1 counts.
  std::vector<std::string> tokens(std::string_view answer) const;

  const std::string& name() const { return name_; }  // "squad" or "mlqa-<language>"

 private:
  enum class Kind { kSquad, kMlqa };
  AnswerNormalizer(Kind kind, std::string language, std::string name)
      : kind_(kind), language_(std::move(language)), name_(std::move(name)) {}
  Kind kind_;
  std::string language_;
  std::string name_;
};

bool exact_match(std::string_view prediction, std::string_view gold, const AnswerNormalizer& normalizer);
double token_f1(std::string_view prediction, std::string_view gold, const AnswerNormalizer& normalizer);

// One question: its id and the texts of its gold answers (at least one).
struct QaQuestion {
  std::string id;
  std::vector<std::string> answers;
};

// Totals over questions, as percentages: 100 * (sum of per-question best scores) / questions. A
// question without a prediction scores 0 and still counts (`unanswered`); predictions for ids that
// are not questions are ignored. No questions at all, or an answered question without gold answers,
// is an InputError (where the official scripts divide by zero or take the max of nothing).
struct QaScores {
  double exact_match = 0;
  double f1 = 0;
  int64_t questions = 0;
  int64_t unanswered = 0;
};

QaScores score_qa(const std::vector<QaQuestion>& questions,
                  const std::unordered_map<std::string, std::string>& predictions,
                  const AnswerNormalizer& normalizer);

}  // namespace stilts::eval
