// Dataset readers on small files the tests write: every format, layout and error.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
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

// ---- registry ----

TEST(DataReaders, FormatsListed) {
  EXPECT_THAT(dataset_formats(), ElementsAre("pawsx", "xnli", "glue-mnli", "glue-qqp", "glue-sst2", "glue-stsb",
                                             "mrpc", "imdb", "conllu", "xtreme-tagging", "panx", "xcopa", "copa",
                                             "siqa", "squad", "mlqa", "tatoeba", "lareqa", "mewslix",
                                             "mewslix-pairs", "lareqa-pairs", "retrieval-json", "tsv", "csv", "jsonl"));
}

TEST(DataReaders, UnknownFormatListsKnownOnes) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "a.tsv", "sentence1\tlabel\nx\t0\n");
  const std::string message = read_error(path, "paws");
  EXPECT_THAT(message, HasSubstr("unknown dataset format 'paws'"));
  EXPECT_THAT(message, HasSubstr("pawsx, xnli, glue-mnli, glue-qqp, glue-sst2, glue-stsb, mrpc, imdb, conllu, "
                                  "xtreme-tagging, panx, xcopa, copa, siqa, squad, mlqa, tatoeba, lareqa, mewslix, "
                                  "mewslix-pairs, lareqa-pairs, retrieval-json, tsv, csv, jsonl"));
}

// ---- PAWS-X ----

TEST(DataReaders, PawsxXFinalCountsAndSkipsPlaceholdersAndMalformedRows) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "x-final" / "de" / "dev_2k.tsv",
                          "id\tsentence1\tsentence2\tlabel\r\n"
                          "1\tEr sagte \"hallo.\tEr sagte hallo.\t1\r\n"  // line 2: a literal quote
                          "2\tNS\tEin Satz.\t0\r\n"                       // 3: placeholder
                          "3\tEin Satz.\tns\t0\r\n"                       // 4: placeholder
                          "4\tWL\tWL\t1\r\n"                              // 5: placeholder
                          "5\tnur zwei\t1\r\n"                            // 6: 3 columns
                          "6\tA\tB\t2\r\n"                                // 7: label 2
                          "7\t\tB\t0\r\n"                                 // 8: empty sentence
                          "8\tZweiter.\tSatz.\t0\r\n");                   // 9
  const Dataset d = read_dataset(path, "pawsx");
  EXPECT_EQ(d.format, "pawsx");
  EXPECT_TRUE(d.pairs);
  EXPECT_FALSE(d.regression);
  EXPECT_THAT(d.label_names, ElementsAre("0", "1"));
  EXPECT_EQ(d.report.rows, 8);
  EXPECT_EQ(d.report.kept, 2);
  EXPECT_EQ(d.report.skipped_placeholder, 3);
  EXPECT_EQ(d.report.skipped_malformed, 3);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "1");
  EXPECT_EQ(d.examples[0].text_a, "Er sagte \"hallo.");
  EXPECT_EQ(d.examples[0].text_b, "Er sagte hallo.");
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[0].language, "de");
  EXPECT_EQ(d.examples[1].id, "8");
  EXPECT_EQ(d.examples[1].text_b, "Satz.");  // no trailing '\r'
  EXPECT_EQ(d.examples[1].label, 0);
  ASSERT_EQ(d.report.notes.size(), 6u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("dev_2k.tsv:3: untranslated placeholder 'NS'"));
  EXPECT_THAT(d.report.notes[1], HasSubstr(":4: untranslated placeholder 'ns'"));
  EXPECT_THAT(d.report.notes[3], HasSubstr(":6: expected 4 columns, found 3"));
  EXPECT_THAT(d.report.notes[4], HasSubstr(":7: label '2' is not 0 or 1"));
  EXPECT_THAT(d.report.notes[5], HasSubstr(":8: empty sentence"));
}

TEST(DataReaders, PawsxNotesAreCappedWithACount) {
  const auto dir = testing::make_temp_dir();
  std::string text = "id\tsentence1\tsentence2\tlabel\n1\tA\tB\t1\n";
  for (int i = 0; i < 15; ++i) text += std::to_string(i + 2) + "\tNS\tB\t0\n";
  const Dataset d = read_dataset(write(dir / "ja" / "test_2k.tsv", text), "pawsx");
  EXPECT_EQ(d.report.skipped_placeholder, 15);
  ASSERT_EQ(d.report.notes.size(), 11u);
  EXPECT_THAT(d.report.notes.back(), HasSubstr("5 more skipped rows"));
  EXPECT_EQ(d.examples[0].language, "ja");
}

