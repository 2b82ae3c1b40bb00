// Features: tokenization of a Dataset, the binary on-disk cache, and length-bucketed batch order.
//
// Cache file (native byte order; a byte-order mark makes a foreign file a miss, not garbage):
//   "STLTFEAT" u32 version u32 0x01020304  key[64]  (hex SHA-256 of the inputs)
//   u64 features  u64 rows  u64 tokens  i64 rows_per_feature
//   u8 has_types  u8 left_padding  u8 has_labels  u8 has_scores  u8 has_words  u8 has_spans
//   u8 has_token_labels  u8 0
//   i64 pad_id  i64 pad_type_id  i64 truncated  i64 pad_to  u64 labels, each a string  u64 notes, each a string
//   u64 offsets[rows + 1]  i32 ids[tokens]  i8 types[tokens] (has_types)
//   i32 word_ids[tokens] (has_words)  i32 token_labels[tokens] (has_token_labels)  i8 best_context[tokens] (has_spans)
//   i64 example[features]  i64 labels[features] (has_labels)  f32 scores[features] (has_scores)
//   i64 end_labels[features] (has_spans)
//   strings languages[features]
//   u64 checksum of everything before it
// A string is u64 length + bytes.
#include "tasks/features.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <optional>
#include <random>
#include <system_error>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "tasks/kind.h"
#include "text/auto.h"

namespace stilts::tasks {

namespace fs = std::filesystem;

namespace {

// Bump when featurize() output or the file layout changes: old entries then become misses.
constexpr uint32_t kCacheVersion = 6;
constexpr char kMagic[8] = {'S', 'T', 'L', 'T', 'F', 'E', 'A', 'T'};
constexpr uint32_t kByteOrderMark = 0x01020304;
// Examples per length-sorted chunk, in batches (see bucketed_batches).
constexpr int64_t kBucketBatches = 50;

// Fields fed to the key hash, each length-prefixed so that no two field sequences share a byte stream.
class KeyHasher {
 public:
  void u64(uint64_t value) { sha_.update(&value, sizeof(value)); }
  void str(std::string_view s) {
    u64(s.size());
    sha_.update(s.data(), s.size());
  }
  std::string finish() { return sha_.hex_digest(); }

 private:
  Sha256 sha_;
};

std::string cache_key(const Dataset& dataset, const TaskKind& kind, const text::Tokenizer& tokenizer,
                      const fs::path& tokenizer_dir, int64_t max_length) {
  KeyHasher key;
  key.str("stilts-features");
  key.u64(kCacheVersion);
  key.str(tokenizer.kind());
  for (const std::string& name : text::tokenizer_file_names()) {
    const fs::path file = tokenizer_dir / name;
    std::error_code ec;
    key.str(name);
    if (fs::is_regular_file(file, ec)) {
      key.u64(1);
      key.str(read_file(file));
    } else {
      key.u64(0);
    }
  }
  key.u64(static_cast<uint64_t>(max_length));
  key.str(kind.name());
  key.str(kind.settings_key());
  key.str(dataset.format);
  key.u64(dataset.pairs);
  key.u64(dataset.regression);
  key.u64(dataset.tagging);
  key.u64(dataset.multiple_choice);
  key.u64(dataset.extractive_qa);
  key.u64(dataset.retrieval);
  key.str(dataset.answer_normalizer);
  key.u64(dataset.labelled);
  key.u64(dataset.label_names.size());
  for (const auto& name : dataset.label_names) key.str(name);
  // The examples rather than the file bytes: see the header.
  key.u64(dataset.examples.size());
  for (const Example& ex : dataset.examples) {
    key.str(ex.text_a);
    key.u64(ex.text_b.has_value());
    key.str(ex.text_b ? *ex.text_b : std::string_view());
    key.u64(static_cast<uint64_t>(ex.label));
    uint64_t score_bits = 0;
    std::memcpy(&score_bits, &ex.score, sizeof(score_bits));
    key.u64(score_bits);
    key.str(ex.language);
    key.u64(ex.words.size());
    for (const auto& word : ex.words) key.str(word);
    key.u64(ex.word_labels.size());
    for (int64_t tag : ex.word_labels) key.u64(static_cast<uint64_t>(tag));
    key.u64(ex.choices.size());
    for (const auto& choice : ex.choices) key.str(choice);
    key.str(ex.context);
    key.u64(ex.answers.size());
    for (const auto& answer : ex.answers) {
      key.str(answer.text);
      key.u64(static_cast<uint64_t>(answer.start));
    }
    key.u64(ex.relevant.size());
    for (int64_t r : ex.relevant) key.u64(static_cast<uint64_t>(r));
  }
  key.u64(dataset.candidates.size());
  for (const Candidate& c : dataset.candidates) {
    key.str(c.id);
    key.str(c.text);
    key.str(c.language);
  }
  return key.finish();
}

// Detects a damaged cache file (not an adversary): one multiply-rotate round per 8-byte word.
uint64_t checksum(const char* data, size_t size) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ size;
  size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    uint64_t w = 0;
    std::memcpy(&w, data + i, 8);
    h ^= w * 0xBF58476D1CE4E5B9ULL;
    h = ((h << 29) | (h >> 35)) * 0x94D049BB133111EBULL;
  }
  for (; i < size; ++i) {
    h ^= static_cast<uint8_t>(data[i]);
    h = ((h << 29) | (h >> 35)) * 0x94D049BB133111EBULL;
  }
  return h ^ (h >> 31);
}

