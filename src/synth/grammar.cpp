#include "synth/grammar.h"

#include <algorithm>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

namespace stilts::synth {

namespace {

// Lexicon sizes: a few hundred concepts, small enough for a tiny encoder to learn in minutes.
constexpr int kNames = 40;
constexpr int kSurnames = 24;
constexpr int kPlaceNames = 16;  // every third of two words
constexpr int kPlaces = 12;
constexpr int kNouns = 80;  // places included
constexpr int kVerbs = 36;
constexpr int kSentimentPairs = 24;
constexpr int kNeutralPairs = 10;
constexpr double kSynonymRate = 0.25;  // content concepts with a second word in a language

// ---- phonology: words are strings of one-letter phonemes until spelled ----

struct Inventory {
  std::string onsets;
  std::string vowels;
  std::string codas;
  double onset_rate;
  double coda_rate;
};

const Inventory kFamilyA{"ptkbdgmnslrvzh", "aeiou", "nmslr", 0.9, 0.2};
const Inventory kFamilyB{"ptkqxmnrwsly", "aiuoe", "kqnx", 0.95, 0.3};

std::string syllable(const Inventory& inv, Rng& rng, bool first) {
  std::string s;
  if (!first || rng.chance(inv.onset_rate)) s += inv.onsets[static_cast<size_t>(rng.below(inv.onsets.size()))];
  s += inv.vowels[static_cast<size_t>(rng.below(inv.vowels.size()))];
  if (rng.chance(inv.coda_rate)) s += inv.codas[static_cast<size_t>(rng.below(inv.codas.size()))];
  return s;
}

std::string root(const Inventory& inv, Rng& rng, int syllables) {
  std::string s;
  for (int i = 0; i < syllables; ++i) s += syllable(inv, rng, i == 0);
  return s;
}

// Roots of `n` concepts, unique among themselves and against `taken`.
std::vector<std::string> unique_roots(const Inventory& inv, Rng& rng, int n, int min_syllables, int max_syllables,
                                      std::set<std::string>& taken) {
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < n) {
    std::string r = root(inv, rng, static_cast<int>(rng.between(min_syllables, max_syllables)));
    if (r.size() < 2 || !taken.insert(r).second) continue;
    out.push_back(r);
  }
  return out;
}

// The proto lexicon of a family: one root per concept and per function word.
struct ProtoLexicon {
  std::vector<std::string> nouns, verbs, adjectives, intensifiers;
  // article, copula, negation, plural, object marker, passive, by, in
  std::vector<std::string> function_words;
  std::vector<std::string> question_words;  // who, what, where, the question particle
};

ProtoLexicon make_proto(const Inventory& inv, const Lexicon& lexicon, uint64_t seed) {
  Rng rng(seed);
  std::set<std::string> taken;
  ProtoLexicon p;
  p.function_words = unique_roots(inv, rng, 8, 1, 1, taken);
  p.intensifiers = unique_roots(inv, rng, Lexicon::kIntensities, 2, 2, taken);
  p.nouns = unique_roots(inv, rng, static_cast<int>(lexicon.nouns), 2, 3, taken);
  p.verbs = unique_roots(inv, rng, static_cast<int>(lexicon.verbs), 2, 2, taken);
  p.adjectives = unique_roots(inv, rng, static_cast<int>(lexicon.adjectives.size()), 2, 3, taken);
  // Drawn last, so that the words above are those of worlds made before questions existed.
  p.question_words = unique_roots(inv, rng, 4, 1, 2, taken);
  return p;
}

// Regular sound changes and a spelling: what makes a daughter language's cognates look different.
struct SoundChange {
  std::map<char, char> phoneme;          // applied to every phoneme of every word
  bool apocope = false;                  // drop a final vowel of words longer than 3 phonemes
  std::map<char, std::string> spelling;  // phoneme -> letters

