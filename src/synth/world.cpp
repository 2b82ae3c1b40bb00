#include "synth/world.h"

#include <cstdio>
#include <exception>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <set>
#include <tuple>

#include "common/error.h"
#include "common/files.h"
#include "synth/grammar.h"
#include "synth/random.h"
#include "synth/tasks.h"
#include "tasks/datasets/dataset.h"
#include "text/spm_runtime.h"

namespace stilts::synth {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Bump when the generator's output for the same options changes: an old world is then "other options".
// 2: translation-pair lines in the corpus; 3: xb's negation a word; 4: family names and named places (in
// the corpus too), the pos, ner, qa, choice and retrieval tasks; 5: the parallel task (Tatoeba layout; the
// other tasks' files unchanged); 6: choice on NLI's rule, retrieval's people and places all named (both
// now transfer zero-shot; the other tasks' files unchanged)
constexpr int kGeneratorVersion = 6;
constexpr const char* kMarker = ".stilts-world";
// What generate_world writes into OUT (anything else there means OUT is not a world).
const std::set<std::string> kOwnedNames = {"world.json", "corpus", "sentiment", "paws",     "nli",
                                           "pos",        "ner",    "qa",        "choice",   "retrieval",
                                           "parallel",   "model",  kMarker,     ".lock"};

const std::vector<std::string> kSentimentLabels = {"neg", "pos"};
const std::vector<std::string> kPawsLabels = {"0", "1"};
const std::vector<std::string> kNliLabels = {"entailment", "neutral", "contradiction"};
const std::vector<std::string> kChoiceLabels = {"0", "1"};
// Share of corpus people with a family name and of corpus places that are named places: enough for the
// encoder to have seen every entity the ner task tags.
constexpr double kCorpusSurnameRate = 0.15;
constexpr double kCorpusPlaceNameRate = 0.3;

std::string expand(const std::string& pattern, const std::string& language) {
  std::string out = pattern;
  for (size_t at = out.find("{lang}"); at != std::string::npos; at = out.find("{lang}", at + language.size())) {
    out.replace(at, 6, language);
  }
  return out;
}

bool valid_code(const std::string& code) {
  if (code.size() < 2 || code.size() > 3) return false;
  for (char c : code) {
    if (c < 'a' || c > 'z') return false;
  }
  return true;
}

WorldFiles files_for(const fs::path& root, const WorldOptions& o) {
  WorldFiles f;
  f.root = root;
  f.world_json = root / "world.json";
  f.model_dir = root / "model";
  f.corpus_train = root / "corpus" / "train.txt";
  f.corpus_dev = root / "corpus" / "dev.txt";
  f.corpus_language = (root / "corpus" / "{lang}.txt").string();
  f.languages = o.languages;
  f.train_language = o.train_language;
  const std::string r = root.string() + "/";
  f.tasks.push_back({"sentiment", "classification", "imdb", r + "sentiment/{lang}/train", r + "sentiment/{lang}/dev",
                     r + "sentiment/{lang}/test", kSentimentLabels});
  f.tasks.push_back({"paws", "pair-classification", "pawsx", r + "paws/{lang}/train.tsv", r + "paws/{lang}/dev_2k.tsv",
                     r + "paws/{lang}/test_2k.tsv", kPawsLabels});
  f.tasks.push_back({"nli", "pair-classification", "xnli", r + "nli/train-{lang}.tsv", r + "nli/dev-{lang}.tsv",
                     r + "nli/test-{lang}.tsv", kNliLabels});
  // Tag sets as the reader infers them from the tags (every tag UPOS, or every tag PAN-X's), so train,
  // dev and test share ids.
  f.tasks.push_back({"pos", "tagging", "xtreme-tagging", r + "pos/train-{lang}.tsv", r + "pos/dev-{lang}.tsv",
                     r + "pos/test-{lang}.tsv", tasks::upos_tags()});
  f.tasks.push_back({"ner", "tagging", "xtreme-tagging", r + "ner/train-{lang}.tsv", r + "ner/dev-{lang}.tsv",
                     r + "ner/test-{lang}.tsv", tasks::panx_tags()});
  f.tasks.push_back({"qa", "extractive-qa", "squad", r + "qa/train-{lang}.json", r + "qa/dev-{lang}.json",
                     r + "qa/test-{lang}.json", {}});
  f.tasks.push_back({"choice", "multiple-choice", "xcopa", r + "choice/train-{lang}.jsonl",
                     r + "choice/val-{lang}.jsonl", r + "choice/test-{lang}.jsonl", kChoiceLabels});
  f.tasks.push_back({"retrieval", "retrieval", "retrieval-json", r + "retrieval/train-{lang}.json",
                     r + "retrieval/dev-{lang}.json", r + "retrieval/test-{lang}.json", {}});
  // Evaluation only (as Tatoeba is): no train or dev file; the test pattern names the source side, the
  // reader finds the training language's side beside it.
  f.tasks.push_back(
      {"parallel", "sentence-retrieval", "tatoeba", "", "", r + "parallel/tatoeba.{lang}-eng.{lang}", {}});
  return f;
}

class Writer {
 public:
  explicit Writer(const fs::path& path) : path_(path), out_(path, std::ios::binary) {
    if (!out_) input_error(path.string(), ": cannot create");
  }
  ~Writer() noexcept(false) {
    out_.flush();
    if (!out_ && std::uncaught_exceptions() == 0) input_error(path_.string(), ": write failed (disk full?)");
  }
  std::ofstream& operator*() { return out_; }

