#include "synth/tasks.h"

#include <algorithm>
#include <utility>

namespace stilts::synth {

namespace {

int sentiment_adjectives(const Lexicon& lexicon) {
  int n = 0;
  for (const auto& a : lexicon.adjectives) n += a.polarity != 0 ? 1 : 0;
  return n;
}

}  // namespace

int MeaningSampler::neutral_adjective() {
  const int first = sentiment_adjectives(lexicon_);
  return first + static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.adjectives.size()) - first));
}

int MeaningSampler::sentiment_adjective(int polarity) {
  // Sentiment adjectives come in (+1, -1) pairs.
  const int pairs = sentiment_adjectives(lexicon_) / 2;
  return 2 * static_cast<int>(rng_.below(pairs)) + (polarity > 0 ? 0 : 1);
}

int MeaningSampler::any_adjective() { return static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.adjectives.size()))); }

NounPhrase MeaningSampler::noun_phrase(bool allow_person, double adjective_rate, bool neutral_adjectives) {
  NounPhrase np;
  if (allow_person && rng_.chance(0.4)) {
    np.person = static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.names.size())));
    return np;
  }
  np.noun = static_cast<int>(rng_.between(lexicon_.places, lexicon_.nouns - 1));
  if (rng_.chance(adjective_rate)) np.adjective = neutral_adjectives ? neutral_adjective() : any_adjective();
  if (rng_.chance(0.3)) {
    np.count = static_cast<int>(rng_.between(2, 12));
    np.show_count = rng_.chance(0.6);
  }
  return np;
}

Clause MeaningSampler::event(double adjective_rate, bool neutral_adjectives) {
  Clause c;
  c.kind = Clause::Kind::kEvent;
  c.subject = noun_phrase(true, adjective_rate, neutral_adjectives);
  do {
    c.object = noun_phrase(true, adjective_rate, neutral_adjectives);
  } while (c.object.person == c.subject.person && c.object.noun == c.subject.noun);
  c.verb = static_cast<int>(rng_.below(lexicon_.verbs));
  if (rng_.chance(0.3)) c.place = static_cast<int>(rng_.below(lexicon_.places));
  return c;
}

Clause MeaningSampler::state(int adjective) {
  Clause c;
  c.kind = Clause::Kind::kState;
  c.subject = noun_phrase(true, 0.0, true);
  c.adjective = adjective;
  if (rng_.chance(0.5)) c.intensity = static_cast<int>(rng_.between(1, Lexicon::kIntensities));
  if (rng_.chance(0.15)) c.place = static_cast<int>(rng_.below(lexicon_.places));
  return c;
}

Surface MeaningSampler::surface(const Clause& c) {
  Surface s;
  s.passive = c.kind == Clause::Kind::kEvent && rng_.chance(0.3);
  s.front_place = c.has_place() && rng_.chance(0.3);
  s.lexical = rng_.next();
  return s;
}

Clause MeaningSampler::corpus_clause() {
  Clause c = rng_.chance(0.55) ? event(0.35, false) : state(any_adjective());
  c.negated = rng_.chance(0.2);
  return c;
}

Review MeaningSampler::review(int label) {
  const int polarity = label == 1 ? 1 : -1;
  Review r;
  r.label = label;
  const int evaluative = static_cast<int>(rng_.between(1, 2));
  int strongest = -1;  // the highest intensity of a non-negated evaluative statement, -1 none
  for (int i = 0; i < evaluative; ++i) {
    if (rng_.chance(0.3)) {
      // Someone does something to a good/bad thing: "Mina repairs the terrible car."
      Clause c = event(0.0, true);
      if (c.object.person >= 0) {  // people get no sentiment adjectives: the object becomes a thing
        c.object.person = -1;
        do {
          c.object.noun = static_cast<int>(rng_.between(lexicon_.places, lexicon_.nouns - 1));
        } while (c.object.noun == c.subject.noun);
      }
      c.object.adjective = sentiment_adjective(polarity);
      strongest = std::max(strongest, 0);
      r.sentences.push_back(c);
    } else {
      // "The car is (not) very good."
      const bool negated = rng_.chance(0.35);
      Clause c = state(sentiment_adjective(negated ? -polarity : polarity));
      c.negated = negated;
      if (!negated) strongest = std::max(strongest, c.intensity);
      r.sentences.push_back(c);
    }
  }
  if (rng_.chance(0.5)) {
    Clause filler = event(0.4, true);
    filler.negated = rng_.chance(0.2);
    r.sentences.insert(r.sentences.begin() + rng_.below(static_cast<int64_t>(r.sentences.size()) + 1), filler);
  }
  // IMDB's ratings: stronger words, more extreme stars; "not bad" is a lukewarm 7 (or 4).
  static const int kPositive[] = {8, 7, 9, 10};
  static const int kNegative[] = {3, 4, 2, 1};
  if (strongest < 0) {
    r.rating = polarity > 0 ? 7 : 4;
  } else {
    r.rating = polarity > 0 ? kPositive[strongest] : kNegative[strongest];
  }
  return r;
}

