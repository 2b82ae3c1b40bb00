// The extractive-QA readers (squad, mlqa): small SQuAD-layout files the tests write, covering every rule
// and error with expected values worked out by hand, then the real XQuAD, MLQA and TyDiQA-GoldP files of
// ../shared/fixtures/data/xtreme-r (skipped when absent), read in place with exact counts.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <tuple>
#include <utility>

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
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// {"data": [{"paragraphs": [{"context": <context>, "qas": [<qas>]}]}]}
std::string one_paragraph(const std::string& context, const std::string& qas) {
  return R"({"data": [{"title": "T", "paragraphs": [{"context": )" + context + R"(, "qas": [)" + qas + "]}]}]}";
}

// A question with id `id` and the answers list `answers` (JSON).
std::string question(const std::string& id, const std::string& answers) {
  return R"({"id": ")" + id + R"(", "question": "Q?", "answers": )" + answers + "}";
}

std::vector<std::string> answer_texts(const Example& example) {
  std::vector<std::string> texts;
  for (const auto& answer : example.answers) texts.push_back(answer.text);
  return texts;
}

std::vector<int64_t> answer_starts(const Example& example) {
  std::vector<int64_t> starts;
  for (const auto& answer : example.answers) starts.push_back(answer.start);
  return starts;
}

// Two articles; the first with two paragraphs. Several answers to a question, a `version` key and
// unknown keys (ignored), an article without a title.
const char* kSquad = R"({
  "version": "1.1",
  "extra": {"ignored": true},
  "data": [
    {"title": "Paris", "paragraphs": [
      {"context": "Paris is the capital of France. It lies on the Seine.",
       "qas": [
         {"id": "q1", "question": "What is the capital of France?",
          "answers": [{"text": "Paris", "answer_start": 0}, {"text": "Paris", "answer_start": 0},
                      {"text": "capital of France", "answer_start": 13}]},
         {"id": "q2", "question": "Which river?", "note": "ignored",
          "answers": [{"text": "the Seine", "answer_start": 43}]}]},
      {"context": "The Louvre opened in 1793.",
       "qas": [{"id": "q3", "question": "When did the Louvre open?", "answers": [{"text": "1793", "answer_start": 21}]}]}
    ]},
    {"paragraphs": [
      {"context": "Berlin is large.", "qas": [{"id": "q4", "question": "Which city?", "is_impossible": false,
                                          "answers": [{"text": "Berlin", "answer_start": 0}]}]}
    ]}
  ]
}
)";

TEST(DataSquad, QuestionsContextsAndAnswersInFileOrder) {
  const auto dir = testing::make_temp_dir();
  const auto path = write(dir / "dev-v1.1.json", kSquad);
  const Dataset d = read_dataset(path, "squad");
  EXPECT_EQ(d.format, "squad");
  EXPECT_EQ(d.source, path.string());
  EXPECT_TRUE(d.extractive_qa);
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.answer_normalizer, "squad");
  EXPECT_THAT(d.label_names, IsEmpty());
  EXPECT_FALSE(d.pairs);
  EXPECT_FALSE(d.tagging);
  EXPECT_FALSE(d.multiple_choice);
  EXPECT_EQ(d.report.rows, 4);
  EXPECT_EQ(d.report.kept, 4);
  EXPECT_EQ(d.report.skipped_malformed, 0);
  EXPECT_THAT(d.report.notes, IsEmpty());
  ASSERT_EQ(d.examples.size(), 4u);
  const Example& q1 = d.examples[0];
  EXPECT_EQ(q1.id, "q1");
  EXPECT_EQ(q1.text_a, "What is the capital of France?");
  EXPECT_FALSE(q1.text_b.has_value());
  EXPECT_EQ(q1.context, "Paris is the capital of France. It lies on the Seine.");
  EXPECT_THAT(answer_texts(q1), ElementsAre("Paris", "Paris", "capital of France"));
  EXPECT_THAT(answer_starts(q1), ElementsAre(0, 0, 13));
  EXPECT_EQ(q1.language, "en");  // SQuAD's file names carry no language
  EXPECT_EQ(q1.label, -1);
  EXPECT_THAT(q1.choices, IsEmpty());
  const Example& q2 = d.examples[1];
  EXPECT_EQ(q2.id, "q2");
  EXPECT_EQ(q2.context, q1.context);
  EXPECT_THAT(answer_texts(q2), ElementsAre("the Seine"));
  EXPECT_THAT(answer_starts(q2), ElementsAre(43));
  EXPECT_EQ(d.examples[2].id, "q3");
  EXPECT_EQ(d.examples[2].context, "The Louvre opened in 1793.");
  EXPECT_THAT(answer_starts(d.examples[2]), ElementsAre(21));
  EXPECT_EQ(d.examples[3].id, "q4");
  EXPECT_EQ(d.examples[3].context, "Berlin is large.");
  // The same file as mlqa: MLQA's normaliser, and a language it knows.
  const Dataset mlqa = read_dataset(path, "mlqa", with_language("en"));
  EXPECT_EQ(mlqa.format, "mlqa");
  EXPECT_EQ(mlqa.answer_normalizer, "mlqa");
  EXPECT_TRUE(mlqa.extractive_qa);
  EXPECT_EQ(mlqa.examples.size(), 4u);
}

