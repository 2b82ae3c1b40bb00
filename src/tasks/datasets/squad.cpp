// Extractive QA in SQuAD v1.1's layout (SQuAD, XQuAD, MLQA, TyDiQA-GoldP): one JSON document
// {"data": [{"title", "paragraphs": [{"context", "qas": [{"id", "question", "answers": [{"text",
// "answer_start"}, ...]}]}]}]}; `version`, `title` and other keys are ignored. One example a question, in
// file order: id = the question's id, text_a = the question, context = its paragraph's context,
// answers = its gold answers in file order. extractive_qa is set, label_names empty; answer_normalizer is
// "squad" for `squad` and "mlqa" for `mlqa`.
//
// Answers: answer_start counts code points, as Python's str indices do. Every answer is checked: the
// context's code points [start, start + the text's length in code points) must be the text. An answer
// that is not an object with a string `text` and an integer `answer_start`, has an empty text, or does
// not match (a negative or out-of-range start included) is dropped, counted in report.skipped_malformed
// and noted with the question's id, the text, the start and what the context holds there. A question left
// with no answer is skipped, counted and noted the same way. (Every answer of the distributed XQuAD, MLQA
// and TyDiQA-GoldP files checks out.)
//
// Unlabelled files: XTREME's test files keep the layout with "answers": [] everywhere. A file where no
// question has an answer is read for prediction (labelled = false, answers empty); a file where some do
// and others have an empty list is an error naming the first without. SQuAD 2.0's unanswerable
// questions (`is_impossible: true`) are an error: v1.1 only.
//
// Ids must be unique in a file (predictions are keyed by them), but for one known case: XTREME's
// utils_preprocess.py keeps only the last '-'-separated part of TyDiQA's ids in its per-language train
// files (tydiqa.<l>.train.json, tydiqa.goldp.<l>.train.json), so "0" stands for hundreds of questions.
// In a file so named whose ids repeat, every example's id becomes "<file name>#<n>", n the question's
// 1-based position in the file, with a note.
//
// Language: ReadOptions.language, else from the file name: MLQA's {dev,test}-context-<l>-question-<q>.json
// gives l (the context and answer language, the one MLQA's scorer takes); a TyDiQA language name
// (official tydiqa-goldp-dev-arabic.json, per-language splits arabic_tydiqa_dev.json) gives its code;
// else the first part of the name, split at '.', '-' and '_', of two lowercase ASCII letters (XQuAD's
// xquad.<l>.json, XTREME's tydiqa.goldp.<l>.{train,dev}.json). Otherwise `squad` falls back to English
// (SQuAD's train-v1.1.json, dev-v1.1.json) and `mlqa` is an error: MLQA's normaliser is per language,
// and `mlqa` takes only MLQA's seven (en es de ar hi vi zh).
#include <algorithm>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "tasks/datasets/readers.h"
#include "text/unicode.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

using Json = nlohmann::json;

const std::vector<std::string>& mlqa_languages() {
  static const std::vector<std::string> languages = {"en", "es", "de", "ar", "hi", "vi", "zh"};
  return languages;
}

// TyDiQA's language names, as its file names and question ids spell them, and their codes.
const std::vector<std::pair<std::string, std::string>>& tydiqa_languages() {
  static const std::vector<std::pair<std::string, std::string>> languages = {
      {"arabic", "ar"}, {"bengali", "bn"},  {"english", "en"}, {"finnish", "fi"}, {"indonesian", "id"},
      {"japanese", "ja"}, {"korean", "ko"}, {"russian", "ru"}, {"swahili", "sw"}, {"telugu", "te"},
      {"thai", "th"}};
  return languages;
}

