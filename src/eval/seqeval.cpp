#include "eval/seqeval.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "common/error.h"

namespace stilts::eval {

namespace {

// A tag split as seqeval splits it: prefix = first character (a whole UTF-8 code point, as Python
// indexes str), type = the rest after its first '-' (or all of the rest), "_" when that is empty.
struct SplitTag {
  std::string_view prefix;
  std::string_view type;
};

size_t first_code_point_length(std::string_view tag) {
  const auto lead = static_cast<unsigned char>(tag[0]);
  size_t n = 1;
  if (lead >= 0xF0) {
    n = 4;
  } else if (lead >= 0xE0) {
    n = 3;
  } else if (lead >= 0xC0) {
    n = 2;
  }
  return std::min(n, tag.size());
}

SplitTag split_tag(std::string_view tag) {
  const size_t n = first_code_point_length(tag);
  std::string_view rest = tag.substr(n);
  const size_t dash = rest.find('-');
  if (dash != std::string_view::npos) rest = rest.substr(dash + 1);
  return {tag.substr(0, n), rest.empty() ? std::string_view("_") : rest};
}

bool ends_chunk(std::string_view prev_tag, std::string_view tag, std::string_view prev_type,
                std::string_view type) {
  if (prev_tag == "E" || prev_tag == "S") return true;
  if ((prev_tag == "B" || prev_tag == "I") && (tag == "B" || tag == "S" || tag == "O")) return true;
  return prev_tag != "O" && prev_tag != "." && prev_type != type;
}

bool starts_chunk(std::string_view prev_tag, std::string_view tag, std::string_view prev_type,
                  std::string_view type) {
  if (tag == "B" || tag == "S") return true;
  if ((prev_tag == "E" || prev_tag == "S" || prev_tag == "O") && (tag == "E" || tag == "I")) return true;
  return tag != "O" && tag != "." && prev_type != type;
}

// The chunking loop over a flat sequence that already carries its sentinels.
std::vector<Entity> chunk(const std::vector<std::string_view>& sequence) {
  std::vector<Entity> entities;
  std::string_view prev_tag = "O";
  std::string_view prev_type = "";  // seqeval starts with an empty type, not O's "_"
  int64_t begin = 0;
  for (size_t i = 0; i < sequence.size(); ++i) {
    const SplitTag t = split_tag(sequence[i]);
    if (ends_chunk(prev_tag, t.prefix, prev_type, t.type)) {
      entities.push_back({std::string(prev_type), begin, static_cast<int64_t>(i) - 1});
    }
    if (starts_chunk(prev_tag, t.prefix, prev_type, t.type)) begin = static_cast<int64_t>(i);
    prev_tag = t.prefix;
    prev_type = t.type;
  }
  return entities;
}

void require_tag(const std::string& tag, size_t sentence, size_t token) {
  if (tag.empty()) input_error("tag sequences: sentence index ", sentence, ", tag index ", token, ": empty tag");
}

void require_same_shape(const TagSentences& predictions, const TagSentences& gold) {
  if (predictions.size() != gold.size()) {
    input_error("tag sequences: ", predictions.size(), " predicted sentences but ", gold.size(),
                " gold sentences");
  }
  for (size_t i = 0; i < gold.size(); ++i) {
    if (predictions[i].size() != gold[i].size()) {
      input_error("tag sequences: sentence index ", i, ": ", predictions[i].size(), " predicted tags but ",
                  gold[i].size(), " gold tags");
    }
  }
}

using EntitySets = std::map<std::string, std::set<std::pair<int64_t, int64_t>>>;

EntitySets by_type(const std::vector<Entity>& entities) {
  EntitySets sets;
  for (const Entity& e : entities) sets[e.type].insert({e.start, e.end});
  return sets;
}

}  // namespace

std::vector<Entity> get_entities(const TagSentence& tags) {
  std::vector<std::string_view> sequence;
  sequence.reserve(tags.size() + 1);
  for (size_t i = 0; i < tags.size(); ++i) {
    require_tag(tags[i], 0, i);
    sequence.emplace_back(tags[i]);
  }
  sequence.emplace_back("O");
  return chunk(sequence);
}

std::vector<Entity> get_entities(const TagSentences& sentences) {
  std::vector<std::string_view> sequence;
  for (size_t s = 0; s < sentences.size(); ++s) {
    for (size_t i = 0; i < sentences[s].size(); ++i) {
      require_tag(sentences[s][i], s, i);
      sequence.emplace_back(sentences[s][i]);
    }
    sequence.emplace_back("O");
  }
  sequence.emplace_back("O");
  return chunk(sequence);
}

EntityScores entity_scores(const TagSentences& predictions, const TagSentences& gold) {
  require_same_shape(predictions, gold);
  const EntitySets pred_sets = by_type(get_entities(predictions));
  const EntitySets gold_sets = by_type(get_entities(gold));
  EntityScores s;
  for (const auto& [type, spans] : pred_sets) {
    s.predicted += static_cast<int64_t>(spans.size());
    const auto g = gold_sets.find(type);
    if (g == gold_sets.end()) continue;
    for (const auto& span : spans) s.correct += static_cast<int64_t>(g->second.count(span));
  }
  for (const auto& [type, spans] : gold_sets) s.gold += static_cast<int64_t>(spans.size());
  return entity_scores_of(s.correct, s.predicted, s.gold);
}

EntityScores entity_scores_of(int64_t correct, int64_t predicted, int64_t gold) {
  EntityScores s;
  s.correct = correct;
  s.predicted = predicted;
  s.gold = gold;
  // Same operations in the same order as seqeval (numpy float64), so the bits agree.
  s.precision = s.predicted == 0 ? 0.0 : static_cast<double>(s.correct) / static_cast<double>(s.predicted);
  s.recall = s.gold == 0 ? 0.0 : static_cast<double>(s.correct) / static_cast<double>(s.gold);
  const double denominator = s.precision + s.recall;
  s.f1 = 2.0 * s.precision * s.recall / (denominator == 0.0 ? 1.0 : denominator);
  return s;
}

std::optional<std::vector<EntityScores>> sentence_entity_counts(const TagSentences& predictions,
                                                                const TagSentences& gold) {
  require_same_shape(predictions, gold);
  for (const TagSentences* side : {&predictions, &gold}) {
    for (const TagSentence& sentence : *side) {
      for (const std::string& tag : sentence) {
        if (tag != "O" && split_tag(tag).type == "_") return std::nullopt;
      }
    }
  }
  std::vector<EntityScores> out;
  out.reserve(gold.size());
  for (size_t i = 0; i < gold.size(); ++i) out.push_back(entity_scores({predictions[i]}, {gold[i]}));
  return out;
}

double seqeval_f1(const TagSentences& predictions, const TagSentences& gold) {
  return entity_scores(predictions, gold).f1;
}

double seqeval_precision(const TagSentences& predictions, const TagSentences& gold) {
  return entity_scores(predictions, gold).precision;
}

double seqeval_recall(const TagSentences& predictions, const TagSentences& gold) {
  return entity_scores(predictions, gold).recall;
}

double seqeval_accuracy(const TagSentences& predictions, const TagSentences& gold) {
  require_same_shape(predictions, gold);
  int64_t correct = 0;
  int64_t total = 0;
  for (size_t s = 0; s < gold.size(); ++s) {
    for (size_t i = 0; i < gold[s].size(); ++i) {
      correct += predictions[s][i] == gold[s][i] ? 1 : 0;
      ++total;
    }
  }
  if (total == 0) input_error("tag sequences: no tags to score (accuracy needs at least one)");
  return static_cast<double>(correct) / static_cast<double>(total);
}

}  // namespace stilts::eval
