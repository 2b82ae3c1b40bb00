// Task items drawn from the latent grammar: labels are computed from meanings (Clause), so a dev or
// test item has the same label in every language it is realized in.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "synth/grammar.h"

namespace stilts::synth {

// A review of 1-3 sentences whose evaluative sentences agree in net polarity (adjective polarity,
// flipped by negation); neutral filler sentences carry no sentiment.
struct Review {
  std::vector<Clause> sentences;
  int label = 0;   // 0 neg, 1 pos (IMDB's order)
  int rating = 0;  // IMDB's 1-4 (neg) or 7-10 (pos)
};

// A sentence pair. PAWS: label 1 paraphrase, 0 not (negatives mostly have the same words with the
// roles or adjectives swapped). NLI: 0 entailment, 1 neutral, 2 contradiction (XNLI's order).
struct PairItem {
  Clause a, b;
  Surface surface_a, surface_b;
  int label = 0;
  std::string construction;  // how b was made from a ("role-swap", "negation", ...), for statistics
};

// Extractive QA: a context of 1-3 clauses and a question asking for one noun phrase (`asked`) of the
// event `contexts[target]`. The clause is the only one of the context with its verb, so the answer is
// unique.
struct QaItem {
  std::vector<Clause> context;
  size_t target = 0;
  Role asked = Role::kSubject;
};

// COPA-style: a premise, two alternatives, the question (effect: what followed the premise; cause: what
// led to it). The world's rule is NLI's, which transfers across languages where adjective polarity does
// not: the right alternative follows from the premise (effect: the premise restated or generalized) or
// the premise follows from it (cause: restated or made more specific); the wrong one contradicts the
// premise (negation, antonym, another count).
struct ChoiceItem {
  Clause premise;
  Clause choice1, choice2;
  bool effect = true;
  int label = 0;  // 0 choice1, 1 choice2
};

class MeaningSampler {
 public:
  MeaningSampler(const Lexicon& lexicon, Rng& rng) : lexicon_(lexicon), rng_(rng) {}

  // Any sentence of the language (the MLM corpus).
  Clause corpus_clause();
  Surface surface(const Clause& c);

  Review review(int label);
  PairItem paws(int label);
  PairItem nli(int label);

  // Names with family names and named places in place of some people and places (the entities of the
  // tagging task and of the corpus that teaches them).
  void add_entities(Clause& c, double surname_rate, double place_name_rate);
  // A sentence to tag: any corpus sentence (pos), or one dense with people and places (ner).
  Clause tagging_clause(bool entities);
  QaItem qa();
  ChoiceItem choice(int label);
  // An event, with entities, to retrieve across languages.
  Clause retrieval_clause();
  // A meaning close to `c` but not its paraphrase (roles swapped, negated, another verb): a hard
  // distractor for retrieval.
  Clause near_miss(const Clause& c);

 private:
  NounPhrase noun_phrase(bool allow_person, double adjective_rate, bool neutral_adjectives);
  Clause event(double adjective_rate, bool neutral_adjectives);
  Clause state(int adjective);
  int neutral_adjective();
  int sentiment_adjective(int polarity);
  int any_adjective();
  NounPhrase person();
  bool add_detail(Clause& c);   // an adjective or place that a is silent about; false if none fits
  bool drop_detail(Clause& c);  // an adjective, place, intensity or count that a states; false if none

  const Lexicon& lexicon_;
  Rng& rng_;
};

// A canonical string of a meaning (for de-duplicating dev/test items against train items).
std::string meaning_key(const Clause& c);

}  // namespace stilts::synth
