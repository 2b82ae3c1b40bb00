// The synthetic world's shared latent grammar and the languages that realize it.
//
// A meaning (Clause) is built from concepts of one latent lexicon: people (names, shared by every
// language as real names are), common nouns (the first few are places), transitive verbs, adjectives in
// antonym pairs (sentiment-bearing ones with polarity +1/-1, neutral ones 0) and three intensifiers.
// Each Language realizes a clause with its own vocabulary and spelling, word order, adjective position,
// articles, copula, negation, plural and case marking. Languages of family "A" descend from one proto
// lexicon by regular sound changes (cognates), family "B" has roots of its own; digits and names are
// shared by all. Labels of the tasks are functions of the Clause, never of a sentence's surface.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "synth/random.h"

namespace stilts::synth {

// ---- the latent lexicon ----

struct Adjective {
  int antonym = -1;   // index of the opposite adjective
  int polarity = 0;   // +1 positive, -1 negative, 0 neutral (sentiment)
};

struct Lexicon {
  std::vector<std::string> names;  // person names, the same string in every language
  int64_t places = 0;              // nouns [0, places) are places ("in the park")
  int64_t nouns = 0;               // places included
  int64_t verbs = 0;
  std::vector<Adjective> adjectives;
  static constexpr int kIntensities = 3;  // intensity 1..3: "somewhat", "very", "extremely"

  int64_t concepts() const;
};

Lexicon make_lexicon(uint64_t seed);

// ---- meanings ----

struct NounPhrase {
  int person = -1;     // a name, or
  int noun = -1;       // a common noun
  int adjective = -1;  // attributive, -1 none
  int count = 1;       // 1 singular, >= 2 plural
  bool show_count = false;  // the count is said ("3 dogs"), else a plural is bare ("dogs")

  bool operator==(const NounPhrase& o) const {
    return person == o.person && noun == o.noun && adjective == o.adjective && count == o.count &&
           show_count == o.show_count;
  }
};

struct Clause {
  enum class Kind { kEvent, kState };
  Kind kind = Kind::kEvent;
  NounPhrase subject;  // the agent of an event, the theme of a state
  int verb = -1;       // events
  NounPhrase object;   // events: the patient
  int adjective = -1;  // states: subject is [intensity] adjective
  int intensity = 0;   // 0 none, 1..3
  bool negated = false;
  int place = -1;      // "in the <place>", -1 none

  bool operator==(const Clause& o) const {
    return kind == o.kind && subject == o.subject && verb == o.verb && object == o.object &&
           adjective == o.adjective && intensity == o.intensity && negated == o.negated && place == o.place;
  }
};

// How a meaning is said: choices that keep the meaning.
struct Surface {
  bool passive = false;      // events: the patient as subject, the agent in a by-phrase
  bool front_place = false;  // the place adjunct first instead of last
  // Which synonym each concept is said with (a hash of it and the concept picks one): two surfaces
  // with the same value use the same words, as PAWS's adversarial pairs do.
  uint64_t lexical = 0;
};

// ---- languages ----

enum class WordOrder { kSVO, kSOV, kVSO };
enum class Negation { kParticleBeforeVerb, kVerbSuffix, kFinalParticle };

struct LanguageProfile {
  std::string code;
  std::string family;  // "A" (descends from the proto lexicon) or "B" (roots of its own)
  int sound_changes = 0;  // family A: how far from the proto language (0 = the proto language itself)
  WordOrder order = WordOrder::kSVO;
  bool adjective_after_noun = false;
  Negation negation = Negation::kParticleBeforeVerb;
  bool plural_prefix = false;  // else a suffix
  bool case_particle = false;  // an object-marking particle after the patient
  bool article = true;         // a definite article before singular bare nouns
  bool copula = true;          // "X is big" vs "X big"
};

// The profile of the index-th language of a world (0 is the training-language-like proto language).
LanguageProfile language_profile(const std::string& code, size_t index, uint64_t seed);

class Language {
 public:
  Language(LanguageProfile profile, const Lexicon& lexicon, uint64_t seed);

  const LanguageProfile& profile() const { return profile_; }
  const std::string& code() const { return profile_.code; }

  // The sentence for `clause`: words separated by single spaces, a final '.'.
  std::string realize(const Clause& clause, const Surface& surface) const;

  // Profile and a few words, for world.json.
  nlohmann::json describe() const;

 private:
  std::string noun_phrase(const NounPhrase& np, uint64_t lexical) const;
  std::string noun_form(int noun, bool plural, uint64_t lexical) const;
  std::string adjective_form(int adjective, bool plural, uint64_t lexical) const;
  std::string verb_form(int verb, bool passive, bool negated, uint64_t lexical) const;
  std::string place_phrase(int place, uint64_t lexical) const;
  std::string pluralize(const std::string& word) const;

  LanguageProfile profile_;
  const Lexicon* lexicon_;
  // Content words: forms_[kind][concept] = one form, or two (synonyms).
  std::vector<std::vector<std::string>> nouns_, verbs_, adjectives_;
  std::vector<std::string> intensifiers_;  // [0] unused
  std::string article_, copula_, negation_, plural_, object_marker_, passive_, by_, in_;
};

}  // namespace stilts::synth