// ---- cache file ----

class Writer {
 public:
  template <typename T>
  void put(const T& value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  template <typename T>
  void put_array(const T* data, size_t count) {
    out_.append(reinterpret_cast<const char*>(data), count * sizeof(T));
  }
  void put_string(const std::string& s) {
    put<uint64_t>(s.size());
    out_ += s;
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

// A per-token int32 field (word_ids, token_labels) laid out like the ids.
void put_token_field(Writer& w, const std::vector<std::vector<int32_t>>& field) {
  for (const auto& row : field) w.put_array(row.data(), row.size());
}

std::string serialize(const Features& f, const std::string& key) {
  Writer w;
  w.put_array(kMagic, sizeof(kMagic));
  w.put(kCacheVersion);
  w.put(kByteOrderMark);
  w.put_array(key.data(), key.size());
  const auto tokens = static_cast<uint64_t>(f.num_tokens());
  const bool has_types = !f.token_type_ids.empty();
  const bool has_labels = !f.labels.empty();
  const bool has_scores = !f.scores.empty();
  const bool has_words = !f.word_ids.empty();
  const bool has_spans = !f.best_context.empty();
  const bool has_token_labels = !f.token_labels.empty();  // tagging; QA has word ids without them
  w.put<uint64_t>(f.size());
  w.put<uint64_t>(f.input_ids.size());
  w.put(tokens);
  w.put(f.rows_per_feature);
  for (const bool flag :
       {has_types, f.left_padding, has_labels, has_scores, has_words, has_spans, has_token_labels, false}) {
    w.put<uint8_t>(flag);
  }
  w.put(f.pad_id);
  w.put(f.pad_type_id);
  w.put(f.truncated);
  w.put(f.pad_to);
  w.put<uint64_t>(f.label_names.size());
  for (const auto& name : f.label_names) w.put_string(name);
  w.put<uint64_t>(f.notes.size());
  for (const auto& note : f.notes) w.put_string(note);
  w.bytes().reserve(w.bytes().size() + (f.input_ids.size() + 1) * 8 + tokens * 13 + f.size() * 32);
  uint64_t offset = 0;
  w.put(offset);
  for (const auto& ids : f.input_ids) w.put(offset += ids.size());
  for (const auto& ids : f.input_ids) w.put_array(ids.data(), ids.size());
  if (has_types) {
    for (const auto& types : f.token_type_ids) w.put_array(types.data(), types.size());
  }
  if (has_words) put_token_field(w, f.word_ids);
  if (has_token_labels) put_token_field(w, f.token_labels);
  if (has_spans) {
    for (const auto& row : f.best_context) w.put_array(row.data(), row.size());
  }
  w.put_array(f.example.data(), f.example.size());
  if (has_labels) w.put_array(f.labels.data(), f.labels.size());
  if (has_scores) w.put_array(f.scores.data(), f.scores.size());
  if (has_spans) w.put_array(f.end_labels.data(), f.end_labels.size());
  for (const auto& language : f.languages) w.put_string(language);
  w.put(checksum(w.bytes().data(), w.bytes().size()));
  return std::move(w.bytes());
}

// Bounds-checked reads; any failure makes the entry a miss.
class Reader {
 public:
  Reader(const char* data, size_t size) : data_(data), size_(size) {}
  template <typename T>
  bool get(T& value) {
    return get_array(&value, 1);
  }
  template <typename T>
  bool get_array(T* out, uint64_t count) {
    if (count > (size_ - pos_) / sizeof(T)) return false;
    std::memcpy(out, data_ + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
    return true;
  }
  // `count` values of T into `out`, checked against what is left before anything is allocated.
  template <typename T>
  bool get_vector(std::vector<T>& out, uint64_t count) {
    if (count > remaining() / sizeof(T)) return false;
    out.resize(count);
    return get_array(out.data(), count);
  }
  bool get_string(std::string& s) {
    uint64_t length = 0;
    if (!get(length) || length > size_ - pos_) return false;
    s.assign(data_ + pos_, length);
    pos_ += length;
    return true;
  }
  size_t remaining() const { return size_ - pos_; }

 private:
  const char* data_;
  size_t size_;
  size_t pos_ = 0;
};

// Rows of a per-token field with the row lengths `offsets` gives.
template <typename T>
bool get_rows(Reader& r, const std::vector<uint64_t>& offsets, std::vector<std::vector<T>>& rows) {
  rows.resize(offsets.size() - 1);
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    if (!r.get_vector(rows[i], offsets[i + 1] - offsets[i])) return false;
  }
  return true;
}

std::optional<Features> deserialize(const std::string& bytes, const std::string& key, size_t num_examples) {
  if (bytes.size() < sizeof(kMagic) + 16) return std::nullopt;
  const size_t body = bytes.size() - sizeof(uint64_t);
  uint64_t stored_checksum = 0;
  std::memcpy(&stored_checksum, bytes.data() + body, sizeof(stored_checksum));
  if (stored_checksum != checksum(bytes.data(), body)) return std::nullopt;

  Reader r(bytes.data(), body);
  char magic[sizeof(kMagic)];
  uint32_t version = 0, mark = 0;
  std::string stored_key(key.size(), '\0');
  if (!r.get_array(magic, sizeof(magic)) || std::memcmp(magic, kMagic, sizeof(kMagic)) != 0) return std::nullopt;
  if (!r.get(version) || version != kCacheVersion || !r.get(mark) || mark != kByteOrderMark) return std::nullopt;
  if (!r.get_array(stored_key.data(), stored_key.size()) || stored_key != key) return std::nullopt;

  Features f;
  uint64_t features = 0, rows = 0, tokens = 0, labels = 0;
  uint8_t flags[8] = {};
  if (!r.get(features) || !r.get(rows) || !r.get(tokens) || !r.get(f.rows_per_feature)) return std::nullopt;
  if (f.rows_per_feature < 1 || rows != features * static_cast<uint64_t>(f.rows_per_feature)) return std::nullopt;
  if (!r.get_array(flags, 8)) return std::nullopt;
  const bool has_types = flags[0] != 0, has_labels = flags[2] != 0, has_scores = flags[3] != 0;
  const bool has_words = flags[4] != 0, has_spans = flags[5] != 0, has_token_labels = flags[6] != 0;
  f.left_padding = flags[1] != 0;
  if (!r.get(f.pad_id) || !r.get(f.pad_type_id) || !r.get(f.truncated) || !r.get(f.pad_to) || !r.get(labels)) {
    return std::nullopt;
  }
  if (labels > r.remaining()) return std::nullopt;
  f.label_names.resize(labels);
  for (auto& name : f.label_names) {
    if (!r.get_string(name)) return std::nullopt;
  }
  uint64_t notes = 0;
  if (!r.get(notes) || notes > r.remaining()) return std::nullopt;
  f.notes.resize(notes);
  for (auto& note : f.notes) {
    if (!r.get_string(note)) return std::nullopt;
  }
  std::vector<uint64_t> offsets;
  if (rows >= r.remaining() / sizeof(uint64_t) || !r.get_vector(offsets, rows + 1)) return std::nullopt;
  if (offsets.front() != 0 || offsets.back() != tokens) return std::nullopt;
  for (size_t i = 0; i < rows; ++i) {
    if (offsets[i + 1] < offsets[i]) return std::nullopt;
  }
  if (!get_rows(r, offsets, f.input_ids)) return std::nullopt;
  if (has_types && !get_rows(r, offsets, f.token_type_ids)) return std::nullopt;
  if (has_words && !get_rows(r, offsets, f.word_ids)) return std::nullopt;
  if (has_token_labels && !get_rows(r, offsets, f.token_labels)) return std::nullopt;
  if (has_spans && !get_rows(r, offsets, f.best_context)) return std::nullopt;
  if (!r.get_vector(f.example, features)) return std::nullopt;
  for (int64_t e : f.example) {
    if (e < 0 || static_cast<uint64_t>(e) >= num_examples) return std::nullopt;
  }
  if (has_labels && !r.get_vector(f.labels, features)) return std::nullopt;
  if (has_scores && !r.get_vector(f.scores, features)) return std::nullopt;
  if (has_spans && !r.get_vector(f.end_labels, features)) return std::nullopt;
  if (features > r.remaining() / sizeof(uint64_t)) return std::nullopt;
  f.languages.resize(features);
  for (auto& language : f.languages) {
    if (!r.get_string(language)) return std::nullopt;
  }
  if (r.remaining() != 0) return std::nullopt;
  return f;
}

std::mt19937_64 epoch_rng(uint64_t seed, int64_t epoch) {
  // splitmix64 finalizer: nearby (seed, epoch) pairs give unrelated generator seeds.
  auto mix = [](uint64_t z) {
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  };
  return std::mt19937_64(mix(seed ^ mix(static_cast<uint64_t>(epoch))));
}

// Uniform in [0, bound) without modulo bias: draws below 2^64 mod bound are rejected.
uint64_t draw_below(std::mt19937_64& rng, uint64_t bound) {
  const uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

// Fisher-Yates with draw_below: the same permutation on every standard library.
template <typename T>
void shuffle_in_place(std::vector<T>& items, std::mt19937_64& rng) {
  for (size_t i = items.size(); i > 1; --i) {
    const size_t j = static_cast<size_t>(draw_below(rng, i));
    std::swap(items[i - 1], items[j]);
  }
}

}  // namespace

int64_t Features::num_tokens() const {
  int64_t total = 0;
  for (const auto& ids : input_ids) total += static_cast<int64_t>(ids.size());
  return total;
}

size_t Features::length(size_t feature) const {
  size_t longest = 0;
  const auto per = static_cast<size_t>(rows_per_feature);
  for (size_t row = feature * per; row < (feature + 1) * per; ++row) longest = std::max(longest, input_ids[row].size());
  return longest;
}

Features select_features(const Features& features, const std::vector<size_t>& which) {
  Features out;
  out.rows_per_feature = features.rows_per_feature;
  out.label_names = features.label_names;
  out.pad_id = features.pad_id;
  out.pad_type_id = features.pad_type_id;
  out.left_padding = features.left_padding;
  out.pad_to = features.pad_to;
  const auto per = static_cast<size_t>(features.rows_per_feature);
  for (size_t f : which) {
    STILTS_CHECK(f < features.size(), "feature ", f, " of ", features.size());
    for (size_t row = f * per; row < (f + 1) * per; ++row) {
      out.input_ids.push_back(features.input_ids[row]);
      if (!features.token_type_ids.empty()) out.token_type_ids.push_back(features.token_type_ids[row]);
      if (!features.word_ids.empty()) out.word_ids.push_back(features.word_ids[row]);
      if (!features.token_labels.empty()) out.token_labels.push_back(features.token_labels[row]);
      if (!features.best_context.empty()) out.best_context.push_back(features.best_context[row]);
    }
    out.example.push_back(features.example[f]);
    if (!features.labels.empty()) out.labels.push_back(features.labels[f]);
    if (!features.scores.empty()) out.scores.push_back(features.scores[f]);
    if (!features.end_labels.empty()) out.end_labels.push_back(features.end_labels[f]);
    out.languages.push_back(features.languages[f]);
  }
  return out;
}

void append_features(Features& into, const Features& more, int64_t example_offset) {
  if (into.size() == 0 && into.input_ids.empty()) {
    into = more;
    for (int64_t& e : into.example) e += example_offset;
    return;
  }
  STILTS_CHECK(into.rows_per_feature == more.rows_per_feature, "appending features of ", more.rows_per_feature,
               " rows each to features of ", into.rows_per_feature);
  auto append = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
  append(into.input_ids, more.input_ids);
  append(into.token_type_ids, more.token_type_ids);
  append(into.word_ids, more.word_ids);
  append(into.token_labels, more.token_labels);
  append(into.best_context, more.best_context);
  for (int64_t e : more.example) into.example.push_back(e + example_offset);
  append(into.labels, more.labels);
  append(into.scores, more.scores);
  append(into.end_labels, more.end_labels);
  append(into.languages, more.languages);
  into.truncated += more.truncated;
  append(into.notes, more.notes);
}

fs::path features_cache_path(const Dataset& dataset, const TaskKind& kind, const text::Tokenizer& tokenizer,
                             const fs::path& tokenizer_dir, int64_t max_length, const fs::path& cache_dir) {
  return cache_dir / (cache_key(dataset, kind, tokenizer, tokenizer_dir, max_length) + ".features");
}

Features load_or_featurize(const Dataset& dataset, const TaskKind& kind, const text::Tokenizer& tokenizer,
                           const fs::path& tokenizer_dir, int64_t max_length, const fs::path& cache_dir,
                           bool* cache_hit) {
  // Errors of the inputs come first, so a cache entry can never hide them.
  kind.check(dataset, dataset.labelled);
  const std::string key = cache_key(dataset, kind, tokenizer, tokenizer_dir, max_length);
  const fs::path path = cache_dir / (key + ".features");
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    std::optional<Features> cached;
    try {
      cached = deserialize(read_file(path), key, dataset.examples.size() + dataset.candidates.size());
    } catch (const std::exception&) {
      // Unreadable (removed meanwhile, permissions): recompute.
    }
    if (cached) {
      if (cache_hit) *cache_hit = true;
      return std::move(*cached);
    }
  }
  if (cache_hit) *cache_hit = false;
  Features f = kind.featurize(dataset, tokenizer, max_length);
  fs::create_directories(cache_dir, ec);
  if (ec) input_error(cache_dir.string(), ": cannot create the features cache folder (", ec.message(), ")");
  write_file_atomic(path, serialize(f, key));
  return f;
}

std::vector<std::vector<size_t>> bucketed_batches(const Features& features, int64_t batch_size, uint64_t seed,
                                                  int64_t epoch, bool shuffle) {
  if (batch_size <= 0) input_error("batch size ", batch_size, " must be positive");
  const size_t n = features.size();
  const auto batch = static_cast<size_t>(batch_size);
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  // Longer first; stable_sort makes ties keep their order, so the result is the same on every library.
  auto longer = [&](size_t a, size_t b) { return features.length(a) > features.length(b); };

  std::vector<std::vector<size_t>> batches;
  batches.reserve((n + batch - 1) / batch);
  // order[begin, end) into batches; the last one keeps what is left.
  auto cut = [&](size_t begin, size_t end) {
    for (size_t start = begin; start < end; start += batch) {
      const size_t stop = std::min(end, start + batch);
      batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                           order.begin() + static_cast<std::ptrdiff_t>(stop));
    }
  };
  if (!shuffle) {
    // Longest batch first: one that does not fit in memory fails at once, not at the end.
    std::stable_sort(order.begin(), order.end(), longer);
    cut(0, n);
    return batches;
  }
  std::mt19937_64 rng = epoch_rng(seed, epoch);
  shuffle_in_place(order, rng);
  const size_t chunk = batch * static_cast<size_t>(kBucketBatches);
  for (size_t start = 0; start < n; start += chunk) {
    const size_t stop = std::min(n, start + chunk);
    std::stable_sort(order.begin() + static_cast<std::ptrdiff_t>(start),
                     order.begin() + static_cast<std::ptrdiff_t>(stop), longer);
    cut(start, stop);
  }
  shuffle_in_place(batches, rng);
  return batches;
}


}  // namespace stilts::tasks
