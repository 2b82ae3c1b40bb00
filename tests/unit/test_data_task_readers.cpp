// Token-tagging (conllu, xtreme-tagging, panx) readers on small files the tests write: every rule and
// every error, expected values written by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "support/fixtures.h"
#include "tasks/datasets/dataset.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

fs::path write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The InputError message of read_dataset (fails the test when nothing is thrown).
std::string read_error(const fs::path& path, const std::string& format, const ReadOptions& options = {}) {
  try {
    read_dataset(path, format, options);
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError reading " << path << " as " << format;
  return "";
}

ReadOptions with_language(const std::string& language) {
  ReadOptions options;
  options.language = language;
  return options;
}

// ---- label lists ----

TEST(DataTaskReaders, UposTagsInXtremeOrder) {
  EXPECT_THAT(upos_tags(), ElementsAre("ADJ", "ADP", "ADV", "AUX", "CCONJ", "DET", "INTJ", "NOUN", "NUM", "PART",
                                       "PRON", "PROPN", "PUNCT", "SCONJ", "SYM", "VERB", "X"));
}

TEST(DataTaskReaders, PanxTagsInXtremeOrder) {
  EXPECT_THAT(panx_tags(), ElementsAre("B-LOC", "B-ORG", "B-PER", "I-LOC", "I-ORG", "I-PER", "O"));
}

// ---- conllu ----

// Two sentences: comments, a multi-word token range, an empty node, CRLF line ends, no blank line at the end.
const char* kConllu =
    "# newdoc id = d1\n"                                                   // 1
    "# sent_id = s1\n"                                                     // 2
    "# text = Vamos al mar.\n"                                             // 3
    "1\tVamos\tir\tVERB\t_\t_\t0\troot\t_\t_\n"                            // 4
    "2-3\tal\t_\t_\t_\t_\t_\t_\t_\t_\n"                                    // 5: range, skipped
    "2\ta\ta\tADP\t_\t_\t4\tcase\t_\t_\n"                                  // 6
    "3\tel\tel\tDET\t_\t_\t4\tdet\t_\t_\n"                                 // 7
    "4\tmar\tmar\tNOUN\t_\t_\t1\tobl\t_\tSpaceAfter=No\n"                  // 8
    "4.1\tva\tir\tVERB\t_\t_\t_\t_\t1:conj\t_\n"                           // 9: empty node, skipped
    "5\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n"                               // 10
    "\n"                                                                   // 11
    "# sent_id = s2\r\n"                                                   // 12
    "1\tHola\thola\tINTJ\t_\t_\t0\troot\t_\t_\r\n"                         // 13
    "2\tNueva York\tNueva York\tPROPN\t_\t_\t1\tvocative\t_\t_\r\n";       // 14: a form with a space

TEST(DataTaskReaders, ConlluWordsTagsRangesEmptyNodesAndComments) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "es_ancora-ud-test.conllu", kConllu);
  const Dataset d = read_dataset(path, "conllu");
  EXPECT_EQ(d.format, "conllu");
  EXPECT_TRUE(d.tagging);
  EXPECT_TRUE(d.labelled);
  EXPECT_FALSE(d.pairs);
  EXPECT_FALSE(d.multiple_choice);
  EXPECT_EQ(d.label_names, upos_tags());
  EXPECT_EQ(d.report.rows, 2);
  EXPECT_EQ(d.report.kept, 2);
  ASSERT_EQ(d.examples.size(), 2u);
  const Example& a = d.examples[0];
  EXPECT_EQ(a.id, "es_ancora-ud-test.conllu:4");
  EXPECT_EQ(a.language, "es");
  EXPECT_THAT(a.words, ElementsAre("Vamos", "a", "el", "mar", "."));
  // VERB 15, ADP 1, DET 5, NOUN 7, PUNCT 12
  EXPECT_THAT(a.word_labels, ElementsAre(15, 1, 5, 7, 12));
  EXPECT_EQ(a.text_a, "Vamos a el mar .");
  EXPECT_EQ(a.label, -1);
  EXPECT_FALSE(a.text_b.has_value());
  const Example& b = d.examples[1];
  EXPECT_EQ(b.id, "es_ancora-ud-test.conllu:13");
  EXPECT_THAT(b.words, ElementsAre("Hola", "Nueva York"));  // no '\r', the space kept
  EXPECT_THAT(b.word_labels, ElementsAre(6, 11));           // INTJ, PROPN
  EXPECT_EQ(b.text_a, "Hola Nueva York");
}

