// The retrieval readers (tatoeba, lareqa, mewslix, mewslix-pairs, lareqa-pairs, retrieval-json): small files
// the tests write, with expected values worked out by hand or by running google-research/xtreme's own
// Python on them (noted where so), every error, then the real Tatoeba, XQuAD-R, XQuAD and Mewsli-X files
// of ../shared/fixtures/data/xtreme-r (skipped when absent) with exact counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/sha256.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "tasks/datasets/dataset.h"

namespace stilts::tasks {
namespace {

namespace fs = std::filesystem;
using testing::read_error;
using testing::with_language;
const auto write = testing::write_data_file;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::vector<std::string> candidate_ids(const Dataset& d) {
  std::vector<std::string> ids;
  for (const auto& c : d.candidates) ids.push_back(c.id);
  return ids;
}

std::vector<std::string> candidate_texts(const Dataset& d) {
  std::vector<std::string> texts;
  for (const auto& c : d.candidates) texts.push_back(c.text);
  return texts;
}

std::vector<std::string> query_texts(const Dataset& d) {
  std::vector<std::string> texts;
  for (const auto& e : d.examples) texts.push_back(e.text_a);
  return texts;
}

// The ids of a query's relevant candidates.
std::vector<std::string> relevant_ids(const Dataset& d, const Example& e) {
  std::vector<std::string> ids;
  for (int64_t i : e.relevant) ids.push_back(d.candidates.at(static_cast<size_t>(i)).id);
  return ids;
}

size_t code_points(const std::string& text) {
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::vector<std::string> lines_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(line);
  return lines;
}

// ---- tatoeba ----

// English side: ties, a capital (sorts first: code point order), a non-ASCII letter (sorts last),
// surrounding whitespace (stripped before sorting, as XTREME does), CRLF and a lone CR line end.
const char* kEnglish = "b\na\r\nB\r\u00e9\na\n  z \t\n";
const char* kSource = "bee\nah-1\nBEE\r\n\u00c9\nah-2\n\u00a0zed\u3000\n";

TEST(DataRetrieval, TatoebaLaserPairIsSortedLikeXtremeWithGoldPositions) {
  const auto dir = testing::make_temp_dir();
  const auto source = write(dir / "tatoeba.deu-eng.deu", kSource);
  write(dir / "tatoeba.deu-eng.eng", kEnglish);
  const Dataset d = read_dataset(source, "tatoeba");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.labelled);
  EXPECT_FALSE(d.pairs);
  EXPECT_EQ(d.format, "tatoeba");
  // Python: sorted(zip(stripped, range(n)), key=lambda x: x[0]) -> B, a(2), a(5), b, z, é.
  EXPECT_THAT(candidate_texts(d), ElementsAre("B", "a", "a", "b", "z", "\u00e9"));
  EXPECT_THAT(candidate_ids(d), ElementsAre("0", "1", "2", "3", "4", "5"));
  for (const auto& c : d.candidates) EXPECT_EQ(c.language, "en");
  ASSERT_EQ(d.examples.size(), 6u);
  // Source lines stripped with Python's str.strip (U+00A0 and U+3000 are whitespace to it).
  EXPECT_THAT(query_texts(d), ElementsAre("bee", "ah-1", "BEE", "\u00c9", "ah-2", "zed"));
  const std::vector<int64_t> gold = {3, 1, 0, 5, 2, 4};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_THAT(d.examples[i].relevant, ElementsAre(gold[i])) << i;
    EXPECT_EQ(d.examples[i].language, "de");
  }
  EXPECT_EQ(d.examples[0].id, "tatoeba.deu-eng.deu:1");
  EXPECT_EQ(d.examples[5].id, "tatoeba.deu-eng.deu:6");
  EXPECT_EQ(d.report.rows, 6);
  EXPECT_EQ(d.report.kept, 6);

  // The English file's path names the same pair.
  const Dataset from_english = read_dataset(dir / "tatoeba.deu-eng.eng", "tatoeba");
  EXPECT_EQ(candidate_texts(from_english), candidate_texts(d));
  EXPECT_EQ(query_texts(from_english), query_texts(d));
}

TEST(DataRetrieval, TatoebaLanguages) {
  const auto dir = testing::make_temp_dir();
  write(dir / "tatoeba.cmn-eng.cmn", "x\n");
  write(dir / "tatoeba.cmn-eng.eng", "y\n");
  write(dir / "tatoeba.xyz-eng.xyz", "x\n");
  write(dir / "tatoeba.xyz-eng.eng", "y\n");
  write(dir / "tatoeba.de-eng.de", "x\n");  // evaluate_retrieval.py's two-letter naming
  write(dir / "tatoeba.de-eng.eng", "y\n");
  EXPECT_EQ(read_dataset(dir / "tatoeba.cmn-eng.cmn", "tatoeba").examples[0].language, "zh");
  EXPECT_EQ(read_dataset(dir / "tatoeba.xyz-eng.xyz", "tatoeba").examples[0].language, "xyz");  // not in XTREME's table
  EXPECT_EQ(read_dataset(dir / "tatoeba.de-eng.de", "tatoeba").examples[0].language, "de");
  EXPECT_EQ(read_dataset(dir / "tatoeba.cmn-eng.cmn", "tatoeba", with_language("zh-cn")).examples[0].language, "zh-cn");
  // A directory: the language option picks the pair, by either code; the language is its ISO-639-1 code.
  const Dataset by_two = read_dataset(dir, "tatoeba", with_language("zh"));
  EXPECT_EQ(by_two.examples[0].language, "zh");
  EXPECT_THAT(by_two.source, HasSubstr("tatoeba.cmn-eng.cmn"));
  EXPECT_EQ(read_dataset(dir, "tatoeba", with_language("cmn")).examples[0].language, "zh");
  EXPECT_THAT(read_dataset(dir, "tatoeba", with_language("de")).source, HasSubstr("tatoeba.de-eng.de"));
}