 private:
  fs::path path_;
  std::ofstream out_;
};

void write_text(const fs::path& path, const std::string& text) { *Writer(path) << text; }

// Reviews in IMDB's layout: <dir>/{pos,neg}/<id>_<rating>.txt, ids counting from 0 in each folder.
void write_reviews(const fs::path& dir, const std::vector<Review>& reviews, const Language& language, Rng& rng,
                   const Lexicon& lexicon) {
  for (const auto& label : kSentimentLabels) fs::create_directories(dir / label);
  int64_t next_id[2] = {0, 0};
  MeaningSampler surfaces(lexicon, rng);
  for (const Review& review : reviews) {
    std::string text;
    for (const Clause& c : review.sentences) {
      if (!text.empty()) text += ' ';
      text += language.realize(c, surfaces.surface(c));
    }
    const std::string name = std::to_string(next_id[review.label]++) + "_" + std::to_string(review.rating) + ".txt";
    write_text(dir / kSentimentLabels[static_cast<size_t>(review.label)] / name, text);
  }
}

struct RealizedPair {
  std::string a, b;
};

RealizedPair realize_pair(const PairItem& item, const Language& language, bool paraphrase_task) {
  RealizedPair r{language.realize(item.a, item.surface_a), language.realize(item.b, item.surface_b)};
  // A paraphrase pair of identical strings teaches nothing: say b in the other voice.
  if (paraphrase_task && item.label == 1 && r.a == r.b && item.b.kind == Clause::Kind::kEvent) {
    Surface other = item.surface_b;
    other.passive = !other.passive;
    r.b = language.realize(item.b, other);
  }
  return r;
}

// n labels, balanced (0, 1, ..., k-1, 0, ...), shuffled.
std::vector<int> balanced_labels(int64_t n, int classes, Rng& rng) {
  std::vector<int> labels;
  for (int64_t i = 0; i < n; ++i) labels.push_back(static_cast<int>(i % classes));
  rng.shuffle(labels);
  return labels;
}

std::string pair_key(const PairItem& p) { return meaning_key(p.a) + "#" + meaning_key(p.b); }

std::string review_key(const Review& r) {
  std::string k;
  for (const auto& c : r.sentences) k += meaning_key(c) + "#";
  return k;
}

// Items for train (drawn first) and dev/test, with dev/test meanings kept out of train and each other
// as far as the world's size allows.
template <typename Item, typename Draw, typename Key>
std::vector<Item> draw_items(int64_t n, int classes, uint64_t seed, Draw draw, Key key, std::set<std::string>& seen) {
  Rng rng(seed);
  std::vector<Item> items;
  for (int label : balanced_labels(n, classes, rng)) {
    Item item = draw(rng, label);
    for (int attempt = 0; attempt < 20 && seen.count(key(item)); ++attempt) item = draw(rng, label);
    seen.insert(key(item));
    items.push_back(std::move(item));
  }
  return items;
}

// ---- the XTREME-R task kinds beyond classification: pos, ner, qa, choice, retrieval ----

struct Generation {
  const WorldOptions& o;
  const Lexicon& lexicon;
  const std::vector<Language>& languages;
  const Language* train_language;
  const WorldFiles& files;
  json chance;  // per task: the baseline a model must beat, for world.json
};

// Calls write(split, items, path, language) for train (the training language) and dev/test (every
// language), the folder of `path` created.
template <typename Item, typename Write>
void for_splits(const Generation& g, const TaskFiles& t, const std::vector<Item>& train, const std::vector<Item>& dev,
                const std::vector<Item>& test, Write write) {
  for (const Language& language : g.languages) {
    for (const auto& [split, items, pattern] : {std::tuple{"train", &train, &t.train}, std::tuple{"dev", &dev, &t.dev},
                                                std::tuple{"test", &test, &t.test}}) {
      if (std::string(split) == "train" && &language != g.train_language) continue;
      const fs::path path = expand(*pattern, language.code());
      fs::create_directories(path.parent_path());
      write(std::string(split), *items, path, language);
    }
  }
}

// A sentence's text from its words ("." and "?" attached), and each word's byte offset in it.
std::string render(const std::vector<Word>& words, std::vector<size_t>* offsets = nullptr) {
  std::string text;
  for (const Word& w : words) {
    if (!text.empty() && w.pos != "PUNCT") text += ' ';
    if (offsets) offsets->push_back(text.size());
    text += w.text;
  }
  return text;
}

int64_t code_points(std::string_view bytes) {
  int64_t n = 0;
  for (unsigned char c : bytes) n += (c & 0xC0) != 0x80 ? 1 : 0;
  return n;
}

// pos and ner: XTREME's `word<TAB>tag` lines, a blank line after each sentence.
void write_tagging(Generation& g) {
  for (const std::string task : {"pos", "ner"}) {
    const bool ner = task == "ner";
    std::set<std::string> seen;
    auto draw = [&](Rng& rng, int) { return MeaningSampler(g.lexicon, rng).tagging_clause(ner); };
    const int64_t n_train = ner ? g.o.ner_train : g.o.pos_train;
    const int64_t n_eval = ner ? g.o.ner_eval : g.o.pos_eval;
    const auto train = draw_items<Clause>(n_train, 1, stream_seed(g.o.seed, task + ":train"), draw, meaning_key, seen);
    const auto dev = draw_items<Clause>(n_eval, 1, stream_seed(g.o.seed, task + ":dev"), draw, meaning_key, seen);
    const auto test = draw_items<Clause>(n_eval, 1, stream_seed(g.o.seed, task + ":test"), draw, meaning_key, seen);
    json& chance = g.chance[task];
    chance = {{"metric", "accuracy"},
              {"baseline", ner ? "every word O (its f1 is 0)" : "every word the test set's most frequent tag"}};
    for_splits(g, g.files.task(task), train, dev, test,
               [&](const std::string& split, const std::vector<Clause>& items, const fs::path& path,
                   const Language& language) {
                 Rng rng(stream_seed(g.o.seed, task + ":realize:" + split + ":" + language.code()));
                 MeaningSampler surfaces(g.lexicon, rng);
                 std::string text;
                 std::map<std::string, int64_t> counts;
                 int64_t total = 0;
                 for (const Clause& c : items) {
                   for (const Word& w : language.words(c, surfaces.surface(c))) {
                     const std::string& tag = ner ? w.entity : w.pos;
                     text += w.text + "\t" + tag + "\n";
                     ++counts[tag];
                     ++total;
                   }
                   text += "\n";
                 }
                 write_text(path, text);
                 if (split != "test") return;
                 std::string majority = "O";
                 if (!ner) {
                   for (const auto& [tag, n] : counts) {
                     if (n > counts[majority]) majority = tag;
                   }
                 }
                 chance["test"][language.code()] = {
                     {"tag", majority}, {"accuracy", static_cast<double>(counts[majority]) / static_cast<double>(total)}};
               });
  }
}

// SQuAD's token F1 and exact match of a uniformly random span of the context's words against the answer
// (lowercased, punctuation stripped: SQuAD's normaliser less its English article rule).
std::pair<double, double> random_span_scores(const std::string& context, const std::string& answer) {
  auto tokens = [](const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
      std::string t;
      for (char c : w) {
        if (c == '.' || c == '?') continue;
        t += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
      }
      if (!t.empty()) out.push_back(t);
    }
    return out;
  };
  const std::vector<std::string> words = tokens(context), gold = tokens(answer);
  double f1 = 0, exact = 0;
  int64_t spans = 0;
  for (size_t i = 0; i < words.size(); ++i) {
    std::map<std::string, int64_t> remaining;
    for (const auto& t : gold) ++remaining[t];
    int64_t shared = 0;
    for (size_t j = i; j < words.size(); ++j) {
      if (remaining[words[j]]-- > 0) ++shared;
      const auto length = static_cast<int64_t>(j - i + 1);
      ++spans;
      if (shared > 0) {
        const double p = static_cast<double>(shared) / static_cast<double>(length);
        const double r = static_cast<double>(shared) / static_cast<double>(gold.size());
        f1 += 2 * p * r / (p + r);
      }
      exact += length == static_cast<int64_t>(gold.size()) && shared == length ? 1 : 0;
    }
  }
  return {f1 / static_cast<double>(spans), exact / static_cast<double>(spans)};
}