TEST(DataTaskReaders, ConlluLanguageOptionAndThreeLetterCodes) {
  const auto dir = testing::make_temp_dir();
  const std::string one = "1\tx\tx\tX\t_\t_\t0\troot\t_\t_\n";
  EXPECT_EQ(read_dataset(write(dir / "qtd_sagt-ud-dev.conllu", one), "conllu").examples[0].language, "qtd");
  const auto unnamed = write(dir / "treebank.conllu", one);
  EXPECT_EQ(read_dataset(unnamed, "conllu", with_language("de")).examples[0].language, "de");
  EXPECT_THAT(read_error(unnamed, "conllu"), HasSubstr("treebank.conllu: cannot tell the language"));
  EXPECT_THAT(read_error(write(dir / "EN_ewt-ud-test.conllu", one), "conllu"), HasSubstr("cannot tell the language"));
}

TEST(DataTaskReaders, ConlluSkipsSentencesWithWithheldText) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "ar_nyuad-ud-test.conllu",
                          "1\t_\t_\tNOUN\t_\t_\t0\troot\t_\t_\n"   // 1: every form withheld
                          "2\t_\t_\tVERB\t_\t_\t1\tdep\t_\t_\n"
                          "\n"
                          "1\t_\t_\tNOUN\t_\t_\t0\troot\t_\t_\n"   // 4: all but one withheld
                          "2\t.\t.\tPUNCT\t_\t_\t1\tpunct\t_\t_\n"
                          "\n"
                          "1\t_\t_\tSYM\t_\t_\t0\troot\t_\t_\n"    // 7: one "_" of three words is real text
                          "2\tis\tbe\tAUX\t_\t_\t1\tcop\t_\t_\n"
                          "3\tfine\tfine\tADJ\t_\t_\t1\tdep\t_\t_\n");
  const Dataset d = read_dataset(path, "conllu");
  EXPECT_EQ(d.report.rows, 3);
  EXPECT_EQ(d.report.skipped_placeholder, 2);
  EXPECT_EQ(d.report.kept, 1);
  ASSERT_EQ(d.examples.size(), 1u);
  EXPECT_EQ(d.examples[0].id, "ar_nyuad-ud-test.conllu:7");
  EXPECT_THAT(d.examples[0].words, ElementsAre("_", "is", "fine"));
  ASSERT_EQ(d.report.notes.size(), 2u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("ar_nyuad-ud-test.conllu:1: word forms withheld"));
  EXPECT_THAT(d.report.notes[1], HasSubstr(":4: word forms withheld"));
  const auto all = write(dir / "ja_bccwj-ud-test.conllu", "1\t_\t_\tNOUN\t_\t_\t0\troot\t_\t_\n");
  EXPECT_THAT(read_error(all, "conllu"), HasSubstr("every one of its 1 sentences has its word forms withheld"));
}