TEST(DataSquad, AnswerStartsCountCodePoints) {
  const auto dir = testing::make_temp_dir();
  // "北京是中国的首都。": 3 bytes a character; 首都 starts at code point 6 (byte 18).
  // "José Martí nació en La Habana.": é, í, ó are 2 bytes each; La Habana starts at code point 20 (byte 23).
  // "😀 smile 😀": the emoji is one code point (4 bytes, 2 UTF-16 units); smile starts at 2.
  // A BOM inside the context (XQuAD es's first context starts with one) is a code point like any other.
  const std::string qas =
      question("zh", R"([{"text": "首都", "answer_start": 6}, {"text": "北京", "answer_start": 0}])");
  const std::string file =
      std::string(R"({"data": [{"paragraphs": [)") + R"({"context": "北京是中国的首都。", "qas": [)" + qas + "]}," +
      R"({"context": "José Martí nació en La Habana.", "qas": [)" +
      question("es", R"([{"text": "La Habana", "answer_start": 20}, {"text": "Martí", "answer_start": 5}])") + "]}," +
      R"({"context": "😀 smile 😀", "qas": [)" + question("emoji", R"([{"text": "smile 😀", "answer_start": 2}])") +
      "]}," + R"({"context": "\ufeffLos Panthers", "qas": [)" +
      question("bom", R"([{"text": "Panthers", "answer_start": 5}])") + "]}" + "]}]}";
  const Dataset d = read_dataset(write(dir / "multi.json", file), "squad");
  EXPECT_EQ(d.report.skipped_malformed, 0);
  EXPECT_THAT(d.report.notes, IsEmpty());
  ASSERT_EQ(d.examples.size(), 4u);
  EXPECT_THAT(answer_texts(d.examples[0]), ElementsAre("首都", "北京"));
  EXPECT_THAT(answer_starts(d.examples[0]), ElementsAre(6, 0));
  EXPECT_EQ(d.examples[0].context, "北京是中国的首都。");
  EXPECT_THAT(answer_texts(d.examples[1]), ElementsAre("La Habana", "Martí"));
  EXPECT_THAT(answer_starts(d.examples[1]), ElementsAre(20, 5));
  EXPECT_THAT(answer_starts(d.examples[2]), ElementsAre(2));
  EXPECT_EQ(d.examples[3].context, "\xEF\xBB\xBFLos Panthers");
  EXPECT_THAT(answer_starts(d.examples[3]), ElementsAre(5));
  // Byte offsets (18 for 首都, 23 for La Habana) or UTF-16 offsets (3 for smile) do not match.
  const std::string bytes =
      one_paragraph(R"("北京是中国的首都。")", question("b", R"([{"text": "首都", "answer_start": 18}])"));
  EXPECT_THAT(read_error(write(dir / "bytes.json", bytes), "squad"),
              HasSubstr("answer '首都' at 18 starts past the end of the context (9 code points)"));
  const Dataset utf16 = read_dataset(
      write(dir / "utf16.json",
            one_paragraph(
                R"("😀 smile 😀")",
                question("u", R"([{"text": "smile", "answer_start": 3}, {"text": "smile", "answer_start": 2}])"))),
      "squad");
  EXPECT_EQ(utf16.report.skipped_malformed, 1);
  ASSERT_EQ(utf16.examples.size(), 1u);
  EXPECT_THAT(answer_starts(utf16.examples[0]), ElementsAre(2));
  ASSERT_EQ(utf16.report.notes.size(), 1u);
  EXPECT_THAT(utf16.report.notes[0],
              HasSubstr("answer 'smile' at 3 does not match the context, which holds 'mile ' there"));
}

