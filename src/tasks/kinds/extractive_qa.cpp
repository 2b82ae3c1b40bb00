// Extractive question answering (SQuAD, XQuAD, MLQA, TyDiQA-GoldP) as transformers' SQuAD v1 pipeline
// does it, the one XTREME's run_squad.py runs: the processor that cuts a context into windows
// (squad_convert_example_to_features) and the decoding that picks an answer span
// (compute_predictions_logits with version_2_with_negative=False); *ForQuestionAnswering.
//
// Features, per question:
//   - the context split into words on SQuAD's whitespace (space, tab, CR, LF, U+202F only), each word
//     tokenized on its own (tokenize_word: byte-level BPE gets its prefix space, as the processor asks);
//   - the question tokenized and cut to max_query_length tokens;
//   - windows  <template>(question, context tokens [k·doc_stride, k·doc_stride + room))  for k = 0, 1, ..
//     until a window reaches the end of the context, room = max_length − question − the pair's special
//     tokens (the context comes first for a left-padding tokenizer, XLNet);
//   - per window token: its context word (word_ids, -1 outside the context) and whether this window is
//     its best context (best_context: of the windows holding it, the one with the largest
//     min(left, right) + 0.01·window length, the first on ties);
//   - training labels: the first answer's first and last token, moved to the shortest token span whose
//     tokens are the answer's (_improve_answer_span); the class token's position for both in a window
//     that does not hold the whole answer. A question whose first answer is not found in its words
//     (the processor's "Could not find answer") keeps no labels (-1) and is ignored by the loss.
// Rows are padded to max_length (pad_to) as the processor pads them, so the candidates below are the
// reference's: positions past the tokens take part in the top-n and are then rejected.
//
// Decoding, per question: over its windows, the n_best highest start logits and the n_best highest end
// logits (ties: the lower position first); every pair whose tokens are context tokens of the window, whose
// start token has its best context there, with end ≥ start and at most max_answer_length tokens, scores
// start + end logit; the best-scoring pair (the first on ties, in window, start, end order) is the answer.
// Its text: the window's tokens as text (tokens_to_string, whitespace collapsed) projected back onto the
// original words it spans (get_final_text: both sides through BERT's BasicTokenizer, lower-cased when the
// tokenizer lower-cases, aligned character by character ignoring spaces; the words themselves when the
// alignment fails). No valid pair: "empty"; a span starting at row position 0: "" (the reference's
// null-answer test).
//
// One deliberate difference: the reference computes the position of the first context token as
// question + tokens the single-sentence template adds (+1 for the tokenizers it knows add two
// separators: RoBERTa but not XLM-R), which is one short for XLM-R; stilts takes it from the template.
//
// Values: a prediction is the answer text; gold is {"answers": [texts], "normalizer": "squad" |
// "mlqa-<language>"}, so the scorer compares answers as the dataset's official script does.
#include <torch/torch.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <unordered_map>

#include "common/error.h"
#include "eval/squad.h"
#include "tasks/batch.h"
#include "tasks/kinds/common.h"
#include "tasks/kinds/extractive_qa.h"
#include "tasks/kinds/kinds.h"
#include "text/basic.h"
#include "text/unicode.h"

