#include "eval/squad.h"

#include <algorithm>
#include <map>
#include <utility>

#include "common/error.h"
#include "eval/python_text.h"
#include "text/unicode.h"

namespace stilts::eval {

namespace {

// Python's string.punctuation.
bool is_ascii_punctuation(char32_t c) {
  return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x40) || (c >= 0x5B && c <= 0x60) ||
         (c >= 0x7B && c <= 0x7E);
}

bool is_cjk(char32_t c) { return c >= 0x4E00 && c <= 0x9FA5; }

// re.sub(r'\b(w1|w2|...)\b', ' ', text): each whole-word occurrence (word characters as Python's
// regex sees them) becomes one space. Every article starts and ends with a word character, so `\b`
// before it means "no word character before", after it "no word character after".
std::u32string replace_whole_words(std::u32string_view text, const std::vector<std::u32string>& words) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool replaced = false;
    if (i == 0 || !py::is_word(text[i - 1])) {
      for (const std::u32string& w : words) {
        const size_t end = i + w.size();
        if (text.compare(i, w.size(), w) == 0 && (end == text.size() || !py::is_word(text[end]))) {
          out.push_back(U' ');
          i = end;
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(text[i++]);
  }
  return out;
}

// re.sub('ال', ' ', text) (MLQA's Arabic pattern '\sال^|ال': its first branch can never match).
std::u32string replace_substring(std::u32string_view text, std::u32string_view needle) {
  std::u32string out;
  size_t i = 0;
  while (i < text.size()) {
    if (text.compare(i, needle.size(), needle) == 0) {
      out.push_back(U' ');
      i += needle.size();
    } else {
      out.push_back(text[i++]);
    }
  }
  return out;
}

const std::vector<std::u32string>& articles(const std::string& language) {
  static const std::map<std::string, std::vector<std::u32string>> table = {
      {"en", {U"a", U"an", U"the"}},
      {"es", {U"un", U"una", U"unos", U"unas", U"el", U"la", U"los", U"las"}},
      {"vi", {U"của", U"là", U"cái", U"chiếc", U"những"}},
      {"de", {U"ein", U"eine", U"einen", U"einem", U"eines", U"einer", U"der", U"die", U"das", U"den", U"dem",
              U"des"}},
      {"hi", {}},
      {"zh", {}},
      {"ar", {}},
  };
  return table.at(language);
}

std::string join(const std::vector<std::u32string>& tokens) {
  std::u32string joined;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) joined.push_back(U' ');
    joined += tokens[i];
  }
  return text::encode_utf8(joined);
}

// MLQA's mixed_segmentation: CJK characters and punctuation are tokens of their own, the runs between
// them are split on whitespace.
std::vector<std::u32string> mixed_segmentation(std::u32string_view text) {
  std::vector<std::u32string> tokens;
  std::u32string run;
  const auto flush = [&] {
    for (auto& t : py::split(run)) tokens.push_back(std::move(t));
    run.clear();
  };
  for (char32_t c : text) {
    if (is_cjk(c) || py::is_unicode_punctuation(c) || is_ascii_punctuation(c)) {
      flush();
      tokens.emplace_back(1, c);
    } else {
      run.push_back(c);
    }
  }
  flush();
  return tokens;
}

}  // namespace

AnswerNormalizer AnswerNormalizer::squad() { return AnswerNormalizer(Kind::kSquad, "en", "squad"); }

AnswerNormalizer AnswerNormalizer::mlqa(const std::string& language) {
  static const std::vector<std::string> known = {"en", "es", "hi", "vi", "de", "ar", "zh"};
  if (std::find(known.begin(), known.end(), language) == known.end()) {
    input_error("MLQA answer normalisation: unknown language '", language,
                "' (the MLQA scorer knows en, es, hi, vi, de, ar, zh)");
  }
  return AnswerNormalizer(Kind::kMlqa, language, "mlqa-" + language);
}

std::string AnswerNormalizer::normalize(std::string_view answer) const {
  const std::u32string lowered = py::lower(text::decode_utf8(answer, "answer text"));
  std::u32string kept;
  kept.reserve(lowered.size());
  for (char32_t c : lowered) {
    const bool punctuation =
        is_ascii_punctuation(c) || (kind_ == Kind::kMlqa && py::is_unicode_punctuation(c));
    if (!punctuation) kept.push_back(c);
  }
  if (kind_ == Kind::kSquad) return join(py::split(replace_whole_words(kept, articles("en"))));
  const std::u32string no_articles =
      language_ == "ar" ? replace_substring(kept, U"ال") : replace_whole_words(kept, articles(language_));
  // MLQA keeps tokens whose strip() is non-empty: split() and the segmentation never yield others.
  return join(language_ == "zh" ? mixed_segmentation(no_articles) : py::split(no_articles));
}

std::vector<std::string> AnswerNormalizer::tokens(std::string_view answer) const {
  std::vector<std::string> out;
  for (const auto& t : py::split(text::decode_utf8(normalize(answer), "normalised answer"))) {
    out.push_back(text::encode_utf8(t));
  }
  return out;
}

bool exact_match(std::string_view prediction, std::string_view gold, const AnswerNormalizer& normalizer) {
  return normalizer.normalize(prediction) == normalizer.normalize(gold);
}

double token_f1(std::string_view prediction, std::string_view gold, const AnswerNormalizer& normalizer) {
  const std::vector<std::string> pred_tokens = normalizer.tokens(prediction);
  const std::vector<std::string> gold_tokens = normalizer.tokens(gold);
  std::map<std::string, int64_t> gold_counts;
  for (const auto& t : gold_tokens) ++gold_counts[t];
  int64_t same = 0;
  for (const auto& t : pred_tokens) {
    auto it = gold_counts.find(t);
    if (it != gold_counts.end() && it->second > 0) {
      --it->second;
      ++same;
    }
  }
  if (same == 0) return 0.0;
  const double precision = static_cast<double>(same) / static_cast<double>(pred_tokens.size());
  const double recall = static_cast<double>(same) / static_cast<double>(gold_tokens.size());
  return 2 * precision * recall / (precision + recall);
}

QaScores score_qa(const std::vector<QaQuestion>& questions,
                  const std::unordered_map<std::string, std::string>& predictions,
                  const AnswerNormalizer& normalizer) {
  if (questions.empty()) input_error("QA scoring: no questions in the gold data");
  QaScores scores;
  int64_t exact = 0;
  double f1_sum = 0;
  for (const QaQuestion& q : questions) {
    ++scores.questions;
    const auto it = predictions.find(q.id);
    if (it == predictions.end()) {
      ++scores.unanswered;
      continue;
    }
    // The official scripts fail here too (max of no scores), but only for answered questions.
    if (q.answers.empty()) input_error("QA scoring: question '", q.id, "' has no gold answers");
    bool best_exact = false;
    double best_f1 = 0;
    for (const std::string& answer : q.answers) {
      best_exact = best_exact || exact_match(it->second, answer, normalizer);
      best_f1 = std::max(best_f1, token_f1(it->second, answer, normalizer));
    }
    exact += best_exact ? 1 : 0;
    f1_sum += best_f1;
  }
  // 100.0 * total / questions, in the official scripts' order of operations.
  scores.exact_match = 100.0 * static_cast<double>(exact) / static_cast<double>(scores.questions);
  scores.f1 = 100.0 * f1_sum / static_cast<double>(scores.questions);
  return scores;
}

}  // namespace stilts::eval