TEST(DataSquad, MismatchedAnswersAreCountedNotedAndDropped) {
  const auto dir = testing::make_temp_dir();
  const std::string answers = R"([{"text": "Paris", "answer_start": 0},)"
                              R"( {"text": "Paris", "answer_start": 1},)"     // 1: off by one
                              R"( {"text": "France", "answer_start": -3},)"   // 2: negative
                              R"( {"text": "France.", "answer_start": 12},)"  // 3: runs past the end
                              R"( {"text": "France", "answer_start": 99},)"   // 4: past the end
                              R"( {"text": 5, "answer_start": 0},)"           // 5: text not a string
                              R"( {"text": "Paris", "answer_start": "0"},)"   // 6: start not an integer
                              R"( {"text": "Paris", "answer_start": 0.0},)"   // 7: start not an integer
                              R"( {"text": "Paris"},)"                        // 8: no start
                              R"( "Paris",)"                                  // 9: not an object
                              R"( {"text": "", "answer_start": 0},)"          // 10: empty text
                              R"( {"text": "France", "answer_start": 12}])";  // 11: kept
  const auto path = write(dir / "dev.json", one_paragraph(R"("Paris is in France")", question("id-7", answers)));
  const Dataset d = read_dataset(path, "squad");
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.report.rows, 1);
  EXPECT_EQ(d.report.kept, 1);
  EXPECT_EQ(d.report.skipped_malformed, 10);
  ASSERT_EQ(d.examples.size(), 1u);
  EXPECT_THAT(answer_texts(d.examples[0]), ElementsAre("Paris", "France"));
  EXPECT_THAT(answer_starts(d.examples[0]), ElementsAre(0, 12));
  const std::string where = path.string() + ": data[0].paragraphs[0].qas[0].answers[";
  ASSERT_EQ(d.report.notes.size(), 10u);
  EXPECT_EQ(d.report.notes[0], where +
                                   "1]: question 'id-7': answer 'Paris' at 1 does not match the context, "
                                   "which holds 'aris ' there: answer dropped");
  EXPECT_EQ(d.report.notes[1], where + "2]: question 'id-7': answer 'France' at -3: a negative start: answer dropped");
  EXPECT_EQ(d.report.notes[2], where +
                                   "3]: question 'id-7': answer 'France.' at 12 runs past the end of the context "
                                   "(18 code points; from there it holds 'France'): answer dropped");
  EXPECT_EQ(d.report.notes[3], where +
                                   "4]: question 'id-7': answer 'France' at 99 starts past the end of the "
                                   "context (18 code points): answer dropped");
  EXPECT_THAT(d.report.notes[4], HasSubstr("5]: question 'id-7': answer's 'text' is number, expected a string"));
  EXPECT_THAT(d.report.notes[5],
              HasSubstr("6]: question 'id-7': answer 'Paris': 'answer_start' is \"0\", expected an integer"));
  EXPECT_THAT(d.report.notes[6],
              HasSubstr("7]: question 'id-7': answer 'Paris': 'answer_start' is 0.0, expected an integer"));
  EXPECT_THAT(d.report.notes[7], HasSubstr("8]: question 'id-7': answer 'Paris' has no 'answer_start'"));
  EXPECT_THAT(d.report.notes[8], HasSubstr("9]: question 'id-7': answer is string, expected an object"));
  EXPECT_THAT(d.report.notes[9], HasSubstr("10]: question 'id-7': answer '' at 0: empty text: answer dropped"));
}

TEST(DataSquad, AnswerRunningPastTheEndShowsWhatIsThere) {
  const auto dir = testing::make_temp_dir();
  const auto path =
      write(dir / "dev.json",
            one_paragraph(
                R"("Paris is in France")",
                question("a", R"([{"text": "France.", "answer_start": 12}, {"text": "Paris", "answer_start": 0}])")));
  const Dataset d = read_dataset(path, "squad");
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_EQ(d.report.notes[0], path.string() +
                                   ": data[0].paragraphs[0].qas[0].answers[0]: question 'a': answer "
                                   "'France.' at 12 runs past the end of the context (18 code points; "
                                   "from there it holds 'France'): answer dropped");
}

TEST(DataSquad, QuestionLeftWithoutAnswersIsSkipped) {
  const auto dir = testing::make_temp_dir();
  const std::string qas =
      question("good", R"([{"text": "Oslo", "answer_start": 0}])") + ", " +
      question("bad", R"([{"text": "Oslo", "answer_start": 3}, {"text": "Bergen", "answer_start": 0}])") + ", " +
      question("good2", R"([{"text": "Norway", "answer_start": 8}])");
  const auto path = write(dir / "train.json", one_paragraph(R"("Oslo is Norway's capital.")", qas));
  const Dataset d = read_dataset(path, "squad");
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.report.rows, 3);
  EXPECT_EQ(d.report.kept, 2);
  EXPECT_EQ(d.report.skipped_malformed, 3);  // two answers and the question they leave empty
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "good");
  EXPECT_EQ(d.examples[1].id, "good2");
  ASSERT_EQ(d.report.notes.size(), 3u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("qas[1].answers[0]: question 'bad': answer 'Oslo' at 3 does not match"));
  EXPECT_THAT(d.report.notes[1], HasSubstr("qas[1].answers[1]: question 'bad': answer 'Bergen' at 0 does not match the "
                                           "context, which holds 'Oslo i' there"));
  EXPECT_EQ(d.report.notes[2], path.string() +
                                   ": data[0].paragraphs[0].qas[1]: question 'bad': none of its 2 answers "
                                   "is a span of the context: question skipped");
  // Every question skipped: an error, with the first note.
  EXPECT_THAT(read_error(write(dir / "none.json",
                               one_paragraph(R"("Oslo")", question("x", R"([{"text": "Bergen", "answer_start": 0}])"))),
                         "squad"),
              AllOf(HasSubstr("none.json: no question has an answer that is a span of its context (2 answers and "
                              "questions skipped; the first: "),
                    HasSubstr("question 'x': answer 'Bergen' at 0")));
}

