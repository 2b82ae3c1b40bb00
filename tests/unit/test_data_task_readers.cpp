// Token-tagging (conllu, xtreme-tagging, panx) and multiple-choice (xcopa, copa, siqa) readers on small
// files the tests write: every rule and every error, expected values written by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "common/error.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "tasks/datasets/dataset.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using testing::read_error;
using testing::with_language;
const auto write = testing::write_data_file;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

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

// ---- xcopa / copa ----

const char* kXcopaRows =
    R"({"premise": "Ese oli mullikilesse mässitud.", "choice1": "See oli õrn.", "choice2": "See oli väike.", "question": "cause", "label": 0, "idx": 1, "changed": false})"
    "\n"
    "\n"
    R"({"premise": "Ma tühjendasin oma taskud.", "choice1": "Ma leidsin pileti.", "choice2": "Ma leidsin relva.", "question": "effect", "label": 1, "idx": 2, "changed": true, "extra": [1]})"
    "\r\n";

TEST(DataTaskReaders, XcopaPremiseAndQuestionPairedWithEachChoice) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "data" / "et" / "val.et.jsonl", kXcopaRows);
  const Dataset d = read_dataset(path, "xcopa");
  EXPECT_EQ(d.format, "xcopa");
  EXPECT_TRUE(d.multiple_choice);
  EXPECT_TRUE(d.labelled);
  EXPECT_FALSE(d.tagging);
  EXPECT_FALSE(d.pairs);
  EXPECT_THAT(d.label_names, ElementsAre("0", "1"));
  EXPECT_EQ(d.report.rows, 2);
  EXPECT_EQ(d.report.kept, 2);
  ASSERT_EQ(d.examples.size(), 2u);
  const Example& a = d.examples[0];
  EXPECT_EQ(a.id, "val.et.jsonl:1");
  EXPECT_EQ(a.text_a, "Ese oli mullikilesse mässitud. What was the cause?");
  EXPECT_THAT(a.choices, ElementsAre("See oli õrn.", "See oli väike."));
  EXPECT_EQ(a.label, 0);
  EXPECT_EQ(a.language, "et");
  EXPECT_FALSE(a.text_b.has_value());
  const Example& b = d.examples[1];
  EXPECT_EQ(b.id, "val.et.jsonl:3");
  EXPECT_EQ(b.text_a, "Ma tühjendasin oma taskud. What was the effect?");
  EXPECT_THAT(b.choices, ElementsAre("Ma leidsin pileti.", "Ma leidsin relva."));
  EXPECT_EQ(b.label, 1);
  // The same rows as copa, and the language option.
  const Dataset copa = read_dataset(path, "copa", with_language("xx"));
  EXPECT_EQ(copa.examples[1].text_a, b.text_a);
  EXPECT_EQ(copa.examples[1].language, "xx");
}

TEST(DataTaskReaders, CopaLanguagesFromFileNames) {
  const auto dir = testing::make_temp_dir();
  const std::string row =
      R"({"premise": "The man fell.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 1, "idx": 0})"
      "\n";
  EXPECT_EQ(read_dataset(write(dir / "train-en.jsonl", row), "copa").examples[0].language, "en");
  EXPECT_EQ(read_dataset(write(dir / "test.zh.jsonl", row), "xcopa").examples[0].language, "zh");
  EXPECT_EQ(read_dataset(write(dir / "val-qu.jsonl", row), "xcopa").examples[0].language, "qu");
  // SuperGLUE's names carry no language: COPA is English, XCOPA needs one.
  const auto superglue = write(dir / "COPA" / "val.jsonl", row);
  EXPECT_EQ(read_dataset(superglue, "copa").examples[0].language, "en");
  EXPECT_THAT(read_error(superglue, "xcopa"), HasSubstr("val.jsonl: cannot tell the language from the file name"));
  EXPECT_EQ(read_dataset(superglue, "xcopa", with_language("ht")).examples[0].language, "ht");
}

