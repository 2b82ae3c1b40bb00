#include "eval/xtreme_score.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "eval/metrics.h"
#include "eval/python_text.h"
#include "eval/seqeval.h"
#include "eval/squad.h"

namespace stilts::eval {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keeps a file's key order, as Python's dicts do

namespace {

// ---- readers: evaluate.py's read_label, read_tag, read_squad, read_xcopa ----

// One label per line, stripped; blank lines count (they are lines to Python too).
struct LineFile {
  fs::path path;
  std::vector<std::string> lines;
};

LineFile read_lines(const fs::path& path) {
  LineFile f{path, py::read_text_lines(path)};
  for (std::string& line : f.lines) line = py::strip(line);
  return f;
}

// One tag per line (stripped); a blank line ends a sentence, even an empty one.
struct TagFile {
  fs::path path;
  TagSentences sentences;
  std::vector<size_t> first_lines;  // 1-based line of each sentence's first tag (or its blank line)
};

TagFile read_tags(const fs::path& path) {
  TagFile f{path, {}, {}};
  TagSentence sentence;
  size_t first_line = 0;
  const std::vector<std::string> lines = py::read_text_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string tag = py::strip(lines[i]);
    if (!tag.empty()) {
      if (sentence.empty()) first_line = i + 1;
      sentence.push_back(std::move(tag));
    } else {
      f.first_lines.push_back(sentence.empty() ? i + 1 : first_line);
      f.sentences.push_back(std::move(sentence));
      sentence.clear();
    }
  }
  if (!sentence.empty()) {
    f.sentences.push_back(std::move(sentence));
    f.first_lines.push_back(first_line);
  }
  return f;
}

Json parse_json(const std::string& text, const fs::path& path, size_t line_number = 0) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    const std::string what = e.what();
    const std::string reason = what.substr(what.find(':') + 2);
    if (line_number > 0) input_error(path.string(), ":", line_number, ": not valid JSON: ", reason);
    const size_t end = std::min(e.byte > 0 ? e.byte - 1 : 0, text.size());
    size_t line = 1;
    size_t column = 1;
    for (size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    input_error(path.string(), ":", line, ":", column, ": not valid JSON: ", reason);
  }
}

// read_squad: the whole document, or its "data" member when it has one.
struct JsonFile {
  fs::path path;
  Json doc;
};

JsonFile read_squad(const fs::path& path) {
  Json doc = parse_json(read_file(path), path);
  if (doc.is_object() && doc.contains("data")) doc = Json(doc.at("data"));
  return {path, std::move(doc)};
}

// The whole document as it is (LAReQA's layout has no "data" wrapper to unwrap).
JsonFile read_json(const fs::path& path) { return {path, parse_json(read_file(path), path)}; }

// read_xcopa: the "label" of every line, each line a JSON object.
struct JsonLabelFile {
  fs::path path;
  std::vector<Json> labels;
};

JsonLabelFile read_xcopa(const fs::path& path) {
  JsonLabelFile f{path, {}};
  const std::vector<std::string> lines = py::read_text_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const Json row = parse_json(lines[i], path, i + 1);
    if (!row.is_object() || !row.contains("label")) {
      input_error(path.string(), ":", i + 1, ": expected a JSON object with a \"label\" field");
    }
    f.labels.push_back(row.at("label"));
  }
  return f;
}

// ---- metrics: evaluate.py's accuracy, f1 (seqeval), bucc_f1, squad_em_f1, mlqa_em_f1, mewslix_map20 ----

void require_same_count(size_t gold, size_t predictions, const fs::path& gold_path,
                        const fs::path& predictions_path, const char* unit) {
  if (gold == predictions) return;
  input_error(predictions_path.string(), ": ", predictions, " ", unit, " but ", gold_path.string(), " has ",
              gold, " (one prediction per gold ", unit, ", line ", std::min(gold, predictions) + 1,
              " has no counterpart)");
}

double percent_accuracy(size_t correct, size_t total, const fs::path& path) {
  if (total == 0) input_error(path.string(), ": no examples to score");
  return static_cast<double>(correct) / static_cast<double>(total) * 100;  // accuracy * 100, as evaluate.py
}

NamedValues accuracy(const LineFile& gold, const LineFile& pred, const std::string&) {
  require_same_count(gold.lines.size(), pred.lines.size(), gold.path, pred.path, "lines");
  size_t correct = 0;
  for (size_t i = 0; i < gold.lines.size(); ++i) correct += pred.lines[i] == gold.lines[i] ? 1 : 0;
  return {{"accuracy", percent_accuracy(correct, pred.lines.size(), pred.path)}};
}