TEST(DataSquad, SkipNotesStopAfterTen) {
  const auto dir = testing::make_temp_dir();
  std::string qas;
  for (int i = 0; i < 12; ++i) {
    qas +=
        question("q" + std::to_string(i), R"([{"text": "A", "answer_start": 0}, {"text": "B", "answer_start": 0}])") +
        ", ";
  }
  qas += question("last", R"([{"text": "A", "answer_start": 0}])");
  const Dataset d = read_dataset(write(dir / "dev.json", one_paragraph(R"("A")", qas)), "squad");
  EXPECT_EQ(d.report.kept, 13);
  EXPECT_EQ(d.report.skipped_malformed, 12);
  ASSERT_EQ(d.report.notes.size(), 11u);
  EXPECT_THAT(d.report.notes[9], HasSubstr("question 'q9'"));
  EXPECT_EQ(d.report.notes[10], "... 2 more skipped rows not listed");
}

TEST(DataSquad, FileWithoutAnswersIsReadForPrediction) {
  const auto dir = testing::make_temp_dir();
  // XTREME's test files: "answers": [] everywhere.
  const std::string qas = question("t1", "[]") + ", " + question("t2", "[]");
  const Dataset d =
      read_dataset(write(dir / "test-context-de-question-de.json", one_paragraph(R"("Berlin.")", qas)), "mlqa");
  EXPECT_FALSE(d.labelled);
  EXPECT_TRUE(d.extractive_qa);
  EXPECT_EQ(d.report.rows, 2);
  EXPECT_EQ(d.report.kept, 2);
  EXPECT_EQ(d.report.skipped_malformed, 0);
  EXPECT_THAT(d.report.notes, IsEmpty());
  ASSERT_EQ(d.examples.size(), 2u);
  EXPECT_EQ(d.examples[0].id, "t1");
  EXPECT_EQ(d.examples[0].context, "Berlin.");
  EXPECT_THAT(d.examples[0].answers, IsEmpty());
  EXPECT_EQ(d.examples[1].language, "de");
}

TEST(DataSquad, FileMixingQuestionsWithAndWithoutAnswersIsAnError) {
  const auto dir = testing::make_temp_dir();
  const std::string with = question("has", R"([{"text": "A", "answer_start": 0}])");
  EXPECT_THAT(
      read_error(write(dir / "a.json", one_paragraph(R"("A")", with + ", " + question("lacks", "[]"))), "squad"),
      HasSubstr("a.json: data[0].paragraphs[0].qas[1] (question 'lacks'): a question without answers, but "
                "data[0].paragraphs[0].qas[0] (question 'has') has answers: a file is labelled throughout or "
                "not at all"));
  EXPECT_THAT(read_error(write(dir / "b.json", one_paragraph(R"("A")", question("lacks", "[]") + ", " +
                                                                           question("also", "[]") + ", " + with)),
                         "squad"),
              HasSubstr("b.json: data[0].paragraphs[0].qas[0] (question 'lacks'): a question without answers, but "
                        "data[0].paragraphs[0].qas[2] (question 'has') has answers"));
}

TEST(DataSquad, Squad2UnanswerableQuestionsAreAnError) {
  const auto dir = testing::make_temp_dir();
  const std::string v2 =
      R"({"id": "u1", "question": "Q?", "answers": [], "plausible_answers": [{"text": "A", "answer_start": 0}], "is_impossible": true})";
  EXPECT_THAT(
      read_error(write(dir / "dev-v2.0.json", one_paragraph(R"("A")", v2)), "squad"),
      HasSubstr("dev-v2.0.json: data[0].paragraphs[0].qas[0] (question 'u1'): an unanswerable question "
                "(is_impossible: true): SQuAD 2.0's unanswerable questions are not supported, only SQuAD v1.1"));
  // Answerable v2 questions (is_impossible: false) read as v1.1 ones.
  const Dataset d = read_dataset(
      write(
          dir / "answerable.json",
          one_paragraph(
              R"("A")",
              R"({"id": "a1", "question": "Q?", "answers": [{"text": "A", "answer_start": 0}], "is_impossible": false})")),
      "squad");
  EXPECT_EQ(d.examples.size(), 1u);
  EXPECT_THAT(
      read_error(write(dir / "odd.json",
                       one_paragraph(R"("A")", R"({"id": "o", "question": "Q?", "answers": [], "is_impossible": 1})")),
                 "squad"),
      HasSubstr(
          "odd.json: data[0].paragraphs[0].qas[0] (question 'o'): key 'is_impossible' is number, expected a boolean"));
}

