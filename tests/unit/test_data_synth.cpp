// The synthetic world: determinism, idempotence, every dataset read back through read_dataset with
// its real format, the corpus, and the tokenizer loaded as an XLM-R tokenizer.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "support/fixtures.h"
#include "synth/random.h"
#include "synth/world.h"
#include "tasks/datasets/dataset.h"
#include "text/auto.h"
#include "text/unicode.h"

namespace stilts::synth {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// The words of a sentence that every language says alike: names (capitalized) and numbers, sorted.
std::vector<std::string> shared_words(const std::vector<std::string>& words) {
  std::vector<std::string> out;
  for (std::string w : words) {
    while (!w.empty() && (w.back() == '.' || w.back() == '?')) w.pop_back();
    if (!w.empty() && (std::isupper(static_cast<unsigned char>(w[0])) || std::isdigit(static_cast<unsigned char>(w[0])))) {
      out.push_back(w);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The names among shared_words (numbers dropped).
std::vector<std::string> names_of(const std::vector<std::string>& shared) {
  std::vector<std::string> out;
  for (const auto& w : shared) {
    if (!std::isdigit(static_cast<unsigned char>(w[0]))) out.push_back(w);
  }
  return out;
}

// One small world shared by the tests that only read it.
class SynthWorld : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest runs each test in its own process, several at a time.
    dir_ = new fs::path(fs::temp_directory_path() / ("stilts-synth-world-small-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    files_ = new WorldFiles(generate_world(WorldOptions::small(), *dir_));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete files_;
    delete dir_;
  }
  // Every {lang}, as the experiment runner expands patterns (parallel's holds two).
  static std::string expand(std::string pattern, const std::string& language) {
    for (size_t at = pattern.find("{lang}"); at != std::string::npos; at = pattern.find("{lang}", at)) {
      pattern.replace(at, 6, language);
    }
    return pattern;
  }
  static tasks::Dataset read(const std::string& task, const std::string& split, const std::string& language) {
    const TaskFiles& t = files_->task(task);
    const std::string& pattern = split == "train" ? t.train : split == "dev" ? t.dev : t.test;
    tasks::ReadOptions options;
    options.language = language;  // as the experiment runner passes it for {lang} patterns
    return tasks::read_dataset(expand(pattern, language), t.format, options);
  }
  static std::map<int64_t, int64_t> label_counts(const tasks::Dataset& d) {
    std::map<int64_t, int64_t> counts;
    for (const auto& e : d.examples) ++counts[e.label];
    return counts;
  }
  static std::vector<std::string> lines(const fs::path& path) {
    std::istringstream in(read_file(path));
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }
  // The words of a sentence, its final '.' left out.
  static std::vector<std::string> words(std::string s) {
    if (!s.empty() && s.back() == '.') s.pop_back();
    std::istringstream in(s);
    std::vector<std::string> out;
    for (std::string w; in >> w;) out.push_back(w);
    return out;
  }

  static fs::path* dir_;
  static WorldFiles* files_;
};
fs::path* SynthWorld::dir_ = nullptr;
WorldFiles* SynthWorld::files_ = nullptr;

// Every file under `dir` (relative path -> bytes), the lock file left out.
std::map<std::string, std::string> snapshot(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().filename() == ".lock") continue;
    out[fs::relative(entry.path(), dir).string()] = read_file(entry.path());
  }
  return out;
}

// ---- randomness ----

TEST(SynthRandom, FixedSequenceOnEveryPlatform) {
  // mt19937_64's 10000th output for the default seed is fixed by the C++ standard; our draws on top
  // of it are plain integer arithmetic.
  std::mt19937_64 engine;
  engine.discard(9999);
  EXPECT_EQ(engine(), 9981545732273789042ULL);
  Rng a(42), b(42);
  for (int i = 0; i < 1000; ++i) ASSERT_EQ(a.below(7), b.below(7));
  Rng c(7);
  std::vector<int64_t> counts(4, 0);
  for (int i = 0; i < 40000; ++i) ++counts[static_cast<size_t>(c.below(4))];
  for (int64_t n : counts) EXPECT_NEAR(static_cast<double>(n), 10000.0, 400.0);
  EXPECT_NE(stream_seed(1, "corpus:en"), stream_seed(1, "corpus:xa"));
  EXPECT_NE(stream_seed(1, "corpus:en"), stream_seed(2, "corpus:en"));
}

// ---- options ----

TEST(SynthOptions, ValidateNamesTheField) {
  auto error = [](const WorldOptions& o) {
    try {
      o.validate();
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  WorldOptions o;
  EXPECT_EQ(error(o), "no error");
  o.languages = {"en", "EN"};
  EXPECT_THAT(error(o), HasSubstr("'EN' must be 2-3 lowercase letters"));
  o.languages = {"en", "xa", "en"};
  EXPECT_THAT(error(o), HasSubstr("'en' is listed twice"));
  o.languages = {"xa", "xb"};
  EXPECT_THAT(error(o), HasSubstr("'train_language' 'en' is not among the languages (xa, xb)"));
  o = WorldOptions{};
  o.num_attention_heads = 3;
  EXPECT_THAT(error(o), HasSubstr("'hidden_size' 128 is not a multiple of 'num_attention_heads' 3"));
  o = WorldOptions{};
  o.parallel_fraction = 1.5;
  EXPECT_THAT(error(o), HasSubstr("'parallel_fraction' 1.5 is outside 0..1"));
  o = WorldOptions{};
  o.paws_eval = 0;
  EXPECT_THAT(error(o), HasSubstr("'paws_eval' must be positive"));
  o = WorldOptions{};
  o.retrieval_distractors = -1;
  EXPECT_THAT(error(o), HasSubstr("'retrieval_distractors' must be 0 or more"));
  o = WorldOptions{};
  o.qa_eval = 0;
  EXPECT_THAT(error(o), HasSubstr("'qa_eval' must be positive"));
  o = WorldOptions{};
  o.tokenizer_type = "wordpiece";
  EXPECT_THAT(error(o), HasSubstr("not one of unigram, bpe"));
  EXPECT_THROW(WorldOptions::preset("huge"), InputError);
  EXPECT_EQ(WorldOptions::default_languages(3), (std::vector<std::string>{"en", "xa", "xb"}));
  EXPECT_THROW(WorldOptions::default_languages(0), InputError);
  EXPECT_NE(WorldOptions{}.hash(), WorldOptions::small().hash());
  EXPECT_EQ(WorldOptions{}.hash(), WorldOptions{}.hash());
}

// ---- determinism and idempotence ----

TEST(SynthGenerate, SameSeedSameBytesOtherSeedOtherWorld) {
  const fs::path tmp = testing::make_temp_dir();
  WorldOptions o = WorldOptions::small();
  o.languages = {"en", "xa", "xd"};
  o.corpus_sentences = 600;
  generate_world(o, tmp / "a");
  generate_world(o, tmp / "b");
  const auto a = snapshot(tmp / "a");
  const auto b = snapshot(tmp / "b");
  ASSERT_GT(a.size(), 100u);
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    EXPECT_TRUE(b.at(name) == bytes) << name << " differs between two runs with the same seed";
  }
  // The tokenizer model included: the trainer runs single-threaded on the same sentences.
  EXPECT_EQ(a.at("model/sentencepiece.bpe.model"), b.at("model/sentencepiece.bpe.model"));
  for (const char* name : {"pos/dev-xd.tsv", "ner/train-en.tsv", "qa/test-xa.json", "choice/val-xd.jsonl",
                           "retrieval/train-en.json", "retrieval/test-xd.json"}) {
    EXPECT_TRUE(a.count(name)) << name;
  }

  o.seed = 2;
  generate_world(o, tmp / "c");
  const auto c = snapshot(tmp / "c");
  EXPECT_NE(a.at("corpus/en.txt"), c.at("corpus/en.txt"));
  EXPECT_NE(a.at("paws/en/train.tsv"), c.at("paws/en/train.tsv"));
  EXPECT_NE(a.at("qa/dev-xa.json"), c.at("qa/dev-xa.json"));
  EXPECT_NE(a.at("retrieval/dev-xd.json"), c.at("retrieval/dev-xd.json"));
  fs::remove_all(tmp);
}

TEST(SynthGenerate, ReusesACompleteWorldAndRefusesOtherOptions) {
  const fs::path tmp = testing::make_temp_dir();
  WorldOptions o = WorldOptions::small();
  o.languages = {"en", "xa"};
  const WorldFiles first = generate_world(o, tmp / "w");
  EXPECT_FALSE(first.reused);
  const auto before = fs::last_write_time(first.world_json);
  const WorldFiles again = generate_world(o, tmp / "w");
  EXPECT_TRUE(again.reused);
  EXPECT_EQ(fs::last_write_time(again.world_json), before);
  EXPECT_EQ(again.to_json().dump(), [&] {
    WorldFiles f = first;
    f.reused = true;
    return f.to_json().dump();
  }());
  EXPECT_EQ(load_world(tmp / "w").task("paws").dev, first.task("paws").dev);

  WorldOptions other = o;
  other.seed = 9;
  try {
    generate_world(other, tmp / "w");
    ADD_FAILURE() << "no error for a world with other options";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("generated with other options"));
  }

  // An interrupted generation (no marker) is redone.
  fs::remove(tmp / "w" / ".stilts-world");
  fs::remove_all(tmp / "w" / "nli");
  std::ofstream(tmp / "w" / "world.json.tmp.12345") << "{";  // a killed atomic write
  const WorldFiles redone = generate_world(o, tmp / "w");
  EXPECT_FALSE(redone.reused);
  EXPECT_TRUE(fs::exists(tmp / "w" / "nli" / "dev-xa.tsv"));
  EXPECT_FALSE(fs::exists(tmp / "w" / "world.json.tmp.12345"));

  // A folder holding something else is not overwritten.
  fs::create_directories(tmp / "mine");
  std::ofstream(tmp / "mine" / "notes.txt") << "keep me";
  try {
    generate_world(o, tmp / "mine");
    ADD_FAILURE() << "no error for a non-empty folder";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("not empty and not a synthetic world (it holds 'notes.txt')"));
  }
  EXPECT_TRUE(fs::exists(tmp / "mine" / "notes.txt"));
  EXPECT_THROW(load_world(tmp / "mine"), InputError);
  fs::remove_all(tmp);
}

// ---- datasets through the real readers ----

TEST_F(SynthWorld, SentimentReadsAsImdb) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("sentiment", "train", "en");
  EXPECT_EQ(train.format, "imdb");
  EXPECT_EQ(train.label_names, (std::vector<std::string>{"neg", "pos"}));
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.sentiment_train);
  EXPECT_EQ(label_counts(train), (std::map<int64_t, int64_t>{{0, o.sentiment_train / 2}, {1, o.sentiment_train / 2}}));
  // IMDB's file names: <id>_<rating>.txt with ratings 1-4 (neg) and 7-10 (pos).
  for (const char* label : {"neg", "pos"}) {
    for (const auto& entry : fs::directory_iterator(expand(files_->task("sentiment").train, "en") + "/" + label)) {
      const std::string stem = entry.path().stem().string();
      const int rating = std::stoi(stem.substr(stem.find('_') + 1));
      if (std::string(label) == "pos") {
        EXPECT_TRUE(rating >= 7 && rating <= 10) << entry.path();
      } else {
        EXPECT_TRUE(rating >= 1 && rating <= 4) << entry.path();
      }
    }
  }
  for (const auto& language : files_->languages) {
    for (const char* split : {"dev", "test"}) {
      const tasks::Dataset d = read("sentiment", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.sentiment_eval) << language << " " << split;
      EXPECT_EQ(label_counts(d).at(1), o.sentiment_eval / 2);
      EXPECT_EQ(d.examples.front().language, language);
    }
  }
  EXPECT_FALSE(fs::exists(expand(files_->task("sentiment").train, "xa")));  // train: the training language only
}