// Python's == on JSON values: numbers compare by value (true == 1), containers element by element.
bool python_equal(const Json& a, const Json& b) {
  const auto numeric = [](const Json& j) { return j.is_number() || j.is_boolean(); };
  if (numeric(a) && numeric(b)) {
    const auto integral = [](const Json& j) { return j.is_number_integer() || j.is_boolean(); };
    const auto as_int = [](const Json& j) { return j.is_boolean() ? Json(j.get<bool>() ? 1 : 0) : j; };
    if (integral(a) && integral(b)) return as_int(a) == as_int(b);
    const auto as_double = [](const Json& j) { return j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>(); };
    return as_double(a) == as_double(b);
  }
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!python_equal(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a.items()) {
      if (!b.contains(key) || !python_equal(value, b.at(key))) return false;
    }
    return true;
  }
  return a == b;
}

NamedValues label_accuracy(const JsonLabelFile& gold, const JsonLabelFile& pred, const std::string&) {
  require_same_count(gold.labels.size(), pred.labels.size(), gold.path, pred.path, "lines");
  size_t correct = 0;
  for (size_t i = 0; i < gold.labels.size(); ++i) correct += python_equal(pred.labels[i], gold.labels[i]) ? 1 : 0;
  return {{"accuracy", percent_accuracy(correct, pred.labels.size(), pred.path)}};
}

NamedValues seqeval_scores(const TagFile& gold, const TagFile& pred, const std::string&) {
  require_same_count(gold.sentences.size(), pred.sentences.size(), gold.path, pred.path,
                     "sentences (blank-line separated)");
  for (size_t i = 0; i < gold.sentences.size(); ++i) {
    if (gold.sentences[i].size() != pred.sentences[i].size()) {
      input_error(pred.path.string(), ":", pred.first_lines[i], ": sentence ", i + 1, " has ",
                  pred.sentences[i].size(), " tags but in ", gold.path.string(), ":", gold.first_lines[i],
                  " it has ", gold.sentences[i].size());
    }
  }
  const EntityScores s = entity_scores(pred.sentences, gold.sentences);
  return {{"f1", s.f1 * 100}, {"precision", s.precision * 100}, {"recall", s.recall * 100}};
}

NamedValues bucc_f1(const LineFile& gold, const LineFile& pred, const std::string&) {
  const std::set<std::string> gold_pairs(gold.lines.begin(), gold.lines.end());
  const std::set<std::string> pred_pairs(pred.lines.begin(), pred.lines.end());
  size_t correct = 0;
  for (const std::string& p : pred_pairs) correct += gold_pairs.count(p);
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  if (correct > 0) {
    precision = static_cast<double>(correct) / static_cast<double>(pred_pairs.size());
    recall = static_cast<double>(correct) / static_cast<double>(gold_pairs.size());
    f1 = 2 * precision * recall / (precision + recall);
  }
  return {{"f1", f1 * 100}, {"precision", precision * 100}, {"recall", recall * 100}};
}

std::string at_path(const fs::path& path, const std::string& where) { return path.string() + ": " + where; }

std::vector<QaQuestion> squad_questions(const JsonFile& gold) {
  const auto require = [&](bool ok, const std::string& where, const char* expected) {
    if (!ok) input_error(at_path(gold.path, where), ": expected ", expected, " (SQuAD v1.1 layout)");
  };
  std::vector<QaQuestion> questions;
  require(gold.doc.is_array(), "data", "a list of articles");
  for (size_t a = 0; a < gold.doc.size(); ++a) {
    const Json& article = gold.doc[a];
    const std::string at_article = "data[" + std::to_string(a) + "]";
    require(article.is_object() && article.contains("paragraphs") && article.at("paragraphs").is_array(),
            at_article, "an object with a \"paragraphs\" list");
    const Json& paragraphs = article.at("paragraphs");
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string at_paragraph = at_article + ".paragraphs[" + std::to_string(p) + "]";
      require(paragraphs[p].is_object() && paragraphs[p].contains("qas") && paragraphs[p].at("qas").is_array(),
              at_paragraph, "an object with a \"qas\" list");
      const Json& qas = paragraphs[p].at("qas");
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string at_qa = at_paragraph + ".qas[" + std::to_string(q) + "]";
        require(qas[q].is_object() && qas[q].contains("id") && qas[q].at("id").is_string(), at_qa,
                "an object with a string \"id\"");
        require(qas[q].contains("answers") && qas[q].at("answers").is_array(), at_qa, "an \"answers\" list");
        QaQuestion question{qas[q].at("id").get<std::string>(), {}};
        for (const Json& answer : qas[q].at("answers")) {
          require(answer.is_object() && answer.contains("text") && answer.at("text").is_string(),
                  at_qa + ".answers", "objects with a string \"text\"");
          question.answers.push_back(answer.at("text").get<std::string>());
        }
        questions.push_back(std::move(question));
      }
    }
  }
  return questions;
}