PairItem MeaningSampler::paws(int label) {
  PairItem p;
  p.label = label;
  p.a = event(0.5, false);
  if (rng_.chance(0.5)) p.a.place = static_cast<int>(rng_.below(lexicon_.places));
  p.a.negated = rng_.chance(0.15);
  p.surface_a = surface(p.a);
  p.b = p.a;
  // Both labels draw b's surface alike (voice, place, synonyms), so that what differs between the two
  // sentences' words does not give the label away; only the meaning change does.
  p.surface_b = p.surface_a;
  const bool voice = rng_.chance(0.4);
  const bool place = p.a.place >= 0 && rng_.chance(0.5);
  const bool synonyms = rng_.chance(0.25);
  if (voice) p.surface_b.passive = !p.surface_b.passive;
  if (place) p.surface_b.front_place = !p.surface_b.front_place;
  if (synonyms) p.surface_b.lexical = rng_.next();
  if (label == 1) {
    // A true paraphrase: another voice, the place moved and/or other synonyms.
    if (!voice && !place && !synonyms) {
      if (p.a.place >= 0) {
        p.surface_b.front_place = !p.surface_b.front_place;
      } else {
        p.surface_b.passive = !p.surface_b.passive;
      }
    }
    p.construction = "paraphrase";
    return p;
  }
  // Adversarial negatives: the same words (roles or adjectives swapped), or a negation.
  const bool adjectives_differ = p.a.subject.noun >= 0 && p.a.object.noun >= 0 && p.a.subject.adjective >= 0 &&
                                 p.a.object.adjective >= 0 && p.a.subject.adjective != p.a.object.adjective;
  const double x = rng_.uniform();
  if (x < 0.2 && adjectives_differ) {
    std::swap(p.b.subject.adjective, p.b.object.adjective);
    p.construction = "adjective-swap";
  } else if (x >= 0.2 && x < 0.3) {
    p.b.negated = !p.b.negated;
    p.construction = "negation";
  } else {
    std::swap(p.b.subject, p.b.object);
    p.construction = "role-swap";
  }
  return p;
}

bool MeaningSampler::add_detail(Clause& c) {
  std::vector<NounPhrase*> bare;
  for (NounPhrase* np : {&c.subject, &c.object}) {
    if (np->noun >= 0 && np->adjective < 0 && (np == &c.subject || c.kind == Clause::Kind::kEvent)) bare.push_back(np);
  }
  if (!bare.empty() && (c.place >= 0 || rng_.chance(0.7))) {
    rng_.pick(bare)->adjective = neutral_adjective();
    return true;
  }
  if (c.place < 0) {
    c.place = static_cast<int>(rng_.below(lexicon_.places));
    return true;
  }
  return false;
}

bool MeaningSampler::drop_detail(Clause& c) {
  std::vector<int> options;  // 0 subject adjective, 1 object adjective, 2 place, 3 intensity, 4 count
  if (c.subject.adjective >= 0) options.push_back(0);
  if (c.kind == Clause::Kind::kEvent && c.object.adjective >= 0) options.push_back(1);
  if (c.place >= 0) options.push_back(2);
  if (c.kind == Clause::Kind::kState && c.intensity > 0) options.push_back(3);
  if (c.subject.show_count || (c.kind == Clause::Kind::kEvent && c.object.show_count)) options.push_back(4);
  if (options.empty()) return false;
  switch (rng_.pick(options)) {
    case 0: c.subject.adjective = -1; break;
    case 1: c.object.adjective = -1; break;
    case 2: c.place = -1; break;
    case 3: c.intensity = 0; break;
    default:
      if (c.subject.show_count) {
        c.subject.show_count = false;
      } else {
        c.object.show_count = false;
      }
  }
  return true;
}