TEST_F(SynthWorld, PawsReadsAsPawsxWithAdversarialNegatives) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("paws", "train", "en");
  EXPECT_TRUE(train.pairs);
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.paws_train);
  EXPECT_EQ(train.report.skipped_malformed + train.report.skipped_placeholder, 0);
  EXPECT_EQ(label_counts(train), (std::map<int64_t, int64_t>{{0, o.paws_train / 2}, {1, o.paws_train / 2}}));
  // PAWS-style: word overlap does not give the label away. Non-paraphrases reuse their partner's words
  // (roles or adjectives swapped) as much as paraphrases do; no paraphrase is a copy.
  auto jaccard = [](const std::string& x, const std::string& y) {
    const auto a = words(x), b = words(y);
    const std::set<std::string> sa(a.begin(), a.end()), sb(b.begin(), b.end());
    int64_t shared = 0;
    for (const auto& w : sa) shared += sb.count(w);
    return static_cast<double>(shared) / static_cast<double>(sa.size() + sb.size() - shared);
  };
  double overlap[2] = {0, 0};
  int64_t count[2] = {0, 0}, same_bag = 0;
  for (const auto& e : train.examples) {
    if (e.label == 1) {
      EXPECT_NE(e.text_a, *e.text_b) << e.id;
    }
    overlap[e.label] += jaccard(e.text_a, *e.text_b);
    ++count[e.label];
    if (e.label == 0) same_bag += jaccard(e.text_a, *e.text_b) == 1.0;
  }
  const double negative = overlap[0] / count[0], positive = overlap[1] / count[1];
  EXPECT_GT(negative, 0.6);
  EXPECT_GT(negative, positive - 0.05) << "non-paraphrases " << negative << ", paraphrases " << positive;
  EXPECT_GT(same_bag, count[0] / 3) << "role swaps in the same voice keep every word";

  std::vector<int64_t> en_labels;
  for (const auto& language : files_->languages) {
    for (const char* split : {"dev", "test"}) {
      const tasks::Dataset d = read("paws", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.paws_eval) << language << " " << split;
      EXPECT_EQ(d.examples.front().language, language);
      EXPECT_EQ(d.report.kept, d.report.rows);
      // The same meanings in every language (as PAWS-X translates its dev/test sets): same labels.
      std::vector<int64_t> labels;
      for (const auto& e : d.examples) labels.push_back(e.label);
      if (std::string(split) == "dev") {
        if (language == "en") en_labels = labels;
        EXPECT_EQ(labels, en_labels) << language;
      }
    }
  }
  // The file layout PAWS-X ships.
  EXPECT_EQ(lines(expand(files_->task("paws").dev, "xb")).front(), "id\tsentence1\tsentence2\tlabel");
  EXPECT_TRUE(fs::exists(files_->root / "paws" / "xd" / "test_2k.tsv"));
}