TEST(DataSquad, LanguageFromFileNames) {
  const auto dir = testing::make_temp_dir();
  const std::string file = one_paragraph(R"("A")", question("q", R"([{"text": "A", "answer_start": 0}])"));
  auto language = [&](const std::string& name, const std::string& format = "squad", const ReadOptions& options = {}) {
    return read_dataset(write(dir / name, file), format, options).examples.at(0).language;
  };
  // MLQA: the context language, not the question's.
  EXPECT_EQ(language("dev-context-de-question-en.json"), "de");
  EXPECT_EQ(language("test-context-zh-question-es.json", "mlqa"), "zh");
  EXPECT_EQ(language("dev-context-hi-question-hi.json", "mlqa"), "hi");
  // TyDiQA's language names: official files, per-language splits.
  EXPECT_EQ(language("tydiqa-goldp-dev-bengali.json"), "bn");
  EXPECT_EQ(language("tydiqa-goldp-dev-thai.json"), "th");
  EXPECT_EQ(language("tydiqa-goldp-dev-japanese.json"), "ja");
  EXPECT_EQ(language("swahili_tydiqa_dev.json"), "sw");
  EXPECT_EQ(language("indonesian_tydiqa_train.json"), "id");
  EXPECT_EQ(language("Telugu_tydiqa_dev.json"), "te");
  EXPECT_EQ(language("arabic_tydiqa_dev.json", "mlqa"), "ar");
  // A two-letter part of the name: XQuAD, XTREME's TyDiQA files.
  EXPECT_EQ(language("xquad.es.json"), "es");
  EXPECT_EQ(language("xquad.ro.json"), "ro");
  EXPECT_EQ(language("tydiqa.goldp.fi.train.json"), "fi");
  EXPECT_EQ(language("tydiqa.ko.dev.json"), "ko");
  EXPECT_EQ(language("squad_vi_dev.json", "mlqa"), "vi");
  // Nothing: SQuAD is English.
  EXPECT_EQ(language("train-v1.1.json"), "en");
  EXPECT_EQ(language("xquad.ES.json"), "en");
  EXPECT_EQ(language("data.eng.json"), "en");
  // The option overrides the name.
  EXPECT_EQ(language("xquad.es.json", "squad", with_language("xx")), "xx");
  EXPECT_EQ(language("dev-context-de-question-de.json", "mlqa", with_language("es")), "es");
  EXPECT_EQ(language("swahili_tydiqa_dev.json", "squad", with_language("sw-KE")), "sw-KE");
}

TEST(DataSquad, MlqaNeedsOneOfItsSevenLanguages) {
  const auto dir = testing::make_temp_dir();
  const std::string file = one_paragraph(R"("A")", question("q", R"([{"text": "A", "answer_start": 0}])"));
  const auto unnamed = write(dir / "train-v1.1.json", file);
  EXPECT_THAT(read_error(unnamed, "mlqa"),
              AllOf(HasSubstr("train-v1.1.json: cannot tell the language from the file name (MLQA names files "
                              "{dev,test}-context-<lang>-question-<lang>.json): rename it or set the language option"),
                    HasSubstr("MLQA's answer normaliser depends on the language")));
  EXPECT_EQ(read_dataset(unnamed, "mlqa", with_language("vi")).examples[0].language, "vi");
  EXPECT_THAT(read_error(unnamed, "mlqa", with_language("fr")),
              HasSubstr("train-v1.1.json: language 'fr' is not one of MLQA's (en, es, de, ar, hi, vi, zh)"));
  EXPECT_THAT(read_error(write(dir / "xquad.el.json", file), "mlqa"), HasSubstr("language 'el' is not one of MLQA's"));
  EXPECT_THAT(read_error(write(dir / "finnish_tydiqa_dev.json", file), "mlqa"),
              HasSubstr("language 'fi' is not one of MLQA's"));
  // squad takes any language.
  EXPECT_EQ(read_dataset(dir / "xquad.el.json", "squad").examples[0].language, "el");
}