TEST(DataTaskReaders, ConlluErrorsNameFileAndLine) {
  const auto dir = testing::make_temp_dir();
  const std::string good = "1\tA\ta\tDET\t_\t_\t2\tdet\t_\t_\n";
  auto error = [&](const std::string& name, const std::string& text) {
    return read_error(write(dir / (name + "_x-ud-test.conllu"), text), "conllu");
  };
  EXPECT_THAT(error("aa", good + "2\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\n"),
              HasSubstr("aa_x-ud-test.conllu:2: expected 10 tab-separated columns (CoNLL-U), found 9"));
  EXPECT_THAT(error("ab", good + "   \n"), HasSubstr("ab_x-ud-test.conllu:2: expected 10 tab-separated columns"));
  EXPECT_THAT(error("ac", good + "2\tdog\tdog\tNN\t_\t_\t0\troot\t_\t_\n"),
              HasSubstr("ac_x-ud-test.conllu:2: UPOS 'NN' is not a Universal Dependencies tag"));
  EXPECT_THAT(error("ad", good + "2\tdog\tdog\t_\t_\t_\t0\troot\t_\t_\n"), HasSubstr(":2: UPOS '_' is not"));
  EXPECT_THAT(error("ae", good + "3\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n"),
              HasSubstr("ae_x-ud-test.conllu:2: word ID 3 out of order (expected 2"));
  EXPECT_THAT(error("af", good + good), HasSubstr(":2: word ID 1 out of order (expected 2; is a blank line missing"));
  EXPECT_THAT(error("ag", good + "x\tdog\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n"), HasSubstr(":2: ID 'x' is not a word index"));
  EXPECT_THAT(error("ah", good + "3-2\tdog\t_\t_\t_\t_\t_\t_\t_\t_\n"), HasSubstr(":2: ID '3-2' is not a multi-word token range"));
  EXPECT_THAT(error("ai", good + "3-4\tdog\t_\t_\t_\t_\t_\t_\t_\t_\n"),
              HasSubstr(":2: multi-word token range 3-4 should start at word 2"));
  EXPECT_THAT(error("aj", good + "2-3\tdel\t_\t_\t_\t_\t_\t_\t_\t_\n2\tde\tde\tADP\t_\t_\t0\troot\t_\t_\n\n"),
              HasSubstr(":4: the sentence ends inside a multi-word token range"));
  EXPECT_THAT(error("ak", good + "1.x\tdog\t_\t_\t_\t_\t_\t_\t_\t_\n"), HasSubstr(":2: ID '1.x' is not an empty node"));
  EXPECT_THAT(error("al", good + "2\t\tdog\tNOUN\t_\t_\t0\troot\t_\t_\n"), HasSubstr(":2: empty FORM"));
  EXPECT_THAT(error("am", "# only a comment\n\n"), HasSubstr("am_x-ud-test.conllu: no sentences"));
}

// ---- xtreme-tagging ----

TEST(DataTaskReaders, XtremeTaggingUposTagsMapThroughTheFixedList) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "udpos" / "dev-de.tsv",
                          "Das\tDET\n"      // 1
                          "Haus\tNOUN\n"    // 2
                          "\n"
                          "\n"              // 4: two blank lines end one sentence
                          "Ja\tINTJ\r\n"    // 5
                          "!\tPUNCT");      // 6: no newline at the end
  const Dataset d = read_dataset(path, "xtreme-tagging");
  EXPECT_TRUE(d.tagging);
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.label_names, upos_tags());  // only 4 of the 17 tags occur
  EXPECT_EQ(d.report.rows, 2);
  EXPECT_EQ(d.report.kept, 2);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "dev-de.tsv:1");
  EXPECT_EQ(d.examples[0].language, "de");
  EXPECT_THAT(d.examples[0].words, ElementsAre("Das", "Haus"));
  EXPECT_THAT(d.examples[0].word_labels, ElementsAre(5, 7));
  EXPECT_EQ(d.examples[0].text_a, "Das Haus");
  EXPECT_EQ(d.examples[1].id, "dev-de.tsv:5");
  EXPECT_THAT(d.examples[1].words, ElementsAre("Ja", "!"));
  EXPECT_THAT(d.examples[1].word_labels, ElementsAre(6, 12));
}