PairItem MeaningSampler::nli(int label) {
  PairItem p;
  p.label = label;
  p.a = rng_.chance(0.6) ? event(0.35, false) : state(any_adjective());
  p.a.negated = rng_.chance(0.25);
  p.surface_a = surface(p.a);
  p.b = p.a;
  bool done = false;
  if (label == 0) {  // entailment
    // Under negation the entailed direction flips: "does not see the dog" |= "does not see the big dog".
    if (rng_.chance(0.5)) {
      done = p.a.negated ? add_detail(p.b) : drop_detail(p.b);
      p.construction = p.a.negated ? "negated-specialization" : "generalization";
    }
    if (!done) p.construction = "paraphrase";
  } else if (label == 2) {  // contradiction
    const double x = rng_.uniform();
    if (x < 0.3 && p.a.kind == Clause::Kind::kState && !p.a.negated) {
      p.b.adjective = lexicon_.adjectives[static_cast<size_t>(p.a.adjective)].antonym;
      p.b.intensity = 0;
      p.construction = "antonym";
      done = true;
    } else if (x < 0.5 && !p.a.negated && p.a.subject.show_count) {
      p.b.subject.count = p.a.subject.count % 12 + 2;  // another number in 2..13
      p.construction = "count";
      done = true;
    }
    if (!done) {
      p.b.negated = !p.a.negated;
      p.construction = "negation";
    }
  } else {  // neutral
    const double x = rng_.uniform();
    if (x < 0.4) {
      done = p.a.negated ? drop_detail(p.b) : add_detail(p.b);
      p.construction = p.a.negated ? "negated-generalization" : "specialization";
    } else if (x < 0.7 && p.a.kind == Clause::Kind::kEvent) {
      std::swap(p.b.subject, p.b.object);
      p.construction = "role-swap";
      done = true;
    }
    if (!done) {
      // Something else about the same subject.
      if (p.a.kind == Clause::Kind::kEvent) {
        do {
          p.b.verb = static_cast<int>(rng_.below(lexicon_.verbs));
        } while (p.b.verb == p.a.verb);
      } else {
        const int antonym = lexicon_.adjectives[static_cast<size_t>(p.a.adjective)].antonym;
        do {
          p.b.adjective = any_adjective();
        } while (p.b.adjective == p.a.adjective || p.b.adjective == antonym);
      }
      p.construction = "other-predicate";
    }
  }
  p.surface_b = surface(p.b);
  if (rng_.chance(0.5) && p.b.kind == Clause::Kind::kEvent) p.surface_b.passive = !p.surface_a.passive;
  return p;
}

NounPhrase MeaningSampler::person() {
  NounPhrase np;
  np.person = static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.names.size())));
  return np;
}

void MeaningSampler::add_entities(Clause& c, double surname_rate, double place_name_rate) {
  for (NounPhrase* np : {&c.subject, &c.object}) {
    if (np->person >= 0 && rng_.chance(surname_rate)) {
      np->surname = static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.surnames.size())));
    }
  }
  if (c.place >= 0 && rng_.chance(place_name_rate)) {
    c.place = -1;
    c.place_name = static_cast<int>(rng_.below(static_cast<int64_t>(lexicon_.place_names.size())));
  }
}

Clause MeaningSampler::tagging_clause(bool entities) {
  Clause c = corpus_clause();
  if (!entities) {
    add_entities(c, 0.3, 0.3);
    return c;
  }
  // Most sentences name someone or somewhere; some name no one (all O), as PAN-X's do.
  if (c.subject.person < 0 && rng_.chance(0.5)) c.subject = person();
  if (c.kind == Clause::Kind::kEvent && c.object.person < 0 && rng_.chance(0.3)) {
    do {
      c.object = person();
    } while (c.object.person == c.subject.person);
  }
  if (!c.has_place() && rng_.chance(0.4)) c.place = static_cast<int>(rng_.below(lexicon_.places));
  add_entities(c, 0.5, 0.7);
  return c;
}