TEST(DataRetrieval, TatoebaXtremeLayoutHasNoGoldUnlessALabelsFileIsGiven) {
  const auto dir = testing::make_temp_dir();
  const auto source = write(dir / "de-en.de", "Hallo\nDanke \n");
  write(dir / "de-en.en", "Hello\nThanks\n");
  const Dataset d = read_dataset(source, "tatoeba");
  EXPECT_TRUE(d.retrieval);
  EXPECT_FALSE(d.labelled);
  EXPECT_THAT(candidate_texts(d), ElementsAre("Hello", "Thanks"));
  EXPECT_THAT(query_texts(d), ElementsAre("Hallo", "Danke"));
  EXPECT_THAT(d.examples[0].relevant, IsEmpty());
  EXPECT_EQ(d.examples[1].language, "de");
  EXPECT_EQ(d.examples[1].id, "de-en.de:2");
  EXPECT_THAT(d.report.notes, IsEmpty());
  EXPECT_EQ(read_dataset(dir, "tatoeba", with_language("deu")).examples.size(), 2u);

  ReadOptions options;
  options.labels_file = write(dir / "test-de.tsv", "0\n1\n").string();
  const Dataset labelled = read_dataset(source, "tatoeba", options);
  EXPECT_TRUE(labelled.labelled);
  EXPECT_THAT(labelled.examples[0].relevant, ElementsAre(0));
  EXPECT_THAT(labelled.examples[1].relevant, ElementsAre(1));

  options.labels_file = write(dir / "short.tsv", "0\n").string();
  EXPECT_THAT(read_error(source, "tatoeba", options), AllOf(HasSubstr("short.tsv"), HasSubstr("1 labels for 2")));
  options.labels_file = write(dir / "bad.tsv", "0\nx1\n").string();
  EXPECT_THAT(read_error(source, "tatoeba", options), AllOf(HasSubstr("bad.tsv:2"), HasSubstr("label 'x1'")));
  options.labels_file = write(dir / "range.tsv", "0\n2\n").string();
  EXPECT_THAT(read_error(source, "tatoeba", options), AllOf(HasSubstr("range.tsv:2"), HasSubstr("of the 2 English")));

  // An English side out of order is kept as it is, with a note.
  write(dir / "fr-en.fr", "b\na\n");
  write(dir / "fr-en.en", "b\na\n");
  const Dataset unsorted = read_dataset(dir / "fr-en.fr", "tatoeba");
  EXPECT_THAT(candidate_texts(unsorted), ElementsAre("b", "a"));
  EXPECT_THAT(unsorted.report.notes, ElementsAre(HasSubstr("not in XTREME's sorted order")));
}

TEST(DataRetrieval, TatoebaErrors) {
  const auto dir = testing::make_temp_dir();
  const auto source = write(dir / "tatoeba.fra-eng.fra", "un\ndeux\n");
  write(dir / "tatoeba.fra-eng.eng", "one\n");
  EXPECT_THAT(read_error(source, "tatoeba"),
              AllOf(HasSubstr("tatoeba.fra-eng.fra: 2 lines but"), HasSubstr("tatoeba.fra-eng.eng has 1")));
  const auto lonely = write(dir / "tatoeba.ita-eng.ita", "uno\n");
  EXPECT_THAT(read_error(lonely, "tatoeba"), HasSubstr("tatoeba.ita-eng.eng"));
  const auto odd = write(dir / "french.txt", "un\n");
  EXPECT_THAT(read_error(odd, "tatoeba"), AllOf(HasSubstr("french.txt"), HasSubstr("not a Tatoeba file name")));
  EXPECT_THAT(read_error(dir / "tatoeba.fra-eng.deu", "tatoeba"), HasSubstr("not a Tatoeba file name"));
  EXPECT_THAT(read_error(dir, "tatoeba"), HasSubstr("set the language option"));
  EXPECT_THAT(
      read_error(dir, "tatoeba", with_language("ko")),
      AllOf(HasSubstr("no Tatoeba pair for language 'ko'"), HasSubstr("tatoeba.kor-eng.kor"), HasSubstr("ko-en.ko")));
  write(dir / "tatoeba.spa-eng.spa", "uno\n");
  write(dir / "tatoeba.spa-eng.eng", "\n");
  EXPECT_THAT(read_error(dir / "tatoeba.spa-eng.spa", "tatoeba"),
              AllOf(HasSubstr("tatoeba.spa-eng.eng"), HasSubstr("empty")));
  write(dir / "tatoeba.por-eng.por", "um\n");
  write(dir / "tatoeba.por-eng.eng", "one\n");
  ReadOptions options;
  options.labels_file = write(dir / "labels.tsv", "0\n").string();
  EXPECT_THAT(read_error(dir / "tatoeba.por-eng.por", "tatoeba", options),
              AllOf(HasSubstr("labels.tsv"), HasSubstr("XTREME's sorted <l>-en.<l> layout")));
}

TEST(DataRetrieval, TatoebaRealFilesEveryPair) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/tatoeba/v1");
  const fs::path dir = testing::xtreme_r_dir() / "tatoeba" / "v1";
  // XTREME-R's 41 languages have 1,000 pairs but these (the README's counts); LASER's other pairs have
  // as many as their files have lines.
  const std::map<std::string, size_t> short_pairs = {{"jav", 205}, {"kat", 746}, {"kaz", 575}, {"mal", 687},
                                                     {"swh", 390}, {"tam", 307}, {"tel", 234}, {"tha", 548}};
  const std::set<std::string> xtreme = {"afr", "ara", "bul", "ben", "deu", "ell", "spa", "est", "eus", "pes", "fin",
                                        "fra", "heb", "hin", "hun", "ind", "ita", "jpn", "jav", "kat", "kaz", "kor",
                                        "mal", "mar", "nld", "por", "rus", "swh", "tam", "tel", "tha", "tgl", "tur",
                                        "urd", "vie", "cmn", "aze", "lit", "pol", "ukr", "ron"};
  size_t xtreme_pairs = 0;
  size_t pairs = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".eng") continue;
    const std::string code = name.substr(8, name.find('-') - 8);
    SCOPED_TRACE(name);
    ++pairs;
    const Dataset d = read_dataset(dir / ("tatoeba." + code + "-eng." + code), "tatoeba");
    const auto english = lines_of(entry.path());
    const auto source = lines_of(dir / ("tatoeba." + code + "-eng." + code));
    size_t expected = english.size();
    if (xtreme.count(code)) {
      ++xtreme_pairs;
      expected = short_pairs.count(code) ? short_pairs.at(code) : 1000;
    }
    ASSERT_EQ(d.examples.size(), expected);
    ASSERT_EQ(d.candidates.size(), expected);
    EXPECT_TRUE(d.labelled);
    EXPECT_TRUE(std::is_sorted(d.candidates.begin(), d.candidates.end(),
                               [](const Candidate& a, const Candidate& b) { return a.text < b.text; }));
    // Query i's gold is the candidate holding English line i (no line of these files has surrounding
    // whitespace); every candidate is some query's gold exactly once.
    std::set<int64_t> golds;
    for (size_t i = 0; i < expected; ++i) {
      ASSERT_EQ(d.examples[i].relevant.size(), 1u);
      EXPECT_EQ(d.candidates.at(static_cast<size_t>(d.examples[i].relevant[0])).text, english[i]);
      EXPECT_EQ(d.examples[i].text_a, source[i]);
      golds.insert(d.examples[i].relevant[0]);
    }
    EXPECT_EQ(golds.size(), expected);
  }
  EXPECT_EQ(pairs, 112u);
  EXPECT_EQ(xtreme_pairs, 41u);

  const Dataset jav = read_dataset(dir / "tatoeba.jav-eng.jav", "tatoeba");
  EXPECT_EQ(jav.examples[0].language, "jv");
  EXPECT_EQ(jav.examples[0].id, "tatoeba.jav-eng.jav:1");
  EXPECT_EQ(read_dataset(dir / "tatoeba.ang-eng.ang", "tatoeba").examples[0].language, "ang");  // not in XTREME
  EXPECT_EQ(read_dataset(dir, "tatoeba", with_language("jv")).examples.size(), 205u);
}