TEST(DataSquad, QuestionIdsAreUnique) {
  const auto dir = testing::make_temp_dir();
  const std::string a = question("same", R"([{"text": "A", "answer_start": 0}])");
  const std::string file = R"({"data": [{"paragraphs": [{"context": "A", "qas": [)" + a +
                           R"(]}]}, {"paragraphs": [{"context": "AB", "qas": [)" +
                           question("other", R"([{"text": "B", "answer_start": 1}])") + ", " + a + "]}]}]}";
  EXPECT_THAT(read_error(write(dir / "dev.json", file), "squad"),
              HasSubstr("dev.json: data[1].paragraphs[0].qas[1] (question 'same'): the id is also the id of "
                        "data[0].paragraphs[0].qas[0]; question ids must be unique in a file"));
  // XTREME's TyDiQA train files repeat ids (utils_preprocess.py keeps the last part): numbered instead.
  const Dataset d = read_dataset(write(dir / "tydiqa.goldp.sw.train.json", file), "squad");
  EXPECT_EQ(d.report.kept, 3);
  ASSERT_EQ(d.examples.size(), 3u);
  EXPECT_EQ(d.examples[0].id, "tydiqa.goldp.sw.train.json#1");
  EXPECT_EQ(d.examples[1].id, "tydiqa.goldp.sw.train.json#2");
  EXPECT_EQ(d.examples[2].id, "tydiqa.goldp.sw.train.json#3");
  EXPECT_EQ(d.examples[1].context, "AB");
  EXPECT_EQ(d.examples[0].language, "sw");
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("tydiqa.goldp.sw.train.json: question ids repeat (e.g. 'same'), as XTREME's "
                                           "utils_preprocess.py writes its TyDiQA train files"));
  // Numbers count every question, skipped ones too; ids that do not repeat stay.
  const std::string skipped = R"({"data": [{"paragraphs": [{"context": "A", "qas": [)" + a + ", " +
                              question("bad", R"([{"text": "B", "answer_start": 0}])") + ", " + a + "]}]}]}";
  const Dataset numbered = read_dataset(write(dir / "tydiqa.en.train.json", skipped), "squad");
  ASSERT_EQ(numbered.examples.size(), 2u);
  EXPECT_EQ(numbered.examples[1].id, "tydiqa.en.train.json#3");
  const Dataset unique =
      read_dataset(write(dir / "tydiqa.goldp.en.train.json",
                         one_paragraph(R"("A")", a + ", " + question("b", R"([{"text": "A", "answer_start": 0}])"))),
                   "squad");
  EXPECT_EQ(unique.examples[0].id, "same");
  EXPECT_THAT(unique.report.notes, IsEmpty());
  // Only train files: a dev file's ids key its predictions.
  EXPECT_THAT(read_error(write(dir / "tydiqa.goldp.sw.dev.json", file), "squad"),
              HasSubstr("question ids must be unique"));
}

TEST(DataSquad, StructureErrorsNameTheFileAndJsonPath) {
  const auto dir = testing::make_temp_dir();
  int n = 0;
  auto error = [&](const std::string& bytes) {
    return read_error(write(dir / ("f" + std::to_string(n++) + ".json"), bytes), "squad");
  };
  const std::string ok = question("q", R"([{"text": "A", "answer_start": 0}])");
  EXPECT_THAT(error("{\"data\": [\n{\"paragraphs\": ]}"), HasSubstr("f0.json:2: not valid JSON (byte "));
  EXPECT_THAT(error("[1, 2]"),
              HasSubstr("f1.json: expected a JSON object {\"data\": [...]} (SQuAD v1.1 layout), found array"));
  EXPECT_THAT(error(R"({"version": "1.1"})"),
              HasSubstr("f2.json: top level: no key 'data' (expected a list of articles"));
  EXPECT_THAT(error(R"({"data": {}})"),
              HasSubstr("f3.json: top level: key 'data' is object, expected a list of articles"));
  EXPECT_THAT(error(R"({"data": ["x"]})"),
              HasSubstr("f4.json: data[0]: expected an article (a JSON object), found string"));
  EXPECT_THAT(error(R"({"data": [{"title": "T"}]})"), HasSubstr("f5.json: data[0]: no key 'paragraphs'"));
  EXPECT_THAT(
      error(R"({"data": [{"paragraphs": [{"context": "A", "qas": [)" + ok + R"(]}]}, {"paragraphs": [{"qas": []}]}]})"),
      HasSubstr("f6.json: data[1].paragraphs[0]: no key 'context' (expected the paragraph's text, a string)"));
  EXPECT_THAT(
      error(R"({"data": [{"paragraphs": [{"context": 7, "qas": []}]}]})"),
      HasSubstr("f7.json: data[0].paragraphs[0]: key 'context' is number, expected the paragraph's text (a string)"));
  EXPECT_THAT(error(R"({"data": [{"paragraphs": [{"context": "A"}]}]})"),
              HasSubstr("f8.json: data[0].paragraphs[0]: no key 'qas'"));
  EXPECT_THAT(error(one_paragraph(R"("A")", ok + R"(, {"question": "Q?", "answers": []})")),
              HasSubstr("f9.json: data[0].paragraphs[0].qas[1]: no key 'id' (expected the question's id, a string)"));
  EXPECT_THAT(error(one_paragraph(R"("A")", R"({"id": 3, "question": "Q?", "answers": []})")),
              HasSubstr("f10.json: data[0].paragraphs[0].qas[0]: key 'id' is number, expected the question's id"));
  EXPECT_THAT(error(one_paragraph(R"("A")", R"({"id": "q9", "answers": []})")),
              HasSubstr("f11.json: data[0].paragraphs[0].qas[0] (question 'q9'): no key 'question'"));
  EXPECT_THAT(
      error(one_paragraph(R"("A")", R"({"id": "q9", "question": "Q?"})")),
      HasSubstr(
          "f12.json: data[0].paragraphs[0].qas[0] (question 'q9'): no key 'answers' (expected a list of answers"));
  EXPECT_THAT(
      error(one_paragraph(R"("A")", R"({"id": "q9", "question": "Q?", "answers": {"text": "A", "answer_start": 0}})")),
      HasSubstr("f13.json: data[0].paragraphs[0].qas[0] (question 'q9'): key 'answers' is object, expected a list of "
                "answers"));
  EXPECT_THAT(error(one_paragraph(R"("A")", R"("q9")")),
              HasSubstr("f14.json: data[0].paragraphs[0].qas[0]: expected a question (a JSON object), found string"));
  EXPECT_THAT(error(one_paragraph(R"(" ")", ok)), HasSubstr("f15.json: data[0].paragraphs[0]: key 'context' is empty"));
  EXPECT_THAT(error(one_paragraph(R"("A")", R"({"id": "q9", "question": "", "answers": []})")),
              HasSubstr("f16.json: data[0].paragraphs[0].qas[0] (question 'q9'): key 'question' is empty"));
  // No questions at all, an empty file, invalid UTF-8.
  EXPECT_THAT(error(R"({"data": []})"), HasSubstr("f17.json: no questions"));
  EXPECT_THAT(error(R"({"data": [{"paragraphs": [{"context": "A", "qas": []}]}]})"),
              HasSubstr("f18.json: no questions"));
  EXPECT_THAT(error("  \n"), HasSubstr("f19.json: file is empty"));
  EXPECT_THAT(error("{\"data\": [\n{\"paragraphs\": [{\"context\": \"\xC3\x28\", \"qas\": []}]}]}"),
              HasSubstr("f20.json:2: invalid UTF-8"));
}