TEST_F(SynthWorld, NliReadsAsXnli) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("nli", "train", "en");
  EXPECT_EQ(train.label_names, (std::vector<std::string>{"entailment", "neutral", "contradiction"}));
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.nli_train);
  EXPECT_EQ(label_counts(train), (std::map<int64_t, int64_t>{{0, 100}, {1, 100}, {2, 100}}));
  for (const auto& language : files_->languages) {
    // The language comes from the XTREME file name alone.
    const tasks::Dataset d = tasks::read_dataset(expand(files_->task("nli").test, language), "xnli");
    ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.nli_eval);
    EXPECT_EQ(d.examples.front().language, language);
    const auto counts = label_counts(d);
    ASSERT_EQ(counts.size(), 3u);
    for (const auto& [label, n] : counts) EXPECT_GE(n, o.nli_eval / 3) << language << " label " << label;
  }
}

// ---- the XTREME-R kinds: tagging, extractive QA, multiple choice, retrieval ----

TEST_F(SynthWorld, PosReadsAsXtremeTaggingWithUposTags) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("pos", "train", "en");
  EXPECT_TRUE(train.tagging);
  EXPECT_EQ(train.label_names, tasks::upos_tags());  // every tag is a UPOS tag, so the reader fixes the set
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.pos_train);
  const nlohmann::json world = read_json_file(files_->world_json);
  std::vector<std::vector<std::string>> en_names;
  for (const auto& language : files_->languages) {
    for (const char* split : {"dev", "test"}) {
      const tasks::Dataset d = read("pos", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.pos_eval) << language << " " << split;
      EXPECT_EQ(d.label_names, tasks::upos_tags());
      std::map<std::string, int64_t> counts;
      int64_t words = 0;
      for (size_t i = 0; i < d.examples.size(); ++i) {
        const tasks::Example& e = d.examples[i];
        EXPECT_EQ(e.language, language);
        ASSERT_EQ(e.words.size(), e.word_labels.size());
        // Tags agree with what the words visibly are: a final "." PUNCT, names PROPN, numbers NUM.
        EXPECT_EQ(e.words.back(), ".");
        for (size_t w = 0; w < e.words.size(); ++w) {
          const std::string& tag = d.label_names[static_cast<size_t>(e.word_labels[w])];
          const unsigned char first = static_cast<unsigned char>(e.words[w][0]);
          EXPECT_EQ(tag == "PUNCT", w + 1 == e.words.size()) << e.id;
          EXPECT_EQ(tag == "PROPN", std::isupper(first) != 0) << e.words[w];
          EXPECT_EQ(tag == "NUM", std::isdigit(first) != 0) << e.words[w];
          ++counts[tag];
          ++words;
        }
        // The same meanings in every language: the same names and numbers in each sentence.
        if (std::string(split) == "dev") {
          if (language == "en") en_names.push_back(shared_words(e.words));
          EXPECT_EQ(shared_words(e.words), en_names[i]) << language << " sentence " << i;
        }
      }
      EXPECT_GE(counts.size(), 8u) << language;
      if (std::string(split) == "test") {
        // The documented chance level: the most frequent tag's share, low enough to mean something.
        std::string majority;
        for (const auto& [tag, n] : counts) {
          if (majority.empty() || n > counts[majority]) majority = tag;
        }
        const nlohmann::json& chance = world.at("chance").at("pos").at("test").at(language);
        EXPECT_EQ(chance.at("tag"), majority);
        EXPECT_DOUBLE_EQ(chance.at("accuracy").get<double>(),
                         static_cast<double>(counts[majority]) / static_cast<double>(words));
        EXPECT_LT(chance.at("accuracy").get<double>(), 0.3) << language;
      }
    }
  }
  EXPECT_FALSE(fs::exists(expand(files_->task("pos").train, "xa")));
}