// ---- lareqa ----

// Two paragraphs of one article, then a paragraph whose only question is skipped (its answer_start lies
// between sentences: sentence breaks leave out the space). Sentence 0 and 2 of the first paragraph hold
// the same text, so a question answered in either has both as gold, as XTREME's text comparison gives.
std::string lareqa_file(const std::string& lang, const std::string& question_prefix) {
  return R"({"data": [{"title": "T", "paragraphs": [
  {"context": "Yes.\nNo. Yes.", "sentence_breaks": [[0, 4], [5, 8], [9, 13]], "sentences": ["ignored"],
   "qas": [{"id": "q1", "question": " )" +
         question_prefix + R"(one? ", "answers": [{"text": "Yes", "answer_start": 9}]},
           {"id": "q2", "question": ")" +
         question_prefix + R"(two?", "answers": [{"text": "No", "answer_start": 5}]}]},
  {"context": "Über.", "sentence_breaks": [[0, 5]],
   "qas": [{"id": "q3", "question": ")" +
         question_prefix + R"(three?", "answers": [{"text": "Über", "answer_start": 0}]}]}]},
 {"paragraphs": [
  {"context": "A. B.", "sentence_breaks": [[0, 2], [3, 5]],
   "qas": [{"id": "q4", "question": "four?", "answers": [{"text": " ", "answer_start": 2}]}]}]}]})";
}

TEST(DataRetrieval, LareqaOneFile) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "en.json", lareqa_file("en", "E "));
  const Dataset d = read_dataset(path, "lareqa");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.labelled);
  EXPECT_THAT(candidate_ids(d), ElementsAre("en_1_0", "en_1_1", "en_1_2", "en_2_0"));
  // sentence + paragraph, "\n" removed, stripped; the third paragraph has no kept question, so no candidates.
  EXPECT_THAT(candidate_texts(d), ElementsAre("Yes.Yes.No. Yes.", "No.Yes.No. Yes.", "Yes.Yes.No. Yes.", "Über.Über."));
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].id, "q1_en");
  EXPECT_EQ(d.examples[0].text_a, "E one?");
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_THAT(relevant_ids(d, d.examples[0]), ElementsAre("en_1_0", "en_1_2"));
  EXPECT_THAT(relevant_ids(d, d.examples[1]), ElementsAre("en_1_1"));
  EXPECT_THAT(relevant_ids(d, d.examples[2]), ElementsAre("en_2_0"));
  EXPECT_EQ(d.candidates[3].language, "en");
  EXPECT_EQ(d.report.rows, 4);
  EXPECT_EQ(d.report.kept, 3);
  EXPECT_EQ(d.report.skipped_malformed, 1);
  EXPECT_THAT(d.report.notes, ElementsAre(AllOf(HasSubstr("en.json: data[1].paragraphs[0].qas[0]"),
                                                HasSubstr("answer_start 2 is in no sentence"))));
  // The language option names the file's language.
  EXPECT_EQ(read_dataset(path, "lareqa", with_language("xx")).examples[0].id, "q1_xx");
}

TEST(DataRetrieval, LareqaDirectoryIsOneMultilingualPool) {
  const auto dir = testing::make_temp_dir();
  write(dir / "xquad-r" / "en.json", lareqa_file("en", "E "));
  write(dir / "xquad-r" / "de.json", lareqa_file("de", "D "));
  write(dir / "xquad-r" / "README.md", "not read");
  const Dataset d = read_dataset(dir / "xquad-r", "lareqa");
  EXPECT_THAT(candidate_ids(d),
              ElementsAre("de_1_0", "de_1_1", "de_1_2", "de_2_0", "en_1_0", "en_1_1", "en_1_2", "en_2_0"));
  ASSERT_EQ(d.examples.size(), 6u);
  EXPECT_EQ(d.examples[0].id, "q1_de");
  EXPECT_EQ(d.examples[3].id, "q1_en");
  EXPECT_THAT(relevant_ids(d, d.examples[3]), ElementsAre("de_1_0", "de_1_2", "en_1_0", "en_1_2"));
  EXPECT_THAT(relevant_ids(d, d.examples[1]), ElementsAre("de_1_1", "en_1_1"));
  EXPECT_EQ(d.report.skipped_malformed, 2);

  // XTREME's lareqa/ folder (holding xquad-r/) reads the same; the language option keeps that
  // language's questions against the whole pool.
  const Dataset english = read_dataset(dir, "lareqa", with_language("en"));
  EXPECT_EQ(english.candidates.size(), 8u);
  ASSERT_EQ(english.examples.size(), 3u);
  EXPECT_EQ(english.examples[0].id, "q1_en");
  EXPECT_THAT(relevant_ids(english, english.examples[2]), ElementsAre("de_2_0", "en_2_0"));
  EXPECT_THAT(read_error(dir, "lareqa", with_language("fr")),
              AllOf(HasSubstr("no file for language 'fr'"), HasSubstr("de, en")));
}

TEST(DataRetrieval, LareqaErrors) {
  const auto dir = testing::make_temp_dir();
  auto paragraph = [](const std::string& breaks, const std::string& qas) {
    return R"({"data": [{"paragraphs": [{"context": "Ab. Cd.", "sentence_breaks": )" + breaks + R"(, "qas": [)" + qas +
           "]}]}]}";
  };
  const std::string good = R"({"id": "q", "question": "Q?", "answers": [{"text": "Ab", "answer_start": 0}]})";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {paragraph("[[0, 3]]", R"({"id": "q", "question": "Q?", "answers": []})"), {"(question 'q')", "0 answers"}},
      {paragraph("[[0, 3]]", R"({"id": "q", "question": "Q?", "answers": [{"answer_start": 0}, {"answer_start": 1}]})"),
       {"2 answers"}},
      {paragraph("[[0, 3]]", R"({"id": "q", "question": "Q?", "answers": [{"text": "Ab"}]})"),
       {"answers[0]", "no key 'answer_start'"}},
      {paragraph("[[0, 30]]", good), {"sentence_breaks[0]", "span [0, 30)", "7 code points"}},
      {paragraph("[[3, 0]]", good), {"sentence_breaks[0]", "span [3, 0)"}},
      {paragraph("[[0]]", good), {"sentence_breaks[0]", "not [start, end]"}},
      {paragraph("[[0, 3]]", good + ", " + good), {"qas[1] (question 'q')", "repeats"}},
      {R"({"data": [{"paragraphs": [{"context": "Ab.", "qas": []}]}]})", {"paragraphs[0]", "no key 'sentence_breaks'"}},
      {R"({"data": [{"paragraphs": []}]})", {"no question has its answer in a sentence (0 questions)"}},
      {R"([1])", {"expected a JSON object"}},
      {"{\"data\": [\n{]}", {"bad.json:2: not valid JSON"}},
  };
  for (const auto& [text, expected] : cases) {
    const auto path = write(dir / "bad.json", text);
    const std::string error = read_error(path, "lareqa");
    for (const auto& part : expected) EXPECT_THAT(error, HasSubstr(part)) << text;
  }
  const auto empty = dir / "empty";
  fs::create_directories(empty);
  EXPECT_THAT(read_error(empty, "lareqa"), HasSubstr("no <lang>.json files"));
}