std::string qa_key(const QaItem& item) {
  std::string k = std::to_string(item.target) + ":" + std::to_string(static_cast<int>(item.asked));
  for (const Clause& c : item.context) k += "#" + meaning_key(c);
  return k;
}

// qa: SQuAD v1.1 JSON, one paragraph per question; the answer is the asked noun phrase as the context says
// it, answer_start in code points.
void write_qa(Generation& g) {
  std::set<std::string> seen;
  auto draw = [&](Rng& rng, int) { return MeaningSampler(g.lexicon, rng).qa(); };
  const auto train = draw_items<QaItem>(g.o.qa_train, 1, stream_seed(g.o.seed, "qa:train"), draw, qa_key, seen);
  const auto dev = draw_items<QaItem>(g.o.qa_eval, 1, stream_seed(g.o.seed, "qa:dev"), draw, qa_key, seen);
  const auto test = draw_items<QaItem>(g.o.qa_eval, 1, stream_seed(g.o.seed, "qa:test"), draw, qa_key, seen);
  json& chance = g.chance["qa"];
  chance = {{"metric", "f1, exact_match"}, {"baseline", "a uniformly random span of the context's words"}};
  for_splits(g, g.files.task("qa"), train, dev, test,
             [&](const std::string& split, const std::vector<QaItem>& items, const fs::path& path,
                 const Language& language) {
               Rng rng(stream_seed(g.o.seed, "qa:realize:" + split + ":" + language.code()));
               MeaningSampler surfaces(g.lexicon, rng);
               json data = json::array();
               double f1 = 0, exact = 0;
               for (size_t n = 0; n < items.size(); ++n) {
                 const QaItem& item = items[n];
                 std::string context;
                 std::string answer;
                 int64_t answer_start = -1;
                 uint64_t lexical = 0;
                 for (size_t i = 0; i < item.context.size(); ++i) {
                   const Surface surface = surfaces.surface(item.context[i]);
                   const std::vector<Word> words = language.words(item.context[i], surface);
                   std::vector<size_t> offsets;
                   const std::string sentence = render(words, &offsets);
                   if (!context.empty()) context += ' ';
                   if (i == item.target) {
                     lexical = surface.lexical;
                     size_t first = words.size(), last = 0;
                     for (size_t w = 0; w < words.size(); ++w) {
                       if (words[w].role != item.asked) continue;
                       first = std::min(first, w);
                       last = w;
                     }
                     STILTS_CHECK(first <= last, "qa: the asked phrase is not in the sentence");
                     for (size_t w = first; w <= last; ++w) {
                       STILTS_CHECK(words[w].role == item.asked, "qa: the asked phrase is not contiguous");
                     }
                     const size_t begin = offsets[first], end = offsets[last] + words[last].text.size();
                     answer = sentence.substr(begin, end - begin);
                     answer_start = code_points(context) + code_points(sentence.substr(0, begin));
                   }
                   context += sentence;
                 }
                 const json qa = {{"id", "synth-qa-" + split + "-" + std::to_string(n)},
                                  {"question", language.question(item.context[item.target], item.asked, lexical)},
                                  {"answers", {{{"text", answer}, {"answer_start", answer_start}}}}};
                 data.push_back({{"title", "synth-" + std::to_string(n)},
                                 {"paragraphs", {{{"context", context}, {"qas", {qa}}}}}});
                 if (split == "test") {
                   const auto [f, e] = random_span_scores(context, answer);
                   f1 += f;
                   exact += e;
                 }
               }
               write_text(path, json{{"version", "1.1"}, {"data", data}}.dump() + "\n");
               if (split == "test") {
                 const auto count = static_cast<double>(items.size());
                 chance["test"][language.code()] = {{"f1", f1 / count}, {"exact_match", exact / count}};
               }
             });
}

std::string choice_key(const ChoiceItem& c) {
  return meaning_key(c.premise) + "#" + meaning_key(c.choice1) + "#" + meaning_key(c.choice2);
}

// choice: XCOPA's JSON lines.
void write_choice(Generation& g) {
  std::set<std::string> seen;
  auto draw = [&](Rng& rng, int label) { return MeaningSampler(g.lexicon, rng).choice(label); };
  const auto train = draw_items<ChoiceItem>(g.o.choice_train, 2, stream_seed(g.o.seed, "choice:train"), draw, choice_key, seen);
  const auto dev = draw_items<ChoiceItem>(g.o.choice_eval, 2, stream_seed(g.o.seed, "choice:dev"), draw, choice_key, seen);
  const auto test = draw_items<ChoiceItem>(g.o.choice_eval, 2, stream_seed(g.o.seed, "choice:test"), draw, choice_key, seen);
  int64_t first_right = 0;
  for (const ChoiceItem& item : test) first_right += item.label == 0 ? 1 : 0;
  g.chance["choice"] = {{"metric", "accuracy"},
                        {"baseline", "always the first choice (labels are balanced: either is right half the time)"},
                        {"rule", "the right choice follows from the premise (effect) or entails it (cause); the wrong "
                                 "one contradicts it (negation, antonym, another number)"},
                        {"accuracy", static_cast<double>(first_right) / static_cast<double>(test.size())}};
  for_splits(g, g.files.task("choice"), train, dev, test,
             [&](const std::string& split, const std::vector<ChoiceItem>& items, const fs::path& path,
                 const Language& language) {
               Rng rng(stream_seed(g.o.seed, "choice:realize:" + split + ":" + language.code()));
               MeaningSampler surfaces(g.lexicon, rng);
               std::string text;
               for (size_t n = 0; n < items.size(); ++n) {
                 const ChoiceItem& item = items[n];
                 const json row = {{"premise", language.realize(item.premise, surfaces.surface(item.premise))},
                                   {"choice1", language.realize(item.choice1, surfaces.surface(item.choice1))},
                                   {"choice2", language.realize(item.choice2, surfaces.surface(item.choice2))},
                                   {"question", item.effect ? "effect" : "cause"},
                                   {"label", item.label},
                                   {"idx", n}};
                 text += row.dump() + "\n";
               }
               write_text(path, text);
             });
}

