// Tagging and multiple-choice readers on the real XTREME-R files under ../shared/fixtures/data/xtreme-r
// (skipped when absent). Every figure was counted outside stilts on the files themselves (awk and a short
// Python script over the CoNLL-U, TSV and JSONL lines); the readers are also checked against each other:
// XTREME's processed UD-POS files against the UD treebanks they were made from, and raw PAN-X (written
// here from XTREME's processed file, as XTREME's panx_preprocess would read it) against that file.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "common/error.h"
#include "support/fixtures.h"
#include "tasks/datasets/dataset.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;


int64_t word_count(const Dataset& d) {
  int64_t words = 0;
  for (const Example& e : d.examples) {
    EXPECT_EQ(e.words.size(), e.word_labels.size()) << e.id;
    words += static_cast<int64_t>(e.words.size());
  }
  return words;
}

bool ends_with(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Words per tag name.
std::map<std::string, int64_t> tag_counts(const Dataset& d) {
  std::map<std::string, int64_t> counts;
  for (const Example& e : d.examples) {
    for (int64_t id : e.word_labels) ++counts[d.label_names.at(static_cast<size_t>(id))];
  }
  return counts;
}

std::vector<int64_t> label_counts(const Dataset& d) {
  std::vector<int64_t> counts(d.label_names.size(), 0);
  for (const Example& e : d.examples) ++counts.at(static_cast<size_t>(e.label));
  return counts;
}

// Sentences [begin, begin + count) of `a` equal all of `b`'s, word for word and tag for tag.
void expect_same_sentences(const Dataset& a, size_t begin, const Dataset& b) {
  ASSERT_EQ(a.label_names, b.label_names);
  ASSERT_LE(begin + b.examples.size(), a.examples.size());
  for (size_t i = 0; i < b.examples.size(); ++i) {
    const Example& x = a.examples[begin + i];
    const Example& y = b.examples[i];
    ASSERT_EQ(x.words, y.words) << x.id << " vs " << y.id;
    ASSERT_EQ(x.word_labels, y.word_labels) << x.id << " vs " << y.id;
  }
}

// ---- UD-POS ----

TEST(XtremeRReaders, UdEnglishEwtTestAndDev) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/udpos/UD_English-EWT-r2.5");
  const fs::path dir = testing::xtreme_r_dir() / "udpos" / "UD_English-EWT-r2.5";
  const Dataset test = read_dataset(dir / "en_ewt-ud-test.conllu", "conllu");
  EXPECT_TRUE(test.tagging);
  EXPECT_EQ(test.label_names, upos_tags());
  EXPECT_EQ(test.report.rows, 2077);
  EXPECT_EQ(test.report.skipped_placeholder, 0);
  ASSERT_EQ(test.examples.size(), 2077u);
  EXPECT_EQ(word_count(test), 25096);  // its one empty node (24.1 on line 9420) is not a word
  const Example& first = test.examples[0];
  EXPECT_EQ(first.id, "en_ewt-ud-test.conllu:4");
  EXPECT_EQ(first.language, "en");
  EXPECT_EQ(first.text_a, "What if Google Morphed Into GoogleOS ?");
  EXPECT_THAT(first.word_labels, ElementsAre(10, 13, 11, 15, 1, 11, 12));  // PRON SCONJ PROPN VERB ADP PROPN PUNCT
  EXPECT_EQ(test.examples.back().id, "en_ewt-ud-test.conllu:31624");
  const std::map<std::string, int64_t> expected = {
      {"ADJ", 1691},  {"ADP", 2020}, {"ADV", 1226},  {"AUX", 1504},  {"CCONJ", 738}, {"DET", 1896},
      {"INTJ", 120},  {"NOUN", 4127}, {"NUM", 536},  {"PART", 630},  {"PRON", 2158}, {"PROPN", 2075},
      {"PUNCT", 3106}, {"SCONJ", 386}, {"SYM", 100}, {"VERB", 2644}, {"X", 139}};
  EXPECT_EQ(tag_counts(test), expected);

  const Dataset dev = read_dataset(dir / "en_ewt-ud-dev.conllu", "conllu");
  EXPECT_EQ(dev.examples.size(), 2002u);
  EXPECT_EQ(word_count(dev), 25148);
}