TEST(DataRetrieval, LareqaRealXquadR) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/lareqa/xquad-r");
  const fs::path dir = testing::xtreme_r_dir() / "lareqa" / "xquad-r";
  // Counts and ids as xtreme's utils_lareqa.load_data gives them on these files (run on them to check).
  const Dataset d = read_dataset(dir, "lareqa");
  EXPECT_EQ(d.examples.size(), 13090u);
  EXPECT_EQ(d.candidates.size(), 13014u);
  EXPECT_EQ(d.report.skipped_malformed, 0);
  std::map<std::string, size_t> per_language;
  for (const auto& c : d.candidates) ++per_language[c.language];
  EXPECT_EQ(per_language, (std::map<std::string, size_t>{{"ar", 1222},
                                                         {"de", 1276},
                                                         {"el", 1234},
                                                         {"en", 1180},
                                                         {"es", 1215},
                                                         {"hi", 1244},
                                                         {"ru", 1219},
                                                         {"th", 852},
                                                         {"tr", 1167},
                                                         {"vi", 1209},
                                                         {"zh", 1196}}));
  for (const auto& e : d.examples) {
    ASSERT_EQ(e.relevant.size(), 11u) << e.id;  // one answer sentence in each language
    std::set<std::string> languages;
    for (int64_t i : e.relevant) languages.insert(d.candidates[static_cast<size_t>(i)].language);
    ASSERT_EQ(languages.size(), 11u) << e.id;
  }
  EXPECT_EQ(d.examples[0].id, "56beb4343aeaaa14008c925b_ar");
  EXPECT_EQ(d.examples[0].language, "ar");
  EXPECT_THAT(d.examples[0].relevant, ElementsAre(0, 1222, 2498, 3732, 4912, 6127, 7371, 8590, 9442, 10609, 11818));
  const auto tesla = std::find_if(d.examples.begin(), d.examples.end(),
                                  [](const Example& e) { return e.id == "56dfa0d84a1a83140091ebb7_en"; });
  ASSERT_NE(tesla, d.examples.end());
  EXPECT_EQ(tesla->text_a, "What year did Tesla die?");  // the file has a trailing space
  EXPECT_THAT(relevant_ids(d, *tesla), ElementsAre("ar_16_2", "de_16_4", "el_16_2", "en_16_2", "es_16_3", "hi_16_2",
                                                   "ru_16_2", "th_16_0", "tr_16_2", "vi_16_2", "zh_16_3"));
  EXPECT_EQ(d.examples.back().id, "5737a25ac3c5551400e51f54_zh");
  EXPECT_EQ(d.candidates.back().id, "zh_240_2");

  const Dataset en = read_dataset(dir / "en.json", "lareqa");
  EXPECT_EQ(en.examples.size(), 1190u);
  EXPECT_EQ(en.candidates.size(), 1180u);
  EXPECT_EQ(en.examples[0].text_a, "How many points did the Panthers defense surrender?");
  EXPECT_THAT(relevant_ids(en, en.examples[0]), ElementsAre("en_1_0"));
  EXPECT_EQ(en.candidates[0].text.rfind(
                "The Panthers defense gave up just 308 points, ranking sixth in the league, while", 0),
            0u);
  EXPECT_EQ(code_points(en.candidates[0].text), 1331u);  // Python's len
  for (const auto& c : en.candidates) ASSERT_EQ(c.text.find('\n'), std::string::npos) << c.id;
  const auto seamans =
      std::find_if(en.candidates.begin(), en.candidates.end(), [](const Candidate& c) { return c.id == "en_71_0"; });
  ASSERT_NE(seamans, en.candidates.end());
  EXPECT_EQ(seamans->text.rfind("Seamans' establishment of an ad-hoc com", 0), 0u);  // leading space stripped

  const Dataset german = read_dataset(dir, "lareqa", with_language("de"));
  EXPECT_EQ(german.examples.size(), 1190u);
  EXPECT_EQ(german.candidates.size(), 13014u);
  for (const auto& e : german.examples) ASSERT_EQ(e.language, "de");
}

// ---- mewslix ----

// Entities as Mewsli-X's candidate_set_entities.jsonl holds them. Q3447452 (a fixture mention's
// entity) is left out. Expected texts from xtreme's utils_mewslix.preprocess_entity_description.
const char* kEntities =
    R"({"entity_id": "Q1757", "title": "Helsinki", "description": "Helsinki is the capital of Finland.\nIt lies on the coast.  Unused tail", "description_language": "en", "description_url": "https://en.wikipedia.org/wiki/Helsinki", "sentence_spans": [{"start": 0, "end": 35}, {"start": 36, "end": 57}]}
{"entity_id": "Q167217", "title": "x", "description": "أبو موسى جزيرة في الخليج العربي.", "description_language": "ar", "description_url": "u", "sentence_spans": [{"start": 0, "end": 32}]}
{"entity_id": "Q9", "title": "x", "description": "Triple   space\nLine one\n", "description_language": "en", "description_url": "u", "sentence_spans": [{"start": 0, "end": 14}, {"start": 15, "end": 24}]}
)";

// Marker escaping ({old} -> (old); {a\nb} spans a line break, which '.' does not match, so it stays),
// a U+2028 line break, double spaces. Expected strings from xtreme's utils_mewslix.preprocess_mention.
const char* kMentions =
    R"({"context": {"document_title": "T", "document_url": "u", "document_id": "en-1", "language": "en", "text": "Intro line.\nThe {old} club met Smith in\u2028Paris  {a\nb} today. Next {x} one.", "sentence_spans": [{"start": 0, "end": 11}, {"start": 12, "end": 59}, {"start": 60, "end": 73}]}, "mentions": [{"example_id": "m1", "mention_span": {"start": 31, "end": 36, "text": "Smith"}, "entity_id": "Q9"}, {"example_id": "m2", "mention_span": {"start": 0, "end": 5, "text": "Intro"}, "entity_id": "Q1757"}]}
)";