// `n` meanings none of which is in `seen` or another's (strictly: two equal meanings would make two
// relevant candidates), added to `seen`.
std::vector<Clause> distinct_meanings(int64_t n, Rng& rng, const std::function<Clause(Rng&)>& draw,
                                      std::set<std::string>& seen) {
  std::vector<Clause> out;
  for (int64_t attempts = 0; static_cast<int64_t>(out.size()) < n; ++attempts) {
    if (attempts > 100 * n + 1000) {
      input_error("synthetic world: cannot draw ", n, " distinct retrieval meanings; ask for fewer");
    }
    Clause c = draw(rng);
    if (seen.insert(meaning_key(c)).second) out.push_back(std::move(c));
  }
  return out;
}

// The sentence for `c` said another way than `s`: the voice changed, the place moved and/or other synonyms.
Surface paraphrase_surface(const Clause& c, const Surface& s, Rng& rng) {
  Surface other = s;
  if (rng.chance(0.5)) other.passive = !other.passive;
  if (c.has_place() && rng.chance(0.5)) other.front_place = !other.front_place;
  if (rng.chance(0.5)) other.lexical = rng.next();
  if (other.passive == s.passive && other.front_place == s.front_place) other.passive = !other.passive;
  return other;
}

// retrieval: one JSON document per file; train holds query-positive pairs in the training language, dev
// and test hold queries in {lang}, each with one relevant candidate (its meaning in the training
// language) in a pool with distractors (half of them near misses of a query's meaning).
void write_retrieval(Generation& g) {
  std::set<std::string> seen;
  auto fresh = [&](Rng& rng) { return MeaningSampler(g.lexicon, rng).retrieval_clause(); };
  Rng train_rng(stream_seed(g.o.seed, "retrieval:train"));
  const auto train = distinct_meanings(g.o.retrieval_train, train_rng, fresh, seen);
  const TaskFiles& t = g.files.task("retrieval");
  const std::string& target = g.train_language->code();
  {
    Rng rng(stream_seed(g.o.seed, "retrieval:realize:train:" + target));
    MeaningSampler surfaces(g.lexicon, rng);
    json queries = json::array();
    for (size_t n = 0; n < train.size(); ++n) {
      const Surface s = surfaces.surface(train[n]);
      queries.push_back({{"id", "q" + std::to_string(n)},
                         {"text", g.train_language->realize(train[n], s)},
                         {"language", target},
                         {"positive", g.train_language->realize(train[n], paraphrase_surface(train[n], s, rng))}});
    }
    const fs::path path = expand(t.train, target);
    fs::create_directories(path.parent_path());
    write_text(path, json{{"queries", queries}}.dump() + "\n");
  }
  const int64_t pool = g.o.retrieval_eval + g.o.retrieval_distractors;
  g.chance["retrieval"] = {{"metric", "accuracy@1"},
                           {"baseline", "a random candidate of the pool"},
                           {"pool", pool},
                           {"accuracy", 1.0 / static_cast<double>(pool)}};
  for (const std::string split : {"dev", "test"}) {
    Rng rng(stream_seed(g.o.seed, "retrieval:" + split));
    const auto meanings = distinct_meanings(g.o.retrieval_eval, rng, fresh, seen);
    std::set<std::string> taken = seen;
    const auto distractors = distinct_meanings(
        g.o.retrieval_distractors, rng,
        [&](Rng& r) {
          MeaningSampler sampler(g.lexicon, r);
          return r.chance(0.5) ? sampler.near_miss(r.pick(meanings)) : sampler.retrieval_clause();
        },
        taken);
    // The pool: every meaning and distractor said once in the training language, in shuffled order.
    std::vector<size_t> order(static_cast<size_t>(pool));
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    rng.shuffle(order);
    std::vector<size_t> slot(order.size());  // meaning or distractor index -> candidate position
    for (size_t at = 0; at < order.size(); ++at) slot[order[at]] = at;
    MeaningSampler candidate_surfaces(g.lexicon, rng);
    json candidates = json::array();
    for (size_t at = 0; at < order.size(); ++at) candidates.push_back(nullptr);
    for (size_t i = 0; i < order.size(); ++i) {
      const Clause& c = i < meanings.size() ? meanings[i] : distractors[i - meanings.size()];
      candidates[slot[i]] = {{"id", "c" + std::to_string(slot[i])},
                             {"text", g.train_language->realize(c, candidate_surfaces.surface(c))},
                             {"language", target}};
    }
    for (const Language& language : g.languages) {
      Rng realize(stream_seed(g.o.seed, "retrieval:realize:" + split + ":" + language.code()));
      MeaningSampler query_surfaces(g.lexicon, realize);
      json queries = json::array();
      for (size_t n = 0; n < meanings.size(); ++n) {
        Surface s = query_surfaces.surface(meanings[n]);
        // In the training language a query is not its candidate's very string.
        if (&language == g.train_language && g.train_language->realize(meanings[n], s) == candidates[slot[n]]["text"]) {
          s = paraphrase_surface(meanings[n], s, realize);
        }
        queries.push_back({{"id", "q" + std::to_string(n)},
                           {"text", language.realize(meanings[n], s)},
                           {"language", language.code()},
                           {"relevant", {"c" + std::to_string(slot[n])}}});
      }
      const fs::path path = expand(split == "dev" ? t.dev : t.test, language.code());
      fs::create_directories(path.parent_path());
      write_text(path, json{{"queries", queries}, {"candidates", candidates}}.dump() + "\n");
    }
  }
}