TEST(XtremeRReaders, UdGermanGsdMultiWordTokensReadAsTheirWords) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/udpos/UD_German-GSD-r2.5");
  const Dataset d = read_dataset(testing::xtreme_r_dir() / "udpos" / "UD_German-GSD-r2.5" / "de_gsd-ud-test.conllu", "conllu");
  EXPECT_EQ(d.examples.size(), 977u);
  EXPECT_EQ(word_count(d), 16498);  // 274 multi-word token lines skipped, their words kept
  const Example& s2 = d.examples.at(1);
  EXPECT_EQ(s2.id, "de_gsd-ud-test.conllu:18");
  EXPECT_EQ(s2.language, "de");
  ASSERT_GT(s2.words.size(), 20u);
  // "im" (line 36, range 19-20) is read as its words "in" (ADP) and "dem" (DET).
  EXPECT_THAT(std::vector<std::string>(s2.words.begin() + 17, s2.words.begin() + 21),
              ElementsAre("noch", "in", "dem", "selben"));
  EXPECT_THAT(std::vector<int64_t>(s2.word_labels.begin() + 18, s2.word_labels.begin() + 20), ElementsAre(1, 5));
}

// XTREME's test-en.tsv joins every English v2.5 treebank, EWT first; dev-en.tsv likewise.
TEST(XtremeRReaders, XtremeUdposEnglishEqualsEwt) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/udpos");
  const fs::path ud = testing::xtreme_r_dir() / "udpos" / "UD_English-EWT-r2.5";
  const fs::path xtreme = testing::xtreme_r_dir() / "udpos" / "xtreme_processed_2020";
  const Dataset test = read_dataset(xtreme / "test-en.tsv", "xtreme-tagging");
  EXPECT_TRUE(test.labelled);
  EXPECT_EQ(test.label_names, upos_tags());
  EXPECT_EQ(test.examples.size(), 5440u);
  EXPECT_EQ(word_count(test), 84970);
  EXPECT_EQ(test.examples[0].id, "test-en.tsv:1");
  EXPECT_EQ(test.examples[0].language, "en");
  EXPECT_EQ(test.examples[2077].id, "test-en.tsv:27174");  // the first sentence after EWT's
  expect_same_sentences(test, 0, read_dataset(ud / "en_ewt-ud-test.conllu", "conllu"));
  expect_same_sentences(read_dataset(xtreme / "dev-en.tsv", "xtreme-tagging"), 0,
                        read_dataset(ud / "en_ewt-ud-dev.conllu", "conllu"));
}

// test-zh.tsv: Chinese CFL (451 sentences), then GSD (500), then the rest.
TEST(XtremeRReaders, XtremeUdposChineseHoldsGsd) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/udpos");
  const Dataset gsd = read_dataset(testing::xtreme_r_dir() / "udpos" / "UD_Chinese-GSD-r2.5" / "zh_gsd-ud-test.conllu", "conllu");
  EXPECT_EQ(gsd.examples.size(), 500u);
  EXPECT_EQ(word_count(gsd), 12012);
  EXPECT_EQ(gsd.examples[0].language, "zh");
  const Dataset test = read_dataset(testing::xtreme_r_dir() / "udpos" / "xtreme_processed_2020" / "test-zh.tsv", "xtreme-tagging");
  expect_same_sentences(test, 451, gsd);
  EXPECT_NE(test.examples[450].words, gsd.examples[0].words);
}