QaItem MeaningSampler::qa() {
  QaItem item;
  const auto n = static_cast<size_t>(rng_.between(1, 3));
  item.target = static_cast<size_t>(rng_.below(static_cast<int64_t>(n)));
  std::vector<int> verbs;
  for (size_t i = 0; i < n; ++i) {
    Clause c = i == item.target || rng_.chance(0.6) ? event(0.35, false) : state(any_adjective());
    if (i == item.target && !c.has_place() && rng_.chance(0.3)) c.place = static_cast<int>(rng_.below(lexicon_.places));
    c.negated = rng_.chance(0.15);
    add_entities(c, 0.3, 0.4);
    if (c.kind == Clause::Kind::kEvent) {
      // One clause per verb: the question (the clause less the asked phrase) then names one clause.
      while (std::find(verbs.begin(), verbs.end(), c.verb) != verbs.end()) {
        c.verb = static_cast<int>(rng_.below(lexicon_.verbs));
      }
      verbs.push_back(c.verb);
    }
    item.context.push_back(c);
  }
  std::vector<Role> roles = {Role::kSubject, Role::kObject};
  if (item.context[item.target].has_place()) roles.push_back(Role::kPlace);
  item.asked = rng_.pick(roles);
  return item;
}

ChoiceItem MeaningSampler::choice(int label) {
  ChoiceItem item;
  item.effect = rng_.chance(0.5);
  item.label = label;
  item.premise = rng_.chance(0.6) ? event(0.35, false) : state(any_adjective());
  item.premise.negated = rng_.chance(0.25);
  const Clause& p = item.premise;
  // The right alternative: the premise said again (realized with its own surface), or with a detail
  // dropped or added so that entailment runs the asked way. Effect: the premise entails it (a
  // generalization; under negation a specialization); cause: it entails the premise (mirrored).
  Clause right = p;
  if (rng_.chance(0.5)) {
    const bool generalize = item.effect != p.negated;
    if (generalize) {
      drop_detail(right);
    } else {
      add_detail(right);
    }
  }
  // The wrong alternative contradicts the premise, as NLI's contradictions do: an antonym, another
  // count, or the premise negated.
  Clause wrong = p;
  const double x = rng_.uniform();
  if (x < 0.3 && p.kind == Clause::Kind::kState && !p.negated) {
    wrong.adjective = lexicon_.adjectives[static_cast<size_t>(p.adjective)].antonym;
    wrong.intensity = 0;
  } else if (x < 0.5 && !p.negated && p.subject.show_count) {
    wrong.subject.count = p.subject.count % 12 + 2;  // another number in 2..13
  } else {
    wrong.negated = !p.negated;
  }
  item.choice1 = label == 0 ? right : wrong;
  item.choice2 = label == 0 ? wrong : right;
  return item;
}

Clause MeaningSampler::retrieval_clause() {
  Clause c = event(0.35, false);
  c.negated = rng_.chance(0.2);
  if (!c.has_place() && rng_.chance(0.3)) c.place = static_cast<int>(rng_.below(lexicon_.places));
  // Every person with a family name, every place named (Mewsli-X's queries mention entities). Names are
  // the only words xb shares with the training language; with the corpus's rates (0.3) the English-trained
  // dual encoder put every xb query next to the same few name-heavy candidates (accuracy 0 against 0.001
  // by chance, whether or not the pool had near misses); with full names it ranks xb above chance.
  add_entities(c, 1.0, 1.0);
  return c;
}

Clause MeaningSampler::near_miss(const Clause& c) {
  Clause d = c;
  const double x = rng_.uniform();
  if (x < 0.4 && c.kind == Clause::Kind::kEvent) {
    std::swap(d.subject, d.object);
  } else if (x < 0.7) {
    d.negated = !d.negated;
  } else if (c.kind == Clause::Kind::kEvent) {
    do {
      d.verb = static_cast<int>(rng_.below(lexicon_.verbs));
    } while (d.verb == c.verb);
  } else {
    d.adjective = lexicon_.adjectives[static_cast<size_t>(c.adjective)].antonym;
  }
  return d;
}

std::string meaning_key(const Clause& c) {
  auto np = [](const NounPhrase& n) {
    return std::to_string(n.person) + (n.surname >= 0 ? "~" + std::to_string(n.surname) : "") + "," +
           std::to_string(n.noun) + "," + std::to_string(n.adjective) + "," + std::to_string(n.count) + "," +
           (n.show_count ? "1" : "0");
  };
  return std::to_string(static_cast<int>(c.kind)) + "|" + np(c.subject) + "|" + std::to_string(c.verb) + "|" +
         np(c.object) + "|" + std::to_string(c.adjective) + "|" + std::to_string(c.intensity) + "|" +
         (c.negated ? "1" : "0") + "|" + std::to_string(c.place) +
         (c.place_name >= 0 ? "@" + std::to_string(c.place_name) : "");
}

}  // namespace stilts::synth