std::unordered_map<std::string, std::string> qa_predictions(const JsonFile& pred) {
  if (!pred.doc.is_object()) input_error(pred.path.string(), ": expected an object {question id: answer text}");
  std::unordered_map<std::string, std::string> answers;
  for (const auto& [id, text] : pred.doc.items()) {
    if (!text.is_string()) input_error(at_path(pred.path, "\"" + id + "\""), ": the answer must be a string");
    answers[id] = text.get<std::string>();
  }
  return answers;
}

NamedValues qa_scores(const JsonFile& gold, const JsonFile& pred, const AnswerNormalizer& normalizer) {
  const std::vector<QaQuestion> questions = squad_questions(gold);
  if (questions.empty()) input_error(gold.path.string(), ": no questions to score");
  const QaScores s = score_qa(questions, qa_predictions(pred), normalizer);
  return {{"exact_match", s.exact_match}, {"f1", s.f1}};
}

NamedValues squad_em_f1(const JsonFile& gold, const JsonFile& pred, const std::string&) {
  return qa_scores(gold, pred, AnswerNormalizer::squad());
}

NamedValues mlqa_em_f1(const JsonFile& gold, const JsonFile& pred, const std::string& language) {
  if (language.empty()) input_error("mlqa: scoring needs the answer language (--language)");
  return qa_scores(gold, pred, AnswerNormalizer::mlqa(language));
}

constexpr size_t kMewslixTopK = 20;

// utils_mewslix.evaluate: mean over gold mentions (in file order) of 1/rank of the gold entity among
// the first 20 predictions, 0 when absent or unpredicted.
NamedValues mewslix_map20(const JsonFile& gold, const JsonFile& pred, const std::string&) {
  if (!gold.doc.is_object()) input_error(gold.path.string(), ": expected an object {mention id: [entity id]}");
  if (!pred.doc.is_object()) {
    input_error(pred.path.string(), ": expected an object {mention id: [entity ids, best first]}");
  }
  std::vector<double> reciprocal_ranks;
  for (const auto& [id, labels] : gold.doc.items()) {
    if (!labels.is_array() || labels.empty() || !labels[0].is_string()) {
      input_error(at_path(gold.path, "\"" + id + "\""), ": expected a list holding the gold entity id");
    }
    const std::string entity = py::strip(labels[0].get<std::string>());
    double rr = 0;
    if (pred.doc.contains(id)) {
      const Json& ranked = pred.doc.at(id);
      if (!ranked.is_array()) input_error(at_path(pred.path, "\"" + id + "\""), ": expected a list of entity ids");
      for (size_t rank = 1; rank <= std::min(ranked.size(), kMewslixTopK); ++rank) {
        const Json& p = ranked[rank - 1];
        if (p.is_string() && p.get<std::string>() == entity) {
          rr = 1.0 / static_cast<double>(rank);
          break;
        }
      }
    }
    reciprocal_ranks.push_back(rr);
  }
  double sum = 0;
  for (double rr : reciprocal_ranks) sum += rr;
  const double mrr = reciprocal_ranks.empty() ? 0.0 : sum / static_cast<double>(reciprocal_ranks.size());
  return {{"map@20", mrr * 100}};
}

constexpr int64_t kLareqaTopK = 20;

