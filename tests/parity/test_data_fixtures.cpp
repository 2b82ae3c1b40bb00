// Dataset readers on the real files under ../shared/fixtures/data (skipped when absent).
// Every figure below was checked outside stilts on the files themselves (wc -l, awk over the tab-separated
// columns, cmp of label columns); row counts are also recounted here from the raw bytes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "support/fixtures.h"
#include "tasks/datasets/dataset.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

fs::path data_dir() { return testing::fixtures_dir() / "data"; }

// Lines in the file, counted from its bytes (what `wc -l` says).
int64_t count_lines(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  const std::string text = bytes.str();
  return std::count(text.begin(), text.end(), '\n');
}

std::vector<int64_t> label_counts(const Dataset& d) {
  std::vector<int64_t> counts(d.label_names.size(), 0);
  for (const Example& e : d.examples) ++counts.at(static_cast<size_t>(e.label));
  return counts;
}

// PAWS-X x-final dev/test: placeholder rows (a sentence is NS, ns or WL) and the labels of the kept rows,
// from awk over each file.
struct PawsxFigures {
  std::string language, file;
  int64_t placeholders, kept_0, kept_1;
};
const std::vector<PawsxFigures> kPawsx = {
    {"de", "dev_2k.tsv", 68, 1101, 831}, {"de", "test_2k.tsv", 32, 1073, 895},
    {"en", "dev_2k.tsv", 0, 1137, 863},  {"en", "test_2k.tsv", 0, 1093, 907},
    {"es", "dev_2k.tsv", 38, 1115, 847}, {"es", "test_2k.tsv", 1, 1092, 907},
    {"fr", "dev_2k.tsv", 8, 1132, 860},  {"fr", "test_2k.tsv", 14, 1083, 903},
    {"ja", "dev_2k.tsv", 20, 1126, 854}, {"ja", "test_2k.tsv", 55, 1063, 882},
    {"ko", "dev_2k.tsv", 36, 1124, 840}, {"ko", "test_2k.tsv", 28, 1076, 896},
    {"zh", "dev_2k.tsv", 17, 1130, 853}, {"zh", "test_2k.tsv", 25, 1081, 894},
};

TEST(DataFixtures, PawsxSevenLanguagesDevAndTest) {
  STILTS_REQUIRE_SHARED("data/pawsx");
  for (const PawsxFigures& f : kPawsx) {
    SCOPED_TRACE(f.language + "/" + f.file);
    const fs::path path = data_dir() / "pawsx" / f.language / f.file;
    const Dataset d = read_dataset(path, "pawsx");
    EXPECT_EQ(d.report.rows, count_lines(path) - 1);  // minus the header
    EXPECT_EQ(d.report.rows, 2000);
    EXPECT_EQ(d.report.skipped_placeholder, f.placeholders);
    EXPECT_EQ(d.report.skipped_malformed, 0);
    EXPECT_EQ(d.report.kept, d.report.rows - f.placeholders);
    EXPECT_EQ(static_cast<int64_t>(d.examples.size()), d.report.kept);
    EXPECT_THAT(label_counts(d), ElementsAre(f.kept_0, f.kept_1));
    for (const Example& e : d.examples) {
      ASSERT_EQ(e.language, f.language);
      ASSERT_NE(e.text_a, "NS");
      ASSERT_NE(*e.text_b, "NS");
    }
    if (f.placeholders > 0) {
      ASSERT_FALSE(d.report.notes.empty());
      EXPECT_THAT(d.report.notes[0], HasSubstr("untranslated placeholder"));
    }
  }
}

// PAWS-Wiki (English, no header, CRLF) reads as "pawsx": the same four columns by position. PAWS-X's
// English dev and test rows are PAWS-Wiki dev rows with the same ids, sentences and labels.
TEST(DataFixtures, PawsWikiAndPawsxEnglishAgree) {
  STILTS_REQUIRE_SHARED("data/paws-wiki");
  STILTS_REQUIRE_SHARED("data/pawsx");
  const Dataset dev = read_dataset(data_dir() / "paws-wiki" / "dev.tsv", "pawsx");
  const Dataset test = read_dataset(data_dir() / "paws-wiki" / "test.tsv", "pawsx");
  EXPECT_EQ(dev.report.rows, count_lines(data_dir() / "paws-wiki" / "dev.tsv"));
  EXPECT_EQ(dev.report.kept, 8000);
  EXPECT_EQ(test.report.kept, 8000);
  EXPECT_EQ(dev.report.skipped_placeholder + dev.report.skipped_malformed, 0);
  EXPECT_THAT(label_counts(dev), ElementsAre(4461, 3539));
  EXPECT_THAT(label_counts(test), ElementsAre(4464, 3536));
  EXPECT_EQ(dev.examples[0].id, "1");
  EXPECT_EQ(dev.examples[0].language, "en");
  std::map<std::string, const Example*> by_id;
  for (const Example& e : dev.examples) by_id[e.id] = &e;
  for (const std::string file : {"dev_2k.tsv", "test_2k.tsv"}) {
    const Dataset en = read_dataset(data_dir() / "pawsx" / "en" / file, "pawsx");
    int64_t matched = 0;
    for (const Example& e : en.examples) {
      const auto it = by_id.find(e.id);
      if (it != by_id.end() && it->second->text_a == e.text_a && it->second->text_b == e.text_b &&
          it->second->label == e.label) {
        ++matched;
      }
    }
    EXPECT_EQ(matched, 2000) << file;
  }
}