TEST(DataReaders, PawsxXtremeLayoutUnquotesCsvWriterFields) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev-fr.tsv",
                          "\"Il a dit \"\"oui\"\".\"\tIl a dit oui.\t1\n"
                          "Un.\tNS\t0\n"
                          "Deux.\tTrois.\t0\n");
  const Dataset d = read_dataset(path, "pawsx");
  EXPECT_EQ(d.report.rows, 3);
  EXPECT_EQ(d.report.skipped_placeholder, 1);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text_a, "Il a dit \"oui\".");
  EXPECT_EQ(d.examples[0].id, "dev-fr.tsv:1");
  EXPECT_EQ(d.examples[0].language, "fr");
  EXPECT_EQ(d.examples[1].id, "dev-fr.tsv:3");
}

TEST(DataReaders, PawsxXtremeTestFileHasNoLabels) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "test-ja.tsv", "A\tB\nC\tD\n");
  EXPECT_THAT(read_error(path, "pawsx"), HasSubstr("test-ja.tsv: the file has no labels"));
}

TEST(DataReaders, PawsWikiHeaderlessIsEnglishWithANote) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "paws-wiki" / "dev.tsv", "11\tA b .\tB a .\t0\r\n12\tC .\tC .\t1\r\n");
  const Dataset d = read_dataset(path, "pawsx");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[1].id, "12");
  EXPECT_EQ(d.examples[1].label, 1);
  EXPECT_EQ(d.examples[1].language, "en");
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("read as English"));
  // The language option overrides what the path implies.
  ReadOptions options;
  options.language = "xx";
  EXPECT_EQ(read_dataset(path, "pawsx", options).examples[0].language, "xx");
}

TEST(DataReaders, PawsxWithNoUsableRowIsAnError) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "ko" / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\tNS\tNS\t0\n");
  EXPECT_THAT(read_error(path, "pawsx"), HasSubstr("none of its 1 rows is usable (1 placeholders, 0 malformed)"));
}

// ---- XNLI ----

TEST(DataReaders, XnliXtremeLayout) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev-de.tsv",
                          "Er kam.\tEr ging.\tcontradiction\n"
                          "Er kam.\tEr war da.\tentailment\n"
                          "\"Zitat \"\"a\"\"\"\tEr kam.\tneutral\n");
  const Dataset d = read_dataset(path, "xnli");
  EXPECT_THAT(d.label_names, ElementsAre("entailment", "neutral", "contradiction"));
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].label, 2);
  EXPECT_EQ(d.examples[1].label, 0);
  EXPECT_EQ(d.examples[2].label, 1);
  EXPECT_EQ(d.examples[2].text_a, "Zitat \"a\"");
  EXPECT_EQ(d.examples[2].language, "de");
  EXPECT_EQ(d.report.rows, 3);
  EXPECT_EQ(d.report.kept, 3);
}

TEST(DataReaders, XnliLabelOutsideSetNamesFileLineLabelAndSet) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev-en.tsv", "a\tb\tneutral\na\tb\tcontradictory\na\tb\tmaybe\n");
  const std::string message = read_error(path, "xnli");
  EXPECT_THAT(message, HasSubstr("dev-en.tsv:3: label 'maybe' is not one of {entailment, neutral, contradiction}"));
}