TEST_F(SynthWorld, NerReadsAsXtremeTaggingWithPanxTags) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("ner", "train", "en");
  EXPECT_EQ(train.label_names, tasks::panx_tags());
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.ner_train);
  const nlohmann::json world = read_json_file(files_->world_json);
  std::vector<std::vector<std::string>> en_entities;
  for (const auto& language : files_->languages) {
    for (const char* split : {"dev", "test"}) {
      const tasks::Dataset d = read("ner", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.ner_eval) << language << " " << split;
      std::map<std::string, int64_t> counts;
      int64_t words = 0;
      for (size_t i = 0; i < d.examples.size(); ++i) {
        const tasks::Example& e = d.examples[i];
        std::vector<std::string> entity_words;
        std::string previous = "O";
        for (size_t w = 0; w < e.words.size(); ++w) {
          const std::string& tag = d.label_names[static_cast<size_t>(e.word_labels[w])];
          EXPECT_TRUE(tag == "O" || tag.substr(2) == "PER" || tag.substr(2) == "LOC") << tag;
          // IOB2: an I- tag continues an entity of its type.
          EXPECT_TRUE(tag[0] != 'I' || (previous != "O" && previous.substr(2) == tag.substr(2))) << e.id;
          // Entities are the capitalized words (names, family names, named places), and only they.
          EXPECT_EQ(tag != "O", std::isupper(static_cast<unsigned char>(e.words[w][0])) != 0) << e.words[w];
          if (tag != "O") entity_words.push_back(e.words[w] + "/" + tag);
          previous = tag;
          ++counts[tag];
          ++words;
        }
        std::sort(entity_words.begin(), entity_words.end());
        if (std::string(split) == "dev") {
          if (language == "en") en_entities.push_back(entity_words);
          EXPECT_EQ(entity_words, en_entities[i]) << language << " sentence " << i;
        }
      }
      for (const char* tag : {"B-PER", "I-PER", "B-LOC", "I-LOC"}) EXPECT_GT(counts[tag], 0) << language << " " << tag;
      if (std::string(split) == "test") {
        const double o_share = static_cast<double>(counts["O"]) / static_cast<double>(words);
        EXPECT_DOUBLE_EQ(world.at("chance").at("ner").at("test").at(language).at("accuracy").get<double>(), o_share);
        EXPECT_LT(o_share, 0.85) << language;
      }
    }
  }
}