TEST(DataTaskReaders, XtremeTaggingPanxAndOtherTagSets) {
  const auto dir = testing::make_temp_dir();
  const Dataset panx = read_dataset(write(dir / "train-en.tsv", "Ann\tB-PER\nsaw\tO\n\nOslo\tB-LOC\n"), "xtreme-tagging");
  EXPECT_EQ(panx.label_names, panx_tags());
  EXPECT_THAT(panx.examples[0].word_labels, ElementsAre(2, 6));
  EXPECT_THAT(panx.examples[1].word_labels, ElementsAre(0));
  // Neither set: the distinct tags sorted bytewise (upper case before lower case).
  const Dataset other = read_dataset(write(dir / "train-fr.tsv", "a\tb\nc\tNOUN\nd\tB-MISC\n"), "xtreme-tagging");
  EXPECT_THAT(other.label_names, ElementsAre("B-MISC", "NOUN", "b"));
  EXPECT_THAT(other.examples[0].word_labels, ElementsAre(2, 1, 0));
  // A token holding spaces stays one word.
  const Dataset spaced = read_dataset(write(dir / "dev-vi.tsv", "Hà Nội\tPROPN\nđẹp\tADJ\n"), "xtreme-tagging");
  EXPECT_THAT(spaced.examples[0].words, ElementsAre("Hà Nội", "đẹp"));
  EXPECT_EQ(spaced.examples[0].text_a, "Hà Nội đẹp");
}

TEST(DataTaskReaders, XtremeTaggingLabelNamesOption) {
  const auto dir = testing::make_temp_dir();
  ReadOptions options;
  options.label_names = {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"};  // HF wikiann order
  const auto path = write(dir / "dev-en.tsv", "Ann\tB-PER\nsaw\tO\n");
  const Dataset d = read_dataset(path, "xtreme-tagging", options);
  EXPECT_EQ(d.label_names, options.label_names);
  EXPECT_THAT(d.examples[0].word_labels, ElementsAre(1, 0));
  options.label_names = {"O", "B-PER"};
  const auto bad = write(dir / "test-en.tsv", "Ann\tB-PER\nin\tO\nOslo\tB-LOC\nand\tO\nBergen\tB-LOC\n");
  EXPECT_THAT(read_error(bad, "xtreme-tagging", options), HasSubstr("test-en.tsv:3: label 'B-LOC' is not one of {O, B-PER}"));
}

TEST(DataTaskReaders, XtremeTaggingStrippedTestFileIsUnlabelled) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "test-ja.tsv", "東京\nへ\n\n行く\n");
  const Dataset d = read_dataset(path, "xtreme-tagging");
  EXPECT_FALSE(d.labelled);
  EXPECT_TRUE(d.tagging);
  EXPECT_THAT(d.label_names, IsEmpty());
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_THAT(d.examples[0].words, ElementsAre("東京", "へ"));
  EXPECT_THAT(d.examples[0].word_labels, IsEmpty());
  EXPECT_EQ(d.examples[0].language, "ja");
  EXPECT_EQ(d.examples[1].id, "test-ja.tsv:4");
  ReadOptions options;
  options.label_names = upos_tags();
  EXPECT_EQ(read_dataset(path, "xtreme-tagging", options).label_names, upos_tags());
}

TEST(DataTaskReaders, XtremeTaggingErrors) {
  const auto dir = testing::make_temp_dir();
  EXPECT_THAT(read_error(write(dir / "test-en.tsv", "a\tDET\nb\n"), "xtreme-tagging"),
              HasSubstr("test-en.tsv:2: a token without a tag, but line 1 has one"));
  EXPECT_THAT(read_error(write(dir / "test-de.tsv", "a\n\nb\tNOUN\n"), "xtreme-tagging"),
              HasSubstr("test-de.tsv:3: a tagged line, but line 1 has no tag"));
  EXPECT_THAT(read_error(write(dir / "dev-en.tsv", "a\tDET\tx\n"), "xtreme-tagging"),
              HasSubstr("dev-en.tsv:1: expected `token<TAB>tag` (or only the token, in XTREME's test files), found 3"));
  EXPECT_THAT(read_error(write(dir / "dev-fr.tsv", "a\tDET\n\tNOUN\n"), "xtreme-tagging"), HasSubstr("dev-fr.tsv:2: empty token"));
  EXPECT_THAT(read_error(write(dir / "dev-es.tsv", "a\tDET\nb\t\n"), "xtreme-tagging"),
              HasSubstr("dev-es.tsv:2: empty tag after the tab"));
  const auto unnamed = write(dir / "pos.tsv", "a\tDET\n");
  EXPECT_THAT(read_error(unnamed, "xtreme-tagging"), HasSubstr("pos.tsv: cannot tell the language"));
  EXPECT_EQ(read_dataset(unnamed, "xtreme-tagging", with_language("sv")).examples[0].language, "sv");
  EXPECT_THAT(read_error(write(dir / "dev-it.tsv", "\n\n"), "xtreme-tagging"), HasSubstr("dev-it.tsv: file is empty"));
}