TEST(DataReaders, XnliOriginalKeepsEveryLanguageOrFiltersOne) {
  const auto dir = testing::make_temp_dir();
  const std::string header =
      "language\tgold_label\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\tsentence2_parse\t"
      "sentence1\tsentence2\tpromptID\tpairID\tgenre\n";
  const auto path = write(dir / "xnli.dev.tsv",
                          header +
                              "en\tneutral\t\t\t\t\tHe said \"hi.\tHe spoke.\t1\t1a\tfiction\n"
                              "de\tentailment\t\t\t\t\tEr sagte.\tEr sprach.\t1\t1b\tfiction\n"
                              "en\tcontradiction\t\t\t\t\tA.\tB.\t2\t2a\tfiction\n");
  const Dataset all = read_dataset(path, "xnli");
  ASSERT_EQ(all.examples.size(), 3u);
  EXPECT_EQ(all.examples[0].text_a, "He said \"hi.");
  EXPECT_EQ(all.examples[0].id, "1a");
  EXPECT_EQ(all.examples[1].language, "de");
  EXPECT_EQ(all.examples[1].label, 0);
  ReadOptions only_en;
  only_en.language = "en";
  const Dataset en = read_dataset(path, "xnli", only_en);
  ASSERT_EQ(en.examples.size(), 2u);
  EXPECT_EQ(en.examples[1].label, 2);
  EXPECT_EQ(en.report.rows, 3);
  EXPECT_EQ(en.report.kept, 2);
  ReadOptions only_fr;
  only_fr.language = "fr";
  EXPECT_THAT(read_error(path, "xnli", only_fr), HasSubstr("no rows in language 'fr' (languages in the file: de, en)"));
}

TEST(DataReaders, XnliMtHeaderAndContradictory) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "multinli.train.de.tsv", "premise\thypo\tlabel\nA\tB\tcontradictory\nA\tC\tneutral\n");
  const Dataset d = read_dataset(path, "xnli");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].label, 2);
  EXPECT_EQ(d.examples[0].language, "de");
}

TEST(DataReaders, XnliErrors) {
  const auto dir = testing::make_temp_dir();
  EXPECT_THAT(read_error(write(dir / "test-en.tsv", "a\tb\nc\td\n"), "xnli"), HasSubstr("the file has no labels"));
  EXPECT_THAT(read_error(write(dir / "nli.tsv", "a\tb\tneutral\n"), "xnli"),
              HasSubstr("nli.tsv: cannot tell the language"));
  EXPECT_THAT(read_error(write(dir / "dev-es.tsv", "a\tb\tneutral\na\tneutral\n"), "xnli"),
              HasSubstr("dev-es.tsv:2: expected 3 tab-separated columns, found 2"));
  EXPECT_THAT(read_error(write(dir / "dev-it.tsv", "\"a\tb\tneutral\n"), "xnli"),
              HasSubstr("dev-it.tsv:1: quoted field is never closed"));
}

// ---- GLUE ----

const char* kMnliHeader =
    "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
    "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";

TEST(DataReaders, GlueMnliByColumnNameQuotesLiteralNoConsensusSkipped) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev_matched.tsv",
                          std::string(kMnliHeader) +
                              "0\t1\t1e\tgov\t( a )\t( b )\t(a)\t(b)\t\"Quoted start\tSecond.\tneutral\tneutral\n"
                              "1\t2\t2e\tgov\t( a )\t( b )\t(a)\t(b)\tA.\tB.\tneutral\t-\n"
                              "2\t3\t3e\tgov\t( a )\t( b )\t(a)\t(b)\tC.\tD.\tentailment\tentailment\n");
  const Dataset d = read_dataset(path, "glue-mnli");
  EXPECT_THAT(d.label_names, ElementsAre("entailment", "neutral", "contradiction"));
  EXPECT_EQ(d.report.rows, 3);
  EXPECT_EQ(d.report.kept, 2);
  EXPECT_EQ(d.report.skipped_placeholder, 1);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "1e");
  EXPECT_EQ(d.examples[0].text_a, "\"Quoted start");
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_EQ(d.examples[1].label, 0);
}

TEST(DataReaders, GlueMissingColumnNamesColumnAndFile) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "train.tsv", "sentence1\tgold_label\nA\tneutral\n");
  const std::string message = read_error(path, "glue-mnli");
  EXPECT_THAT(message, HasSubstr("train.tsv:1: no column 'sentence2'"));
  EXPECT_THAT(message, HasSubstr("columns: sentence1, gold_label"));
}

TEST(DataReaders, GlueWrongColumnCountIsAnError) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "train.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                             "1\t1\t2\tWhy?\tHow?\t0\n"
                                             "2\t3\t4\tWhy\tnot?\tHow?\t1\n");
  EXPECT_THAT(read_error(path, "glue-qqp"), HasSubstr("train.tsv:3: expected 6 tab-separated columns, found 7"));
}

