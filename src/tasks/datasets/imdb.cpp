// IMDB (Maas et al. 2011, aclImdb_v1): `path` is aclImdb/train or aclImdb/test, holding pos/ and neg/ with
// one review per <id>_<rating>.txt. Labels neg = 0, pos = 1 (HF's imdb order). Examples come neg then pos,
// each folder sorted by numeric id (then name), so the order never depends on the file system.
// Reviews are kept verbatim, "<br />" line breaks included (HF does the same); train/unsup/ is ignored.
#include <algorithm>
#include <cstdlib>

#include "common/error.h"
#include "common/files.h"
#include "tasks/datasets/readers.h"

namespace stilts::tasks::detail {

namespace fs = std::filesystem;

namespace {

// Sort key: the numeric id before '_' when there is one, then the name.
struct ReviewFile {
  long long id = -1;
  std::string name;
  fs::path path;
  bool operator<(const ReviewFile& other) const {
    return id != other.id ? id < other.id : name < other.name;
  }
};

std::vector<ReviewFile> list_reviews(const fs::path& dir) {
  std::vector<ReviewFile> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".txt") continue;
    ReviewFile file;
    file.name = entry.path().filename().string();
    file.path = entry.path();
    char* end = nullptr;
    const long long id = std::strtoll(file.name.c_str(), &end, 10);
    if (end != file.name.c_str() && *end == '_') file.id = id;
    files.push_back(std::move(file));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

Dataset read_imdb(const fs::path& path, const ReadOptions& options) {
  require_directory(path, "IMDB reviews (aclImdb/train or aclImdb/test with pos/ and neg/)");
  const std::vector<std::string> label_names = {"neg", "pos"};
  for (const auto& label : label_names) {
    if (!fs::is_directory(path / label)) {
      input_error(path.string(), ": no '", label, "' folder; point at aclImdb/train or aclImdb/test (each holds "
                  "pos/ and neg/)", fs::is_directory(path / "train") ? ", not at aclImdb itself" : "");
    }
  }
  Dataset dataset;
  dataset.label_names = label_names;
  const std::string language = options.language.empty() ? "en" : options.language;
  int64_t with_breaks = 0;
  for (size_t label = 0; label < label_names.size(); ++label) {
    for (const ReviewFile& review : list_reviews(path / label_names[label])) {
      std::string text = read_file(review.path);
      check_utf8(text, review.path.string());
      while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
      if (text.find("<br />") != std::string::npos) ++with_breaks;
      Example example;
      example.id = label_names[label] + "/" + review.path.stem().string();
      example.text_a = std::move(text);
      example.label = static_cast<int64_t>(label);
      example.language = language;
      dataset.examples.push_back(std::move(example));
    }
    if (dataset.examples.empty() || (label == 1 && dataset.examples.back().label != 1)) {
      input_error((path / label_names[label]).string(), ": no review files (*.txt)");
    }
  }
  dataset.report.rows = dataset.report.kept = static_cast<int64_t>(dataset.examples.size());
  if (with_breaks > 0) {
    dataset.report.notes.push_back(path.string() + ": " + std::to_string(with_breaks) +
                                   " reviews contain HTML '<br />' line breaks, kept verbatim");
  }
  return dataset;
}

}  // namespace stilts::tasks::detail
