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

void Tokenizer::set_special_tokens(const std::vector<std::string>& tokens,
                                   const std::optional<std::string>& mask_token) {
  special_ids_.clear();
  for (const std::string& token : tokens) {
    const auto id = token_to_id(token);
    if (id && std::find(special_ids_.begin(), special_ids_.end(), *id) == special_ids_.end()) {
      special_ids_.push_back(*id);
    }
  }
  mask_id_ = mask_token ? token_to_id(*mask_token) : std::nullopt;
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
  return assemble(std::move(first), std::move(second), options, /*first_word_ids=*/nullptr);
}

Encoding Tokenizer::assemble(std::vector<int64_t> first, std::optional<std::vector<int64_t>> second,
                             const EncodeOptions& options, const std::vector<int64_t>* first_word_ids) const {
  STILTS_CHECK(first_word_ids == nullptr || (!second && first_word_ids->size() == first.size()),
               "word ids are for a single sequence, one per id");
  const bool pair = second.has_value();
  if (options.truncation != Truncation::kNone) {
    const int64_t limit = options.max_length.value_or(model_max_length_);
    const int64_t specials = options.add_special_tokens ? template_.num_special_tokens(pair) : 0;
    const int64_t total = static_cast<int64_t>(first.size() + (pair ? second->size() : 0)) + specials;
    truncate(first, second, total - limit, options.truncation);
  }

  Encoding enc;
  const bool words = first_word_ids != nullptr;
  auto put = [&](int64_t id, int64_t type_id, int64_t word_id) {
    enc.input_ids.push_back(id);
    enc.token_type_ids.push_back(type_id);
    if (words) enc.word_ids.push_back(word_id);
  };
  auto put_pieces = [&](const std::vector<TemplatePiece>& pieces) {
    if (!options.add_special_tokens) return;
    for (const auto& p : pieces) put(p.id, p.type_id, -1);
  };
  // Truncation only shortens a sequence from its end, so id i still comes from word (*first_word_ids)[i].
  auto put_ids = [&](const std::vector<int64_t>& ids, int64_t type_id, const std::vector<int64_t>* word_ids) {
    for (size_t i = 0; i < ids.size(); ++i) put(ids[i], type_id, word_ids ? (*word_ids)[i] : -1);
  };
  if (!pair) {
    put_pieces(template_.single_before);
    put_ids(first, template_.first_type_id, first_word_ids);
    put_pieces(template_.single_after);
  } else {
    put_pieces(template_.pair_before);
    put_ids(first, template_.first_type_id, nullptr);
    put_pieces(template_.pair_between);
    put_ids(*second, template_.second_type_id, nullptr);
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
  const bool words = !enc.word_ids.empty();
  if (template_.padding_side == Side::kRight) {
    enc.input_ids.insert(enc.input_ids.end(), n, template_.pad_id);
    enc.attention_mask.insert(enc.attention_mask.end(), n, 0);
    if (types) enc.token_type_ids.insert(enc.token_type_ids.end(), n, template_.pad_type_id);
    enc.tokens.insert(enc.tokens.end(), n, pad_token);
    if (words) enc.word_ids.insert(enc.word_ids.end(), n, -1);
  } else {
    enc.input_ids.insert(enc.input_ids.begin(), n, template_.pad_id);
    enc.attention_mask.insert(enc.attention_mask.begin(), n, 0);
    if (types) enc.token_type_ids.insert(enc.token_type_ids.begin(), n, template_.pad_type_id);
    enc.tokens.insert(enc.tokens.begin(), n, pad_token);
    if (words) enc.word_ids.insert(enc.word_ids.begin(), n, -1);
  }
}

void Tokenizer::pad_row(Encoding& enc, const EncodeOptions& options) const {
  // Without max_length and with an unbounded model_max_length transformers pads nothing.
  if (options.padding == Padding::kMaxLength && (options.max_length || model_max_length_ < kUnboundedLength)) {
    pad(enc, options.max_length.value_or(model_max_length_));
  }
}

Encoding Tokenizer::encode(std::string_view text, const std::optional<std::string>& text_pair,
                           const EncodeOptions& options, std::string_view context) const {
  std::vector<int64_t> first = tokenize(text, context);
  std::optional<std::vector<int64_t>> second;
  if (text_pair) second = tokenize(*text_pair, context);
  Encoding enc = build(std::move(first), std::move(second), options);
  pad_row(enc, options);
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
  for (size_t i = 0; i < texts.size(); ++i) {
    const std::string context = "input " + std::to_string(i + 1);
    out.push_back(encode(texts[i], text_pairs.empty() ? std::nullopt : text_pairs[i], options, context));
  }
  pad_batch(out, options);
  return out;
}

void Tokenizer::pad_batch(std::vector<Encoding>& encodings, const EncodeOptions& options) const {
  if (options.padding != Padding::kLongest) return;
  size_t longest = 0;
  for (const auto& enc : encodings) longest = std::max(longest, enc.input_ids.size());
  for (auto& enc : encodings) pad(enc, static_cast<int64_t>(longest));
}

std::vector<std::vector<int64_t>> Tokenizer::tokenize_words(const std::vector<std::string>& words,
                                                         std::string_view context) const {
  if (words.empty()) input_error(context, ": no words (expected at least one)");
  std::vector<std::vector<int64_t>> pieces;
  pieces.reserve(words.size());
  for (size_t i = 0; i < words.size(); ++i) {
    pieces.push_back(tokenize_word(words[i], std::string(context) + ", word " + std::to_string(i + 1)));
    if (pieces.back().empty()) pieces.back().push_back(unk_id());
  }
  return pieces;
}

Encoding Tokenizer::build_words(const std::vector<std::vector<int64_t>>& word_pieces, const EncodeOptions& options,
                                std::string_view context) const {
  if (word_pieces.empty()) input_error(context, ": no words (expected at least one)");
  std::vector<int64_t> ids, word_ids;
  for (size_t w = 0; w < word_pieces.size(); ++w) {
    if (word_pieces[w].empty()) {
      input_error(context, ", word ", w + 1, ": no sub-token (expected at least one; tokenize_words gives such a "
                  "word the unknown token)");
    }
    ids.insert(ids.end(), word_pieces[w].begin(), word_pieces[w].end());
    word_ids.insert(word_ids.end(), word_pieces[w].size(), static_cast<int64_t>(w));
  }
  return assemble(std::move(ids), std::nullopt, options, &word_ids);
}

Encoding Tokenizer::encode_words(const std::vector<std::string>& words, const EncodeOptions& options,
                                 std::string_view context) const {
  Encoding enc = build_words(tokenize_words(words, context), options, context);
  pad_row(enc, options);
  return enc;
}

std::vector<Encoding> Tokenizer::encode_words_batch(const std::vector<std::vector<std::string>>& sentences,
                                                    const EncodeOptions& options, std::string_view context) const {
  std::vector<Encoding> out;
  out.reserve(sentences.size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    out.push_back(encode_words(sentences[i], options, std::string(context) + " " + std::to_string(i + 1)));
  }
  pad_batch(out, options);
  return out;
}

}  // namespace stilts::text