// parallel: Tatoeba's layout as XTREME's evaluate_retrieval.py names LASER's files, for every language but
// the training language: tatoeba.<l>-eng.<l> and, beside it, tatoeba.<l>-eng.eng (the training language's
// side, whatever its code: the reader wants "eng"), line i of one the translation of line i of the other,
// so the pair carries its own gold (XTREME's processed <l>-en.* layout needs a labels file besides). No
// train or dev set: like Tatoeba, it is evaluated zero-shot on whatever encoder a study trained. Every
// language pairs the same meanings with the same training-language lines: one pool for all of them.
// Its own streams, drawn after every other task: the other tasks' files do not move.
void write_parallel(Generation& g) {
  const int64_t n = g.o.parallel_eval;
  const Language& target = *g.train_language;
  Rng rng(stream_seed(g.o.seed, "parallel:test"));
  Rng target_rng(stream_seed(g.o.seed, "parallel:realize:test:" + target.code()));
  MeaningSampler sampler(g.lexicon, rng);
  MeaningSampler target_surfaces(g.lexicon, target_rng);
  std::set<std::string> meaning_keys, target_seen;
  std::vector<Clause> meanings;
  std::string target_text;
  for (int64_t attempts = 0; static_cast<int64_t>(meanings.size()) < n; ++attempts) {
    if (attempts > 100 * n + 1000) {
      input_error("synthetic world: cannot draw ", n, " distinct parallel sentences; ask for fewer");
    }
    // Any sentence of the corpus's kind, people and places named as often as there.
    Clause c = sampler.corpus_clause();
    sampler.add_entities(c, kCorpusSurnameRate, kCorpusPlaceNameRate);
    if (!meaning_keys.insert(meaning_key(c)).second) continue;
    // Two meanings said alike in the training language (a count not shown) would be two equal
    // candidates of which only one is gold.
    std::string line = target.realize(c, target_surfaces.surface(c));
    if (!target_seen.insert(line).second) continue;
    target_text += line + "\n";
    meanings.push_back(std::move(c));
  }
  g.chance["parallel"] = {{"metric", "accuracy"},
                          {"baseline", "a random sentence of the training language's side (the pool)"},
                          {"pool", n},
                          {"accuracy", 1.0 / static_cast<double>(n)}};
  const TaskFiles& t = g.files.task("parallel");
  for (const Language& language : g.languages) {
    if (&language == g.train_language) continue;
    Rng realize(stream_seed(g.o.seed, "parallel:realize:test:" + language.code()));
    MeaningSampler surfaces(g.lexicon, realize);
    std::string text;
    for (const Clause& c : meanings) text += language.realize(c, surfaces.surface(c)) + "\n";
    const fs::path path = expand(t.test, language.code());
    fs::create_directories(path.parent_path());
    write_text(path, text);
    write_text(path.parent_path() / ("tatoeba." + language.code() + "-eng.eng"), target_text);
  }
}

// Removes what an interrupted generation left, refusing to touch a folder that is not a world.
void prepare_out(const fs::path& out) {
  for (const auto& entry : fs::directory_iterator(out)) {
    const std::string name = entry.path().filename().string();
    const size_t tmp = name.find(".tmp.");  // write_file_atomic's leftovers from a killed run
    if (tmp != std::string::npos && kOwnedNames.count(name.substr(0, tmp))) {
      fs::remove(entry.path());
      continue;
    }
    if (!kOwnedNames.count(name)) {
      input_error(out.string(), ": not empty and not a synthetic world (it holds '", name,
                  "'); choose a new or empty folder");
    }
  }
  for (const auto& name : kOwnedNames) {
    if (name != ".lock") fs::remove_all(out / name);
  }
}

json read_marker(const fs::path& out) {
  try {
    return read_json_file(out / kMarker);
  } catch (const InputError&) {
    input_error((out / kMarker).string(), ": unreadable world marker; delete ", out.string(), " and generate again");
  }
}

void train_tokenizer(const WorldOptions& o, const WorldFiles& files) {
  fs::create_directories(files.model_dir);
  // One thread and every sentence (no sampling): the trainer is then deterministic. The sentences go in
  // through memory, so the model records no file path and is the same wherever OUT is.
  const std::string model = text::spm_train(
      {
      {"model_type", o.tokenizer_type},
      {"vocab_size", std::to_string(o.vocab_size)},
      {"hard_vocab_limit", "false"},
      {"character_coverage", "1.0"},
      {"num_threads", "1"},
      {"input_sentence_size", "0"},
      {"shuffle_input_sentence", "false"},
      {"split_digits", "true"},
      {"max_sentence_length", "4192"},
      {"minloglevel", "2"},
      // XLM-R's spm ids: <unk> 0, <s> 1, </s> 2, no <pad> (fairseq adds it).
      {"unk_id", "0"},
      {"bos_id", "1"},
      {"eos_id", "2"},
      {"pad_id", "-1"},
      },
      read_file(files.corpus_train));
  write_text(files.model_dir / "sentencepiece.bpe.model", model);

  text::SpmProcessor sp;
  const std::string error = sp.load_from_serialized(model);
  if (!error.empty()) throw InternalError("the trained SentencePiece model does not load: " + error);
  // XLMRobertaTokenizer: <s> <pad> </s> <unk>, the spm pieces shifted by one, <mask> last.
  const int64_t vocab_size = sp.piece_size() + 2;
  const int64_t max_length = o.max_position_embeddings - 2;

  const json mask = {{"__type", "AddedToken"}, {"content", "<mask>"}, {"lstrip", true},
                     {"normalized", true},     {"rstrip", false},     {"single_word", false}};
  json specials = {{"bos_token", "<s>"}, {"cls_token", "<s>"},   {"eos_token", "</s>"}, {"mask_token", mask},
                   {"pad_token", "<pad>"}, {"sep_token", "</s>"}, {"unk_token", "<unk>"}};
  json tokenizer_config = specials;
  tokenizer_config["tokenizer_class"] = "XLMRobertaTokenizer";
  tokenizer_config["model_max_length"] = max_length;
  tokenizer_config["clean_up_tokenization_spaces"] = true;
  json special_map = specials;
  special_map["mask_token"].erase("__type");
  write_text(files.model_dir / "tokenizer_config.json", tokenizer_config.dump(2) + "\n");
  write_text(files.model_dir / "special_tokens_map.json", special_map.dump(2) + "\n");

  const json config = {{"architectures", {"XLMRobertaForMaskedLM"}},
                       {"model_type", "xlm-roberta"},
                       {"vocab_size", vocab_size},
                       {"hidden_size", o.hidden_size},
                       {"num_hidden_layers", o.num_hidden_layers},
                       {"num_attention_heads", o.num_attention_heads},
                       {"intermediate_size", o.intermediate_size},
                       {"hidden_act", "gelu"},
                       {"hidden_dropout_prob", 0.1},
                       {"attention_probs_dropout_prob", 0.1},
                       {"max_position_embeddings", o.max_position_embeddings},
                       {"type_vocab_size", 1},
                       {"initializer_range", 0.02},
                       {"layer_norm_eps", 1e-5},
                       {"position_embedding_type", "absolute"},
                       {"pad_token_id", 1},
                       {"bos_token_id", 0},
                       {"eos_token_id", 2}};
  write_text(files.model_dir / "config.json", config.dump(2) + "\n");
}

}  // namespace