TEST(DataRetrieval, MewslixQueriesAndCandidatesAsXtremeBuildsThem) {
  const auto dir = testing::make_temp_dir();
  write(dir / "candidate_set_entities.jsonl", kEntities);
  const auto path = write(dir / "mentions.jsonl", kMentions);
  const Dataset d = read_dataset(path, "mewslix");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.labelled);
  EXPECT_THAT(candidate_ids(d), ElementsAre("Q1757", "Q167217", "Q9"));
  EXPECT_THAT(candidate_texts(d), ElementsAre("Helsinki is the capital of Finland. It lies on the coast.",
                                              "أبو موسى جزيرة في الخليج العربي.", "Triple  space Line one"));
  EXPECT_EQ(d.candidates[1].language, "ar");
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "m1");
  EXPECT_EQ(d.examples[0].text_a, "Smith: The (old) club met { Smith } in Paris {a b} today.");
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_THAT(d.examples[0].relevant, ElementsAre(2));
  EXPECT_EQ(d.examples[1].text_a, "Intro: { Intro } line.");
  EXPECT_THAT(d.examples[1].relevant, ElementsAre(0));
  EXPECT_EQ(d.report.rows, 2);
  EXPECT_EQ(d.report.kept, 2);
  EXPECT_THAT(d.source, AllOf(HasSubstr("mentions.jsonl"), HasSubstr("candidate_set_entities.jsonl")));
}

TEST(DataRetrieval, MewslixXtremeLayoutAndBlankedTestGold) {
  const auto dir = testing::make_temp_dir();
  write(dir / "candidate_set_entities.jsonl", kEntities);
  // XTREME's wikinews_mentions/test-<l>.jsonl, every entity_id blanked: read for prediction.
  std::string blanked = kMentions;
  for (const std::string id : {"\"Q9\"", "\"Q1757\""}) blanked.replace(blanked.find(id), id.size(), "\"\"");
  const auto path = write(dir / "wikinews_mentions" / "test-en.jsonl", blanked);
  const Dataset d = read_dataset(path, "mewslix");
  EXPECT_FALSE(d.labelled);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_THAT(d.examples[0].relevant, IsEmpty());
  EXPECT_EQ(d.candidates.size(), 3u);

  std::string mixed = kMentions;
  mixed.replace(mixed.find("\"Q1757\""), 7, "\"\"");
  const auto mixed_path = write(dir / "wikinews_mentions" / "mixed.jsonl", mixed);
  EXPECT_THAT(read_error(mixed_path, "mewslix"),
              AllOf(HasSubstr("mixed.jsonl:1: mentions[1] (mention 'm2'): a blank entity_id"),
                    HasSubstr("mentions[0] (mention 'm1') has one")));
}

// XTREME-R's wikipedia_pairs-*.jsonl: each line a contextual mention and its entity, read as training
// pairs whose texts are the mewslix reader's (the expected strings above, from xtreme's utils_mewslix).
TEST(DataRetrieval, MewslixPairsAreTrainingPairsWithXtremesTexts) {
  const nlohmann::json document = nlohmann::json::parse(std::string(kMentions));
  std::map<std::string, nlohmann::json> entities;
  std::istringstream lines(kEntities);
  for (std::string line; std::getline(lines, line);) {
    const auto entity = nlohmann::json::parse(line);
    entities[entity.at("entity_id").get<std::string>()] = entity;
  }
  auto pair = [&](size_t m, const std::string& entity) {
    return nlohmann::json{{"contextual_mention", {{"context", document.at("context")}, {"mention", document.at("mentions")[m]}}},
                          {"entity", entities.at(entity)}}
               .dump();
  };
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "wikipedia_pairs-train.jsonl", pair(0, "Q9") + "\n" + pair(1, "Q1757") + "\n");
  const Dataset d = read_dataset(path, "mewslix-pairs");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.candidates.empty());
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "m1");
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_EQ(d.examples[0].text_a, "Smith: The (old) club met { Smith } in Paris {a b} today.");
  EXPECT_EQ(d.examples[0].text_b, std::optional<std::string>("Triple  space Line one"));
  EXPECT_EQ(d.examples[1].text_a, "Intro: { Intro } line.");
  EXPECT_EQ(d.examples[1].text_b, std::optional<std::string>("Helsinki is the capital of Finland. It lies on the coast."));
  EXPECT_EQ(d.report.kept, 2);

  EXPECT_THAT(read_error(write(dir / "wrong.jsonl", pair(0, "Q1757") + "\n"), "mewslix-pairs"),
              AllOf(HasSubstr("wrong.jsonl:1"), HasSubstr("entity_id 'Q9' but the pair's entity is 'Q1757'")));
  EXPECT_THAT(read_error(write(dir / "extra.jsonl", R"({"contextual_mention": {}, "entity": {}, "x": 1})" "\n"),
                         "mewslix-pairs"),
              AllOf(HasSubstr("extra.jsonl:1"), HasSubstr("'x'")));
  EXPECT_THAT(read_error(path, "mewslix-pairs", with_language("de")),
              AllOf(HasSubstr("no pairs in language 'de'"), HasSubstr("languages in the file: en")));
  EXPECT_THAT(read_error(write(dir / "empty.jsonl", ""), "mewslix-pairs"), HasSubstr("empty.jsonl: file is empty"));
  EXPECT_THAT(read_error(write(dir / "blank.jsonl", "\n\n"), "mewslix-pairs"), HasSubstr("blank.jsonl: file is empty"));
}

