// Token tagging in XTREME's files (UD-POS, PAN-X) and raw WikiANN/PAN-X: one word a line, a blank line
// after each sentence, one example a sentence.
//
//  - xtreme-tagging: `token<TAB>TAG` ({train,dev,test}-<lang>.tsv, as utils_preprocess.py writes them).
//    XTREME strips the tags from its test files: a file whose lines hold only the token is read for
//    prediction (labelled = false, empty word_labels); a file mixing both kinds of line is an error.
//    The tag set is ReadOptions.label_names when given. Otherwise it is fixed whenever the tags allow it,
//    so that train, dev and test files of one task (which need not all hold every tag) share ids:
//    upos_tags() when every tag is a UPOS tag, panx_tags() when every tag is a PAN-X tag (the two sets
//    share no tag), else the distinct tags sorted bytewise. An unlabelled file has ReadOptions.label_names
//    (possibly none): its tags are the model's to predict.
//  - panx: raw PAN-X / WikiANN (Rahimi et al.'s splits, the files in XTREME's AmazonPhotos.zip):
//    `<lang>:token<TAB>TAG`, every split tagged. The prefix is cut off the token (which is then trimmed of
//    spaces, as XTREME's panx_preprocess does) and is the sentence's language; one sentence holds one
//    language. Tags map through panx_tags(). ReadOptions.language keeps only the sentences in it.
// Tokens are kept verbatim otherwise (XTREME's files hold zero-width joiners and the like inside tokens).
#include <algorithm>
#include <map>

#include "common/error.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks {

const std::vector<std::string>& panx_tags() {
  static const std::vector<std::string> tags = {"B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"};
  return tags;
}