TEST(DataReaders, GlueQqp) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                           "40\t1\t2\tWhy?\tHow?\t0\n"
                                           "41\t3\t4\tWho?\tWhom?\t1\n");
  const Dataset d = read_dataset(path, "glue-qqp");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[1].id, "41");
  EXPECT_EQ(d.examples[1].text_b, "Whom?");
  EXPECT_EQ(d.examples[1].label, 1);
  EXPECT_THAT(read_error(write(dir / "test.tsv", "id\tquestion1\tquestion2\n1\ta\tb\n"), "glue-qqp"),
              HasSubstr("test.tsv: the file has no labels (no 'is_duplicate' column"));
  EXPECT_THAT(read_error(write(dir / "bad.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
                                                "1\t1\t2\ta\tb\tyes\n"),
                         "glue-qqp"),
              HasSubstr("bad.tsv:2: label 'yes' is not one of {0, 1}"));
}

TEST(DataReaders, GlueSst2SingleSentence) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "train.tsv", "sentence\tlabel\nit 's a charming journey . \t1\nbleak \t0\n");
  const Dataset d = read_dataset(path, "glue-sst2");
  EXPECT_FALSE(d.pairs);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text_a, "it 's a charming journey . ");  // GLUE's trailing space kept
  EXPECT_FALSE(d.examples[0].text_b.has_value());
  EXPECT_EQ(d.examples[0].id, "train.tsv:2");
  EXPECT_EQ(d.examples[1].label, 0);
  EXPECT_THAT(read_error(write(dir / "test.tsv", "index\tsentence\n0\tfine .\n"), "glue-sst2"),
              HasSubstr("test.tsv: the file has no labels"));
}

TEST(DataReaders, GlueStsbRegression) {
  const auto dir = testing::make_temp_dir();
  const std::string header =
      "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
  const auto path = write(dir / "dev.tsv", header + "0\tmain\tMSRvid\t2012\t0000\tnone\tnone\tA.\tB.\t5.000\n"
                                                    "1\tmain\tMSRvid\t2012\t0002\tnone\tnone\tC.\tD.\t0.250\n");
  const Dataset d = read_dataset(path, "glue-stsb");
  EXPECT_TRUE(d.regression);
  EXPECT_TRUE(d.label_names.empty());
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_DOUBLE_EQ(d.examples[0].score, 5.0);
  EXPECT_DOUBLE_EQ(d.examples[1].score, 0.25);
  EXPECT_EQ(d.examples[1].id, "1");
  const auto bad = write(dir / "bad.tsv", header + "0\tmain\tMSRvid\t2012\t0000\tnone\tnone\tA.\tB.\tfive\n");
  EXPECT_THAT(read_error(bad, "glue-stsb"), HasSubstr("bad.tsv:2: score 'five' is not a number"));
}

TEST(DataReaders, MrpcWithBomAndHeader) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "msr_paraphrase_train.txt",
                          "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\r\n"
                          "1\t702876\t702977\tAmrozi accused his brother, \"the witness\".\tHe accused him.\r\n"
                          "0\t2108705\t2108831\tYucaipa owned it.\tYucaipa bought it.\r\n");
  const Dataset d = read_dataset(path, "mrpc");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "702876-702977");
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[0].text_a, "Amrozi accused his brother, \"the witness\".");
  EXPECT_EQ(d.examples[1].text_b, "Yucaipa bought it.");
  EXPECT_EQ(d.examples[1].language, "en");
  EXPECT_TRUE(d.report.notes.empty());
}

TEST(DataReaders, MrpcHeaderlessAndGlueTest) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "msr_paraphrase_test.txt", "\xEF\xBB\xBF" "1\t1\t2\tA.\tB.\n0\t3\t4\tC.\tD.\n");
  const Dataset d = read_dataset(path, "mrpc");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[1].id, "3-4");
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("no header line"));
  const auto test = write(dir / "test.tsv", "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tA.\tB.\n");
  EXPECT_THAT(read_error(test, "mrpc"), HasSubstr("test.tsv: the file has no labels"));
  const auto bad = write(dir / "bad.txt", "x\ty\n");
  EXPECT_THAT(read_error(bad, "mrpc"), HasSubstr("bad.txt:1: expected MRPC's header"));
}

// ---- IMDB ----