// ---- options ----

WorldOptions WorldOptions::small() {
  WorldOptions o;
  o.corpus_sentences = 1500;
  o.corpus_dev_sentences = 100;
  o.sentiment_train = 600;
  o.sentiment_eval = 100;
  o.paws_train = 300;
  o.paws_eval = 100;
  o.nli_train = 300;
  o.nli_eval = 100;
  o.pos_train = 300;
  o.pos_eval = 100;
  o.ner_train = 300;
  o.ner_eval = 100;
  o.qa_train = 300;
  o.qa_eval = 100;
  o.choice_train = 200;
  o.choice_eval = 100;
  o.retrieval_train = 300;
  o.retrieval_eval = 100;
  o.retrieval_distractors = 100;
  o.parallel_eval = 100;
  o.vocab_size = 800;
  return o;
}

WorldOptions WorldOptions::preset(const std::string& size) {
  if (size == "small") return small();
  if (size == "default") return WorldOptions{};
  input_error("world size '", size, "' is not one of small, default");
}

std::vector<std::string> WorldOptions::default_languages(int64_t n) {
  if (n < 1 || n > 8) input_error("languages: ", n, " is outside 1..8");
  std::vector<std::string> codes = {"en"};
  for (int64_t i = 1; i < n; ++i) codes.push_back(std::string("x") + static_cast<char>('a' + i - 1));
  return codes;
}

void WorldOptions::validate() const {
  if (languages.empty()) input_error("world options: 'languages' is empty");
  if (languages.size() > 12) input_error("world options: 'languages' has ", languages.size(), " codes; at most 12");
  std::set<std::string> seen;
  for (const auto& code : languages) {
    if (!valid_code(code)) {
      input_error("world options: language code '", code, "' must be 2-3 lowercase letters (as file names "
                  "like dev-<lang>.tsv carry it)");
    }
    if (!seen.insert(code).second) input_error("world options: language '", code, "' is listed twice");
  }
  if (!seen.count(train_language)) {
    input_error("world options: 'train_language' '", train_language, "' is not among the languages (",
                [&] {
                  std::string s;
                  for (const auto& c : languages) s += (s.empty() ? "" : ", ") + c;
                  return s;
                }(),
                ")");
  }
  const std::pair<const char*, int64_t> positive[] = {
      {"corpus_sentences", corpus_sentences}, {"corpus_dev_sentences", corpus_dev_sentences},
      {"sentiment_train", sentiment_train},   {"sentiment_eval", sentiment_eval},
      {"paws_train", paws_train},             {"paws_eval", paws_eval},
      {"nli_train", nli_train},               {"nli_eval", nli_eval},
      {"pos_train", pos_train},               {"pos_eval", pos_eval},
      {"ner_train", ner_train},               {"ner_eval", ner_eval},
      {"qa_train", qa_train},                 {"qa_eval", qa_eval},
      {"choice_train", choice_train},         {"choice_eval", choice_eval},
      {"retrieval_train", retrieval_train},   {"retrieval_eval", retrieval_eval},
      {"parallel_eval", parallel_eval},
      {"hidden_size", hidden_size},           {"num_hidden_layers", num_hidden_layers},
      {"num_attention_heads", num_attention_heads}, {"intermediate_size", intermediate_size}};
  for (const auto& [name, value] : positive) {
    if (value <= 0) input_error("world options: '", name, "' must be positive, got ", value);
  }
  if (retrieval_distractors < 0) {
    input_error("world options: 'retrieval_distractors' must be 0 or more, got ", retrieval_distractors);
  }
  if (!(parallel_fraction >= 0 && parallel_fraction <= 1)) {
    input_error("world options: 'parallel_fraction' ", parallel_fraction, " is outside 0..1");
  }
  if (sentiment_train < 2 || paws_train < 2 || nli_train < 3 || choice_train < 2) {
    input_error("world options: train sets need at least one example per label");
  }
  if (tokenizer_type != "unigram" && tokenizer_type != "bpe") {
    input_error("world options: 'tokenizer_type' '", tokenizer_type, "' is not one of unigram, bpe");
  }
  if (vocab_size < 100 || vocab_size > 32000) {
    input_error("world options: 'vocab_size' ", vocab_size, " is outside 100..32000");
  }
  if (hidden_size % num_attention_heads != 0) {
    input_error("world options: 'hidden_size' ", hidden_size, " is not a multiple of 'num_attention_heads' ",
                num_attention_heads);
  }
  if (max_position_embeddings < 34 || max_position_embeddings > 4096) {
    input_error("world options: 'max_position_embeddings' ", max_position_embeddings,
                " is outside 34..4096 (the sentences need 32 tokens; XLM-R reserves 2 positions)");
  }
}

json WorldOptions::to_json() const {
  return {{"seed", seed},
          {"languages", languages},
          {"train_language", train_language},
          {"corpus_sentences", corpus_sentences},
          {"corpus_dev_sentences", corpus_dev_sentences},
          {"parallel_fraction", parallel_fraction},
          {"sentiment_train", sentiment_train},
          {"sentiment_eval", sentiment_eval},
          {"paws_train", paws_train},
          {"paws_eval", paws_eval},
          {"nli_train", nli_train},
          {"nli_eval", nli_eval},
          {"pos_train", pos_train},
          {"pos_eval", pos_eval},
          {"ner_train", ner_train},
          {"ner_eval", ner_eval},
          {"qa_train", qa_train},
          {"qa_eval", qa_eval},
          {"choice_train", choice_train},
          {"choice_eval", choice_eval},
          {"retrieval_train", retrieval_train},
          {"retrieval_eval", retrieval_eval},
          {"retrieval_distractors", retrieval_distractors},
          {"parallel_eval", parallel_eval},
          {"tokenizer_type", tokenizer_type},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"max_position_embeddings", max_position_embeddings}};
}

std::string WorldOptions::hash() const {
  const uint64_t h = fnv1a64(to_json().dump() + "|generator " + std::to_string(kGeneratorVersion));
  char buffer[17];
  std::snprintf(buffer, sizeof(buffer), "%016llx", static_cast<unsigned long long>(h));
  return buffer;
}

// ---- files ----