// ---- the real files (../shared/fixtures/data/xtreme-r) ----

int64_t answer_count(const Dataset& d) {
  int64_t n = 0;
  for (const Example& e : d.examples) n += static_cast<int64_t>(e.answers.size());
  return n;
}

TEST(DataSquad, RealXquadSpanish) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/xquad/xquad.es.json");
  const Dataset d = read_dataset(testing::xtreme_r_dir() / "xquad" / "xquad.es.json", "squad");
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.report.rows, 1190);
  EXPECT_EQ(d.report.kept, 1190);
  EXPECT_EQ(d.report.skipped_malformed, 0);
  EXPECT_THAT(d.report.notes, IsEmpty());
  ASSERT_EQ(d.examples.size(), 1190u);
  // 48 articles of 5 paragraphs: 240 distinct contexts.
  std::set<std::string> contexts;
  for (const Example& e : d.examples) {
    contexts.insert(e.context);
    EXPECT_EQ(e.language, "es");
    EXPECT_FALSE(e.answers.empty());
  }
  EXPECT_EQ(contexts.size(), 240u);
  const Example& first = d.examples[0];
  EXPECT_EQ(first.id, "56beb4343aeaaa14008c925b");
  EXPECT_EQ(first.text_a, "¿Cuántos puntos dejaron escapar en defensa los Panthers?");
  EXPECT_THAT(first.context, StartsWith("\xEF\xBB\xBFLos Panthers, que además de liderar"));  // a BOM, counted
  EXPECT_THAT(answer_texts(first), ElementsAre("308"));
  EXPECT_THAT(answer_starts(first), ElementsAre(133));
}

TEST(DataSquad, RealXquadEveryLanguage) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/xquad");
  for (const std::string language : {"ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}) {
    SCOPED_TRACE(language);
    const Dataset d = read_dataset(testing::xtreme_r_dir() / "xquad" / ("xquad." + language + ".json"), "squad");
    EXPECT_EQ(d.report.kept, 1190);
    EXPECT_EQ(d.report.skipped_malformed, 0);
    EXPECT_EQ(d.examples.at(0).language, language);
  }
}