struct TaggingFigures {
  std::string task, file;
  int64_t sentences, words;
};
const std::vector<TaggingFigures> kTagging = {
    {"udpos", "dev-en.tsv", 3974, 62632},   {"udpos", "test-ar.tsv", 1680, 44952},
    {"udpos", "test-bg.tsv", 1116, 15724},  {"udpos", "test-el.tsv", 456, 10422},
    {"udpos", "test-en.tsv", 5440, 84970},  {"udpos", "test-es.tsv", 3147, 86988},
    {"udpos", "test-fr.tsv", 5009, 79620},  {"udpos", "test-hi.tsv", 2684, 59259},
    {"udpos", "test-ru.tsv", 8976, 158356}, {"udpos", "test-th.tsv", 1000, 22322},
    {"udpos", "test-tr.tsv", 4785, 42843},  {"udpos", "test-ur.tsv", 535, 14806},
    {"udpos", "test-vi.tsv", 800, 11955},   {"udpos", "test-zh.tsv", 3455, 62569},
    {"panx", "dev-de.tsv", 10000, 97805},   {"panx", "dev-en.tsv", 10000, 80536},
    {"panx", "test-ar.tsv", 10000, 64347},  {"panx", "test-bg.tsv", 10000, 83463},
    {"panx", "test-de.tsv", 10000, 97646},  {"panx", "test-el.tsv", 10000, 90666},
    {"panx", "test-en.tsv", 10000, 80326},  {"panx", "test-es.tsv", 10000, 64727},
    {"panx", "test-fr.tsv", 10000, 68754},  {"panx", "test-hi.tsv", 1000, 6005},
    {"panx", "test-ru.tsv", 10000, 71288},  {"panx", "test-sw.tsv", 1000, 5786},
    {"panx", "test-tr.tsv", 10000, 75731},  {"panx", "test-ur.tsv", 1000, 5027},
    {"panx", "test-vi.tsv", 10000, 64967},  {"panx", "test-zh.tsv", 10000, 207505},
};

TEST(XtremeRReaders, XtremeTaggingFilesCountsAndFixedTagLists) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/udpos");
  STILTS_REQUIRE_SHARED("data/xtreme-r/panx");
  for (const TaggingFigures& f : kTagging) {
    SCOPED_TRACE(f.task + "/" + f.file);
    const Dataset d = read_dataset(testing::xtreme_r_dir() / f.task / "xtreme_processed_2020" / f.file, "xtreme-tagging");
    EXPECT_TRUE(d.labelled);  // the early-2020 files keep their test tags
    EXPECT_EQ(d.label_names, f.task == "udpos" ? upos_tags() : panx_tags());
    EXPECT_EQ(d.report.rows, f.sentences);
    EXPECT_EQ(static_cast<int64_t>(d.examples.size()), f.sentences);
    EXPECT_EQ(word_count(d), f.words);
    EXPECT_EQ(d.examples.back().language, f.file.substr(f.file.size() - 6, 2));
  }
}

TEST(XtremeRReaders, PanxEnglishTestTagsAndRawFormRoundTrip) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/panx");
  const fs::path path = testing::xtreme_r_dir() / "panx" / "xtreme_processed_2020" / "test-en.tsv";
  const Dataset d = read_dataset(path, "xtreme-tagging");
  ASSERT_EQ(d.examples.size(), 10000u);
  const std::map<std::string, int64_t> expected = {{"B-LOC", 4657}, {"B-ORG", 4745}, {"B-PER", 4556}, {"I-LOC", 6447},
                                                   {"I-ORG", 11607}, {"I-PER", 7480}, {"O", 40834}};
  EXPECT_EQ(tag_counts(d), expected);
  EXPECT_EQ(d.examples[0].text_a.substr(0, 25), "Shortly afterward , an en");

  // The raw form panx_preprocess reads: "en:" before each token (the real raw file is not available).
  std::ifstream in(path, std::ios::binary);
  const fs::path raw = testing::make_temp_dir() / "en-test";
  std::ofstream out(raw, std::ios::binary);
  std::string line;
  while (std::getline(in, line)) out << (line.empty() ? "" : "en:") << line << '\n';
  out.close();
  const Dataset r = read_dataset(raw, "panx");
  EXPECT_EQ(r.report.rows, 10000);
  EXPECT_EQ(r.examples[0].language, "en");
  EXPECT_EQ(r.examples[9999].id, "en-test:" + d.examples[9999].id.substr(std::string("test-en.tsv:").size()));
  expect_same_sentences(r, 0, d);
}

// ---- XCOPA, COPA, SIQA ----

const std::vector<std::string> kXcopaLanguages = {"et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"};