TEST(DataTaskReaders, CopaUnlabelledFiles) {
  const auto dir = testing::make_temp_dir();
  const std::string a = R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "effect", "idx": 0)";
  // SuperGLUE's test.jsonl: no label key.
  const Dataset test = read_dataset(write(dir / "COPA" / "test.jsonl", a + "}\n" + a + "}\n"), "copa");
  EXPECT_FALSE(test.labelled);
  EXPECT_EQ(test.examples[0].label, -1);
  EXPECT_EQ(test.examples[1].label, -1);
  EXPECT_THAT(test.report.notes, IsEmpty());
  EXPECT_THAT(read_error(write(dir / "mixed.jsonl", a + ", \"label\": 0}\n" + a + "}\n"), "copa"),
              HasSubstr("mixed.jsonl:2: a row without 'label', but line 1 has one"));
  EXPECT_THAT(read_error(write(dir / "mixed2.jsonl", a + "}\n" + a + ", \"label\": 0}\n"), "copa"),
              HasSubstr("mixed2.jsonl:2: a row with a 'label', but line 1 has none"));
  // XTREME's test-<lang>.jsonl: every label set to 0. Read as unlabelled, with a note.
  const std::string zeros = a + ", \"label\": 0}\n" + a + ", \"label\": 0}\n";
  const Dataset xtreme = read_dataset(write(dir / "test-et.jsonl", zeros), "xcopa");
  EXPECT_FALSE(xtreme.labelled);
  EXPECT_EQ(xtreme.examples[0].label, -1);
  ASSERT_EQ(xtreme.report.notes.size(), 1u);
  EXPECT_THAT(xtreme.report.notes[0], HasSubstr("test-et.jsonl: every label is 0, as XTREME's utils_preprocess.py"));
  // Not XTREME's test naming, or not all zeros: the labels are real.
  EXPECT_TRUE(read_dataset(write(dir / "test.et.jsonl", zeros), "xcopa").labelled);
  EXPECT_TRUE(read_dataset(write(dir / "val-et.jsonl", zeros), "xcopa").labelled);
  const Dataset real = read_dataset(write(dir / "test-id.jsonl", a + ", \"label\": 0}\n" + a + ", \"label\": 1}\n"), "xcopa");
  EXPECT_TRUE(real.labelled);
  EXPECT_EQ(real.examples[1].label, 1);
}

TEST(DataTaskReaders, CopaErrorsNameFileAndLine) {
  const auto dir = testing::make_temp_dir();
  const std::string good = R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 0})";
  auto error = [&](const std::string& name, const std::string& second) {
    return read_error(write(dir / (name + "-en.jsonl"), good + "\n" + second + "\n"), "copa");
  };
  EXPECT_THAT(error("train", R"({"choice1": "A.", "choice2": "B.", "question": "cause", "label": 0})"),
              HasSubstr("train-en.jsonl:2: no key 'premise' in the JSON object"));
  EXPECT_THAT(error("val", R"({"premise": "P.", "choice1": 1, "choice2": "B.", "question": "cause", "label": 0})"),
              HasSubstr("val-en.jsonl:2: key 'choice1' is number, expected a string"));
  EXPECT_THAT(error("test", R"({"premise": " ", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 0})"),
              HasSubstr("test-en.jsonl:2: key 'premise' is empty"));
  EXPECT_THAT(error("dev", R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "why", "label": 0})"),
              HasSubstr("dev-en.jsonl:2: question 'why' is neither 'cause' nor 'effect'"));
  EXPECT_THAT(error("a", R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 2})"),
              HasSubstr("a-en.jsonl:2: label 2 is not 0 or 1"));
  EXPECT_THAT(error("b", R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": "1"})"),
              HasSubstr("b-en.jsonl:2: label \"1\" is not 0 or 1"));
  EXPECT_THAT(error("c", R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 0, "idx": "7"})"),
              HasSubstr("c-en.jsonl:2: key 'idx' is string, expected an integer"));
  EXPECT_THAT(error("d", R"({"premise": "P.", "choice1": "A.", "choice2": "B.", "question": "cause", "label": 0, "changed": 0})"),
              HasSubstr("d-en.jsonl:2: key 'changed' is number, expected a boolean"));
  EXPECT_THAT(error("e", R"({"premise": "P.")"), HasSubstr("e-en.jsonl:2: not valid JSON"));
  EXPECT_THAT(error("f", R"(["P."])"), HasSubstr("f-en.jsonl:2: expected a JSON object, found array"));
  EXPECT_THAT(read_error(write(dir / "g-en.jsonl", "\n \n"), "copa"), HasSubstr("g-en.jsonl: file is empty"));
}

// ---- siqa ----

const char* kSiqaRows =
    R"({"context": "Tracy didn't go home that evening.", "question": "What does Tracy need to do before this?", "answerA": "make a new plan", "answerB": "Go home and see Riley", "answerC": "Find somewhere to go", "correct": "C"})"
    "\n"
    R"({"context": "Sydney felt bad afterwards.", "question": "How would you describe Sydney?", "answerA": "sympathetic", "answerB": "like a person who was unable to help", "answerC": "incredulous", "correct": "A"})"
    "\n";