bool is_lower_ascii(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// The language a file name implies, "" when it names none (see the header).
std::string language_from_name(const fs::path& path) {
  const std::string name = path.filename().string();
  // MLQA: ...-context-<l>-question-<q>...
  if (const size_t at = name.find("context-"); at != std::string::npos) {
    const size_t begin = at + 8;
    const size_t end = name.find_first_of("-.", begin);
    const std::string code = name.substr(begin, end == std::string::npos ? std::string::npos : end - begin);
    if (code.size() == 2 && is_lower_ascii(code)) return code;
  }
  // TyDiQA's language names: the one that comes first in the name.
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; });
  size_t first = std::string::npos;
  std::string code;
  for (const auto& [language, iso] : tydiqa_languages()) {
    const size_t at = lower.find(language);
    if (at < first) {
      first = at;
      code = iso;
    }
  }
  if (!code.empty()) return code;
  // A two-letter part of the stem.
  const std::string stem = path.stem().string();
  size_t start = 0;
  for (;;) {
    const size_t end = stem.find_first_of(".-_", start);
    const std::string_view part =
        std::string_view(stem).substr(start, end == std::string::npos ? std::string_view::npos : end - start);
    if (part.size() == 2 && is_lower_ascii(part)) return std::string(part);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

// XTREME's TyDiQA train files, whose ids repeat (see the header).
bool is_xtreme_tydiqa_train(const fs::path& path) {
  const std::string name = path.filename().string();
  const std::string suffix = ".train.json";
  return name.rfind("tydiqa.", 0) == 0 && name.size() > suffix.size() &&
         name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string at_index(const std::string& where, std::string_view key, size_t index) {
  return where + "." + std::string(key) + "[" + std::to_string(index) + "]";
}

// The list at `key` of a JSON object; InputError naming the file and `where` otherwise.
const Json& require_list(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                         std::string_view holding) {
  const auto it = object.find(key);
  if (it == object.end()) {
    input_error(file.name, ": ", where, ": no key '", key, "' (expected a list of ", holding, "; SQuAD v1.1 layout)");
  }
  if (!it->is_array()) {
    input_error(file.name, ": ", where, ": key '", key, "' is ", it->type_name(), ", expected a list of ", holding);
  }
  return *it;
}

// The non-empty string at `key` of a JSON object; InputError naming the file and `where` otherwise.
std::string require_text(const TextFile& file, const std::string& where, const Json& object, std::string_view key,
                         std::string_view what) {
  const auto it = object.find(key);
  if (it == object.end()) input_error(file.name, ": ", where, ": no key '", key, "' (expected ", what, ", a string)");
  if (!it->is_string()) {
    input_error(file.name, ": ", where, ": key '", key, "' is ", it->type_name(), ", expected ", what, " (a string)");
  }
  std::string text = it->get<std::string>();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
    input_error(file.name, ": ", where, ": key '", key, "' is empty (expected ", what, ")");
  }
  return text;
}

void require_object(const TextFile& file, const std::string& where, const Json& value, std::string_view what) {
  if (!value.is_object()) {
    input_error(file.name, ": ", where, ": expected ", what, " (a JSON object), found ", value.type_name());
  }
}

std::string in_quotes(const std::string& text) { return "'" + text + "'"; }

// Why `answer` cannot be kept ("" when it can): it must be an object with a non-empty string `text` and an
// integer `answer_start` locating that text in `context` (code points). Fills `out` as it goes.
std::string check_answer(const Json& answer, const std::u32string& context, const std::string& where,
                         Example::Answer& out) {
  if (!answer.is_object()) {
    return std::string("answer is ") + answer.type_name() + ", expected an object with 'text' and 'answer_start'";
  }
  const auto text = answer.find("text");
  if (text == answer.end()) return "answer has no 'text'";
  if (!text->is_string()) return std::string("answer's 'text' is ") + text->type_name() + ", expected a string";
  out.text = text->get<std::string>();
  const auto start = answer.find("answer_start");
  if (start == answer.end()) return "answer " + in_quotes(out.text) + " has no 'answer_start'";
  if (!start->is_number_integer()) {
    return "answer " + in_quotes(out.text) + ": 'answer_start' is " + start->dump() + ", expected an integer";
  }
  const std::string at = "answer " + in_quotes(out.text) + " at " + start->dump();
  if (out.text.empty()) return at + ": empty text";
  if (start->is_number_unsigned() && start->get<uint64_t>() > static_cast<uint64_t>(context.size())) {
    return at + " starts past the end of the context (" + std::to_string(context.size()) + " code points)";
  }
  out.start = start->get<int64_t>();
  if (out.start < 0) return at + ": a negative start";
  const auto begin = static_cast<size_t>(out.start);
  const std::u32string span = text::decode_utf8(out.text, where);
  const std::u32string_view held = std::u32string_view(context).substr(begin, span.size());
  if (held.size() < span.size()) {
    return at + " runs past the end of the context (" + std::to_string(context.size()) +
           " code points; from there it holds " + in_quotes(text::encode_utf8(held)) + ")";
  }
  if (held != span) {
    return at + " does not match the context, which holds " + in_quotes(text::encode_utf8(held)) + " there";
  }
  return "";
}

Dataset read_squad_family(const fs::path& path, const ReadOptions& options, bool mlqa) {
  const TextFile file = load_text_file(path);
  std::string language = options.language.empty() ? language_from_name(path) : options.language;
  if (mlqa) {
    if (language.empty()) {
      input_error(file.name, ": cannot tell the language from the file name (MLQA names files "
                  "{dev,test}-context-<lang>-question-<lang>.json): rename it or set the language option "
                  "(MLQA's answer normaliser depends on the language)");
    }
    const auto& known = mlqa_languages();
    if (std::find(known.begin(), known.end(), language) == known.end()) {
      input_error(file.name, ": language '", language, "' is not one of MLQA's (", join(known),
                  "); its answer normaliser knows only these (read other languages as format squad)");
    }
  } else if (language.empty()) {
    language = "en";
  }

  Json document;
  try {
    document = Json::parse(file.bytes);
  } catch (const Json::parse_error& e) {
    const size_t before = std::min<size_t>(e.byte > 0 ? e.byte - 1 : 0, file.bytes.size());  // e.byte is 1-based
    const auto end = file.bytes.begin() + static_cast<std::ptrdiff_t>(before);
    const int64_t line = 1 + std::count(file.bytes.begin(), end, '\n');
    input_error(file.name, ":", line, ": not valid JSON (byte ", e.byte, "); expected SQuAD v1.1's layout "
                "{\"data\": [{\"paragraphs\": [...]}]}");
  }
  if (!document.is_object()) {
    input_error(file.name, ": expected a JSON object {\"data\": [...]} (SQuAD v1.1 layout), found ",
                document.type_name());
  }

  Dataset dataset;
  dataset.extractive_qa = true;
  dataset.answer_normalizer = mlqa ? "mlqa" : "squad";
  ReadReport& report = dataset.report;
  const bool renumber_allowed = is_xtreme_tydiqa_train(path);
  std::unordered_map<std::string, std::string> seen_ids;  // id -> where it first appears
  std::string repeated_id;                                // the first id seen twice (renumbered files)
  std::vector<int64_t> positions;                         // each example's 1-based question number
  std::string first_with, first_without;                  // where: the first question with answers / without

  const Json& articles = require_list(file, "top level", document, "data", "articles");
  for (size_t a = 0; a < articles.size(); ++a) {
    const std::string at_article = "data[" + std::to_string(a) + "]";
    require_object(file, at_article, articles[a], "an article");
    const Json& paragraphs = require_list(file, at_article, articles[a], "paragraphs", "paragraphs");
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string at_paragraph = at_index(at_article, "paragraphs", p);
      require_object(file, at_paragraph, paragraphs[p], "a paragraph");
      const std::string context = require_text(file, at_paragraph, paragraphs[p], "context", "the paragraph's text");
      const Json& qas = require_list(file, at_paragraph, paragraphs[p], "qas", "questions");
      std::u32string context_points;  // decoded when the first answer is checked
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string at_question = at_index(at_paragraph, "qas", q);
        require_object(file, at_question, qas[q], "a question");
        ++report.rows;
        const Json& question = qas[q];
        Example example;
        example.id = require_text(file, at_question, question, "id", "the question's id");
        const std::string at = at_question + " (question '" + example.id + "')";
        example.text_a = require_text(file, at, question, "question", "the question");
        if (const auto impossible = question.find("is_impossible"); impossible != question.end()) {
          if (!impossible->is_boolean()) {
            input_error(file.name, ": ", at, ": key 'is_impossible' is ", impossible->type_name(),
                        ", expected a boolean");
          }
          if (impossible->get<bool>()) {
            input_error(file.name, ": ", at, ": an unanswerable question (is_impossible: true): SQuAD 2.0's "
                        "unanswerable questions are not supported, only SQuAD v1.1's layout (every question answered)");
          }
        }
        const auto [id_at, fresh] = seen_ids.emplace(example.id, at_question);
        if (!fresh) {
          if (!renumber_allowed) {
            input_error(file.name, ": ", at, ": the id is also the id of ", id_at->second,
                        "; question ids must be unique in a file (predictions are keyed by them)");
          }
          if (repeated_id.empty()) repeated_id = example.id;
        }
        const Json& answers =
            require_list(file, at, question, "answers", "answers ([] in a file without gold answers)");

        // Labelled throughout or not at all.
        std::string& first_of_kind = answers.empty() ? first_without : first_with;
        if (first_of_kind.empty()) first_of_kind = at;
        if (!first_with.empty() && !first_without.empty()) {
          input_error(file.name, ": ", first_without, ": a question without answers, but ", first_with,
                      " has answers: a file is labelled throughout or not at all (XTREME's test files: "
                      "\"answers\": [] everywhere)");
        }

        if (!answers.empty() && context_points.empty()) {
          context_points = text::decode_utf8(context, file.name + ": " + at_paragraph + ".context");
        }
        for (size_t k = 0; k < answers.size(); ++k) {
          const std::string at_answer = at_index(at_question, "answers", k);
          Example::Answer answer;
          const std::string why = check_answer(answers[k], context_points, file.name + ": " + at_answer, answer);
          if (why.empty()) {
            example.answers.push_back(std::move(answer));
            continue;
          }
          ++report.skipped_malformed;
          note_skip(report, file, at_answer, "question '" + example.id + "': " + why + ": answer dropped");
        }
        if (!answers.empty() && example.answers.empty()) {
          ++report.skipped_malformed;
          note_skip(report, file, at_question,
                    "question '" + example.id + "': none of its " + std::to_string(answers.size()) +
                        " answers is a span of the context: question skipped");
          continue;
        }
        example.context = context;
        example.language = language;
        positions.push_back(report.rows);
        dataset.examples.push_back(std::move(example));
      }
    }
  }
  if (report.rows == 0) input_error(file.name, ": no questions (no paragraph has an entry in its 'qas' list)");
  if (dataset.examples.empty()) {
    input_error(file.name, ": no question has an answer that is a span of its context (", report.skipped_malformed,
                " answers and questions skipped; the first: ", report.notes.front(), ")");
  }
  dataset.labelled = !first_with.empty();
  close_skip_notes(report);
  if (!repeated_id.empty()) {
    const std::string name = file.path.filename().string();
    for (size_t i = 0; i < dataset.examples.size(); ++i) {
      dataset.examples[i].id = name + "#" + std::to_string(positions[i]);
    }
    report.notes.push_back(file.name + ": question ids repeat (e.g. '" + repeated_id + "'), as XTREME's "
                           "utils_preprocess.py writes its TyDiQA train files (it keeps only the last part of "
                           "TyDiQA's ids): ids replaced by " + name + "#<question number>");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace

Dataset read_squad(const fs::path& path, const ReadOptions& options) {
  return read_squad_family(path, options, /*mlqa=*/false);
}

Dataset read_mlqa(const fs::path& path, const ReadOptions& options) {
  return read_squad_family(path, options, /*mlqa=*/true);
}

}  // namespace stilts::tasks::detail