TEST_F(SynthWorld, QaReadsAsSquadWithAnswersSpansOfTheContext) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("qa", "train", "en");
  EXPECT_TRUE(train.extractive_qa);
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.qa_train);
  EXPECT_EQ(train.report.skipped_malformed, 0);
  const nlohmann::json world = read_json_file(files_->world_json);
  std::vector<std::string> en_ids;
  std::vector<std::vector<std::string>> en_shared;
  for (const auto& language : files_->languages) {
    nlohmann::json question_words;
    for (const auto& l : world.at("languages")) {
      if (l.at("code") == language) question_words = l.at("function_words").at("questions");
    }
    for (const char* split : {"train", "dev", "test"}) {
      if (std::string(split) == "train" && language != "en") continue;
      const tasks::Dataset d = read("qa", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), std::string(split) == "train" ? o.qa_train : o.qa_eval);
      EXPECT_EQ(d.report.skipped_malformed, 0) << language << " " << split;
      EXPECT_EQ(d.answer_normalizer, "squad");
      for (size_t i = 0; i < d.examples.size(); ++i) {
        const tasks::Example& e = d.examples[i];
        ASSERT_EQ(e.answers.size(), 1u);
        // answer_start counts code points (the spellings have ä and ö), and the answer is whole words.
        const std::u32string context = text::decode_utf8(e.context, "context");
        const std::u32string answer = text::decode_utf8(e.answers[0].text, "answer");
        const auto start = static_cast<size_t>(e.answers[0].start);
        ASSERT_LE(start + answer.size(), context.size());
        EXPECT_EQ(context.substr(start, answer.size()), answer) << e.id;
        EXPECT_TRUE(start == 0 || context[start - 1] == U' ') << e.id;
        EXPECT_TRUE(context[start + answer.size()] == U' ' || context[start + answer.size()] == U'.') << e.id;
        // A question in the language's own words: one of its question words, ending in '?'.
        EXPECT_EQ(e.text_a.back(), '?');
        const auto q = words(e.text_a.substr(0, e.text_a.size() - 1));
        int64_t wh = 0;
        for (const char* k : {"who", "what", "where"}) {
          wh += std::count(q.begin(), q.end(), question_words.at(k).get<std::string>());
        }
        EXPECT_EQ(wh, 1) << language << ": " << e.text_a;
        if (std::string(split) == "dev") {
          // The same items in every language: ids, and the names and numbers of context and answer.
          auto shared = shared_words(words(e.context));
          for (const auto& w : shared_words(words(e.answers[0].text))) shared.push_back("answer:" + w);
          if (language == "en") {
            en_ids.push_back(e.id);
            en_shared.push_back(shared);
          }
          EXPECT_EQ(e.id, en_ids[i]);
          EXPECT_EQ(shared, en_shared[i]) << language << " " << e.id;
        }
      }
      if (std::string(split) == "test") {
        // The documented chance level: a random span of the context's words rarely is the answer.
        const nlohmann::json& chance = world.at("chance").at("qa").at("test").at(language);
        EXPECT_GT(chance.at("exact_match").get<double>(), 0.0);
        EXPECT_LT(chance.at("exact_match").get<double>(), 0.05) << language;
        EXPECT_LT(chance.at("f1").get<double>(), 0.35) << language;
      }
    }
  }
}

TEST_F(SynthWorld, ChoiceReadsAsXcopa) {
  const WorldOptions o = WorldOptions::small();
  const tasks::Dataset train = read("choice", "train", "en");
  EXPECT_TRUE(train.multiple_choice);
  ASSERT_EQ(static_cast<int64_t>(train.examples.size()), o.choice_train);
  EXPECT_EQ(label_counts(train), (std::map<int64_t, int64_t>{{0, o.choice_train / 2}, {1, o.choice_train / 2}}));
  std::vector<int64_t> en_labels;
  std::vector<std::string> en_questions;
  for (const auto& language : files_->languages) {
    for (const char* split : {"dev", "test"}) {
      const tasks::Dataset d = read("choice", split, language);
      ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.choice_eval) << language << " " << split;
      EXPECT_TRUE(d.labelled);
      // Chance is 50%: either choice is right for half the items.
      EXPECT_EQ(label_counts(d).at(0), o.choice_eval / 2);
      std::vector<int64_t> labels;
      std::vector<std::string> questions;
      for (const auto& e : d.examples) {
        EXPECT_EQ(e.language, language);
        ASSERT_EQ(e.choices.size(), 2u);
        EXPECT_NE(e.choices[0], e.choices[1]);
        // Both choices restate or contradict the premise's event: the same people. The right one keeps
        // the premise's numbers or hides one (a generalization); the wrong one may change a number.
        const auto premise = shared_words(words(e.text_a.substr(0, e.text_a.rfind(" What was the "))));
        const auto right = shared_words(words(e.choices[static_cast<size_t>(e.label)]));
        EXPECT_EQ(names_of(right), names_of(premise)) << e.text_a << " / " << e.choices[static_cast<size_t>(e.label)];
        EXPECT_EQ(names_of(shared_words(words(e.choices[static_cast<size_t>(1 - e.label)]))), names_of(premise))
            << e.text_a << " / " << e.choices[static_cast<size_t>(1 - e.label)];
        for (const auto& w : right) {
          EXPECT_TRUE(std::find(premise.begin(), premise.end(), w) != premise.end()) << e.text_a << " / " << w;
        }
        labels.push_back(e.label);
        questions.push_back(e.text_a.substr(e.text_a.rfind(' ')));
      }
      if (std::string(split) == "dev") {
        if (language == "en") {
          en_labels = labels;
          en_questions = questions;
        }
        EXPECT_EQ(labels, en_labels) << language;
        EXPECT_EQ(questions, en_questions) << language;
      }
    }
  }
  const nlohmann::json world = read_json_file(files_->world_json);
  EXPECT_DOUBLE_EQ(world.at("chance").at("choice").at("accuracy").get<double>(), 0.5);
}

