// Entity (chunk) metrics exactly as seqeval 1.x computes them in its default mode (no `mode="strict"`,
// no `suffix`), which is what XTREME's evaluate.py and transformers' run_ner report.
//
// How seqeval reads a tag: its first character is the chunk prefix and the rest, after the first '-'
// if there is one, the type ("B-PER" -> B, PER; "I-ORG-X" -> I, ORG-X; "O" -> O, "_"). Tags that are
// not IOB are read the same way: on UD-POS "NOUN" is prefix N, type OUN, so "F1" there is F1 over runs
// of identical tags (CCONJ and SCONJ share the type CONJ; a tag starting with S is a single-token
// chunk, one starting with E ends its chunk, one starting with B or I behaves like the IOB prefix).
//
// Chunking rules (seqeval's end_of_chunk / start_of_chunk), between the previous tag p and the tag t:
// - a chunk ends after p when p is E or S; when p is B or I and t is B, S or O; or when p is neither O
//   nor "." and the type changes;
// - a chunk starts at t when t is B or S; when t is E or I after E, S or O; or when t is neither O nor
//   "." and the type changes. So "I-X" after "O" or after another type starts a new chunk.
// Sentences are concatenated with an "O" after each (and one more at the very end) and chunked as one
// sequence; offsets below index that concatenation. A chunk whose type equals O's ("_", e.g. the UD
// tag "X") is neither started nor ended by an adjacent "O": seqeval then reuses the last start offset
// or drops the chunk, and this implementation does the same.
//
// Conventions, as in eval/metrics.h: predictions first, then gold. Both must have the same number of
// sentences and each sentence the same number of tags, or InputError names the first sentence that
// differs (0-based index) and both lengths. An empty tag is an InputError too (seqeval would fail on
// it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stilts::eval {

using TagSentence = std::vector<std::string>;
using TagSentences = std::vector<TagSentence>;

// One chunk: its type and the inclusive offsets of its first and last token.
struct Entity {
  std::string type;
  int64_t start = 0;
  int64_t end = 0;
  bool operator==(const Entity& other) const {
    return type == other.type && start == other.start && end == other.end;
  }
};

// seqeval.metrics.sequence_labeling.get_entities on one flat tag sequence (followed by one "O").
std::vector<Entity> get_entities(const TagSentence& tags);
// get_entities on sentences: each followed by an "O", offsets into that concatenation.
std::vector<Entity> get_entities(const TagSentences& sentences);

// Micro-averaged entity scores, as fractions in [0, 1]. An entity counts as correct when the same
// (type, start, end) is among the gold entities; duplicates count once, as seqeval's sets do.
// precision = correct / predicted and recall = correct / gold, each 0 when its denominator is 0;
// f1 = 2 p r / (p + r), 0 when p + r = 0 (seqeval's zero_division default, without its warning).
struct EntityScores {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t correct = 0;    // true positives
  int64_t predicted = 0;  // entities in the predictions
  int64_t gold = 0;       // entities in the gold tags
};

EntityScores entity_scores(const TagSentences& predictions, const TagSentences& gold);

// The scores from their counts (the operations entity_scores does, in its order).
EntityScores entity_scores_of(int64_t correct, int64_t predicted, int64_t gold);

// Each sentence's entity counts (correct, predicted, gold), such that entity_scores over any multiset
// of the sentences (a bootstrap resample) is entity_scores_of their sums: a chunk never crosses the
// "O" after a sentence, and chunks of different sentences never coincide. That holds unless a tag's
// type is O's ("_", e.g. the UD tag "X"), whose chunks are not ended by the "O": then nullopt.
std::optional<std::vector<EntityScores>> sentence_entity_counts(const TagSentences& predictions,
                                                                const TagSentences& gold);

// seqeval's f1_score / precision_score / recall_score with their defaults (average="micro").
double seqeval_f1(const TagSentences& predictions, const TagSentences& gold);
double seqeval_precision(const TagSentences& predictions, const TagSentences& gold);
double seqeval_recall(const TagSentences& predictions, const TagSentences& gold);

// seqeval's accuracy_score: identical tags / tags, over all sentences. No tags at all is an InputError
// (seqeval divides by zero).
double seqeval_accuracy(const TagSentences& predictions, const TagSentences& gold);

}  // namespace stilts::eval