TEST(DataTaskReaders, SiqaContextAndQuestionPairedWithEachAnswer) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "socialIQa_v1.4_dev.jsonl", kSiqaRows);
  const Dataset d = read_dataset(path, "siqa");
  EXPECT_TRUE(d.multiple_choice);
  EXPECT_TRUE(d.labelled);
  EXPECT_THAT(d.label_names, ElementsAre("A", "B", "C"));
  EXPECT_EQ(d.report.rows, 2);
  ASSERT_EQ(d.examples.size(), 2u);
  const Example& a = d.examples[0];
  EXPECT_EQ(a.id, "socialIQa_v1.4_dev.jsonl:1");
  EXPECT_EQ(a.text_a, "Tracy didn't go home that evening. What does Tracy need to do before this?");
  EXPECT_THAT(a.choices, ElementsAre("make a new plan", "Go home and see Riley", "Find somewhere to go"));
  EXPECT_EQ(a.label, 2);
  EXPECT_EQ(a.language, "en");
  EXPECT_EQ(d.examples[1].label, 0);
}

TEST(DataTaskReaders, SiqaSeparateLabelsFile) {
  const auto dir = testing::make_temp_dir();
  const std::string row =
      R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c"})"
      "\n";
  const auto path = write(dir / "dev.jsonl", row + row + row);
  const Dataset unlabelled = read_dataset(path, "siqa");
  EXPECT_FALSE(unlabelled.labelled);
  EXPECT_EQ(unlabelled.examples[0].label, -1);
  EXPECT_EQ(unlabelled.examples[0].text_a, "C. Q?");
  ReadOptions options;
  options.labels_file = write(dir / "dev-labels.lst", "2\n3\r\n1\n").string();
  const Dataset d = read_dataset(path, "siqa", options);
  EXPECT_TRUE(d.labelled);
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[1].label, 2);
  EXPECT_EQ(d.examples[2].label, 0);
  options.labels_file = write(dir / "short.lst", "2\n3\n").string();
  EXPECT_THAT(read_error(path, "siqa", options), HasSubstr("short.lst: 2 labels for the 3 rows of"));
  options.labels_file = write(dir / "letters.lst", "2\nB\n1\n").string();
  EXPECT_THAT(read_error(path, "siqa", options), HasSubstr("letters.lst:2: label 'B' is not 1, 2 or 3"));
  options.labels_file = write(dir / "zero.lst", "0\n1\n1\n").string();
  EXPECT_THAT(read_error(path, "siqa", options), HasSubstr("zero.lst:1: label '0' is not 1, 2 or 3"));
  // Inline labels and a labels file must agree.
  const auto inline_path = write(dir / "inline.jsonl", kSiqaRows);
  options.labels_file = write(dir / "agree.lst", "3\n1\n").string();
  EXPECT_EQ(read_dataset(inline_path, "siqa", options).examples[0].label, 2);
  options.labels_file = write(dir / "disagree.lst", "3\n2\n").string();
  EXPECT_THAT(read_error(inline_path, "siqa", options),
              HasSubstr("disagree.lst:2: label 2 (B) disagrees with 'correct' A on "));
}

TEST(DataTaskReaders, SiqaErrors) {
  const auto dir = testing::make_temp_dir();
  const std::string good =
      R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c", "correct": "A"})";
  EXPECT_THAT(read_error(write(dir / "a.jsonl", good + "\n" +
                                                    R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b"})"
                                                    "\n"),
                         "siqa"),
              HasSubstr("a.jsonl:2: no key 'answerC'"));
  EXPECT_THAT(read_error(write(dir / "b.jsonl", good + "\n" +
                                                    R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c", "correct": "D"})"
                                                    "\n"),
                         "siqa"),
              HasSubstr("b.jsonl:2: label 'D' is not one of {A, B, C}"));
  EXPECT_THAT(read_error(write(dir / "c.jsonl", good + "\n" +
                                                    R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c", "correct": 1})"
                                                    "\n"),
                         "siqa"),
              HasSubstr("c.jsonl:2: key 'correct' is number, expected a string"));
  EXPECT_THAT(read_error(write(dir / "d.jsonl", good + "\n" +
                                                    R"({"context": "C.", "question": "Q?", "answerA": "a", "answerB": "b", "answerC": "c"})"
                                                    "\n"),
                         "siqa"),
              HasSubstr("d.jsonl:2: a row without 'correct', but line 1 has it"));
}

}  // namespace
}  // namespace stilts::tasks