namespace stilts::tasks::kinds {

namespace qa {

bool is_squad_whitespace(char32_t c) { return c == U' ' || c == U'\t' || c == U'\r' || c == U'\n' || c == 0x202F; }

ContextWords split_context(const std::string& context, std::string_view where) {
  const std::u32string chars = text::decode_utf8(context, where);
  std::vector<std::u32string> words;
  ContextWords out;
  out.char_to_word.reserve(chars.size());
  bool previous_space = true;
  for (char32_t c : chars) {
    if (is_squad_whitespace(c)) {
      previous_space = true;
    } else {
      if (previous_space) words.emplace_back();
      words.back() += c;
      previous_space = false;
    }
    out.char_to_word.push_back(static_cast<int64_t>(words.size()) - 1);
  }
  out.words.reserve(words.size());
  for (const auto& w : words) out.words.push_back(text::encode_utf8(w));
  return out;
}

std::vector<Span> windows(int64_t tokens, int64_t room, int64_t doc_stride) {
  std::vector<Span> out;
  for (int64_t start = 0; start < tokens; start += doc_stride) {
    out.push_back({start, std::min(tokens - start, room)});
    if (start + room >= tokens) break;
  }
  return out;
}

bool is_best_context(const std::vector<Span>& spans, size_t window, int64_t position, int64_t doc_stride) {
  // Only windows starting within a window's length before `position` can hold it; scanning those in
  // order gives what scanning all gives.
  const int64_t room = spans.front().length;
  const auto first = static_cast<size_t>(position >= room ? (position - room) / doc_stride : 0);
  const size_t last = std::min(spans.size() - 1, static_cast<size_t>(position / doc_stride));
  double best_score = 0;
  size_t best = spans.size();
  for (size_t k = first; k <= last; ++k) {
    const int64_t end = spans[k].start + spans[k].length - 1;
    if (position < spans[k].start || position > end) continue;
    const double score = static_cast<double>(std::min(position - spans[k].start, end - position)) +
                         0.01 * static_cast<double>(spans[k].length);
    if (best == spans.size() || score > best_score) {
      best_score = score;
      best = k;
    }
  }
  return best == window;
}

std::string final_text(const std::string& predicted, const std::string& original, bool lower_case) {
  const std::u32string orig = text::decode_utf8(original, "answer context");
  const std::u32string pred = text::decode_utf8(predicted, "predicted answer");
  text::BasicTokenizerOptions options;
  options.do_lower_case = lower_case;
  std::u32string tok;
  for (const auto& word : text::basic_tokenize(orig, options)) {
    if (!tok.empty()) tok += U' ';
    tok += word;
  }
  const size_t found = tok.find(pred);
  if (found == std::u32string::npos) return original;
  const auto start = static_cast<int64_t>(found);
  const int64_t end = start + static_cast<int64_t>(pred.size()) - 1;

  // Characters other than ' ', and where each sits in its string.
  auto strip_spaces = [](const std::u32string& s, std::vector<int64_t>& ns_to_s) {
    std::u32string ns;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == U' ') continue;
      ns_to_s.push_back(static_cast<int64_t>(i));
      ns += s[i];
    }
    return ns;
  };
  std::vector<int64_t> orig_ns_to_s, tok_ns_to_s;
  const std::u32string orig_ns = strip_spaces(orig, orig_ns_to_s);
  const std::u32string tok_ns = strip_spaces(tok, tok_ns_to_s);
  if (orig_ns.size() != tok_ns.size()) return original;
  // Position in `tok` -> its index among the non-space characters (-1: a space or outside).
  auto to_ns = [&](int64_t position) -> int64_t {
    const auto it = std::lower_bound(tok_ns_to_s.begin(), tok_ns_to_s.end(), position);
    return it != tok_ns_to_s.end() && *it == position ? it - tok_ns_to_s.begin() : -1;
  };
  const int64_t ns_start = to_ns(start), ns_end = to_ns(end);
  if (ns_start < 0 || ns_end < 0) return original;
  const int64_t orig_start = orig_ns_to_s[static_cast<size_t>(ns_start)];
  const int64_t orig_end = orig_ns_to_s[static_cast<size_t>(ns_end)];
  if (orig_end < orig_start) return "";
  return text::encode_utf8(std::u32string_view(orig).substr(static_cast<size_t>(orig_start),
                                                          static_cast<size_t>(orig_end - orig_start + 1)));
}

std::vector<int64_t> top_positions(const float* logits, int64_t length, int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(length));
  std::iota(order.begin(), order.end(), 0);
  const auto keep = static_cast<size_t>(std::min(n, length));
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return logits[a] > logits[b]; });
  order.resize(keep);
  return order;
}

}  // namespace qa