TEST(XtremeRReaders, XcopaElevenLanguagesValAndTest) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/xcopa/data");
  for (const std::string folder : {"data", "data-gmt"}) {
    for (const std::string& language : kXcopaLanguages) {
      if (folder == "data-gmt" && language == "qu") continue;  // no translate-test for Quechua
      SCOPED_TRACE(folder + "/" + language);
      const fs::path dir = testing::xtreme_r_dir() / "xcopa" / folder / language;
      const Dataset test = read_dataset(dir / ("test." + language + ".jsonl"), "xcopa");
      EXPECT_TRUE(test.multiple_choice);
      EXPECT_TRUE(test.labelled);
      EXPECT_EQ(test.report.rows, 500);
      EXPECT_THAT(label_counts(test), ElementsAre(250, 250));
      const Dataset val = read_dataset(dir / ("val." + language + ".jsonl"), "xcopa");
      EXPECT_EQ(val.report.rows, 100);
      EXPECT_THAT(label_counts(val), ElementsAre(55, 45));
      for (const Dataset* d : {&test, &val}) {
        for (const Example& e : d->examples) {
          ASSERT_EQ(e.language, language);
          ASSERT_EQ(e.choices.size(), 2u);
          ASSERT_TRUE(ends_with(e.text_a, " What was the cause?") || ends_with(e.text_a, " What was the effect?"))
              << e.text_a;
        }
      }
    }
  }
  const Dataset et = read_dataset(testing::xtreme_r_dir() / "xcopa" / "data" / "et" / "test.et.jsonl", "xcopa");
  EXPECT_EQ(et.examples[0].text_a, "Ese oli mullikilesse mässitud. What was the cause?");
  EXPECT_THAT(et.examples[0].choices, ElementsAre("See oli õrn.", "See oli väike."));
  EXPECT_EQ(et.examples[0].label, 0);
}

TEST(XtremeRReaders, CopaEnglishTrainValAndXtremeBlankedTest) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/xcopa/xtreme_copa_en");
  const fs::path dir = testing::xtreme_r_dir() / "xcopa" / "xtreme_copa_en";
  const Dataset train = read_dataset(dir / "train-en.jsonl", "copa");
  EXPECT_EQ(train.report.rows, 400);
  EXPECT_THAT(label_counts(train), ElementsAre(195, 205));
  EXPECT_EQ(train.examples[0].text_a, "My body cast a shadow over the grass. What was the cause?");
  EXPECT_THAT(train.examples[0].choices, ElementsAre("The sun was rising.", "The grass was cut."));
  EXPECT_EQ(train.examples[0].language, "en");
  const Dataset val = read_dataset(dir / "val-en.jsonl", "copa");
  EXPECT_EQ(val.report.rows, 100);
  EXPECT_THAT(label_counts(val), ElementsAre(55, 45));
  // XTREME's English test file: every label 0 (withheld) — read for prediction.
  const Dataset test = read_dataset(dir / "test-en.jsonl", "copa");
  EXPECT_EQ(test.report.rows, 500);
  EXPECT_FALSE(test.labelled);
  for (const Example& e : test.examples) ASSERT_EQ(e.label, -1);
  ASSERT_EQ(test.report.notes.size(), 1u);
  EXPECT_THAT(test.report.notes[0], HasSubstr("every label is 0"));
}

TEST(XtremeRReaders, SocialIqaDevAndTest) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/siqa");
  const Dataset dev = read_dataset(testing::xtreme_r_dir() / "siqa" / "socialIQa_v1.4_dev.jsonl", "siqa");
  EXPECT_TRUE(dev.multiple_choice);
  EXPECT_TRUE(dev.labelled);
  EXPECT_EQ(dev.report.rows, 1954);
  EXPECT_THAT(label_counts(dev), ElementsAre(643, 654, 657));
  EXPECT_EQ(dev.examples[0].text_a,
            "Tracy didn't go home that evening and resisted Riley's attacks. What does Tracy need to do before this?");
  EXPECT_THAT(dev.examples[0].choices, ElementsAre("make a new plan", "Go home and see Riley", "Find somewhere to go"));
  EXPECT_EQ(dev.examples[0].label, 2);
  const Dataset test = read_dataset(testing::xtreme_r_dir() / "siqa" / "socialIQa_v1.4_tst.jsonl", "siqa");
  EXPECT_EQ(test.report.rows, 2224);
  EXPECT_THAT(label_counts(test), ElementsAre(720, 754, 750));
  for (const Example& e : test.examples) ASSERT_EQ(e.choices.size(), 3u);
}

}  // namespace
}  // namespace stilts::tasks