  std::string apply(const std::string& word) const {
    std::string s;
    for (char c : word) {
      auto it = phoneme.find(c);
      s += it == phoneme.end() ? c : it->second;
    }
    if (apocope && s.size() > 3 && std::string("aeiou").find(s.back()) != std::string::npos) s.pop_back();
    return s;
  }
  std::string spell(const std::string& word) const {
    std::string s;
    for (char c : word) {
      auto it = spelling.find(c);
      if (it == spelling.end()) {
        s += c;
      } else {
        s += it->second;
      }
    }
    return s;
  }
};

SoundChange make_sound_change(int strength, Rng& rng) {
  // Natural-looking shifts (lenition, voicing, fronting); a language takes `strength` consonant and
  // about half as many vowel changes.
  static const std::vector<std::pair<char, char>> kConsonantShifts = {
      {'p', 'f'}, {'t', 'd'}, {'k', 'h'}, {'b', 'v'}, {'d', 'z'}, {'g', 'k'}, {'s', 'z'}, {'l', 'r'},
      {'v', 'w'}, {'m', 'n'}, {'z', 's'}, {'h', 'g'}};
  static const std::vector<std::pair<char, char>> kVowelShifts = {
      {'a', 'e'}, {'o', 'u'}, {'u', 'o'}, {'i', 'e'}, {'e', 'i'}};
  static const std::vector<std::pair<char, std::string>> kSpellings = {
      {'s', "sh"}, {'h', "kh"}, {'j', "y"}, {'u', "ou"}, {'e', "\xc3\xa4"} /* ä */, {'o', "\xc3\xb6"} /* ö */,
      {'k', "c"},  {'w', "wh"}, {'z', "zz"}};
  SoundChange change;
  if (strength <= 0) return change;
  std::vector<size_t> order(kConsonantShifts.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  rng.shuffle(order);
  std::set<char> used;
  for (size_t i = 0, n = 0; i < order.size() && static_cast<int>(n) < strength; ++i) {
    const auto& [from, to] = kConsonantShifts[order[i]];
    if (used.count(from) || used.count(to)) continue;  // no chains: keeps the change regular and visible
    change.phoneme[from] = to;
    used.insert(from);
    used.insert(to);
    ++n;
  }
  std::vector<size_t> vowel_order(kVowelShifts.size());
  for (size_t i = 0; i < vowel_order.size(); ++i) vowel_order[i] = i;
  rng.shuffle(vowel_order);
  for (size_t i = 0, n = 0; i < vowel_order.size() && static_cast<int>(n) < (strength + 1) / 2; ++i) {
    const auto& [from, to] = kVowelShifts[vowel_order[i]];
    if (used.count(from) || used.count(to)) continue;
    change.phoneme[from] = to;
    used.insert(from);
    used.insert(to);
    ++n;
  }
  change.apocope = strength >= 2 && rng.chance(0.5);
  std::vector<size_t> spell_order(kSpellings.size());
  for (size_t i = 0; i < spell_order.size(); ++i) spell_order[i] = i;
  rng.shuffle(spell_order);
  for (int i = 0; i < std::min<int>(strength, 3); ++i) {
    const auto& [phoneme, letters] = kSpellings[spell_order[static_cast<size_t>(i)]];
    change.spelling[phoneme] = letters;
  }
  return change;
}

const char* order_name(WordOrder o) {
  switch (o) {
    case WordOrder::kSVO: return "SVO";
    case WordOrder::kSOV: return "SOV";
    case WordOrder::kVSO: return "VSO";
  }
  return "?";
}

const char* negation_name(Negation n) {
  switch (n) {
    case Negation::kParticleBeforeVerb: return "particle-before-verb";
    case Negation::kVerbSuffix: return "verb-suffix";
    case Negation::kFinalParticle: return "final-particle";
  }
  return "?";
}

}  // namespace

int64_t Lexicon::concepts() const {
  return static_cast<int64_t>(names.size()) + nouns + verbs + static_cast<int64_t>(adjectives.size()) + kIntensities;
}

Lexicon make_lexicon(uint64_t seed) {
  Lexicon lexicon;
  Rng rng(stream_seed(seed, "names"));
  std::set<std::string> taken;
  for (std::string name : unique_roots(kFamilyA, rng, kNames, 2, 2, taken)) {
    name[0] = static_cast<char>(name[0] - 'a' + 'A');
    lexicon.names.push_back(name);
  }
  auto capitalized = [](std::string w) {
    w[0] = static_cast<char>(w[0] - 'a' + 'A');
    return w;
  };
  Rng surname_rng(stream_seed(seed, "surnames"));
  for (const std::string& name : unique_roots(kFamilyA, surname_rng, kSurnames, 2, 3, taken)) {
    lexicon.surnames.push_back(capitalized(name));
  }
  Rng place_rng(stream_seed(seed, "place-names"));
  const std::vector<std::string> heads = unique_roots(kFamilyA, place_rng, kPlaceNames, 2, 3, taken);
  for (size_t i = 0; i < heads.size(); ++i) {
    std::string name = capitalized(heads[i]);
    if (i % 3 == 2) name = capitalized(unique_roots(kFamilyA, place_rng, 1, 1, 1, taken)[0]) + " " + name;
    lexicon.place_names.push_back(name);
  }
  lexicon.places = kPlaces;
  lexicon.nouns = kNouns;
  lexicon.verbs = kVerbs;
  // Antonym pairs side by side: sentiment pairs (+1, -1), then neutral pairs (size, age, ...).
  for (int i = 0; i < kSentimentPairs + kNeutralPairs; ++i) {
    const int a = 2 * i, b = 2 * i + 1;
    const int polarity = i < kSentimentPairs ? 1 : 0;
    lexicon.adjectives.push_back({b, polarity});
    lexicon.adjectives.push_back({a, -polarity});
  }
  return lexicon;
}

LanguageProfile language_profile(const std::string& code, size_t index, uint64_t seed) {
  LanguageProfile p;
  p.code = code;
  switch (index) {
    case 0:  // the proto language: English-like
      p = {code, "A", 0, WordOrder::kSVO, false, Negation::kParticleBeforeVerb, false, false, true, true, true, false};
      break;
    case 1:  // a close sister: Romance-like adjectives after the noun
      p = {code, "A", 2, WordOrder::kSVO, true, Negation::kParticleBeforeVerb, false, false, true, true, true, false};
      break;
    case 2:  // verb-final with an object particle, no article, negation after the verb: Japanese-like.
      // (With the negation fused into the verb as a suffix, SentencePiece made each negated verb one
      // piece, and zero-shot NLI from en stayed at chance: the fused suffix remains for languages 6+.)
      // Questions in situ with a final particle, as Japanese asks them.
      p = {code, "A", 4, WordOrder::kSOV, false, Negation::kFinalParticle, false, true, false, true, false, true};
      break;
    case 3:  // verb-initial, plural prefix, no copula: Celtic/Semitic-like
      p = {code, "A", 6, WordOrder::kVSO, true, Negation::kParticleBeforeVerb, true, false, true, false, true, true};
      break;
    case 4:  // an unrelated family: only names and digits are shared
      p = {code, "B", 2, WordOrder::kSOV, true, Negation::kFinalParticle, false, true, false, false, false, true};
      break;
    default: {
      Rng rng(stream_seed(seed, "profile:" + code));
      p.family = rng.chance(0.7) ? "A" : "B";
      p.sound_changes = static_cast<int>(rng.between(1, 7));
      p.order = static_cast<WordOrder>(rng.below(3));
      p.adjective_after_noun = rng.chance(0.5);
      p.negation = static_cast<Negation>(rng.below(3));
      p.plural_prefix = rng.chance(0.3);
      p.case_particle = p.order == WordOrder::kSOV || rng.chance(0.3);
      p.article = rng.chance(0.5);
      p.copula = rng.chance(0.6);
      p.wh_fronting = rng.chance(p.order == WordOrder::kSOV ? 0.2 : 0.7);
      p.question_particle = !p.wh_fronting || rng.chance(0.2);
    }
  }
  return p;
}

Language::Language(LanguageProfile profile, const Lexicon& lexicon, uint64_t seed)
    : profile_(std::move(profile)), lexicon_(&lexicon) {
  const bool family_a = profile_.family == "A";
  const Inventory& inv = family_a ? kFamilyA : kFamilyB;
  const ProtoLexicon proto = make_proto(inv, lexicon, stream_seed(seed, std::string("proto:") + profile_.family));
  Rng rng(stream_seed(seed, "language:" + profile_.code));
  const SoundChange change = make_sound_change(profile_.sound_changes, rng);

  // Every word form of the language is unique: a sound change that merges two words is undone by
  // lengthening the later one (real languages resolve such homophony too).
  std::set<std::string> taken;
  auto realize_root = [&](const std::string& proto_root) {
    std::string w = change.apply(proto_root);
    while (!taken.insert(w).second) w += inv.vowels[static_cast<size_t>(rng.below(inv.vowels.size()))];
    return change.spell(w);
  };
  auto fresh_root = [&]() {
    std::string w;
    do {
      w = change.apply(root(inv, rng, static_cast<int>(rng.between(2, 3))));
    } while (w.size() < 3 || !taken.insert(w).second);
    return change.spell(w);
  };
  // Function words first, so content words yield to them; affixes are spelled but need not be unique.
  article_ = realize_root(proto.function_words[0]);
  copula_ = realize_root(proto.function_words[1]);
  negation_ = realize_root(proto.function_words[2]);
  object_marker_ = realize_root(proto.function_words[4]);
  by_ = realize_root(proto.function_words[6]);
  in_ = realize_root(proto.function_words[7]);
  plural_ = change.spell(change.apply(proto.function_words[3]));
  passive_ = change.spell(change.apply(proto.function_words[5]));
  if (profile_.negation == Negation::kVerbSuffix) negation_ = change.spell(change.apply(proto.function_words[2]));
  intensifiers_.push_back("");
  for (const auto& r : proto.intensifiers) intensifiers_.push_back(realize_root(r));
  auto content = [&](const std::vector<std::string>& roots) {
    std::vector<std::vector<std::string>> forms;
    for (const auto& r : roots) forms.push_back({realize_root(r)});
    for (auto& f : forms) {
      if (rng.chance(kSynonymRate)) f.push_back(fresh_root());
    }
    return forms;
  };
  nouns_ = content(proto.nouns);
  verbs_ = content(proto.verbs);
  adjectives_ = content(proto.adjectives);
  // Last, so that the words above are those of worlds made before questions existed.
  who_ = realize_root(proto.question_words[0]);
  what_ = realize_root(proto.question_words[1]);
  where_ = realize_root(proto.question_words[2]);
  question_particle_ = realize_root(proto.question_words[3]);
}

std::string Language::pluralize(const std::string& word) const {
  return profile_.plural_prefix ? plural_ + word : word + plural_;
}

namespace {

// The synonym of a concept (kind 0 noun, 1 verb, 2 adjective) that `lexical` chooses.
const std::string& choose(const std::vector<std::string>& forms, uint64_t kind, int concept, uint64_t lexical) {
  if (forms.size() == 1) return forms[0];
  const uint64_t h = mix64(lexical ^ (kind << 32) ^ static_cast<uint64_t>(concept));
  return forms[static_cast<size_t>(h % forms.size())];
}

}  // namespace

std::string Language::noun_form(int noun, bool plural, uint64_t lexical) const {
  const std::string& w = choose(nouns_[static_cast<size_t>(noun)], 0, noun, lexical);
  return plural ? pluralize(w) : w;
}

std::string Language::adjective_form(int adjective, bool plural, uint64_t lexical) const {
  const std::string& w = choose(adjectives_[static_cast<size_t>(adjective)], 2, adjective, lexical);
  // Adjectives after the noun agree with it in number.
  return plural && profile_.adjective_after_noun ? pluralize(w) : w;
}

std::string Language::verb_form(int verb, bool passive, bool negated, uint64_t lexical) const {
  std::string w = choose(verbs_[static_cast<size_t>(verb)], 1, verb, lexical);
  if (passive) w += passive_;
  if (negated && profile_.negation == Negation::kVerbSuffix) w += negation_;
  return w;
}

namespace {

void append(std::vector<Word>& to, std::vector<Word> words) {
  for (Word& w : words) to.push_back(std::move(w));
}

}  // namespace

std::vector<Word> Language::noun_phrase(const NounPhrase& np, uint64_t lexical, Role role) const {
  if (np.person >= 0) {
    std::vector<Word> words = {Word{lexicon_->names[static_cast<size_t>(np.person)], "PROPN", "B-PER", role}};
    if (np.surname >= 0) words.push_back(Word{lexicon_->surnames[static_cast<size_t>(np.surname)], "PROPN", "I-PER", role});
    return words;
  }
  const bool plural = np.count > 1;
  std::vector<Word> words;
  if (np.show_count) {
    words.push_back({std::to_string(np.count), "NUM", "O", role});
  } else if (!plural && profile_.article) {
    words.push_back({article_, "DET", "O", role});
  }
  const Word noun{noun_form(np.noun, plural, lexical), "NOUN", "O", role};
  if (np.adjective >= 0 && !profile_.adjective_after_noun) {
    words.push_back({adjective_form(np.adjective, plural, lexical), "ADJ", "O", role});
  }
  words.push_back(noun);
  if (np.adjective >= 0 && profile_.adjective_after_noun) {
    words.push_back({adjective_form(np.adjective, plural, lexical), "ADJ", "O", role});
  }
  return words;
}

std::vector<Word> Language::place_phrase(const Clause& c, uint64_t lexical, Role wh) const {
  if (wh == Role::kPlace) return {Word{where_, "ADV", "O", Role::kNone}};
  std::vector<Word> phrase;
  if (c.place_name >= 0) {
    // A named place: its words as the lexicon spells them, no article.
    const std::string& name = lexicon_->place_names[static_cast<size_t>(c.place_name)];
    for (size_t start = 0; start <= name.size();) {
      const size_t space = std::min(name.find(' ', start), name.size());
      phrase.push_back({name.substr(start, space - start), "PROPN", phrase.empty() ? "B-LOC" : "I-LOC", Role::kPlace});
      start = space + 1;
    }
  } else {
    NounPhrase np;
    np.noun = c.place;
    phrase = noun_phrase(np, lexical, Role::kPlace);
  }
  // Verb-final languages have postpositions.
  const Word in{in_, "ADP", "O", Role::kNone};
  if (profile_.order == WordOrder::kSOV) {
    phrase.push_back(in);
  } else {
    phrase.insert(phrase.begin(), in);
  }
  return phrase;
}

std::vector<Word> Language::clause_words(const Clause& c, const Surface& surface, Role wh) const {
  const uint64_t lexical = surface.lexical;
  const bool particle_neg = c.negated && profile_.negation == Negation::kParticleBeforeVerb;
  const bool final_neg = c.negated && profile_.negation == Negation::kFinalParticle;
  const bool suffix_neg = c.negated && profile_.negation == Negation::kVerbSuffix;
  // An argument, or the question word standing for it.
  auto argument = [&](const NounPhrase& np, Role role) -> std::vector<Word> {
    if (role == wh) return {Word{np.person >= 0 ? who_ : what_, "PRON", "O", Role::kNone}};
    return noun_phrase(np, lexical, role);
  };
  std::vector<std::vector<Word>> core;  // constituents in order
  if (c.kind == Clause::Kind::kEvent) {
    std::vector<Word> verb = {{verb_form(c.verb, surface.passive, c.negated, lexical), "VERB", "O", Role::kNone}};
    if (particle_neg) verb.insert(verb.begin(), Word{negation_, "PART", "O", Role::kNone});
    std::vector<Word> first, second;  // the subject and the other argument as said
    if (!surface.passive) {
      first = argument(c.subject, Role::kSubject);
      second = argument(c.object, Role::kObject);
      if (profile_.case_particle) second.push_back({object_marker_, "ADP", "O", Role::kNone});
    } else {
      first = argument(c.object, Role::kObject);
      second = argument(c.subject, Role::kSubject);
      const Word by{by_, "ADP", "O", Role::kNone};
      if (profile_.order == WordOrder::kSOV) {
        second.push_back(by);
      } else {
        second.insert(second.begin(), by);
      }
    }
    switch (profile_.order) {
      case WordOrder::kSVO: core = {first, verb, second}; break;
      case WordOrder::kSOV: core = {first, second, verb}; break;
      case WordOrder::kVSO: core = {verb, first, second}; break;
    }
  } else {
    const bool plural = c.subject.count > 1;
    Word adjective{adjective_form(c.adjective, plural, lexical), "ADJ", "O", Role::kNone};
    if (suffix_neg && !profile_.copula) adjective.text += negation_;
    std::vector<Word> phrase = {adjective};
    if (c.intensity > 0) {
      const Word intensifier{intensifiers_[static_cast<size_t>(c.intensity)], "ADV", "O", Role::kNone};
      if (profile_.adjective_after_noun) {
        phrase.push_back(intensifier);
      } else {
        phrase.insert(phrase.begin(), intensifier);
      }
    }
    std::vector<Word> subject = argument(c.subject, Role::kSubject);
    if (profile_.copula) {
      std::vector<Word> copula = {{copula_ + (suffix_neg ? negation_ : ""), "AUX", "O", Role::kNone}};
      if (particle_neg) copula.insert(copula.begin(), Word{negation_, "PART", "O", Role::kNone});
      switch (profile_.order) {
        case WordOrder::kSVO: core = {subject, copula, phrase}; break;
        case WordOrder::kSOV: core = {subject, phrase, copula}; break;
        case WordOrder::kVSO: core = {copula, subject, phrase}; break;
      }
    } else {
      if (particle_neg) phrase.insert(phrase.begin(), Word{negation_, "PART", "O", Role::kNone});
      core = {subject, phrase};
    }
  }
  if (final_neg) core.push_back(std::vector<Word>{Word{negation_, "PART", "O", Role::kNone}});
  if (c.has_place()) {
    std::vector<Word> place = place_phrase(c, lexical, wh);
    if (surface.front_place) {
      core.insert(core.begin(), place);
    } else {
      core.push_back(place);
    }
  }
  std::vector<Word> out;
  for (auto& constituent : core) append(out, std::move(constituent));
  return out;
}

std::vector<Word> Language::words(const Clause& c, const Surface& surface) const {
  std::vector<Word> out = clause_words(c, surface, Role::kNone);
  out.push_back({".", "PUNCT", "O", Role::kNone});
  return out;
}

std::string Language::realize(const Clause& c, const Surface& surface) const {
  std::string text;
  for (const Word& w : clause_words(c, surface, Role::kNone)) {
    if (!text.empty()) text += ' ';
    text += w.text;
  }
  return text + ".";
}

std::string Language::question(const Clause& c, Role asked, uint64_t lexical) const {
  STILTS_CHECK(c.kind == Clause::Kind::kEvent && asked != Role::kNone && (asked != Role::kPlace || c.has_place()),
               "Language::question: nothing to ask");
  Surface surface;
  surface.lexical = lexical;
  std::vector<Word> words = clause_words(c, surface, asked);
  if (profile_.wh_fronting) {
    // The question word first; a case particle that marked its place stays behind no word, so it goes.
    for (size_t i = 0; i < words.size(); ++i) {
      if (words[i].text != who_ && words[i].text != what_ && words[i].text != where_) continue;
      const Word wh = words[i];
      const bool marked = profile_.case_particle && asked == Role::kObject && i + 1 < words.size() &&
                          words[i + 1].text == object_marker_;
      const auto at = words.begin() + static_cast<std::ptrdiff_t>(i);
      words.erase(at, at + (marked ? 2 : 1));
      words.insert(words.begin(), wh);
      break;
    }
  }
  if (profile_.question_particle) words.push_back({question_particle_, "PART", "O", Role::kNone});
  std::string text;
  for (const Word& w : words) {
    if (!text.empty()) text += ' ';
    text += w.text;
  }
  return text + "?";
}

nlohmann::json Language::describe() const {
  nlohmann::json j;
  j["code"] = profile_.code;
  j["family"] = profile_.family;
  j["sound_changes"] = profile_.sound_changes;
  j["word_order"] = order_name(profile_.order);
  j["adjective_position"] = profile_.adjective_after_noun ? "after-noun" : "before-noun";
  j["negation"] = negation_name(profile_.negation);
  j["plural"] = profile_.plural_prefix ? "prefix" : "suffix";
  j["object_particle"] = profile_.case_particle;
  j["article"] = profile_.article;
  j["copula"] = profile_.copula;
  j["questions"] = std::string(profile_.wh_fronting ? "question word first" : "question word in place") +
                   (profile_.question_particle ? ", final particle" : "");
  nlohmann::json words;
  words["negation"] = negation_;
  words["plural"] = plural_;
  words["passive"] = passive_;
  words["by"] = by_;
  words["in"] = in_;
  if (profile_.article) words["article"] = article_;
  if (profile_.copula) words["copula"] = copula_;
  if (profile_.case_particle) words["object_particle"] = object_marker_;
  words["intensifiers"] = std::vector<std::string>(intensifiers_.begin() + 1, intensifiers_.end());
  words["questions"] = {{"who", who_}, {"what", what_}, {"where", where_}, {"particle", question_particle_}};
  j["function_words"] = words;
  int64_t synonyms = 0;
  for (const auto* forms : {&nouns_, &verbs_, &adjectives_}) {
    for (const auto& f : *forms) synonyms += f.size() > 1 ? 1 : 0;
  }
  j["concepts_with_synonyms"] = synonyms;
  return j;
}

}  // namespace stilts::synth