// ---- panx (raw) ----

TEST(DataTaskReaders, PanxRawStripsTheLanguagePrefix) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "en-dev",
                          "en:Shortly\tO\n"               // 1
                          "en:afterward\tO\n"             // 2
                          "en: Oslo \tB-LOC\n"            // 3: spaces trimmed, as XTREME's panx_preprocess does
                          "\n"
                          "zh-yue:http://x.hk\tB-ORG\r\n"  // 5: the first ':' ends the prefix
                          "zh-yue:Ltd\tI-ORG\r\n");
  const Dataset d = read_dataset(path, "panx");
  EXPECT_TRUE(d.tagging);
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.label_names, panx_tags());
  EXPECT_EQ(d.report.rows, 2);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "en-dev:1");
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_THAT(d.examples[0].words, ElementsAre("Shortly", "afterward", "Oslo"));
  EXPECT_THAT(d.examples[0].word_labels, ElementsAre(6, 6, 0));
  EXPECT_EQ(d.examples[1].id, "en-dev:5");
  EXPECT_EQ(d.examples[1].language, "zh-yue");
  EXPECT_THAT(d.examples[1].words, ElementsAre("http://x.hk", "Ltd"));
  EXPECT_THAT(d.examples[1].word_labels, ElementsAre(1, 4));
  // The language option keeps the sentences in that language.
  const Dataset zh = read_dataset(path, "panx", with_language("zh-yue"));
  ASSERT_EQ(zh.examples.size(), 1u);
  EXPECT_EQ(zh.report.rows, 2);
  EXPECT_EQ(zh.report.kept, 1);
  EXPECT_EQ(zh.examples[0].id, "en-dev:5");
  EXPECT_THAT(read_error(path, "panx", with_language("de")),
              HasSubstr("en-dev: no sentences in language 'de' (languages in the file: en, zh-yue)"));
}

TEST(DataTaskReaders, PanxRawErrors) {
  const auto dir = testing::make_temp_dir();
  EXPECT_THAT(read_error(write(dir / "a", "en:Oslo\tB-LOC\nOslo\tB-LOC\n"), "panx"),
              HasSubstr("a:2: token 'Oslo' has no '<lang>:' prefix"));
  EXPECT_THAT(read_error(write(dir / "b", "EN:Oslo\tB-LOC\n"), "panx"), HasSubstr("b:1: token 'EN:Oslo' has no '<lang>:' prefix"));
  EXPECT_THAT(read_error(write(dir / "c", "en:Oslo\n"), "panx"),
              HasSubstr("c:1: expected `<lang>:token<TAB>tag` (raw PAN-X), found 1 tab-separated field"));
  EXPECT_THAT(read_error(write(dir / "d", "en:Oslo\tB-GPE\n"), "panx"), HasSubstr("d:1: label 'B-GPE' is not one of {B-LOC"));
  EXPECT_THAT(read_error(write(dir / "e", "en:Oslo\tB-LOC\nde:ist\tO\n"), "panx"),
              HasSubstr("e:2: language 'de' inside a sentence in 'en' (it starts on line 1"));
  EXPECT_THAT(read_error(write(dir / "f", "en:Oslo\tB-LOC\nen: \tO\n"), "panx"), HasSubstr("f:2: empty token after 'en:'"));
}

}  // namespace
}  // namespace stilts::tasks