const TaskFiles& WorldFiles::task(const std::string& name) const {
  for (const auto& t : tasks) {
    if (t.name == name) return t;
  }
  std::string names;
  for (const auto& t : tasks) names += (names.empty() ? "" : ", ") + t.name;
  input_error("synthetic world ", root.string(), ": no task '", name, "' (tasks: ", names, ")");
}

json WorldFiles::to_json() const {
  json j;
  j["root"] = root.string();
  j["world_json"] = world_json.string();
  j["model_dir"] = model_dir.string();
  j["corpus"] = {{"train", corpus_train.string()}, {"dev", corpus_dev.string()}, {"language", corpus_language}};
  j["languages"] = languages;
  j["train_language"] = train_language;
  for (const auto& t : tasks) {
    j["tasks"][t.name] = {{"kind", t.kind},   {"format", t.format}, {"train", t.train},
                          {"dev", t.dev},     {"test", t.test},     {"label_names", t.label_names}};
  }
  j["reused"] = reused;
  return j;
}

WorldFiles load_world(const fs::path& out) {
  const fs::path root = fs::absolute(out).lexically_normal();
  if (!fs::exists(root / kMarker)) {
    input_error(root.string(), ": no complete synthetic world here (", kMarker, " is missing); run `stilts synth --out ",
                out.string(), "`");
  }
  const json world = read_json_file(root / "world.json");
  WorldOptions o;
  try {
    const json& opt = world.at("options");
    o.languages = opt.at("languages").get<std::vector<std::string>>();
    o.train_language = opt.at("train_language").get<std::string>();
  } catch (const json::exception& e) {
    input_error((root / "world.json").string(), ": malformed (", e.what(), ")");
  }
  WorldFiles files = files_for(root, o);
  files.reused = true;
  return files;
}

// ---- generation ----