TEST(DataReaders, ImdbSortedNegThenPos) {
  const auto dir = testing::make_temp_dir();
  const auto train = dir / "aclImdb" / "train";
  write(train / "pos" / "10_9.txt", "Great.<br /><br />Really.");
  write(train / "pos" / "2_8.txt", "Good.\n");
  write(train / "neg" / "1_1.txt", "Bad.");
  write(train / "neg" / "0_3.txt", "Poor.");
  write(train / "neg" / "notes.md", "not a review");
  write(train / "unsup" / "0_0.txt", "ignored");
  const Dataset d = read_dataset(train, "imdb");
  EXPECT_THAT(d.label_names, ElementsAre("neg", "pos"));
  EXPECT_FALSE(d.pairs);
  ASSERT_EQ(d.examples.size(), 4u);
  EXPECT_EQ(d.examples[0].id, "neg/0_3");
  EXPECT_EQ(d.examples[0].label, 0);
  EXPECT_EQ(d.examples[1].id, "neg/1_1");
  EXPECT_EQ(d.examples[2].id, "pos/2_8");  // numeric order: 2 before 10
  EXPECT_EQ(d.examples[2].text_a, "Good.");
  EXPECT_EQ(d.examples[3].text_a, "Great.<br /><br />Really.");
  EXPECT_EQ(d.examples[3].label, 1);
  EXPECT_EQ(d.examples[3].language, "en");
  EXPECT_EQ(d.report.rows, 4);
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("1 reviews contain HTML '<br />'"));
}

TEST(DataReaders, ImdbErrors) {
  const auto dir = testing::make_temp_dir();
  const auto root = dir / "aclImdb";
  write(root / "train" / "pos" / "0_9.txt", "Good.");
  write(root / "train" / "neg" / "0_1.txt", "Bad \xFF.");
  EXPECT_THAT(read_error(root, "imdb"), HasSubstr("no 'neg' folder"));
  EXPECT_THAT(read_error(root, "imdb"), HasSubstr("not at aclImdb itself"));
  EXPECT_THAT(read_error(root / "train", "imdb"), HasSubstr("0_1.txt:1: invalid UTF-8"));
  fs::create_directories(root / "test" / "neg");
  write(root / "test" / "pos" / "0_9.txt", "Good.");
  EXPECT_THAT(read_error(root / "test", "imdb"), HasSubstr("neg: no review files"));
  EXPECT_THAT(read_error(root / "missing", "imdb"), HasSubstr("missing"));
}

// ---- generic ----

TEST(DataReaders, GenericTsvSortedLabelsAndColumns) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "data.tsv", "uid\tq\ta\ty\tlang\nu1\tWhy \"\tBecause\t10\tde\nu2\tHow\tSo\t2\tfr\n"
                                            "u3\tWho\tMe\t2\tde\n");
  ReadOptions options;
  options.text_a_column = "q";
  options.text_b_column = "a";
  options.label_column = "y";
  options.id_column = "uid";
  options.language_column = "lang";
  const Dataset d = read_dataset(path, "tsv", options);
  EXPECT_TRUE(d.pairs);
  EXPECT_THAT(d.label_names, ElementsAre("2", "10"));  // integers sort as numbers
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].text_a, "Why \"");
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[0].id, "u1");
  EXPECT_EQ(d.examples[1].label, 0);
  EXPECT_EQ(d.examples[1].language, "fr");
}

TEST(DataReaders, GenericLabelNamesAndErrors) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "data.tsv", "sentence1\tlabel\ngood\tpos\nbad\tneg\nodd\tmeh\n");
  ReadOptions options;
  const Dataset sorted = read_dataset(write(dir / "two.tsv", "sentence1\tlabel\ngood\tpos\nbad\tneg\n"), "tsv");
  EXPECT_THAT(sorted.label_names, ElementsAre("neg", "pos"));
  EXPECT_EQ(sorted.examples[0].label, 1);
  EXPECT_EQ(sorted.examples[0].id, "two.tsv:2");
  options.label_names = {"neg", "pos"};
  EXPECT_THAT(read_error(path, "tsv", options), HasSubstr("data.tsv:4: label 'meh' is not one of {neg, pos}"));
  ReadOptions missing;
  missing.label_column = "y";
  EXPECT_THAT(read_error(path, "tsv", missing), HasSubstr("data.tsv:1: no column 'y'"));
  EXPECT_THAT(read_error(write(dir / "empty.tsv", ""), "tsv"), HasSubstr("empty.tsv: file is empty"));
  EXPECT_THAT(read_error(write(dir / "blank.tsv", "\r\n\n"), "tsv"), HasSubstr("blank.tsv: file is empty"));
  EXPECT_THAT(read_error(write(dir / "header.tsv", "sentence1\tlabel\n"), "tsv"),
              HasSubstr("header.tsv: no data rows"));
  EXPECT_THAT(read_error(write(dir / "nolabel.tsv", "sentence1\tlabel\na\t\n"), "tsv"),
              HasSubstr("nolabel.tsv:2: empty label"));
}