TEST(DataFixtures, XnliFifteenLanguages) {
  STILTS_REQUIRE_SHARED("data/xnli");
  const std::vector<std::string> languages = {"ar", "bg", "de", "el", "en", "es", "fr", "hi",
                                              "ru", "sw", "th", "tr", "ur", "vi", "zh"};
  for (const auto& [split, rows] : std::vector<std::pair<std::string, int64_t>>{{"dev", 2490}, {"test", 5010}}) {
    std::map<std::string, std::vector<int64_t>> labels_by_language;
    for (const std::string& language : languages) {
      SCOPED_TRACE(split + "-" + language);
      const fs::path path = data_dir() / "xnli" / (split + "-" + language + ".tsv");
      const Dataset d = read_dataset(path, "xnli");
      EXPECT_EQ(d.report.rows, count_lines(path));  // no header
      EXPECT_EQ(d.report.rows, rows);
      EXPECT_EQ(d.report.kept, rows);
      EXPECT_THAT(d.label_names, ElementsAre("entailment", "neutral", "contradiction"));
      EXPECT_THAT(label_counts(d), ElementsAre(rows / 3, rows / 3, rows / 3));
      EXPECT_EQ(d.examples.front().language, language);
      EXPECT_EQ(d.examples.back().language, language);
      // Every language file carries the same labels row by row (checked with cut -f3 | cmp).
      for (const Example& e : d.examples) labels_by_language[language].push_back(e.label);
    }
    for (const std::string& language : languages) {
      EXPECT_EQ(labels_by_language[language], labels_by_language["en"]) << split << "-" << language;
    }
  }
  const Dataset en = read_dataset(data_dir() / "xnli" / "dev-en.tsv", "xnli");
  EXPECT_EQ(en.examples[0].text_a, "And he said, Mama, I'm home.");
  EXPECT_EQ(en.examples[0].text_b, "He called his mom as soon as the school bus dropped him off.");
  EXPECT_EQ(en.examples[0].label, 1);  // neutral
}

TEST(DataFixtures, Sst2) {
  STILTS_REQUIRE_SHARED("data/sst2");
  const std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> splits = {
      {"train.tsv", 60614, 26786, 33828}, {"dev.tsv", 6735, 2994, 3741}, {"test.tsv", 872, 428, 444}};
  for (const auto& [file, rows, negative, positive] : splits) {
    SCOPED_TRACE(file);
    const fs::path path = data_dir() / "sst2" / file;
    const Dataset d = read_dataset(path, "glue-sst2");
    EXPECT_EQ(d.report.rows, count_lines(path) - 1);
    EXPECT_EQ(d.report.kept, rows);
    EXPECT_FALSE(d.pairs);
    EXPECT_THAT(label_counts(d), ElementsAre(negative, positive));
  }
  const Dataset test = read_dataset(data_dir() / "sst2" / "test.tsv", "glue-sst2");
  EXPECT_EQ(test.examples[0].text_a, "it 's a charming and often affecting journey . ");
  EXPECT_EQ(test.examples[0].label, 1);
}

TEST(DataFixtures, Stsb) {
  STILTS_REQUIRE_SHARED("data/stsb");
  const fs::path dev_path = data_dir() / "stsb" / "dev.tsv";
  const Dataset dev = read_dataset(dev_path, "glue-stsb");
  EXPECT_TRUE(dev.regression);
  EXPECT_EQ(dev.report.rows, count_lines(dev_path) - 1);
  EXPECT_EQ(dev.report.kept, 1500);
  double sum = 0.0, low = 5.0, high = 0.0;
  for (const Example& e : dev.examples) {
    sum += e.score;
    low = std::min(low, e.score);
    high = std::max(high, e.score);
  }
  EXPECT_NEAR(sum, 3545.8613333333, 1e-6);  // Python: sum(float(row[9]))
  EXPECT_EQ(low, 0.0);
  EXPECT_EQ(high, 5.0);
  EXPECT_EQ(dev.examples[0].text_a, "A man with a hard hat is dancing.");
  EXPECT_DOUBLE_EQ(dev.examples[1].score, 4.75);
  // The fixture's test.tsv is GLUE's unlabelled test file (9 columns, no score), whatever the README says.
  try {
    read_dataset(data_dir() / "stsb" / "test.tsv", "glue-stsb");
    ADD_FAILURE() << "stsb/test.tsv has no scores and should not read";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("the file has no labels (no 'score' column"));
  }
}

TEST(DataFixtures, MrpcOriginalFiles) {
  STILTS_REQUIRE_SHARED("data/mrpc");
  const std::vector<std::tuple<std::string, int64_t, int64_t, int64_t>> splits = {
      {"msr_paraphrase_train.txt", 4076, 1323, 2753}, {"msr_paraphrase_test.txt", 1725, 578, 1147}};
  for (const auto& [file, rows, negative, positive] : splits) {
    SCOPED_TRACE(file);
    const fs::path path = data_dir() / "mrpc" / file;
    const Dataset d = read_dataset(path, "mrpc");
    // These copies start with the BOM but lack MSR's header line: every line is a row.
    EXPECT_EQ(d.report.rows, count_lines(path));
    EXPECT_EQ(d.report.kept, rows);
    EXPECT_THAT(label_counts(d), ElementsAre(negative, positive));
    ASSERT_EQ(d.report.notes.size(), 1u);
    EXPECT_THAT(d.report.notes[0], HasSubstr("no header line"));
  }
  const Dataset train = read_dataset(data_dir() / "mrpc" / "msr_paraphrase_train.txt", "mrpc");
  EXPECT_EQ(train.examples[0].id, "702876-702977");
  EXPECT_EQ(train.examples[0].label, 1);
  EXPECT_EQ(train.examples[0].text_a.substr(0, 30), "Amrozi accused his brother, wh");
}

}  // namespace
}  // namespace stilts::tasks