namespace {

using qa::Span;

constexpr int64_t kNoLabel = -1;

// " ".join(text.split()): whitespace runs as one space, none at the ends.
std::string collapse_whitespace(const std::string& text, const std::string& context) {
  const std::u32string chars = text::decode_utf8(text, context);
  std::string out;
  for (auto piece : text::python_split(chars)) out += (out.empty() ? "" : " ") + text::encode_utf8(piece);
  return out;
}

class ExtractiveQaKind final : public TaskKind {
 public:
  explicit ExtractiveQaKind(const KindSettings& settings) : settings_(settings) {}

  std::string name() const override { return "extractive-qa"; }
  models::HeadKind head() const override { return models::HeadKind::kQuestionAnswering; }
  int64_t head_labels(const Dataset&) const override { return 2; }
  std::string settings_key() const override {
    return "doc_stride=" + std::to_string(settings_.doc_stride) +
           ",max_query_length=" + std::to_string(settings_.max_query_length);
  }

  void check(const Dataset& dataset, bool need_gold) const override {
    const std::string source = source_of(dataset);
    if (!dataset.extractive_qa) {
      input_error(source, ": task kind 'extractive-qa' needs questions on a context (formats squad, mlqa), but the '",
                  dataset.format, "' data holds ",
                  dataset.tagging            ? "tagged words"
                  : dataset.multiple_choice ? "choices"
                  : dataset.pairs           ? "sentence pairs"
                                            : "sentences");
    }
    if (need_gold && !dataset.labelled) {
      input_error(source, ": the file has no answers, which training and evaluation need (it can only be predicted)");
    }
  }

  Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const override {
    check(dataset, false);
    const text::Template& tpl = tokenizer.special_template();
    const bool context_first = tpl.padding_side == text::Side::kLeft;  // XLNet: context, then question
    const bool has_types = tpl.returns_token_type_ids;
    const int64_t pair_specials = tpl.num_special_tokens(true);
    text::EncodeOptions options;  // no truncation: the windows are cut to fit
    Features f;
    start_features(f, dataset, tokenizer);
    f.pad_to = max_length;
    int64_t unfound = 0;
    for (size_t e = 0; e < dataset.examples.size(); ++e) {
      const Example& ex = dataset.examples[e];
      const std::string context = example_context(dataset, ex);
      const qa::ContextWords words = qa::split_context(ex.context, context);
      std::vector<int64_t> question = tokenizer.tokenize(ex.text_a, context);
      if (static_cast<int64_t>(question.size()) > settings_.max_query_length) {
        question.resize(static_cast<size_t>(settings_.max_query_length));
      }
      // The context as tokens, each with its word.
      std::vector<int64_t> doc, doc_word, word_first_token;
      for (size_t w = 0; w < words.words.size(); ++w) {
        word_first_token.push_back(static_cast<int64_t>(doc.size()));
        for (int64_t id : tokenizer.tokenize_word(words.words[w], context)) {
          doc.push_back(id);
          doc_word.push_back(static_cast<int64_t>(w));
        }
      }
      const auto tokens = static_cast<int64_t>(doc.size());
      const int64_t room = max_length - static_cast<int64_t>(question.size()) - pair_specials;
      if (room < 1) {
        input_error(context, ": the question's ", question.size(), " tokens and ", pair_specials,
                    " special tokens leave no room for the context in max_length ", max_length,
                    " (lower max_query_length or raise max_length)");
      }
      if (tokens > room && settings_.doc_stride > room) {  // several windows, with gaps between them
        input_error(context, ": doc_stride ", settings_.doc_stride, " is longer than the ", room,
                    " context tokens a window holds (max_length ", max_length, " minus the question and ",
                    "special tokens), so tokens between windows would never be seen: lower doc_stride");
      }
      const auto [answer_start, answer_end] = answer_tokens(ex, words, doc, word_first_token, tokenizer, context);
      if (dataset.labelled && !ex.answers.empty() && answer_start == kNoLabel) ++unfound;

      const std::vector<Span> spans = qa::windows(tokens, room, settings_.doc_stride);
      for (size_t k = 0; k < spans.size(); ++k) {
        const Span& span = spans[k];
        std::vector<int64_t> piece(doc.begin() + span.start, doc.begin() + span.start + span.length);
        const text::Encoding enc = context_first ? tokenizer.build(piece, question, options)
                                                 : tokenizer.build(question, piece, options);
        const auto before = static_cast<int64_t>(context_first ? tpl.pair_before.size()
                                                               : tpl.pair_before.size() + question.size() +
                                                                     tpl.pair_between.size());
        add_encoded_row(f, enc, has_types);
        auto& word_ids = f.word_ids.emplace_back(enc.input_ids.size(), -1);
        auto& best = f.best_context.emplace_back(enc.input_ids.size(), 0);
        for (int64_t j = 0; j < span.length; ++j) {
          word_ids[static_cast<size_t>(before + j)] = static_cast<int32_t>(doc_word[static_cast<size_t>(span.start + j)]);
          best[static_cast<size_t>(before + j)] = qa::is_best_context(spans, k, span.start + j, settings_.doc_stride) ? 1 : 0;
        }
        int64_t start = kNoLabel, end = kNoLabel;
        if (answer_start != kNoLabel) {
          if (answer_start >= span.start && answer_end < span.start + span.length) {
            start = answer_start - span.start + before;
            end = answer_end - span.start + before;
          } else {
            start = end = class_position(enc, tokenizer);
          }
        }
        f.labels.push_back(start);
        f.end_labels.push_back(end);
        f.example.push_back(static_cast<int64_t>(e));
        f.languages.push_back(ex.language);
      }
    }
    if (unfound > 0) {
      f.notes.push_back(source_of(dataset) + ": " + std::to_string(unfound) + " question(s) whose first answer is "
                        "not in its words as the context splits them; they are not trained on");
    }
    return f;
  }

  Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const override {
    Batch batch;
    batch.indices = rows;
    batch.inputs = pad_rows(features, rows, device, &batch.real_tokens);
    const int64_t length = batch.inputs.input_ids.size(1);
    torch::Tensor labels = torch::empty({static_cast<int64_t>(rows.size()), 2}, torch::kLong);  // [B, 2]
    auto* p = labels.data_ptr<int64_t>();
    for (size_t r = 0; r < rows.size(); ++r) {
      const size_t f = rows[r];
      // Positions count from the row's first token; left padding shifts them. No label: the ignore index.
      const int64_t shift = features.left_padding ? length - static_cast<int64_t>(features.input_ids[f].size()) : 0;
      const bool labelled = !features.labels.empty() && features.labels[f] != kNoLabel;
      p[2 * r] = labelled ? features.labels[f] + shift : length;
      p[2 * r + 1] = labelled ? features.end_labels[f] + shift : length;
    }
    batch.labels = labels.to(device);
    return batch;
  }