TEST(DataReaders, GenericRegressionAndIndices) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "scores.tsv", "a\tb\t0.5\nc\td\t4\n");
  ReadOptions options;
  options.header = false;
  options.text_a_column = "0";
  options.text_b_column = "1";
  options.label_column = "2";
  options.regression = true;
  options.language = "sv";
  const Dataset d = read_dataset(path, "tsv", options);
  EXPECT_TRUE(d.regression);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_DOUBLE_EQ(d.examples[0].score, 0.5);
  EXPECT_DOUBLE_EQ(d.examples[1].score, 4.0);
  EXPECT_EQ(d.examples[1].text_b, "d");
  EXPECT_EQ(d.examples[1].id, "scores.tsv:2");
  EXPECT_EQ(d.examples[1].language, "sv");
  options.label_column = "3";
  EXPECT_THAT(read_error(path, "tsv", options), HasSubstr("column index 3 is out of range"));
  options.label_column = "score";
  EXPECT_THAT(read_error(path, "tsv", options), HasSubstr("label_column 'score' must be a 0-based column index"));
}

TEST(DataReaders, CsvRfc4180Quoting) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "data.csv",
                          "text,label\r\n"
                          "\"a, b\",x\r\n"
                          "\"she said \"\"hi\"\"\",y\r\n"
                          "\"two\nlines\",x\r\n"
                          "plain \"inner\" quote,y\r\n");
  ReadOptions options;
  options.text_a_column = "text";
  const Dataset d = read_dataset(path, "csv", options);
  ASSERT_EQ(d.examples.size(), 4u);
  EXPECT_EQ(d.examples[0].text_a, "a, b");
  EXPECT_EQ(d.examples[1].text_a, "she said \"hi\"");
  EXPECT_EQ(d.examples[2].text_a, "two\nlines");
  EXPECT_EQ(d.examples[2].id, "data.csv:4");
  EXPECT_EQ(d.examples[3].id, "data.csv:6");  // line numbers count the line inside the quoted field
  EXPECT_EQ(d.examples[3].text_a, "plain \"inner\" quote");
  EXPECT_THAT(d.label_names, ElementsAre("x", "y"));
  // Errors after a multi-line field name the right line.
  const auto bad = write(dir / "bad.csv", "text,label\n\"x\ny\",a\nz\n");
  EXPECT_THAT(read_error(bad, "csv", options), HasSubstr("bad.csv:4: expected 2 columns, found 1"));
  const auto open = write(dir / "open.csv", "text,label\nok,a\n\"never closed,a\n");
  EXPECT_THAT(read_error(open, "csv", options), HasSubstr("open.csv:3: quoted field is never closed"));
  const auto after = write(dir / "after.csv", "text,label\n\"a\"b,a\n");
  EXPECT_THAT(read_error(after, "csv", options), HasSubstr("after.csv:2: text after the closing quote"));
}

TEST(DataReaders, Jsonl) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "data.jsonl",
                          "{\"premise\": \"A \\\"q\\\"\", \"hypothesis\": \"B\", \"label\": 1, \"id\": 7}\r\n"
                          "\n"
                          "{\"premise\": \"C\", \"hypothesis\": \"D\", \"label\": 0, \"id\": 8}\n");
  ReadOptions options;
  options.text_a_column = "premise";
  options.text_b_column = "hypothesis";
  options.id_column = "id";
  const Dataset d = read_dataset(path, "jsonl", options);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_THAT(d.label_names, ElementsAre("0", "1"));
  EXPECT_EQ(d.examples[0].text_a, "A \"q\"");
  EXPECT_EQ(d.examples[0].label, 1);
  EXPECT_EQ(d.examples[0].id, "7");
  EXPECT_EQ(d.examples[1].label, 0);
  const auto bad = write(dir / "bad.jsonl", "{\"premise\": \"A\", \"hypothesis\": \"B\", \"label\": 1, \"id\": 1}\n{oops}\n");
  EXPECT_THAT(read_error(bad, "jsonl", options), HasSubstr("bad.jsonl:2: not valid JSON"));
  const auto missing = write(dir / "missing.jsonl", "{\"premise\": \"A\", \"label\": 1, \"id\": 1}\n");
  EXPECT_THAT(read_error(missing, "jsonl", options), HasSubstr("missing.jsonl:1: no key 'hypothesis'"));
  const auto typed = write(dir / "typed.jsonl", "{\"premise\": 3, \"hypothesis\": \"B\", \"label\": 1, \"id\": 1}\n");
  EXPECT_THAT(read_error(typed, "jsonl", options), HasSubstr("typed.jsonl:1: key 'premise' is number"));
}