TEST(DataRetrieval, MewslixErrors) {
  const auto dir = testing::make_temp_dir();
  const auto no_pool = write(dir / "alone" / "mentions.jsonl", kMentions);
  EXPECT_THAT(read_error(no_pool, "mewslix"),
              AllOf(HasSubstr("no Mewsli-X candidate entities"), HasSubstr("candidate_set_entities.jsonl")));

  auto with_mentions = [&](const std::string& name, const std::string& text) {
    write(dir / "candidate_set_entities.jsonl", kEntities);
    return write(dir / name, text);
  };
  auto replaced = [](std::string text, const std::string& from, const std::string& to) {
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  EXPECT_THAT(
      read_error(with_mentions("a.jsonl", replaced(kMentions, R"("text": "Smith")", R"("text": "Smyth")")), "mewslix"),
      AllOf(HasSubstr("a.jsonl:1: mentions[0] (mention 'm1').mention_span"), HasSubstr("'Smyth' does not match"),
            HasSubstr("holds 'Smith'")));
  // The mention crosses from the first sentence into the second.
  EXPECT_THAT(read_error(with_mentions("b.jsonl", replaced(kMentions, R"({"start": 0, "end": 5, "text": "Intro"})",
                                                           R"({"start": 6, "end": 16, "text": "line.\nThe "})")),
                         "mewslix"),
              AllOf(HasSubstr("mention 'm2'"), HasSubstr("lies in no single sentence")));
  EXPECT_THAT(read_error(with_mentions("c.jsonl", replaced(kMentions, R"({"start": 60, "end": 73})",
                                                           R"({"start": 60, "end": 99})")),
                         "mewslix"),
              AllOf(HasSubstr("c.jsonl:1: context.sentence_spans[2]"), HasSubstr("span [60, 99)"),
                    HasSubstr("73 code points")));
  EXPECT_THAT(read_error(with_mentions("d.jsonl", replaced(kMentions, "\"m2\"", "\"m1\"")), "mewslix"),
              AllOf(HasSubstr("mention 'm1'"), HasSubstr("repeats")));
  EXPECT_THAT(read_error(with_mentions("e.jsonl", replaced(kMentions, R"("language": "en", )", "")), "mewslix"),
              AllOf(HasSubstr("e.jsonl:1: context"), HasSubstr("no key 'language'")));
  EXPECT_THAT(read_error(with_mentions("f.jsonl", kMentions), "mewslix", with_language("de")),
              AllOf(HasSubstr("no mentions in language 'de'"), HasSubstr("(languages in the file: en)")));
  EXPECT_THAT(read_error(with_mentions("g.jsonl", "{\"context\": 1}\n"), "mewslix"),
              HasSubstr("g.jsonl:1: context: expected the context (a JSON object)"));
  EXPECT_THAT(read_error(with_mentions("h.jsonl", "[1]\n"), "mewslix"), HasSubstr("h.jsonl:1: expected a JSON object"));

  // The pool.
  write(dir / "candidate_set_entities.jsonl",
        std::string(kEntities) + lines_of(dir / "candidate_set_entities.jsonl")[0] + "\n");
  EXPECT_THAT(read_error(dir / "a.jsonl", "mewslix"),
              AllOf(HasSubstr("candidate_set_entities.jsonl:4: entity 'Q1757' is also on line 1")));
  write(dir / "candidate_set_entities.jsonl",
        replaced(kEntities, R"({"start": 36, "end": 57})", R"({"start": 57, "end": 36})"));
  EXPECT_THAT(read_error(dir / "a.jsonl", "mewslix"),
              AllOf(HasSubstr("candidate_set_entities.jsonl:1: sentence_spans[1]"), HasSubstr("span [57, 36)")));
  write(dir / "candidate_set_entities.jsonl", replaced(kEntities, R"("entity_id": "Q9", )", ""));
  EXPECT_THAT(read_error(dir / "a.jsonl", "mewslix"),
              AllOf(HasSubstr("candidate_set_entities.jsonl:3"), HasSubstr("no key 'entity_id'")));
}

TEST(DataRetrieval, MewslixRealExampleMentions) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/mewslix/example_mentions.jsonl");
  const auto dir = testing::make_temp_dir();
  std::ifstream in(testing::xtreme_r_dir() / "mewslix" / "example_mentions.jsonl", std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  const auto path = write(dir / "example_mentions.jsonl", bytes.str());
  write(dir / "candidate_set_entities.jsonl", kEntities);
  const Dataset d = read_dataset(path, "mewslix");
  ASSERT_EQ(d.examples.size(), 3u);
  // Expected strings: xtreme's utils_mewslix.preprocess_mention on this file.
  EXPECT_EQ(d.examples[0].id, "c79595350cc2d5c7f2b095e2cb785212");
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_EQ(d.examples[0].text_a,
            "Helsinki: In { Helsinki } , the Finnish trade union for bus and truck drivers has gone on strike on "
            "Sunday evening, mainly over the use of part-time labor.");
  EXPECT_THAT(relevant_ids(d, d.examples[0]), ElementsAre("Q1757"));
  EXPECT_EQ(d.examples[1].text_a,
            "أبو موسى: زار قائد الحرس الثوري الإيراني اللواء محمد علي الجعفري يوم أمس الخميس الجزر الثلاث (التي "
            "تطالب بها كل من إيران والإمارات العربية المتحدة، وتعدها الثانية إلى جانب كافة دول الخليج العربي جزراً "
            "محتلة)، وهي جزر { أبو موسى } وطنب الكبرى وطنب الصغرى، في أول زيارة لمسؤول عسكري إيراني على هذا "
            "المستوى للجزر منذ وقوعها تحت السيطرة الإيرانية في سنة 1971م.");
  EXPECT_THAT(relevant_ids(d, d.examples[1]), ElementsAre("Q167217"));
  EXPECT_EQ(d.examples[2].id, "d24f12f333cd3d5e7adeb9c2ff66f3f0");
  EXPECT_EQ(d.examples[2].text_a,
            "طنب الصغرى: زار قائد الحرس الثوري الإيراني اللواء محمد علي الجعفري يوم أمس الخميس الجزر الثلاث (التي "
            "تطالب بها كل من إيران والإمارات العربية المتحدة، وتعدها الثانية إلى جانب كافة دول الخليج العربي جزراً "
            "محتلة)، وهي جزر أبو موسى وطنب الكبرى و { طنب الصغرى } ، في أول زيارة لمسؤول عسكري إيراني على هذا "
            "المستوى للجزر منذ وقوعها تحت السيطرة الإيرانية في سنة 1971م.");
  // Q3447452 is not in this pool: kept, no gold, noted (the official scorer counts it as a miss).
  EXPECT_THAT(d.examples[2].relevant, IsEmpty());
  EXPECT_TRUE(d.labelled);
  EXPECT_THAT(d.report.notes, ElementsAre(AllOf(HasSubstr("mention 'd24f12f333cd3d5e7adeb9c2ff66f3f0'"),
                                                HasSubstr("entity 'Q3447452' is not in the candidate set")),
                                          HasSubstr("1 of 3 mentions name an entity not in")));

  const Dataset arabic = read_dataset(path, "mewslix", with_language("ar"));
  ASSERT_EQ(arabic.examples.size(), 2u);
  EXPECT_EQ(arabic.examples[0].id, "2e8eb6fa1b66183927d4ef4bcbe5a149");
  EXPECT_EQ(arabic.candidates.size(), 3u);
}

// ---- retrieval-json ----

const char* kPool = R"({
  "queries": [
    {"id": "q1", "text": "capital of France", "language": "en", "relevant": ["c2", "c1", "c2"]},
    {"id": "q2", "text": "Hauptstadt", "language": "de", "relevant": []},
    {"id": "q3", "text": "no language", "relevant": ["c1"]}
  ],
  "candidates": [
    {"id": "c1", "text": "Paris is the capital.", "language": "en"},
    {"id": "c2", "text": " Paris. "}
  ]
})";