TEST_F(SynthWorld, RetrievalJsonPairsAndPoolsInTheTrainingLanguage) {
  // Parsed here directly: the layout of format retrieval-json (one JSON document; training files hold
  // query-positive pairs, evaluation files queries with their relevant candidates and the pool).
  const WorldOptions o = WorldOptions::small();
  const TaskFiles& t = files_->task("retrieval");
  const nlohmann::json train = read_json_file(expand(t.train, "en"));
  EXPECT_FALSE(train.contains("candidates"));
  ASSERT_EQ(static_cast<int64_t>(train.at("queries").size()), o.retrieval_train);
  std::set<std::string> ids;
  for (const auto& q : train.at("queries")) {
    EXPECT_TRUE(ids.insert(q.at("id").get<std::string>()).second);
    EXPECT_EQ(q.at("language"), "en");
    // A paraphrase: the same meaning (names and numbers alike), said another way.
    const std::string text = q.at("text"), positive = q.at("positive");
    EXPECT_NE(text, positive);
    EXPECT_EQ(shared_words(words(text)), shared_words(words(positive))) << text << " / " << positive;
  }
  EXPECT_FALSE(fs::exists(expand(t.train, "xa")));

  const int64_t pool = o.retrieval_eval + o.retrieval_distractors;
  const nlohmann::json world = read_json_file(files_->world_json);
  EXPECT_DOUBLE_EQ(world.at("chance").at("retrieval").at("accuracy").get<double>(), 1.0 / static_cast<double>(pool));
  for (const char* split : {"dev", "test"}) {
    nlohmann::json en_candidates;
    std::vector<std::string> en_relevant;
    for (const auto& language : files_->languages) {
      const nlohmann::json d = read_json_file(expand(std::string(split) == "dev" ? t.dev : t.test, language));
      const auto& candidates = d.at("candidates");
      ASSERT_EQ(static_cast<int64_t>(candidates.size()), pool) << language;
      std::map<std::string, std::string> text_of;
      for (const auto& c : candidates) {
        EXPECT_EQ(c.at("language"), "en");
        EXPECT_TRUE(text_of.emplace(c.at("id").get<std::string>(), c.at("text").get<std::string>()).second);
      }
      if (language == "en") en_candidates = candidates;
      EXPECT_EQ(candidates, en_candidates) << "one pool for every language";
      const auto& queries = d.at("queries");
      ASSERT_EQ(static_cast<int64_t>(queries.size()), o.retrieval_eval);
      std::set<std::string> relevant_ids;
      for (size_t i = 0; i < queries.size(); ++i) {
        const auto& q = queries[i];
        EXPECT_EQ(q.at("language"), language);
        ASSERT_EQ(q.at("relevant").size(), 1u);
        const std::string relevant = q.at("relevant")[0];
        ASSERT_TRUE(text_of.count(relevant)) << relevant;
        EXPECT_TRUE(relevant_ids.insert(relevant).second) << "each candidate is relevant to one query at most";
        // The same meaning: its names and numbers; and the same candidate for the same query everywhere.
        EXPECT_EQ(shared_words(words(q.at("text"))), shared_words(words(text_of.at(relevant))))
            << q.at("text") << " / " << text_of.at(relevant);
        if (language == "en") {
          en_relevant.push_back(relevant);
          EXPECT_NE(q.at("text"), text_of.at(relevant)) << "a query is not its candidate's very string";
        }
        EXPECT_EQ(relevant, en_relevant[i]);
      }
    }
  }
}

TEST_F(SynthWorld, ParallelReadsAsTatoebaAlignedWithTheTrainingLanguage) {
  const WorldOptions o = WorldOptions::small();
  const TaskFiles& t = files_->task("parallel");
  EXPECT_EQ(t.kind, "sentence-retrieval");
  EXPECT_EQ(t.format, "tatoeba");
  EXPECT_TRUE(t.train.empty() && t.dev.empty()) << "evaluation only";
  // No pair of the training language with itself.
  EXPECT_FALSE(fs::exists(expand(t.test, "en")));
  const nlohmann::json world = read_json_file(files_->world_json);
  EXPECT_DOUBLE_EQ(world.at("chance").at("parallel").at("accuracy").get<double>(),
                   1.0 / static_cast<double>(o.parallel_eval));
  EXPECT_EQ(world.at("sizes").at("parallel").at("test").get<int64_t>(), o.parallel_eval);

  std::vector<tasks::Candidate> first_pool;
  for (const auto& language : files_->languages) {
    if (language == files_->train_language) continue;
    const tasks::Dataset d = read("parallel", "test", language);
    // The training language's side, as written (line i translates line i of the language's side).
    const auto english = lines(fs::path(expand(t.test, language)).parent_path() / ("tatoeba." + language + "-eng.eng"));
    const auto source = lines(expand(t.test, language));
    EXPECT_TRUE(d.retrieval);
    EXPECT_TRUE(d.labelled) << "the aligned layout carries its own gold";
    ASSERT_EQ(static_cast<int64_t>(d.examples.size()), o.parallel_eval) << language;
    ASSERT_EQ(static_cast<int64_t>(d.candidates.size()), o.parallel_eval) << language;
    ASSERT_EQ(static_cast<int64_t>(english.size()), o.parallel_eval) << language;
    ASSERT_EQ(source.size(), english.size()) << language;
    if (first_pool.empty()) first_pool = d.candidates;
    std::set<std::string> pool_texts;
    for (size_t k = 0; k < d.candidates.size(); ++k) {
      EXPECT_EQ(d.candidates[k].text, first_pool[k].text) << "one pool for every language";
      EXPECT_TRUE(pool_texts.insert(d.candidates[k].text).second) << "equal candidates: " << d.candidates[k].text;
    }
    std::set<int64_t> gold;
    for (size_t i = 0; i < d.examples.size(); ++i) {
      const tasks::Example& e = d.examples[i];
      EXPECT_EQ(e.language, language);
      EXPECT_EQ(e.text_a, source[i]);
      ASSERT_EQ(e.relevant.size(), 1u);
      const int64_t k = e.relevant[0];
      ASSERT_TRUE(k >= 0 && k < static_cast<int64_t>(d.candidates.size()));
      EXPECT_TRUE(gold.insert(k).second) << "each candidate is gold for one sentence";
      // Gold is line i of the training language's side, and says the same (names and numbers alike).
      EXPECT_EQ(d.candidates[static_cast<size_t>(k)].text, english[i]);
      EXPECT_EQ(shared_words(words(e.text_a)), shared_words(words(english[i]))) << e.text_a << " / " << english[i];
    }
  }
  EXPECT_FALSE(first_pool.empty());
}