// The list of strings given for question `id`; InputError naming the file and the question otherwise.
std::vector<std::string> string_list(const Json& value, const fs::path& path, const std::string& id,
                                     const char* what) {
  if (!value.is_array()) input_error(at_path(path, "\"" + id + "\""), ": expected a list of ", what);
  std::vector<std::string> out;
  for (const Json& item : value) {
    if (!item.is_string()) {
      input_error(at_path(path, "\"" + id + "\""), ": expected a list of ", what, ", found ", item.dump());
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// utils_lareqa.mean_avg_prec_at_k(k=20) over the gold file's questions, in its order (see the header).
NamedValues lareqa_map20(const JsonFile& gold, const JsonFile& pred, const std::string&) {
  if (!gold.doc.is_object()) {
    input_error(gold.path.string(), ": expected an object {question uid: [relevant candidate uids]}");
  }
  if (!pred.doc.is_object()) {
    input_error(pred.path.string(), ": expected an object {question uid: [candidate uids, best first]}");
  }
  if (gold.doc.empty()) input_error(gold.path.string(), ": no questions to score");
  double sum = 0;
  for (const auto& [id, labels] : gold.doc.items()) {
    const std::vector<std::string> relevant = string_list(labels, gold.path, id, "relevant candidate uids");
    if (relevant.empty()) {
      input_error(at_path(gold.path, "\"" + id + "\""),
                  ": no relevant candidate (AP@20 divides by their number; drop the question or add its answers)");
    }
    if (!pred.doc.contains(id)) continue;  // no ranking: AP 0
    sum += average_precision_at_k(string_list(pred.doc.at(id), pred.path, id, "candidate uids"), relevant,
                                        kLareqaTopK);
  }
  return {{"map@20", sum / static_cast<double>(gold.doc.size()) * 100}};
}

// READER_FUNCTION[task] then METRIC_FUNCTION[task], as evaluate_one_task does.
template <typename Data>
TaskScorer read_then(Data (*read)(const fs::path&),
                     NamedValues (*metric)(const Data& gold, const Data& predictions, const std::string& language)) {
  return [read, metric](const fs::path& gold, const fs::path& predictions, const std::string& language) {
    const Data p = read(predictions);
    const Data g = read(gold);
    return metric(g, p, language);
  };
}

template <typename T>
std::string join(const std::vector<T>& items, const std::string& separator) {
  std::ostringstream out;
  for (size_t i = 0; i < items.size(); ++i) out << (i > 0 ? separator : "") << items[i];
  return out.str();
}

std::vector<std::string> split_languages(const std::string& csv) {
  std::vector<std::string> out;
  std::stringstream in(csv);
  std::string item;
  while (std::getline(in, item, ',')) out.push_back(item);
  return out;
}

const std::vector<XtremeBenchmark>& benchmarks() {
  // evaluate.py's XTREME_TASK2LANGS / XTREME_R_TASK2LANGS and *_GROUP2TASK, in its order.
  static const std::vector<XtremeBenchmark> table = {
      {"xtreme",
       {
           {"pawsx", split_languages("de,en,es,fr,ja,ko,zh")},
           {"xnli", split_languages("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh")},
           {"panx", split_languages("ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,"
                                    "it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu")},
           {"udpos", split_languages("af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,"
                                     "nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh")},
           {"bucc2018", split_languages("de,fr,ru,zh")},
           {"tatoeba", split_languages("ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,"
                                       "pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu")},
           {"xquad", split_languages("en,es,de,el,ru,tr,ar,vi,th,zh,hi")},
           {"mlqa", split_languages("en,es,de,ar,hi,vi,zh")},
           {"tydiqa", split_languages("en,ar,bn,fi,id,ko,ru,sw,te")},
       },
       {
           {"classification", {"pawsx", "xnli"}},
           {"tagging", {"udpos", "panx"}},
           {"qa", {"xquad", "mlqa", "tydiqa"}},
           {"retrieval", {"bucc2018", "tatoeba"}},
       }},
      {"xtreme-r",
       {
           {"xnli", split_languages("ar,bg,de,el,en,es,fr,hi,ru,sw,th,tr,ur,vi,zh")},
           {"panx", split_languages("ar,he,vi,id,jv,ms,tl,eu,ml,ta,te,af,nl,en,de,el,bn,hi,mr,ur,fa,fr,"
                                    "it,pt,es,bg,ru,ja,ka,ko,th,sw,yo,my,zh,kk,tr,et,fi,hu,qu,pl,uk,az,"
                                    "lt,pa,gu,ro")},
           {"udpos", split_languages("af,ar,bg,de,el,en,es,et,eu,fa,fi,fr,he,hi,hu,id,it,ja,kk,ko,mr,"
                                     "nl,pt,ru,ta,te,th,tl,tr,ur,vi,yo,zh,lt,pl,uk,wo,ro")},
           {"tatoeba", split_languages("ar,he,vi,id,jv,tl,eu,ml,ta,te,af,nl,de,el,bn,hi,mr,ur,fa,fr,it,"
                                       "pt,es,bg,ru,ja,ka,ko,th,sw,zh,kk,tr,et,fi,hu,az,lt,pl,uk,ro")},
           {"xcopa", split_languages("et,ht,id,it,qu,sw,ta,th,tr,vi,zh")},
           // evaluate.py lists none for lareqa; these are XQuAD-R's (the LAReQA test set).
           {"lareqa", split_languages("ar,de,el,en,es,hi,ru,th,tr,vi,zh")},
           {"mewslix", split_languages("ar,de,en,es,fa,ja,pl,ro,ta,tr,uk")},
           {"xquad", split_languages("en,es,de,el,ru,tr,ar,vi,th,zh,hi,ro")},
           {"mlqa", split_languages("en,es,de,ar,hi,vi,zh")},
           {"tydiqa", split_languages("en,ar,bn,fi,id,ko,ru,sw,te")},
       },
       {
           {"classification", {"xnli", "xcopa"}},
           {"tagging", {"udpos", "panx"}},
           {"qa", {"xquad", "mlqa", "tydiqa"}},
           {"retrieval", {"tatoeba", "mewslix"}},
           {"multi_choice", {"xcopa"}},
       }},
  };
  return table;
}

bool in_group(const XtremeBenchmark& benchmark, const std::string& group, const std::string& task) {
  for (const XtremeGroup& g : benchmark.groups) {
    if (g.name == group) return std::find(g.tasks.begin(), g.tasks.end(), task) != g.tasks.end();
  }
  return false;
}

const NamedValues::value_type* find_value(const NamedValues& values, const std::string& name) {
  for (const auto& v : values) {
    if (v.first == name) return &v;
  }
  return nullptr;
}

// evaluate.py's per-task averaging: avg_<metric> over languages in order, then avg_metric.
void average(TaskResult& r, bool qa) {
  if (r.languages.empty()) return;
  for (const auto& [metric, value] : r.languages.front().metrics) r.metrics.push_back(metric);
  for (const std::string& metric : r.metrics) {
    double sum = 0;
    for (const LanguageScores& l : r.languages) {
      const auto* v = find_value(l.metrics, metric);
      STILTS_CHECK(v != nullptr, r.task, " ", l.language, " lacks ", metric);
      sum += v->second;
    }
    r.averages.emplace_back("avg_" + metric, sum / static_cast<double>(r.languages.size()));
  }
  const auto avg = [&](const char* name) { return find_value(r.averages, name); };
  if (qa) {
    STILTS_CHECK(avg("avg_exact_match") && avg("avg_f1"), r.task, ": QA task without exact_match and f1");
    r.avg_metric = (avg("avg_exact_match")->second + avg("avg_f1")->second) / 2;
  } else {
    for (const char* name : {"avg_f1", "avg_accuracy", "avg_map@20"}) {
      if (const auto* v = avg(name)) {
        r.avg_metric = v->second;
        break;
      }
    }
  }
  STILTS_CHECK(r.avg_metric.has_value(), r.task, ": no metric to average");
  r.averages.emplace_back("avg_metric", *r.avg_metric);
}

const TaskResult& task_result(const BenchmarkResult& result, const std::string& task) {
  for (const TaskResult& t : result.tasks) {
    if (t.task == task) return t;
  }
  throw InternalError("xtreme_score: task " + task + " is not in the result");
}

// What a task with stilts' own scorer measures, for the document and the table.
std::string own_scorer_note(const std::string& task) {
  STILTS_CHECK(task == "lareqa", "no note for task ", task);
  return "map@20 computed by stilts as xtreme's third_party/utils_lareqa.py mean_avg_prec_at_k (k=20); "
         "evaluate.py has no LAReQA scorer, so this and every score that includes it are not official";
}

// The unofficial tasks among `tasks` that `result` scored.
std::vector<std::string> unofficial_among(const BenchmarkResult& result, const std::vector<std::string>& tasks) {
  std::vector<std::string> out;
  for (const std::string& task : result.unofficial_tasks()) {
    if (std::find(tasks.begin(), tasks.end(), task) != tasks.end()) out.push_back(task);
  }
  return out;
}

std::string two_decimals(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

}  // namespace

const std::vector<XtremeTask>& xtreme_tasks() {
  // evaluate.py's READER_FUNCTION and METRIC_FUNCTION, with the file extension get_suffix gives.
  static const std::vector<XtremeTask> table = {
      {"pawsx", "tsv", read_then(read_lines, accuracy)},
      {"xnli", "tsv", read_then(read_lines, accuracy)},
      {"panx", "tsv", read_then(read_tags, seqeval_scores)},
      {"udpos", "tsv", read_then(read_tags, seqeval_scores)},
      {"bucc2018", "tsv", read_then(read_lines, bucc_f1)},
      {"tatoeba", "tsv", read_then(read_lines, accuracy)},
      {"xquad", "json", read_then(read_squad, squad_em_f1)},
      {"mewslix", "json", read_then(read_squad, mewslix_map20)},
      {"mlqa", "json", read_then(read_squad, mlqa_em_f1)},
      {"tydiqa", "json", read_then(read_squad, squad_em_f1)},
      {"xcopa", "jsonl", read_then(read_xcopa, label_accuracy)},
      {"lareqa", "json", read_then(read_json, lareqa_map20), /*official=*/false},
  };
  return table;
}

const XtremeTask& xtreme_task(std::string_view name) {
  std::vector<std::string> names;
  for (const XtremeTask& t : xtreme_tasks()) {
    if (t.name == name) return t;
    names.push_back(t.name);
  }
  input_error("unknown XTREME task '", name, "' (known: ", join(names, ", "), ")");
}

const XtremeBenchmark& xtreme_benchmark(std::string_view name) {
  for (const XtremeBenchmark& b : benchmarks()) {
    if (b.name == name) return b;
  }
  input_error("unknown benchmark '", name, "' (expected xtreme or xtreme-r)");
}

NamedValues score_task_files(std::string_view task, const fs::path& gold, const fs::path& predictions,
                             const std::string& language) {
  const XtremeTask& spec = xtreme_task(task);
  return spec.score(gold, predictions, language);
}

BenchmarkResult score_benchmark(std::string_view benchmark, const fs::path& labels_dir,
                                const fs::path& predictions_dir) {
  const XtremeBenchmark& bm = xtreme_benchmark(benchmark);
  require_directory(labels_dir, "gold labels in XTREME's layout <task>/test-<language>.<extension>");
  require_directory(predictions_dir, "predictions in XTREME's layout <task>/test-<language>.<extension>");
  BenchmarkResult result;
  result.benchmark = bm.name;
  for (const auto& [task, languages] : bm.task_languages) {
    const XtremeTask& spec = xtreme_task(task);
    TaskResult r;
    r.task = task;
    r.official = spec.official;
    for (const std::string& language : languages) {
      const std::string file = "test-" + language + "." + spec.extension;
      const fs::path pred = predictions_dir / task / file;
      const fs::path gold = labels_dir / task / file;
      std::error_code ec;
      const bool have_pred = fs::exists(pred, ec);
      const bool have_gold = fs::exists(gold, ec);
      if (!have_pred || !have_gold) {
        r.missing_languages.push_back(language);
        if (!have_pred) r.missing_files.push_back(pred);
        if (!have_gold) r.missing_files.push_back(gold);
        continue;
      }
      r.languages.push_back({language, spec.score(gold, pred, language)});
    }
    average(r, in_group(bm, "qa", task));
    result.tasks.push_back(std::move(r));
  }
  bool all_complete = true;
  double all_sum = 0;
  for (const TaskResult& t : result.tasks) {
    all_complete = all_complete && t.complete();
    if (t.complete()) all_sum += *t.avg_metric;
  }
  if (all_complete) result.all_task = all_sum / static_cast<double>(result.tasks.size());
  for (const XtremeGroup& g : bm.groups) {
    GroupResult group{g.name, g.tasks, std::nullopt};
    bool complete = true;
    double sum = 0;
    for (const std::string& task : g.tasks) {
      const TaskResult& t = task_result(result, task);
      complete = complete && t.complete();
      if (t.complete()) sum += *t.avg_metric;
    }
    if (complete) group.score = sum / static_cast<double>(g.tasks.size());
    result.groups.push_back(std::move(group));
  }
  return result;
}

std::vector<std::string> BenchmarkResult::unofficial_tasks() const {
  std::vector<std::string> out;
  for (const TaskResult& t : tasks) {
    if (!t.official && !t.languages.empty()) out.push_back(t.task);
  }
  return out;
}

Json to_json(const NamedValues& values) {
  Json out = Json::object();
  for (const auto& [name, value] : values) out[name] = value;
  return out;
}

Json to_evaluate_json(const BenchmarkResult& result) {
  Json doc = Json::object();
  if (result.all_task) doc["all_task"] = *result.all_task;
  for (const GroupResult& g : result.groups) {
    if (g.score) doc[g.name] = *g.score;
  }
  for (const TaskResult& t : result.tasks) {
    if (t.languages.empty()) continue;
    Json task = Json::object();
    for (const std::string& metric : t.metrics) {
      Json by_language = Json::object();
      for (const LanguageScores& l : t.languages) by_language[l.language] = find_value(l.metrics, metric)->second;
      task[metric] = std::move(by_language);
    }
    for (const auto& [name, value] : t.averages) task[name] = value;
    doc[t.task] = std::move(task);
  }
  const std::vector<std::string> own = result.unofficial_tasks();
  if (!own.empty()) {
    Json notes = Json::object();
    for (const std::string& task : own) notes[task] = own_scorer_note(task);
    doc["stilts_own_scorers"] = std::move(notes);
  }
  return doc;
}

std::vector<std::string> missing_report(const BenchmarkResult& result) {
  std::vector<std::string> lines;
  std::vector<std::string> incomplete;
  for (const TaskResult& t : result.tasks) {
    if (t.complete()) continue;
    incomplete.push_back(t.task);
    const size_t required = t.languages.size() + t.missing_languages.size();
    std::string line = t.task + ": " + std::to_string(t.missing_languages.size()) + " of " +
                       std::to_string(required) + " languages missing (" + join(t.missing_languages, " ") + ")";
    if (!t.missing_files.empty()) line += ", e.g. " + t.missing_files.front().string();
    lines.push_back(line);
  }
  for (const GroupResult& g : result.groups) {
    if (g.score) continue;
    std::vector<std::string> needed;
    for (const std::string& task : g.tasks) {
      if (!task_result(result, task).complete()) needed.push_back(task);
    }
    lines.push_back("group " + g.name + ": no score (incomplete: " + join(needed, " ") + ")");
  }
  if (!result.all_task) lines.push_back("all_task: no score (incomplete: " + join(incomplete, " ") + ")");
  return lines;
}

std::string format_task_scores(std::string_view task, const NamedValues& values) {
  std::ostringstream out;
  out << "====== " << task << " ======\n";
  for (const auto& [name, value] : values) out << name << ": " << two_decimals(value) << "\n";
  return out.str();
}

std::string format_benchmark(const BenchmarkResult& result) {
  std::ostringstream out;
  out << "====== " << result.benchmark << " overall ======\n";
  // A score that averages in a task stilts scored itself says so on its line.
  const auto own_mark = [&](const std::vector<std::string>& tasks) {
    const std::vector<std::string> own = unofficial_among(result, tasks);
    return own.empty() ? std::string() : "  (includes " + join(own, ", ") + ", scored by stilts, not evaluate.py)";
  };
  std::vector<std::string> all_tasks;
  for (const TaskResult& t : result.tasks) all_tasks.push_back(t.task);
  out << "all_task: " << (result.all_task ? two_decimals(*result.all_task) + own_mark(all_tasks) : "-") << "\n";
  for (const GroupResult& g : result.groups) {
    out << g.name << ": " << (g.score ? two_decimals(*g.score) + own_mark(g.tasks) : "-") << "\n";
  }
  // Per task as evaluate.py prints it: languages and values per metric, then the averages.
  for (const TaskResult& t : result.tasks) {
    if (t.languages.empty()) continue;
    out << "\n====== " << t.task << (t.complete() ? "" : " (incomplete)") << " ======\n";
    if (!t.official) out << "(" << own_scorer_note(t.task) << ")\n";
    for (const std::string& metric : t.metrics) {
      std::vector<std::string> languages;
      std::vector<std::string> values;
      for (const LanguageScores& l : t.languages) {
        languages.push_back(l.language);
        values.push_back(two_decimals(find_value(l.metrics, metric)->second));
      }
      out << "------ " << metric << " ------\n" << join(languages, ", ") << "\n" << join(values, ", ") << "\n";
    }
    for (const auto& [name, value] : t.averages) out << name.substr(4) << ": " << two_decimals(value) << "\n";
  }
  return out.str();
}

}  // namespace stilts::eval