TEST(DataSquad, RealMlqaDev) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/mlqa/MLQA_V1/dev");
  const std::vector<std::pair<std::string, int64_t>> counts = {{"en", 1148}, {"de", 512}, {"es", 500}, {"ar", 517},
                                                               {"hi", 507},  {"vi", 511}, {"zh", 504}};
  for (const auto& [language, questions] : counts) {
    SCOPED_TRACE(language);
    const auto path = testing::xtreme_r_dir() / "mlqa" / "MLQA_V1" / "dev" /
                      ("dev-context-" + language + "-question-" + language + ".json");
    const Dataset d = read_dataset(path, "mlqa");
    EXPECT_EQ(d.answer_normalizer, "mlqa");
    EXPECT_TRUE(d.labelled);
    EXPECT_EQ(d.report.rows, questions);
    EXPECT_EQ(d.report.kept, questions);
    EXPECT_EQ(d.report.skipped_malformed, 0);
    EXPECT_THAT(d.report.notes, IsEmpty());
    for (const Example& e : d.examples) {
      EXPECT_EQ(e.language, language);
      EXPECT_FALSE(e.answers.empty());
    }
  }
  // zh: the first question's answer starts at code point 18 (byte 54) of its context.
  const Dataset zh =
      read_dataset(testing::xtreme_r_dir() / "mlqa" / "MLQA_V1" / "dev" / "dev-context-zh-question-zh.json", "mlqa");
  EXPECT_EQ(zh.examples[0].id, "13f8eea6654690750d6c7ed262aa7345a92738c2");
  EXPECT_THAT(answer_texts(zh.examples[0]), ElementsAre("宪法保障宗教自由"));
  EXPECT_THAT(answer_starts(zh.examples[0]), ElementsAre(18));
}

TEST(DataSquad, RealTydiqaGoldpDevByLanguage) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/tydiqa/goldp_dev_by_language");
  const std::vector<std::tuple<std::string, std::string, int64_t>> files = {
      {"arabic", "ar", 921},  {"bengali", "bn", 113},    {"english", "en", 440},
      {"finnish", "fi", 782}, {"indonesian", "id", 565}, {"korean", "ko", 276},
      {"russian", "ru", 812}, {"swahili", "sw", 499},    {"telugu", "te", 669}};
  int64_t total = 0;
  for (const auto& [name, language, questions] : files) {
    SCOPED_TRACE(name);
    const Dataset d = read_dataset(
        testing::xtreme_r_dir() / "tydiqa" / "goldp_dev_by_language" / (name + "_tydiqa_dev.json"), "squad");
    EXPECT_EQ(d.answer_normalizer, "squad");
    EXPECT_TRUE(d.labelled);
    EXPECT_EQ(d.report.rows, questions);
    EXPECT_EQ(d.report.kept, questions);
    EXPECT_EQ(d.report.skipped_malformed, 0);
    EXPECT_THAT(d.report.notes, IsEmpty());
    EXPECT_EQ(d.examples.at(0).language, language);
    EXPECT_THAT(d.examples.at(0).id, StartsWith(name + "-"));
    total += d.report.kept;
  }
  EXPECT_EQ(total, 5077);  // the official GoldP dev set
  // bn: two answers, at code points 280 and 274 of a 618-code-point (1,630-byte) context.
  const Dataset bn =
      read_dataset(testing::xtreme_r_dir() / "tydiqa" / "goldp_dev_by_language" / "bengali_tydiqa_dev.json", "squad");
  EXPECT_EQ(bn.examples[0].id, "bengali-608617701520483849-1");
  EXPECT_THAT(answer_starts(bn.examples[0]), ElementsAre(280, 274));
  EXPECT_THAT(answer_texts(bn.examples[0]), ElementsAre("জর্জ সিডেনহাম ক্লার্ক", "স্যার জর্জ সিডেনহাম ক্লার্ক"));
}

TEST(DataSquad, RealTydiqaXtremeTrain) {
  STILTS_REQUIRE_SHARED("data/xtreme-r/tydiqa/xtreme_processed/tydiqa.goldp.en.train.json");
  const Dataset d =
      read_dataset(testing::xtreme_r_dir() / "tydiqa" / "xtreme_processed" / "tydiqa.goldp.en.train.json", "squad");
  EXPECT_TRUE(d.labelled);
  EXPECT_EQ(d.report.rows, 3696);
  EXPECT_EQ(d.report.kept, 3696);
  EXPECT_EQ(d.report.skipped_malformed, 0);
  EXPECT_EQ(answer_count(d), 3696);
  ASSERT_EQ(d.examples.size(), 3696u);
  EXPECT_EQ(d.examples[0].language, "en");
  EXPECT_EQ(d.examples[0].text_a, "When was quantum field theory developed?");
  EXPECT_THAT(answer_starts(d.examples[0]), ElementsAre(159));
  // XTREME's ids ("12", "0", "0", ...; "0" 1,651 times) are replaced by positions, with a note.
  EXPECT_EQ(d.examples[0].id, "tydiqa.goldp.en.train.json#1");
  EXPECT_EQ(d.examples[3695].id, "tydiqa.goldp.en.train.json#3696");
  ASSERT_EQ(d.report.notes.size(), 1u);
  EXPECT_THAT(d.report.notes[0], HasSubstr("question ids repeat (e.g. '0')"));
}

}  // namespace
}  // namespace stilts::tasks