TEST(SynthGenerate, TheParallelTaskLeavesTheOtherTasksAsTheyWere) {
  // Its own random streams: a world with another number of parallel sentences differs in parallel/ and
  // world.json only.
  const fs::path tmp = testing::make_temp_dir();
  WorldOptions o = WorldOptions::small();
  o.languages = {"en", "xa", "xb"};
  o.corpus_sentences = 300;
  generate_world(o, tmp / "a");
  o.parallel_eval = 40;
  generate_world(o, tmp / "b");
  const auto a = snapshot(tmp / "a");
  const auto b = snapshot(tmp / "b");
  ASSERT_EQ(a.size(), b.size());
  int64_t compared = 0;
  for (const auto& [name, bytes] : a) {
    ASSERT_TRUE(b.count(name)) << name;
    if (name.rfind("parallel/", 0) == 0 || name == "world.json" || name == ".stilts-world") continue;
    EXPECT_TRUE(b.at(name) == bytes) << name;
    ++compared;
  }
  EXPECT_GT(compared, 50);
  EXPECT_NE(a.at("parallel/tatoeba.xa-eng.xa"), b.at("parallel/tatoeba.xa-eng.xa"));
  fs::remove_all(tmp);
}

// ---- corpus ----

TEST_F(SynthWorld, CorpusPerLanguageAndMixed) {
  const WorldOptions o = WorldOptions::small();
  const auto train = lines(files_->corpus_train);
  const auto dev = lines(files_->corpus_dev);
  const auto n = static_cast<int64_t>(files_->languages.size());
  EXPECT_EQ(static_cast<int64_t>(train.size()), n * o.corpus_sentences);
  EXPECT_EQ(static_cast<int64_t>(dev.size()), n * o.corpus_dev_sentences);
  std::map<std::string, std::set<std::string>> vocabulary;
  for (const auto& language : files_->languages) {
    const auto own = lines(expand(files_->corpus_language, language));
    ASSERT_EQ(static_cast<int64_t>(own.size()), o.corpus_sentences) << language;
    for (const auto& line : own) {
      const auto w = words(line);
      EXPECT_TRUE(w.size() >= 2 && w.size() <= 20) << language << ": " << line;
      EXPECT_EQ(line.back(), '.');
      EXPECT_EQ(line.find_first_of("\t\r"), std::string::npos);
      vocabulary[language].insert(w.begin(), w.end());
    }
  }
  // A quarter of each language's lines carry their meaning again in another language (translation
  // pairs): own sentence, space, the other language's sentence.
  std::set<std::string> own_lines;
  for (const auto& language : files_->languages) {
    for (const auto& l : lines(expand(files_->corpus_language, language))) own_lines.insert(l);
  }
  int64_t pairs = 0;
  for (const auto& line : train) {
    if (own_lines.count(line)) continue;
    ++pairs;
    const size_t cut = line.find(". ");
    ASSERT_NE(cut, std::string::npos) << line;
    EXPECT_TRUE(own_lines.count(line.substr(0, cut + 1))) << line;
  }
  EXPECT_EQ(pairs, n * static_cast<int64_t>(o.corpus_sentences * o.parallel_fraction));
  // Shuffled together: the first lines of train.txt are not all one language.
  const auto en_lines = lines(expand(files_->corpus_language, "en"));
  const std::set<std::string> en(en_lines.begin(), en_lines.end());
  int64_t en_first = 0;
  for (size_t i = 0; i < 50; ++i) en_first += en.count(train[i]) ? 1 : 0;
  EXPECT_LT(en_first, 30);

  // Related languages share cognates (spelled alike when sound changes spare them), the unrelated
  // family only names and digits.
  auto overlap = [&](const std::string& a, const std::string& b) {
    int64_t shared = 0;
    for (const auto& w : vocabulary[a]) shared += vocabulary[b].count(w);
    return static_cast<double>(shared) / static_cast<double>(vocabulary[a].size());
  };
  EXPECT_GT(overlap("en", "xa"), overlap("en", "xd"));
  const nlohmann::json world = read_json_file(files_->world_json);
  for (const auto& language : files_->languages) {
    bool has_name = false;
    for (const auto& w : vocabulary[language]) has_name = has_name || std::isupper(static_cast<unsigned char>(w[0]));
    EXPECT_TRUE(has_name) << language << " shares no person name";
  }
}

