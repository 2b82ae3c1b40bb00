// The synthetic world's shared latent grammar and the languages that realize it.
//
// A meaning (Clause) is built from concepts of one latent lexicon: people (names, some with a family
// name, shared by every language as real names are), named places (one or two words, shared too),
// common nouns (the first few are places), transitive verbs, adjectives in
// antonym pairs (sentiment-bearing ones with polarity +1/-1, neutral ones 0) and three intensifiers.
// Each Language realizes a clause with its own vocabulary and spelling, word order, adjective position,
// articles, copula, negation, plural and case marking. Languages of family "A" descend from one proto
// lexicon by regular sound changes (cognates), family "B" has roots of its own; digits and names are
// shared by all. Labels of the tasks are functions of the Clause, never of a sentence's surface; word
// annotations (part of speech, entity tags, which argument a word belongs to) come with the words
// themselves (Language::words), so they cannot drift from what is said.
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
  std::vector<std::string> names;     // person names, the same string in every language
  std::vector<std::string> surnames;  // family names said after a name ("Mina Talor"), shared too
  // Named places ("Velmora", "Kel Amora": one or two words), shared by every language as names are.
  std::vector<std::string> place_names;
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
  int person = -1;     // a name (with `surname` >= 0, a family name after it), or
  int surname = -1;
  int noun = -1;       // a common noun
  int adjective = -1;  // attributive, -1 none
  int count = 1;       // 1 singular, >= 2 plural
  bool show_count = false;  // the count is said ("3 dogs"), else a plural is bare ("dogs")

  bool operator==(const NounPhrase& o) const {
    return person == o.person && surname == o.surname && noun == o.noun && adjective == o.adjective && count == o.count &&
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
  int place = -1;       // "in the <place>", -1 none
  int place_name = -1;  // "in Velmora" (a named place) instead of `place`, -1 none

  bool has_place() const { return place >= 0 || place_name >= 0; }
  bool operator==(const Clause& o) const {
    return kind == o.kind && subject == o.subject && verb == o.verb && object == o.object &&
           adjective == o.adjective && intensity == o.intensity && negated == o.negated && place == o.place &&
           place_name == o.place_name;
  }
};

// Which part of a clause a word says: the noun phrases a question can ask about (their words only, not
// the adpositions or case particles around them).
enum class Role { kNone, kSubject, kObject, kPlace };

// One word of a realized sentence with its annotations: a UPOS tag (a word keeps its class whatever
// affixes it carries: a negated verb is a VERB, a plural noun a NOUN) and an IOB2 entity tag over
// people (PER) and named places (LOC).
struct Word {
  std::string text;
  std::string pos;
  std::string entity = "O";
  Role role = Role::kNone;
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
  // Questions: the question word moved to the front (else said where the answer would be), and a
  // question particle at the end.
  bool wh_fronting = true;
  bool question_particle = false;
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
  // The same sentence as annotated words, the final "." a word of its own (PUNCT).
  std::vector<Word> words(const Clause& clause, const Surface& surface) const;
  // A question asking for the `asked` noun phrase of an event (kSubject: the agent, kObject: the
  // patient, kPlace: where), said in the active voice with the language's question words, word order
  // and question particle; it ends in '?'.
  std::string question(const Clause& clause, Role asked, uint64_t lexical) const;

  // Profile and a few words, for world.json.
  nlohmann::json describe() const;

 private:
  std::vector<Word> clause_words(const Clause& clause, const Surface& surface, Role wh) const;
  std::vector<Word> noun_phrase(const NounPhrase& np, uint64_t lexical, Role role) const;
  std::vector<Word> place_phrase(const Clause& clause, uint64_t lexical, Role wh) const;
  std::string noun_form(int noun, bool plural, uint64_t lexical) const;
  std::string adjective_form(int adjective, bool plural, uint64_t lexical) const;
  std::string verb_form(int verb, bool passive, bool negated, uint64_t lexical) const;
  std::string pluralize(const std::string& word) const;

  LanguageProfile profile_;
  const Lexicon* lexicon_;
  // Content words: forms_[kind][concept] = one form, or two (synonyms).
  std::vector<std::vector<std::string>> nouns_, verbs_, adjectives_;
  std::vector<std::string> intensifiers_;  // [0] unused
  std::string article_, copula_, negation_, plural_, object_marker_, passive_, by_, in_;
  std::string who_, what_, where_, question_particle_;
};

}  // namespace stilts::synth