  // transformers' *ForQuestionAnswering loss: (CE(start) + CE(end)) / 2 over the T positions, positions
  // clamped to [0, T] and T ignored. A batch with no labelled row gives 0 (the reference never sees one:
  // its processor drops such questions from training).
  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    const auto z = logits.to(torch::kFloat);  // [B, T, 2]
    const int64_t length = z.size(1);
    const auto targets = batch.labels.clamp(0, length);  // [B, 2]
    if (targets.select(1, 0).lt(length).sum().item<int64_t>() == 0) return z.sum() * 0;
    const auto ce = torch::nn::functional::CrossEntropyFuncOptions().ignore_index(length);
    const auto start = torch::nn::functional::cross_entropy(z.select(2, 0), targets.select(1, 0), ce);
    const auto end = torch::nn::functional::cross_entropy(z.select(2, 1), targets.select(1, 1), ce);
    return (start + end) / 2;
  }

  // The loss averages over the rows whose answer lies in their window (start and end are out of it together).
  double loss_weight(const Batch& batch) const override {
    const int64_t length = batch.inputs.input_ids.size(-1);
    return static_cast<double>(batch.labels.select(1, 0).clamp(0, length).lt(length).sum().item<int64_t>());
  }

  // Per row: the n_best start positions and their logits, then the n_best end positions and their logits
  // (positions counted from the row's first token: negative for left padding), [4 · n] floats.
  std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch& batch) const override {
    const auto z = logits.to(torch::kFloat).to(torch::kCPU).contiguous();                // [B, T, 2]
    const auto starts = z.select(2, 0).contiguous(), ends = z.select(2, 1).contiguous();  // [B, T]
    const auto mask = batch.inputs.attention_mask.to(torch::kCPU).contiguous();          // [B, T]
    const int64_t rows = z.size(0), length = z.size(1);
    const int64_t* m = mask.data_ptr<int64_t>();
    std::vector<std::vector<float>> out(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      int64_t first = 0;  // the row's first token (after left padding)
      while (first < length && m[r * length + first] == 0) ++first;
      auto& o = out[static_cast<size_t>(r)];
      for (const float* row : {starts.data_ptr<float>() + r * length, ends.data_ptr<float>() + r * length}) {
        const std::vector<int64_t> top = qa::top_positions(row, length, settings_.n_best);
        for (int64_t i : top) o.push_back(static_cast<float>(i - first));
        for (int64_t i : top) o.push_back(row[i]);
      }
    }
    return out;
  }

  Predictions decode(const Dataset& dataset, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const text::Tokenizer& tokenizer, bool) const override {
    STILTS_CHECK(outputs.size() == features.size(), "outputs for ", outputs.size(), " of ", features.size(), " features");
    const size_t n = dataset.examples.size();
    std::vector<std::vector<size_t>> windows(n);
    for (size_t f = 0; f < features.size(); ++f) windows.at(static_cast<size_t>(features.example[f])).push_back(f);
    Predictions p;
    p.predicted.resize(n);
    p.gold.resize(n);
    for (size_t e = 0; e < n; ++e) {
      const Example& ex = dataset.examples[e];
      p.predicted[e] = answer(ex, features, outputs, windows[e], tokenizer, example_context(dataset, ex));
      if (ex.answers.empty()) continue;
      Value gold = {{"answers", Value::array()}, {"normalizer", normalizer_name(dataset, ex)}};
      for (const auto& a : ex.answers) gold["answers"].push_back(a.text);
      p.gold[e] = std::move(gold);
    }
    return p;
  }

  // xtreme's names: SQuAD's F1 (the headline) and exact match, both over the best gold answer.
  std::vector<std::string> metrics() const override { return {"f1", "exact_match"}; }

  eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                             const std::vector<Value>& gold) const override {
    if (metric != "f1" && metric != "exact_match") unknown_metric(name(), metric, metrics());
    if (predicted.size() != gold.size()) {
      input_error("extractive-qa: ", predicted.size(), " predictions for ", gold.size(), " questions");
    }
    const bool f1 = metric == "f1";
    std::unordered_map<std::string, eval::AnswerNormalizer> normalizers;
    std::vector<double> scores(predicted.size());
    for (size_t i = 0; i < predicted.size(); ++i) {
      if (!predicted[i].is_string()) input_error("extractive-qa prediction ", i + 1, ": expected a string, got ", predicted[i].dump());
      const Value& g = gold[i];
      if (!g.is_object() || !g.contains("answers") || !g["answers"].is_array() || g["answers"].empty() ||
          !g.contains("normalizer") || !g["normalizer"].is_string()) {
        input_error("extractive-qa gold ", i + 1, ": expected {\"answers\": [texts], \"normalizer\": name}, got ",
                    g.dump());
      }
      const std::string name = g["normalizer"].get<std::string>();
      auto it = normalizers.find(name);
      if (it == normalizers.end()) it = normalizers.emplace(name, normalizer_named(name)).first;
      const std::string answer = predicted[i].get<std::string>();
      double best = 0;
      for (const auto& text : g["answers"]) {
        if (!text.is_string()) input_error("extractive-qa gold ", i + 1, ": answers must be strings, got ", text.dump());
        const std::string t = text.get<std::string>();
        best = std::max(best, f1 ? eval::token_f1(answer, t, it->second)
                                 : (eval::exact_match(answer, t, it->second) ? 1.0 : 0.0));
      }
      scores[i] = best;
    }
    return [scores = std::move(scores)](const std::vector<size_t>& indices) {
      if (indices.empty()) return std::numeric_limits<double>::quiet_NaN();
      double sum = 0;
      for (size_t i : indices) sum += scores[i];
      return sum / static_cast<double>(indices.size());
    };
  }

  // XTREME's QA submission: {question id: answer}.
  std::string submission(const Dataset& dataset, const Predictions& predictions) const override {
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    for (size_t e = 0; e < dataset.examples.size(); ++e) out[dataset.examples[e].id] = predictions.predicted[e];
    return out.dump(4) + "\n";
  }
  std::string submission_extension() const override { return "json"; }

 private:
  // The first answer's first and last context token (-1, -1 without one or when it is not found).
  static std::pair<int64_t, int64_t> answer_tokens(const Example& ex, const qa::ContextWords& words,
                                                   const std::vector<int64_t>& doc,
                                                   const std::vector<int64_t>& word_first_token,
                                                   const text::Tokenizer& tokenizer, const std::string& context) {
    if (ex.answers.empty() || words.words.empty()) return {kNoLabel, kNoLabel};
    const Example::Answer& a = ex.answers.front();
    const auto chars = static_cast<int64_t>(words.char_to_word.size());
    const auto length = static_cast<int64_t>(text::decode_utf8(a.text, context).size());
    if (a.start < 0 || a.start >= chars || length == 0) return {kNoLabel, kNoLabel};
    const int64_t first_word = words.char_to_word[static_cast<size_t>(a.start)];
    const int64_t last_word = words.char_to_word[static_cast<size_t>(std::min(a.start + length - 1, chars - 1))];
    if (first_word < 0 || last_word < first_word) return {kNoLabel, kNoLabel};
    // The processor's check: the answer's words, joined by spaces, hold the answer with its whitespace collapsed.
    std::string actual;
    for (int64_t w = first_word; w <= last_word; ++w) actual += (w > first_word ? " " : "") + words.words[static_cast<size_t>(w)];
    const std::string cleaned = collapse_whitespace(a.text, context);
    if (actual.find(cleaned) == std::string::npos) return {kNoLabel, kNoLabel};
    int64_t start = word_first_token[static_cast<size_t>(first_word)];
    int64_t end = last_word + 1 < static_cast<int64_t>(words.words.size())
                      ? word_first_token[static_cast<size_t>(last_word + 1)] - 1
                      : static_cast<int64_t>(doc.size()) - 1;
    if (start > end) return {kNoLabel, kNoLabel};  // the answer's words have no tokens
    // _improve_answer_span: the first (start, longest end) whose tokens are the answer's own.
    const std::vector<int64_t> target = tokenizer.tokenize(a.text, context);
    for (int64_t s = start; s <= end; ++s) {
      for (int64_t t = end; t >= s; --t) {
        if (t - s + 1 == static_cast<int64_t>(target.size()) &&
            std::equal(target.begin(), target.end(), doc.begin() + s)) {
          return {s, t};
        }
      }
    }
    return {start, end};
  }

  // Where the class token sits in a row (the first one: BERT and RoBERTa at 0, XLNet last).
  static int64_t class_position(const text::Encoding& enc, const text::Tokenizer& tokenizer) {
    const text::Template& tpl = tokenizer.special_template();
    const int64_t cls = tpl.pair_before.empty() ? tpl.pair_after.back().id : tpl.pair_before.front().id;
    const auto it = std::find(enc.input_ids.begin(), enc.input_ids.end(), cls);
    STILTS_CHECK(it != enc.input_ids.end(), "no class token in a QA window");
    return it - enc.input_ids.begin();
  }

  std::string answer(const Example& ex, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const std::vector<size_t>& windows, const text::Tokenizer& tokenizer,
                     const std::string& context) const {
    struct Candidate {
      size_t feature;
      int64_t start, end;
      double score;
    };
    std::optional<Candidate> best;
    for (size_t f : windows) {
      const std::vector<float>& o = outputs[f];
      STILTS_CHECK(o.size() % 4 == 0, "feature ", f, ": ", o.size(), " outputs");
      const size_t k = o.size() / 4;
      const float* start_pos = o.data();
      const float* start_logit = o.data() + k;
      const float* end_pos = o.data() + 2 * k;
      const float* end_logit = o.data() + 3 * k;
      const auto tokens = static_cast<int64_t>(features.input_ids[f].size());
      const auto& word_ids = features.word_ids[f];
      const auto& best_context = features.best_context[f];
      for (size_t i = 0; i < k; ++i) {
        const auto s = static_cast<int64_t>(start_pos[i]);
        if (s < 0 || s >= tokens || word_ids[static_cast<size_t>(s)] < 0 || !best_context[static_cast<size_t>(s)]) {
          continue;
        }
        for (size_t j = 0; j < k; ++j) {
          const auto e = static_cast<int64_t>(end_pos[j]);
          if (e < 0 || e >= tokens || word_ids[static_cast<size_t>(e)] < 0) continue;
          if (e < s || e - s + 1 > settings_.max_answer_length) continue;
          const double score = static_cast<double>(start_logit[i]) + static_cast<double>(end_logit[j]);
          if (!best || score > best->score) best = Candidate{f, s, e, score};
        }
      }
    }
    if (!best) return "empty";
    if (best->start == 0) return "";
    const auto& ids = features.input_ids[best->feature];
    const std::vector<int64_t> span(ids.begin() + best->start, ids.begin() + best->end + 1);
    const std::string predicted = collapse_whitespace(tokenizer.tokens_to_string(span), context);
    const qa::ContextWords words = qa::split_context(ex.context, context);
    const auto& word_ids = features.word_ids[best->feature];
    std::string original;
    for (int32_t w = word_ids[static_cast<size_t>(best->start)]; w <= word_ids[static_cast<size_t>(best->end)]; ++w) {
      original += (original.empty() ? "" : " ") + words.words.at(static_cast<size_t>(w));
    }
    return qa::final_text(predicted, original, tokenizer.lowercases());
  }

  static std::string normalizer_name(const Dataset& dataset, const Example& ex) {
    return dataset.answer_normalizer == "mlqa" ? "mlqa-" + ex.language : "squad";
  }
  static eval::AnswerNormalizer normalizer_named(const std::string& name) {
    if (name == "squad") return eval::AnswerNormalizer::squad();
    if (name.rfind("mlqa-", 0) == 0) return eval::AnswerNormalizer::mlqa(name.substr(5));
    input_error("extractive-qa: unknown answer normaliser '", name, "' (expected squad or mlqa-<language>)");
  }

  KindSettings settings_;
};

}  // namespace

std::unique_ptr<TaskKind> extractive_qa(const KindSettings& settings) {
  return std::make_unique<ExtractiveQaKind>(settings);
}

}  // namespace stilts::tasks::kinds