TEST(DataRetrieval, RetrievalJsonPool) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "pool.json", kPool);
  const Dataset d = read_dataset(path, "retrieval-json");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.labelled);
  EXPECT_FALSE(d.pairs);
  EXPECT_THAT(candidate_ids(d), ElementsAre("c1", "c2"));
  EXPECT_THAT(candidate_texts(d), ElementsAre("Paris is the capital.", " Paris. "));  // verbatim
  EXPECT_EQ(d.candidates[0].language, "en");
  EXPECT_EQ(d.candidates[1].language, "");
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].id, "q1");
  EXPECT_EQ(d.examples[0].text_a, "capital of France");
  EXPECT_THAT(d.examples[0].relevant, ElementsAre(1, 0));  // file order, repeats dropped
  EXPECT_THAT(d.examples[1].relevant, IsEmpty());
  EXPECT_EQ(d.examples[1].language, "de");
  EXPECT_FALSE(d.examples[0].text_b.has_value());

  const Dataset german = read_dataset(path, "retrieval-json", with_language("de"));
  ASSERT_EQ(german.examples.size(), 2u);  // q2, and q3 which takes the option's language
  EXPECT_EQ(german.examples[1].id, "q3");
  EXPECT_EQ(german.examples[1].language, "de");
  EXPECT_EQ(german.candidates.size(), 2u);

  const auto none = write(dir / "none.json", R"({"queries": [{"id": "q", "text": "t", "relevant": []}],
                                               "candidates": [{"id": "c", "text": "t"}]})");
  EXPECT_FALSE(read_dataset(none, "retrieval-json").labelled);
}

TEST(DataRetrieval, RetrievalJsonTrainingPairs) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "pairs.json", R"({"queries": [
    {"id": "p1", "text": "a question", "positive": "its answer", "language": "en"},
    {"id": "p2", "text": "another", "positive": "another answer"}]})");
  const Dataset d = read_dataset(path, "retrieval-json");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.candidates.empty());
  EXPECT_FALSE(d.pairs);
  EXPECT_TRUE(d.labelled);
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].text_b, "its answer");
  EXPECT_EQ(d.examples[1].text_b, "another answer");
  EXPECT_THAT(d.examples[0].relevant, IsEmpty());
}

TEST(DataRetrieval, RetrievalJsonErrors) {
  const auto dir = testing::make_temp_dir();
  const std::string pool = R"(, "candidates": [{"id": "c1", "text": "x"}]})";
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {R"({"queries": [{"id": "q", "text": "t", "positive": "p"}], "extra": 1})", {"top level: unknown key 'extra'"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": [], "score": 1}])" + pool,
       {"queries[0]: unknown key 'score'", "allowed: id, text, language, relevant, positive"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": []}], "candidates": [{"id": "c", "text": "x", "title": "y"}]})",
       {"candidates[0]: unknown key 'title'"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": []}], "candidates": [{"id": "c", "text": "x"}, {"id": "c", "text": "y"}]})",
       {"candidates[1] (candidate 'c')", "also candidates[0]'s"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": []}, {"id": "q", "text": "u", "relevant": []}])" + pool,
       {"queries[1] (query 'q')", "also queries[0]'s"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": ["c9"]}])" + pool,
       {"queries[0] (query 'q')", "relevant[0] 'c9' is not the id of a candidate"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": [1]}])" + pool,
       {"relevant[0] is 1, expected a candidate id"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": ["c1"], "positive": "p"}])" + pool,
       {"(query 'q')", "both 'relevant' and 'positive'"}},
      {R"({"queries": [{"id": "q", "text": "t"}])" + pool, {"(query 'q')", "no 'relevant' list"}},
      {R"({"queries": [{"id": "q", "text": "t"}]})", {"(query 'q')", "no 'positive' text"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": ["c1"]}]})",
       {"'relevant' names candidates, but the file has no 'candidates'"}},
      {R"({"queries": [{"id": "q", "text": "t", "positive": "p"}])" + pool, {"no 'relevant' list"}},
      {R"({"queries": [{"id": "q", "text": " ", "positive": "p"}]})", {"queries[0] (query 'q'): key 'text' is empty"}},
      {R"({"queries": [{"text": "t", "positive": "p"}]})", {"queries[0]: no key 'id'"}},
      {R"({"queries": [{"id": 7, "text": "t", "positive": "p"}]})", {"queries[0]: key 'id' is number"}},
      {R"({"queries": [], "candidates": [{"id": "c", "text": "x"}]})", {"'queries' is empty"}},
      {R"({"queries": [{"id": "q", "text": "t", "relevant": []}], "candidates": []})", {"'candidates' is empty"}},
      {R"({"candidates": [{"id": "c", "text": "x"}]})", {"no key 'queries'"}},
      {R"([])", {"expected {\"queries\""}},
      {"{\n\"queries\": [\n}", {"bad.json:3: not valid JSON"}},
  };
  for (const auto& [text, expected] : cases) {
    const auto path = write(dir / "bad.json", text);
    const std::string error = read_error(path, "retrieval-json");
    EXPECT_THAT(error, HasSubstr("bad.json")) << text;
    for (const auto& part : expected) EXPECT_THAT(error, HasSubstr(part)) << text;
  }
  // Queries without a language would take the option's; here every query has one.
  const auto path =
      write(dir / "pool.json", R"({"queries": [{"id": "a", "text": "t", "language": "en", "positive": "p"},
                                                {"id": "b", "text": "t", "language": "de", "positive": "p"}]})");
  EXPECT_THAT(read_error(path, "retrieval-json", with_language("fr")),
              AllOf(HasSubstr("no queries in language 'fr'"), HasSubstr("(languages in the file: de, en)")));
}

// ---- lareqa-pairs ----

// Expected pairs from xtreme's lareqa.py (RetrievalSquadProcessor._create_examples, with its sb_sed)
// run on this file: q3's answer starts on the space between two sentences; q5's answer "5 dollars"
// (a no-break space, which is not a word break there but is to str.split) is not found in the context's
// words; q6's answer starts inside the word "5 dollars." and is kept, as XTREME keeps it; q4 has two
// answers and the first is used.
constexpr const char* kSquadForPairs = R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [
 {"context": "Mr. Smith went home. He slept.\nThe next day came.", "qas": [
   {"id": "q1", "question": "What did he do?", "answers": [{"text": "slept", "answer_start": 24}]},
   {"id": "q2", "question": "Who went home?", "answers": [{"text": "Mr. Smith", "answer_start": 0}]},
   {"id": "q3", "question": "Between?", "answers": [{"text": " He", "answer_start": 20}]},
   {"id": "q4", "question": "What came?", "answers": [{"text": "next day", "answer_start": 35}, {"text": "home", "answer_start": 15}]}]},
 {"context": "It cost 5\u00a0dollars. Then it rose.", "qas": [
   {"id": "q5", "question": "How much?", "answers": [{"text": "5\u00a0dollars", "answer_start": 8}]},
   {"id": "q6", "question": "What currency?", "answers": [{"text": "dollars", "answer_start": 10}]},
   {"id": "q7", "question": "What did it do?", "answers": [{"text": "rose", "answer_start": 28}]}]}]}]})";

TEST(DataRetrieval, LareqaPairsAreQuestionsWithTheirAnswersSentenceAsXtremeBuildsThem) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "train-v1.1.json", kSquadForPairs);
  const Dataset d = read_dataset(path, "lareqa-pairs");
  EXPECT_TRUE(d.retrieval);
  EXPECT_TRUE(d.candidates.empty());
  std::vector<std::vector<std::string>> pairs;
  for (const auto& e : d.examples) {
    pairs.push_back({e.id, e.text_a, e.text_b.value_or("(none)"), e.language});
  }
  const std::string nbsp = "\u00a0";
  EXPECT_THAT(pairs,
              ElementsAre(ElementsAre("q1", "What did he do?",
                                      "He slept.Mr. Smith went home. He slept.The next day came.", "en"),
                          ElementsAre("q2", "Who went home?",
                                      "Mr. Smith went home.Mr. Smith went home. He slept.The next day came.", "en"),
                          ElementsAre("q4", "What came?",
                                      "The next day came.Mr. Smith went home. He slept.The next day came.", "en"),
                          ElementsAre("q6", "What currency?",
                                      "It cost 5" + nbsp + "dollars.It cost 5" + nbsp + "dollars. Then it rose.", "en"),
                          ElementsAre("q7", "What did it do?",
                                      "Then it rose.It cost 5" + nbsp + "dollars. Then it rose.", "en")));
  EXPECT_EQ(d.report.rows, 7);
  EXPECT_EQ(d.report.kept, 5);
  EXPECT_EQ(d.report.skipped_malformed, 2);
  ASSERT_EQ(d.report.notes.size(), 2u);
  EXPECT_THAT(d.report.notes[0], AllOf(HasSubstr("question 'q3'"), HasSubstr("answer_start 20 is in no sentence")));
  EXPECT_THAT(d.report.notes[1], AllOf(HasSubstr("question 'q5'"), HasSubstr("not in the context's words")));

  const Dataset german = read_dataset(path, "lareqa-pairs", with_language("de"));
  for (const auto& e : german.examples) EXPECT_EQ(e.language, "de");
}