namespace detail {

namespace fs = std::filesystem;

namespace {

// A sentence before its tags become ids.
struct PendingSentence {
  int64_t line = 0;  // of its first word
  std::vector<std::string> words;
  std::vector<std::string> tags;
};

// The tab-separated fields of a line.
std::vector<std::string_view> split_tabs(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t start = 0;
  for (;;) {
    const size_t tab = text.find('\t', start);
    fields.push_back(text.substr(start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
    if (tab == std::string_view::npos) return fields;
    start = tab + 1;
  }
}

bool all_in(const std::map<std::string, int64_t>& tags, const std::vector<std::string>& set) {
  const LabelSet labels(set);
  for (const auto& [tag, line] : tags) {
    if (!labels.find(tag)) return false;
  }
  return true;
}

std::string_view trim_spaces(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\v\f");
  if (begin == std::string_view::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\v\f") - begin + 1);
}

// A raw PAN-X language prefix: lowercase ASCII letters and '-' (WikiANN has codes like zh-yue, bat-smg).
bool is_language_code(std::string_view code) {
  if (code.empty()) return false;
  for (char c : code) {
    if ((c < 'a' || c > 'z') && c != '-') return false;
  }
  return true;
}

}  // namespace

Dataset read_xtreme_tagging(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  std::string language = options.language;
  if (language.empty()) {
    if (const auto xtreme = parse_xtreme_name(path)) language = xtreme->language;
  }
  if (language.empty()) {
    input_error(file.name, ": cannot tell the language from the file name (XTREME names files "
                "{train,dev,test}-<lang>.tsv): rename it or set the language option");
  }

  std::vector<PendingSentence> sentences;
  std::map<std::string, int64_t> tag_lines;  // each distinct tag -> the first line it is on
  std::optional<bool> tagged;                // whether the file's lines carry tags (set by its first word)
  int64_t first_word_line = 0;
  PendingSentence sentence;
  LineReader reader(file);
  int64_t line = 0;
  std::string_view text;
  while (reader.next(line, text)) {
    if (text.empty()) {
      if (!sentence.words.empty()) sentences.push_back(std::move(sentence));
      sentence = PendingSentence();
      continue;
    }
    const std::vector<std::string_view> fields = split_tabs(text);
    if (fields.size() > 2) {
      input_error(file.name, ":", line, ": expected `token<TAB>tag` (or only the token, in XTREME's test files), "
                  "found ", fields.size(), " tab-separated fields");
    }
    if (fields[0].empty()) input_error(file.name, ":", line, ": empty token");
    const bool has_tag = fields.size() == 2;
    if (!tagged) {
      tagged = has_tag;
      first_word_line = line;
    } else if (*tagged != has_tag) {
      input_error(file.name, ":", line, ": ", has_tag ? "a tagged line" : "a token without a tag", ", but line ",
                  first_word_line, has_tag ? " has no tag" : " has one",
                  ": a file is tagged throughout (train, dev) or not at all (XTREME's test files)");
    }
    if (has_tag) {
      if (fields[1].empty()) input_error(file.name, ":", line, ": empty tag after the tab");
      tag_lines.emplace(fields[1], line);
      sentence.tags.emplace_back(fields[1]);
    }
    if (sentence.words.empty()) sentence.line = line;
    sentence.words.emplace_back(fields[0]);
  }
  if (!sentence.words.empty()) sentences.push_back(std::move(sentence));
  if (sentences.empty()) input_error(file.name, ": no sentences");

  Dataset dataset;
  dataset.tagging = true;
  dataset.labelled = *tagged;
  std::vector<std::string> names = options.label_names;
  if (names.empty() && dataset.labelled) {
    if (all_in(tag_lines, upos_tags())) {
      names = upos_tags();
    } else if (all_in(tag_lines, panx_tags())) {
      names = panx_tags();
    } else {
      for (const auto& [tag, first] : tag_lines) names.push_back(tag);  // std::map: sorted bytewise
    }
  }
  const LabelSet labels(names);
  for (const auto& [tag, first] : tag_lines) labels.require(file, first, tag);
  dataset.label_names = labels.names();

  dataset.examples.reserve(sentences.size());
  for (PendingSentence& s : sentences) {
    std::vector<int64_t> ids;
    ids.reserve(s.tags.size());
    for (const std::string& tag : s.tags) ids.push_back(*labels.find(tag));
    dataset.examples.push_back(tagged_example(file, s.line, language, std::move(s.words), std::move(ids)));
  }
  dataset.report.rows = dataset.report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

Dataset read_panx(const fs::path& path, const ReadOptions& options) {
  const TextFile file = load_text_file(path);
  const LabelSet labels(panx_tags());
  Dataset dataset;
  dataset.tagging = true;
  dataset.label_names = labels.names();
  ReadReport& report = dataset.report;

  std::vector<std::string> languages_seen;
  std::string language;
  int64_t first_line = 0;
  std::vector<std::string> words;
  std::vector<int64_t> ids;
  auto close_sentence = [&] {
    if (words.empty()) return;
    ++report.rows;
    if (std::find(languages_seen.begin(), languages_seen.end(), language) == languages_seen.end()) {
      languages_seen.push_back(language);
    }
    if (options.language.empty() || language == options.language) {
      dataset.examples.push_back(tagged_example(file, first_line, language, std::move(words), std::move(ids)));
    }
    words.clear();
    ids.clear();
  };

  LineReader reader(file);
  int64_t line = 0;
  std::string_view text;
  while (reader.next(line, text)) {
    if (text.empty()) {
      close_sentence();
      continue;
    }
    const std::vector<std::string_view> fields = split_tabs(text);
    if (fields.size() != 2) {
      input_error(file.name, ":", line, ": expected `<lang>:token<TAB>tag` (raw PAN-X), found ", fields.size(),
                  " tab-separated field", fields.size() == 1 ? "" : "s");
    }
    const size_t colon = fields[0].find(':');
    const std::string_view code = colon == std::string_view::npos ? std::string_view() : fields[0].substr(0, colon);
    if (!is_language_code(code)) {
      input_error(file.name, ":", line, ": token '", fields[0], "' has no '<lang>:' prefix (raw PAN-X writes "
                  "en:word; XTREME's processed {split}-{lang}.tsv files, without it, are format xtreme-tagging)");
    }
    const std::string_view word = trim_spaces(fields[0].substr(colon + 1));
    if (word.empty()) input_error(file.name, ":", line, ": empty token after '", code, ":'");
    if (words.empty()) {
      language = code;
      first_line = line;
    } else if (code != language) {
      input_error(file.name, ":", line, ": language '", code, "' inside a sentence in '", language,
                  "' (it starts on line ", first_line, "; is a blank line missing?)");
    }
    words.emplace_back(word);
    ids.push_back(labels.require(file, line, fields[1]));
  }
  close_sentence();

  if (report.rows == 0) input_error(file.name, ": no sentences");
  if (dataset.examples.empty()) {
    input_error(file.name, ": no sentences in language '", options.language, "' (languages in the file: ",
                join(languages_seen), ")");
  }
  report.kept = static_cast<int64_t>(dataset.examples.size());
  return dataset;
}

}  // namespace detail
}  // namespace stilts::tasks
