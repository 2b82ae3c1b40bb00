#include "text/tokenizer.h"

#include <algorithm>

#include "common/error.h"

namespace stilts::text {

Truncation parse_truncation(std::string_view name) {
  if (name == "longest_first") return Truncation::kLongestFirst;
  if (name == "only_first") return Truncation::kOnlyFirst;
  if (name == "only_second") return Truncation::kOnlySecond;
  if (name == "none" || name == "do_not_truncate") return Truncation::kNone;
  input_error("truncation '", name, "': expected longest_first, only_first, only_second or none");
}

Padding parse_padding(std::string_view name) {
  if (name == "longest") return Padding::kLongest;
  if (name == "max_length") return Padding::kMaxLength;
  if (name == "none" || name == "do_not_pad") return Padding::kNone;
  input_error("padding '", name, "': expected longest, max_length or none");
}

int64_t Template::num_special_tokens(bool pair) const {
  if (pair) return static_cast<int64_t>(pair_before.size() + pair_between.size() + pair_after.size());
  return static_cast<int64_t>(single_before.size() + single_after.size());
}

namespace {

// transformers' truncate_sequences (truncation_side right): removes `excess` tokens.
// A single sequence (or the one named by kOnlyFirst / kOnlySecond) too short to lose `excess`
// tokens is left as it is: transformers logs an error and returns it untruncated.
void truncate(std::vector<int64_t>& first, std::optional<std::vector<int64_t>>& second, int64_t excess,
              Truncation strategy) {
  if (excess <= 0 || strategy == Truncation::kNone) return;
  if (strategy == Truncation::kOnlyFirst || (strategy == Truncation::kLongestFirst && !second)) {
    if (static_cast<int64_t>(first.size()) > excess) {
      first.resize(first.size() - static_cast<size_t>(excess));
    }
    return;
  }
  if (strategy == Truncation::kLongestFirst) {
    for (int64_t i = 0; i < excess; ++i) {
      if (first.size() > second->size()) {
        first.pop_back();
      } else if (!second->empty()) {
        second->pop_back();
      }
    }
    return;
  }
  // kOnlySecond
  if (second && static_cast<int64_t>(second->size()) > excess) {
    second->resize(second->size() - static_cast<size_t>(excess));
  }
}

}  // namespace

Encoding Tokenizer::build(std::vector<int64_t> first, std::optional<std::vector<int64_t>> second,
                          const EncodeOptions& options) const {
  const bool pair = second.has_value();
  if (options.truncation != Truncation::kNone) {
    const int64_t limit = options.max_length.value_or(model_max_length_);
    const int64_t specials = options.add_special_tokens ? template_.num_special_tokens(pair) : 0;
    const int64_t total = static_cast<int64_t>(first.size() + (pair ? second->size() : 0)) + specials;
    truncate(first, second, total - limit, options.truncation);
  }

  Encoding enc;
  auto put = [&](int64_t id, int64_t type_id) {
    enc.input_ids.push_back(id);
    enc.token_type_ids.push_back(type_id);
  };
  auto put_pieces = [&](const std::vector<TemplatePiece>& pieces) {
    if (!options.add_special_tokens) return;
    for (const auto& p : pieces) put(p.id, p.type_id);
  };
  auto put_ids = [&](const std::vector<int64_t>& ids, int64_t type_id) {
    for (int64_t id : ids) put(id, type_id);
  };
  if (!pair) {
    put_pieces(template_.single_before);
    put_ids(first, template_.first_type_id);
    put_pieces(template_.single_after);
  } else {
    put_pieces(template_.pair_before);
    put_ids(first, template_.first_type_id);
    put_pieces(template_.pair_between);
    put_ids(*second, template_.second_type_id);
    put_pieces(template_.pair_after);
  }
  enc.attention_mask.assign(enc.input_ids.size(), 1);
  enc.tokens.reserve(enc.input_ids.size());
  for (int64_t id : enc.input_ids) enc.tokens.push_back(id_to_token(id));
  if (!template_.returns_token_type_ids) enc.token_type_ids.clear();
  return enc;
}

void Tokenizer::pad(Encoding& enc, int64_t length) const {
  const auto current = static_cast<int64_t>(enc.input_ids.size());
  if (current >= length) return;
  const auto n = static_cast<size_t>(length - current);
  const std::string pad_token = id_to_token(template_.pad_id);
  const bool types = template_.returns_token_type_ids;
  if (template_.padding_side == Side::kRight) {
    enc.input_ids.insert(enc.input_ids.end(), n, template_.pad_id);
    enc.attention_mask.insert(enc.attention_mask.end(), n, 0);
    if (types) enc.token_type_ids.insert(enc.token_type_ids.end(), n, template_.pad_type_id);
    enc.tokens.insert(enc.tokens.end(), n, pad_token);
  } else {
    enc.input_ids.insert(enc.input_ids.begin(), n, template_.pad_id);
    enc.attention_mask.insert(enc.attention_mask.begin(), n, 0);
    if (types) enc.token_type_ids.insert(enc.token_type_ids.begin(), n, template_.pad_type_id);
    enc.tokens.insert(enc.tokens.begin(), n, pad_token);
  }
}

Encoding Tokenizer::encode(std::string_view text, const std::optional<std::string>& text_pair,
                           const EncodeOptions& options, std::string_view context) const {
  std::vector<int64_t> first = tokenize(text, context);
  std::optional<std::vector<int64_t>> second;
  if (text_pair) second = tokenize(*text_pair, context);
  Encoding enc = build(std::move(first), std::move(second), options);
  // Without max_length and with an unbounded model_max_length transformers pads nothing.
  if (options.padding == Padding::kMaxLength && (options.max_length || model_max_length_ < kUnboundedLength)) {
    pad(enc, options.max_length.value_or(model_max_length_));
  }
  return enc;
}

std::vector<Encoding> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                              const std::vector<std::optional<std::string>>& text_pairs,
                                              const EncodeOptions& options) const {
  if (!text_pairs.empty() && text_pairs.size() != texts.size()) {
    input_error("encode_batch: ", texts.size(), " texts but ", text_pairs.size(), " text pairs");
  }
  std::vector<Encoding> out;
  out.reserve(texts.size());
  int64_t longest = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string context = "input " + std::to_string(i + 1);
    out.push_back(encode(texts[i], text_pairs.empty() ? std::nullopt : text_pairs[i], options, context));
    longest = std::max<int64_t>(longest, static_cast<int64_t>(out.back().input_ids.size()));
  }
  if (options.padding == Padding::kLongest) {
    for (auto& enc : out) pad(enc, longest);
  }
  return out;
}

}  // namespace stilts::text