// ---- errors every reader shares ----

TEST(DataReaders, InvalidUtf8NamesFileAndLine) {
  const auto dir = testing::make_temp_dir();
  const std::string bad_line = "3\tcaf\xC3\tcafe\t1\n";  // truncated 2-byte sequence on line 3
  const auto paws = write(dir / "de" / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\tä\tá\t0\n" + bad_line);
  EXPECT_THAT(read_error(paws, "pawsx"), HasSubstr("dev_2k.tsv:3: invalid UTF-8"));
  const auto glue = write(dir / "train.tsv", "sentence\tlabel\nok\t1\nok\t0\n\xE2\x82\t1\n");
  EXPECT_THAT(read_error(glue, "glue-sst2"), HasSubstr("train.tsv:4: invalid UTF-8"));
  const auto surrogate = write(dir / "s.tsv", "sentence1\tlabel\n\xED\xA0\x80\t1\n");
  EXPECT_THAT(read_error(surrogate, "tsv"), HasSubstr("s.tsv:2: invalid UTF-8"));
}

TEST(DataReaders, EmptyAndHeaderOnlyFiles) {
  const auto dir = testing::make_temp_dir();
  const auto empty = write(dir / "empty.tsv", "");
  for (const std::string format : {"pawsx", "xnli", "glue-sst2", "mrpc", "csv", "jsonl"}) {
    EXPECT_THAT(read_error(empty, format), HasSubstr("empty.tsv: file is empty")) << format;
  }
  EXPECT_THAT(read_error(write(dir / "de" / "dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n"), "pawsx"),
              HasSubstr("dev_2k.tsv: no data rows"));
  EXPECT_THAT(read_error(write(dir / "sst.tsv", "sentence\tlabel\r\n"), "glue-sst2"), HasSubstr("sst.tsv: no data rows"));
  EXPECT_THAT(read_error(write(dir / "mrpc.txt", "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"), "mrpc"),
              HasSubstr("mrpc.txt: no data rows"));
  EXPECT_THAT(read_error(dir / "absent.tsv", "glue-sst2"), HasSubstr("absent.tsv"));
}

// A 400k-row MNLI-shaped file (GLUE's train.tsv is 392,702 rows) reads in well under a few seconds.
TEST(DataReaders, MnliSizedFileIsFast) {
  const auto dir = testing::make_temp_dir();
  const fs::path path = dir / "train.tsv";
  {
    std::ofstream out(path, std::ios::binary);
    out << kMnliHeader;
    const char* labels[] = {"entailment", "neutral", "contradiction"};
    for (int i = 0; i < 400000; ++i) {
      const char* label = labels[i % 3];
      out << i << '\t' << i << '\t' << i << "e\ttelephone\t( ( The cat ) sat )\t( ( A cat ) ( is here ) )\t"
          << "(ROOT (S (NP (DT The) (NN cat)) (VP (VBD sat))))\t(ROOT (S (NP (DT A) (NN cat)) (VP (VBZ is))))\t"
          << "Conceptually cream skimming has two basic dimensions - product and geography, row " << i
          << ".\tProduct and geography are what make cream skimming work.\t" << label << '\t' << label << '\n';
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const Dataset d = read_dataset(path, "glue-mnli");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("read %zu rows (%.1f MB) in %.3f s\n", d.examples.size(), fs::file_size(path) / 1e6, seconds);
  ASSERT_EQ(d.examples.size(), 400000u);
  EXPECT_EQ(d.examples[399999].label, 399999 % 3);
  EXPECT_EQ(d.examples[5].id, "5e");
  EXPECT_LT(seconds, 3.0);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace stilts::tasks