TEST(DataRetrieval, LareqaPairsErrors) {
  const auto dir = testing::make_temp_dir();
  auto squad = [](const std::string& qas) {
    return R"({"data": [{"paragraphs": [{"context": "One. Two.", "qas": [)" + qas + "]}]}]}";
  };
  EXPECT_THAT(read_error(write(dir / "none.json", squad(R"({"id": "a", "question": "Q?", "answers": []})")),
                         "lareqa-pairs"),
              AllOf(HasSubstr("none.json"), HasSubstr("question 'a'"), HasSubstr("no answers")));
  EXPECT_THAT(read_error(write(dir / "out.json",
                               squad(R"({"id": "b", "question": "Q?", "answers": [{"text": "Two.!", "answer_start": 5}]})")),
                         "lareqa-pairs"),
              AllOf(HasSubstr("question 'b'"), HasSubstr("answers[0]"), HasSubstr("not within the context")));
  EXPECT_THAT(read_error(write(dir / "skipped.json",
                               squad(R"({"id": "c", "question": "Q?", "answers": [{"text": " ", "answer_start": 4}]})")),
                         "lareqa-pairs"),
              HasSubstr("key 'text' is empty"));
  EXPECT_THAT(read_error(write(dir / "between.json",
                               squad(R"({"id": "d", "question": "Q?", "answers": [{"text": " T", "answer_start": 4}]})")),
                         "lareqa-pairs"),
              AllOf(HasSubstr("between.json"), HasSubstr("no question has its answer in a sentence")));
  EXPECT_THAT(read_error(write(dir / "list.json", "[]"), "lareqa-pairs"), HasSubstr("list.json"));
}

// Every XQuAD file, read as a SQuAD training file: the pairs equal lareqa.py's on it (the number kept, and
// the SHA-256 of "id<TAB>question<TAB>positive\n" over all pairs, computed with the reference). In es and
// ru one question each is skipped: its answer does not survive the word check.
TEST(DataRetrieval, LareqaPairsOfEveryXquadFileAreTheReferences) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/xquad/xquad.en.json");
  const std::vector<std::tuple<std::string, size_t, std::string>> expected = {
      {"ar", 1190, "294c890c524bc315e1d5a6a66cdce3df5d0de35879b1383e93781b888bd33210"},
      {"de", 1190, "892dd409952fbc31c2378bc24dfb22fe28bc3c8170804859204a683ee9f31959"},
      {"el", 1190, "d1562791b16f7ae5b24fe869cb0fd8bf7d321b2cec1a36782f05ad9bc3e5f880"},
      {"en", 1190, "d4be0e4eaccb3623232841c4abe8171e99cc66c264546d2657b4c6137d558222"},
      {"es", 1189, "19c8efe655ac94b84e4b61bcbf70cbf93ec6e319f1411f33e8e1ad5560f32ee4"},
      {"hi", 1190, "8ff166b158b747fd34efc835ada3cfa0f1da8fed3c83c7859d81a4b8868d065d"},
      {"ro", 1190, "918e667484509f19af2f6195f4b88efbbebcac33198a3f7a019ad1aa5b2a70f9"},
      {"ru", 1189, "9f99a0947da187d962edd446391dcbd286bc72bcc01690a67783d39b7e0bfc1b"},
      {"th", 1190, "3eaf27bf04c45fd6712041e8ee37cedb7aec0262c470997fbdc6d91706026a56"},
      {"tr", 1190, "f383ae8b447a17a9acecdd632a33e51aef56e13cecf5527f8301df0bb5c41157"},
      {"vi", 1190, "28ea8b5b44b18afa3a1aad9da178264aa434903995c4e802038eea1b4e693d1c"},
      {"zh", 1190, "b41f672536bf2b03da84882da1192c3ebf77b1133a7e83a1d4b33ada820778b3"},
  };
  for (const auto& [language, count, digest] : expected) {
    const Dataset d = read_dataset(testing::xtreme_r_dir() / "xquad" / ("xquad." + language + ".json"), "lareqa-pairs");
    std::string serialised;
    for (const auto& e : d.examples) serialised += e.id + "\t" + e.text_a + "\t" + e.text_b.value_or("") + "\n";
    EXPECT_EQ(d.examples.size(), count) << language;
    EXPECT_EQ(d.report.skipped_malformed, static_cast<int64_t>(1190 - count)) << language;
    EXPECT_EQ(sha256_hex(serialised), digest) << language;
  }
}

TEST(DataRetrieval, FormatsAreRegistered) {
  const auto formats = dataset_formats();
  for (const std::string name : {"tatoeba", "lareqa", "mewslix", "mewslix-pairs", "lareqa-pairs", "retrieval-json"}) {
    EXPECT_NE(std::find(formats.begin(), formats.end(), name), formats.end()) << name;
  }
}

}  // namespace
}  // namespace stilts::tasks