WorldFiles generate_world(const WorldOptions& o, const fs::path& out) {
  o.validate();
  const fs::path root = fs::absolute(out).lexically_normal();
  const std::string hash = o.hash();
  WorldFiles files = files_for(root, o);

  auto existing = [&]() -> bool {
    if (!fs::exists(root / kMarker)) return false;
    const json marker = read_marker(root);
    const std::string other = marker.value("options_hash", "");
    if (other != hash) {
      input_error(root.string(), ": holds a synthetic world generated with other options (hash ", other,
                  ", seed ", marker.value("seed", json()).dump(), "; these options hash to ", hash,
                  "); use another --out or delete it");
    }
    return true;
  };
  if (existing()) {
    files.reused = true;
    return files;
  }
  fs::create_directories(root);
  DirectoryLock lock(root, ": another process is generating a synthetic world here");
  if (existing()) {  // finished by the process that held the lock
    files.reused = true;
    return files;
  }
  prepare_out(root);

  const Lexicon lexicon = make_lexicon(o.seed);
  std::vector<Language> languages;
  for (size_t i = 0; i < o.languages.size(); ++i) {
    languages.emplace_back(language_profile(o.languages[i], i, o.seed), lexicon, o.seed);
  }
  const Language* train_language = nullptr;
  for (const auto& l : languages) {
    if (l.code() == o.train_language) train_language = &l;
  }

  // ---- corpus ----
  fs::create_directories(root / "corpus");
  std::vector<std::string> corpus_train, corpus_dev;
  for (size_t li = 0; li < languages.size(); ++li) {
    const Language& language = languages[li];
    for (const bool dev : {false, true}) {
      Rng rng(stream_seed(o.seed, std::string(dev ? "corpus-dev:" : "corpus:") + language.code()));
      Rng pairing(stream_seed(o.seed, std::string(dev ? "corpus-dev-pairs:" : "corpus-pairs:") + language.code()));
      MeaningSampler sampler(lexicon, rng);
      // Entities from a stream of their own: the other draws, and so most lines, stay as they were.
      Rng entity_rng(stream_seed(o.seed, std::string(dev ? "corpus-dev-entities:" : "corpus-entities:") + language.code()));
      MeaningSampler entities(lexicon, entity_rng);
      std::vector<std::string>& lines = dev ? corpus_dev : corpus_train;
      std::string own;
      // Every 1/parallel_fraction-th line (evenly spread) gets its meaning again in another language.
      double credit = 0;
      for (int64_t i = 0, n = dev ? o.corpus_dev_sentences : o.corpus_sentences; i < n; ++i) {
        Clause c = sampler.corpus_clause();
        entities.add_entities(c, kCorpusSurnameRate, kCorpusPlaceNameRate);
        std::string line = language.realize(c, sampler.surface(c));
        if (!dev) own += line + "\n";
        credit += o.parallel_fraction;
        if (credit >= 1 && languages.size() > 1) {
          credit -= 1;
          size_t other = static_cast<size_t>(pairing.below(static_cast<int64_t>(languages.size()) - 1));
          if (other >= li) ++other;
          line += " " + languages[other].realize(c, sampler.surface(c));
        }
        lines.push_back(std::move(line));
      }
      if (!dev) write_text(root / "corpus" / (language.code() + ".txt"), own);
    }
  }
  for (auto* lines : {&corpus_train, &corpus_dev}) {
    Rng rng(stream_seed(o.seed, lines == &corpus_train ? "corpus-shuffle" : "corpus-dev-shuffle"));
    rng.shuffle(*lines);
    std::string text;
    for (const auto& l : *lines) text += l + "\n";
    write_text(lines == &corpus_train ? files.corpus_train : files.corpus_dev, text);
  }

  // ---- sentiment (IMDB layout) ----
  {
    std::set<std::string> seen;
    auto draw = [&](Rng& rng, int label) { return MeaningSampler(lexicon, rng).review(label); };
    const auto train = draw_items<Review>(o.sentiment_train, 2, stream_seed(o.seed, "sentiment:train"), draw,
                                          review_key, seen);
    const auto dev = draw_items<Review>(o.sentiment_eval, 2, stream_seed(o.seed, "sentiment:dev"), draw, review_key, seen);
    const auto test = draw_items<Review>(o.sentiment_eval, 2, stream_seed(o.seed, "sentiment:test"), draw, review_key, seen);
    const TaskFiles& t = files.task("sentiment");
    for (const Language& language : languages) {
      for (const auto& [split, items, pattern] : {std::tuple{"train", &train, &t.train}, std::tuple{"dev", &dev, &t.dev},
                                                  std::tuple{"test", &test, &t.test}}) {
        if (std::string(split) == "train" && &language != train_language) continue;
        Rng rng(stream_seed(o.seed, std::string("sentiment:realize:") + split + ":" + language.code()));
        write_reviews(expand(*pattern, language.code()), *items, language, rng, lexicon);
      }
    }
  }

  // ---- paws (PAWS-X layout) and nli (XTREME's XNLI layout) ----
  for (const std::string task : {"paws", "nli"}) {
    const bool paws = task == "paws";
    std::set<std::string> seen;
    auto draw = [&](Rng& rng, int label) {
      MeaningSampler sampler(lexicon, rng);
      PairItem item = paws ? sampler.paws(label) : sampler.nli(label);
      if (paws && rng.chance(0.5)) {  // a paraphrase relation is symmetric: either sentence may come first
        std::swap(item.a, item.b);
        std::swap(item.surface_a, item.surface_b);
      }
      return item;
    };
    const int classes = paws ? 2 : 3;
    const int64_t n_train = paws ? o.paws_train : o.nli_train;
    const int64_t n_eval = paws ? o.paws_eval : o.nli_eval;
    const auto train = draw_items<PairItem>(n_train, classes, stream_seed(o.seed, task + ":train"), draw, pair_key, seen);
    const auto dev = draw_items<PairItem>(n_eval, classes, stream_seed(o.seed, task + ":dev"), draw, pair_key, seen);
    const auto test = draw_items<PairItem>(n_eval, classes, stream_seed(o.seed, task + ":test"), draw, pair_key, seen);
    const TaskFiles& t = files.task(task);
    for (const Language& language : languages) {
      for (const auto& [split, items, pattern] : {std::tuple{"train", &train, &t.train}, std::tuple{"dev", &dev, &t.dev},
                                                  std::tuple{"test", &test, &t.test}}) {
        if (std::string(split) == "train" && &language != train_language) continue;
        const fs::path path = expand(*pattern, language.code());
        fs::create_directories(path.parent_path());
        std::string text = paws ? "id\tsentence1\tsentence2\tlabel\n" : "";
        int64_t id = 0;
        for (const PairItem& item : *items) {
          const RealizedPair r = realize_pair(item, language, paws);
          if (paws) {
            text += std::to_string(++id) + "\t" + r.a + "\t" + r.b + "\t" + kPawsLabels[static_cast<size_t>(item.label)] + "\n";
          } else {
            text += r.a + "\t" + r.b + "\t" + kNliLabels[static_cast<size_t>(item.label)] + "\n";
          }
        }
        write_text(path, text);
      }
    }
  }

  // ---- pos, ner (XTREME's tagging files), qa (SQuAD), choice (XCOPA), retrieval ----
  Generation generation{o, lexicon, languages, train_language, files, json::object()};
  write_tagging(generation);
  write_qa(generation);
  write_choice(generation);
  write_retrieval(generation);
  write_parallel(generation);

  // ---- tokenizer and model config ----
  train_tokenizer(o, files);

  // ---- world.json, then the marker that makes the world complete ----
  json world;
  world["stilts_synthetic_world"] = kGeneratorVersion;
  world["seed"] = o.seed;
  world["options"] = o.to_json();
  world["options_hash"] = hash;
  world["train_language"] = o.train_language;
  for (const auto& language : languages) {
    json l = language.describe();
    Rng rng(stream_seed(o.seed, "example:" + language.code()));
    MeaningSampler sampler(lexicon, rng);
    Clause example = sampler.corpus_clause();
    l["example"] = language.realize(example, Surface{});
    world["languages"].push_back(l);
  }
  world["lexicon"] = {{"names", lexicon.names.size()},
                      {"surnames", lexicon.surnames.size()},
                      {"place_names", lexicon.place_names.size()},
                      {"nouns", lexicon.nouns},
                      {"places", lexicon.places},
                      {"verbs", lexicon.verbs},
                      {"adjectives", lexicon.adjectives.size()},
                      {"intensifiers", Lexicon::kIntensities},
                      {"concepts", lexicon.concepts()}};
  world["sizes"] = {{"corpus", {{"train", corpus_train.size()}, {"dev", corpus_dev.size()}}},
                    {"sentiment", {{"train", o.sentiment_train}, {"dev", o.sentiment_eval}, {"test", o.sentiment_eval}}},
                    {"paws", {{"train", o.paws_train}, {"dev", o.paws_eval}, {"test", o.paws_eval}}},
                    {"nli", {{"train", o.nli_train}, {"dev", o.nli_eval}, {"test", o.nli_eval}}},
                    {"pos", {{"train", o.pos_train}, {"dev", o.pos_eval}, {"test", o.pos_eval}}},
                    {"ner", {{"train", o.ner_train}, {"dev", o.ner_eval}, {"test", o.ner_eval}}},
                    {"qa", {{"train", o.qa_train}, {"dev", o.qa_eval}, {"test", o.qa_eval}}},
                    {"choice", {{"train", o.choice_train}, {"dev", o.choice_eval}, {"test", o.choice_eval}}},
                    {"retrieval", {{"train", o.retrieval_train},
                                   {"dev", o.retrieval_eval},
                                   {"test", o.retrieval_eval},
                                   {"pool", o.retrieval_eval + o.retrieval_distractors}}},
                    {"parallel", {{"test", o.parallel_eval}, {"pool", o.parallel_eval}}}};
  // What "above chance" means for each task (test sets; per language where the languages differ).
  json chance = generation.chance;
  chance["sentiment"] = {{"metric", "accuracy"}, {"baseline", "either label (balanced)"}, {"accuracy", 0.5}};
  chance["paws"] = {{"metric", "accuracy"}, {"baseline", "either label (balanced)"}, {"accuracy", 0.5}};
  chance["nli"] = {{"metric", "accuracy"}, {"baseline", "any label (balanced)"}, {"accuracy", 1.0 / 3.0}};
  world["chance"] = chance;
  // Paths relative to the world's folder, so a moved world still describes itself.
  json rel = files.to_json();
  const std::string prefix = root.string() + "/";
  std::function<void(json&)> relativize = [&](json& j) {
    if (j.is_string()) {
      std::string s = j.get<std::string>();
      if (s.rfind(prefix, 0) == 0) j = s.substr(prefix.size());
    } else if (j.is_structured()) {
      for (auto& v : j) relativize(v);
    }
  };
  relativize(rel);
  rel.erase("root");
  rel.erase("reused");
  world["files"] = rel;
  write_file_atomic(files.world_json, world.dump(2) + "\n");
  write_file_atomic(root / kMarker, json{{"options_hash", hash}, {"seed", o.seed}}.dump() + "\n");
  return files;
}

}  // namespace stilts::synth