TEST_F(SynthWorld, WorldJsonDescribesLanguagesAndFiles) {
  const nlohmann::json world = read_json_file(files_->world_json);
  EXPECT_EQ(world.at("seed"), 1);
  EXPECT_EQ(world.at("train_language"), "en");
  ASSERT_EQ(world.at("languages").size(), 5u);
  std::set<std::string> orders;
  for (const auto& l : world.at("languages")) {
    orders.insert(l.at("word_order").get<std::string>());
    EXPECT_TRUE(l.contains("negation") && l.contains("plural") && l.contains("adjective_position") &&
                l.contains("family") && l.contains("example"));
  }
  EXPECT_EQ(orders, (std::set<std::string>{"SVO", "SOV", "VSO"}));
  EXPECT_EQ(world.at("files").at("tasks").at("paws").at("format"), "pawsx");
  EXPECT_EQ(world.at("files").at("tasks").at("nli").at("dev"), "nli/dev-{lang}.tsv");
  EXPECT_EQ(world.at("files").at("model_dir"), "model");
  EXPECT_EQ(files_->task("sentiment").kind, "classification");
  EXPECT_EQ(files_->task("nli").kind, "pair-classification");
  EXPECT_THROW(files_->task("squad"), InputError);
  // The kinds and formats experiment configs name.
  const std::map<std::string, std::pair<std::string, std::string>> kinds = {
      {"pos", {"tagging", "xtreme-tagging"}},        {"ner", {"tagging", "xtreme-tagging"}},
      {"qa", {"extractive-qa", "squad"}},            {"choice", {"multiple-choice", "xcopa"}},
      {"retrieval", {"retrieval", "retrieval-json"}}, {"parallel", {"sentence-retrieval", "tatoeba"}}};
  for (const auto& [task, kind_format] : kinds) {
    EXPECT_EQ(files_->task(task).kind, kind_format.first) << task;
    EXPECT_EQ(world.at("files").at("tasks").at(task).at("format"), kind_format.second) << task;
    EXPECT_TRUE(world.at("sizes").contains(task)) << task;
    EXPECT_TRUE(world.at("chance").contains(task)) << task;
  }
  EXPECT_EQ(world.at("files").at("tasks").at("qa").at("dev"), "qa/dev-{lang}.json");
  EXPECT_EQ(world.at("files").at("tasks").size(), 9u);
}

// ---- tokenizer ----

TEST_F(SynthWorld, TokenizerLoadsAsXlmrAndCoversEveryLanguage) {
  const auto tokenizer = text::load_tokenizer(files_->model_dir);
  EXPECT_EQ(tokenizer->kind(), "sentencepiece-xlmr");
  const nlohmann::json config = read_json_file(files_->model_dir / "config.json");
  EXPECT_EQ(config.at("model_type"), "xlm-roberta");
  EXPECT_EQ(config.at("vocab_size").get<int64_t>(), tokenizer->vocab_size());
  EXPECT_EQ(config.at("pad_token_id"), 1);
  EXPECT_EQ(tokenizer->token_to_id("<mask>").value(), tokenizer->vocab_size() - 1);
  EXPECT_EQ(tokenizer->token_to_id("<pad>").value(), 1);
  EXPECT_EQ(tokenizer->model_max_length(), config.at("max_position_embeddings").get<int64_t>() - 2);
  EXPECT_GE(tokenizer->vocab_size(), 300);
  EXPECT_LE(tokenizer->vocab_size(), WorldOptions::small().vocab_size + 2);

  const int64_t unk = tokenizer->token_to_id("<unk>").value();
  const auto dev = lines(files_->corpus_dev);
  for (const auto& language : files_->languages) {
    // Held-out sentences of each language: few unknown pieces, short sequences.
    const tasks::Dataset d = read("paws", "test", language);
    int64_t pieces = 0, unknown = 0, longest = 0;
    for (const auto& e : d.examples) {
      for (const std::string* s : {&e.text_a, &*e.text_b}) {
        const auto ids = tokenizer->tokenize(*s);
        pieces += static_cast<int64_t>(ids.size());
        unknown += std::count(ids.begin(), ids.end(), unk);
        longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.size()));
      }
    }
    EXPECT_LE(unknown * 1000, pieces) << language << ": " << unknown << " <unk> of " << pieces;
    EXPECT_LE(longest, 40) << language;
  }
  // Pairs: <s> A </s></s> B </s>.
  const tasks::Dataset pairs = read("paws", "dev", "xc");
  const auto& e = pairs.examples.front();
  const text::Encoding enc = tokenizer->encode(e.text_a, e.text_b, text::EncodeOptions{});
  const auto a = tokenizer->tokenize(e.text_a);
  const auto b = tokenizer->tokenize(*e.text_b);
  ASSERT_EQ(enc.input_ids.size(), a.size() + b.size() + 4);
  EXPECT_EQ(enc.input_ids.front(), 0);
  EXPECT_EQ(enc.input_ids[a.size() + 1], 2);
  EXPECT_EQ(enc.input_ids[a.size() + 2], 2);
  EXPECT_EQ(enc.input_ids.back(), 2);
  EXPECT_TRUE(enc.token_type_ids.empty());
  // Digits are split (shared pieces for every number in every language).
  for (int64_t id : tokenizer->tokenize("12 345")) {
    const std::string piece = tokenizer->id_to_token(id);
    EXPECT_LE(std::count_if(piece.begin(), piece.end(), [](char c) { return c >= '0' && c <= '9'; }), 1) << piece;
  }
}

}  // namespace
}  // namespace stilts::synth
