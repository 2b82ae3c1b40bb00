// Token tagging (UD-POS, WikiANN/PAN-X), as XTREME's tagger builds it: a sentence given as words, each
// word tokenized on its own (a word with no piece gets the unknown token), the first sub-token of a word
// carrying its tag and every other token ignored by the loss; *ForTokenClassification; one tag per
// word. A sentence longer than max_length becomes several windows of whole words that are re-joined
// when decoding, so every word of every sentence gets exactly one prediction.
#include <torch/torch.h>

#include "common/error.h"
#include "eval/seqeval.h"
#include "tasks/batch.h"
#include "tasks/kinds/common.h"
#include "tasks/kinds/kinds.h"

namespace stilts::tasks::kinds {

namespace {

constexpr int32_t kIgnore = -100;  // CrossEntropyLoss's ignore_index

class TaggingKind final : public TaskKind {
 public:
  std::string name() const override { return "tagging"; }
  models::HeadKind head() const override { return models::HeadKind::kTokenClassification; }
  int64_t head_labels(const Dataset& dataset) const override { return static_cast<int64_t>(dataset.label_names.size()); }

  void check(const Dataset& dataset, bool need_gold) const override {
    const std::string source = source_of(dataset);
    if (!dataset.tagging) {
      input_error(source, ": task kind 'tagging' needs sentences of tagged words (formats conllu, xtreme-tagging, ",
                  "panx), but the '", dataset.format, "' data holds ",
                  dataset.multiple_choice ? "choices" : dataset.pairs ? "sentence pairs" : "sentences");
    }
    if (need_gold && !dataset.labelled) {
      input_error(source, ": the file has no tags, which training and evaluation need (it can only be predicted)");
    }
    if (need_gold && dataset.label_names.empty()) input_error(source, ": the dataset has no tag set");
  }

  Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const override {
    check(dataset, false);
    if (dataset.label_names.empty()) {
      input_error(source_of(dataset), ": no tag set to predict with (a file without tags takes the model's: its ",
                  "config.json id2label must name them)");
    }
    const int64_t budget = text_budget(tokenizer, false, max_length, source_of(dataset));
    const bool has_types = tokenizer.special_template().returns_token_type_ids;
    const auto num_tags = static_cast<int64_t>(dataset.label_names.size());
    text::EncodeOptions options;
    options.truncation = text::Truncation::kLongestFirst;
    options.max_length = max_length;
    Features f;
    start_features(f, dataset, tokenizer);
    for (size_t e = 0; e < dataset.examples.size(); ++e) {
      const Example& ex = dataset.examples[e];
      const std::string context = example_context(dataset, ex);
      const bool tagged = !ex.word_labels.empty();
      if (tagged && ex.word_labels.size() != ex.words.size()) {
        input_error(context, ": ", ex.words.size(), " words but ", ex.word_labels.size(), " tags");
      }
      const std::vector<std::vector<int64_t>> pieces = tokenizer.tokenize_words(ex.words, context);
      bool cut = false;
      // Windows of whole words, each as many words as fit in the budget (at least one: a word longer than
      // the budget alone keeps its first pieces, which still carry its tag).
      for (size_t begin = 0; begin < pieces.size();) {
        size_t end = begin;
        int64_t used = 0;
        while (end < pieces.size() && (end == begin || used + static_cast<int64_t>(pieces[end].size()) <= budget)) {
          used += static_cast<int64_t>(pieces[end].size());
          ++end;
        }
        cut = cut || used > budget;
        const std::vector<std::vector<int64_t>> window(pieces.begin() + static_cast<std::ptrdiff_t>(begin),
                                                       pieces.begin() + static_cast<std::ptrdiff_t>(end));
        const text::Encoding enc = tokenizer.build_words(window, options, context);
        add_encoded_row(f, enc, has_types);
        auto& word_ids = f.word_ids.emplace_back(enc.word_ids.size(), -1);
        auto& labels = f.token_labels.emplace_back(enc.word_ids.size(), kIgnore);
        for (size_t t = 0; t < enc.word_ids.size(); ++t) {
          const int64_t w = enc.word_ids[t];
          if (w < 0 || (t > 0 && enc.word_ids[t - 1] == w)) continue;  // a special or a later sub-token
          const size_t word = begin + static_cast<size_t>(w);
          word_ids[t] = static_cast<int32_t>(word);
          if (!tagged) continue;
          const int64_t tag = ex.word_labels[word];
          if (tag < 0 || tag >= num_tags) {
            input_error(context, ": word ", word + 1, " has tag id ", tag, ", outside the tag set of ", num_tags);
          }
          labels[t] = static_cast<int32_t>(tag);
        }
        f.example.push_back(static_cast<int64_t>(e));
        f.languages.push_back(ex.language);
        begin = end;
      }
      if (cut) ++f.truncated;
    }
    return f;
  }

  Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const override {
    Batch batch;
    batch.indices = rows;
    batch.inputs = pad_rows(features, rows, device, &batch.real_tokens);
    batch.labels = pad_token_field(features, features.token_labels, rows, kIgnore, device);  // [B, T]
    return batch;
  }

  // transformers' *ForTokenClassification loss: cross-entropy over every position, -100 ignored.
  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    const auto z = logits.to(torch::kFloat);  // [B, T, C]
    return torch::nn::functional::cross_entropy(
        z.reshape({-1, z.size(-1)}), batch.labels.reshape({-1}),
        torch::nn::functional::CrossEntropyFuncOptions().ignore_index(kIgnore));
  }

  // The loss averages over the labelled tokens.
  double loss_weight(const Batch& batch) const override {
    return static_cast<double>(batch.labels.ne(kIgnore).sum().item<int64_t>());
  }

  // Per row: the argmax tag of each of its tokens (padding dropped).
  std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch& batch) const override {
    const auto tags = logits.argmax(-1).to(torch::kCPU).contiguous();        // [B, T]
    const auto mask = batch.inputs.attention_mask.to(torch::kCPU).contiguous();  // [B, T]
    const int64_t rows = tags.size(0), length = tags.size(1);
    const int64_t* t = tags.data_ptr<int64_t>();
    const int64_t* m = mask.data_ptr<int64_t>();
    std::vector<std::vector<float>> out(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < length; ++i) {
        if (m[r * length + i] != 0) out[static_cast<size_t>(r)].push_back(static_cast<float>(t[r * length + i]));
      }
    }
    return out;
  }

  Predictions decode(const Dataset& dataset, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const text::Tokenizer&, bool) const override {
    STILTS_CHECK(outputs.size() == features.size(), "outputs for ", outputs.size(), " of ", features.size(), " features");
    const size_t n = dataset.examples.size();
    std::vector<std::vector<std::string>> tags(n);
    for (size_t e = 0; e < n; ++e) tags[e].resize(dataset.examples[e].words.size());
    std::vector<std::vector<bool>> seen(n);
    for (size_t e = 0; e < n; ++e) seen[e].assign(tags[e].size(), false);
    for (size_t f = 0; f < features.size(); ++f) {
      const auto e = static_cast<size_t>(features.example[f]);
      const auto& word_ids = features.word_ids[f];
      STILTS_CHECK(outputs[f].size() == word_ids.size(), "feature ", f, ": ", outputs[f].size(), " outputs for ",
                   word_ids.size(), " tokens");
      for (size_t t = 0; t < word_ids.size(); ++t) {
        if (word_ids[t] < 0) continue;
        const auto w = static_cast<size_t>(word_ids[t]);
        STILTS_CHECK(!seen[e][w], "example ", e, " word ", w, " predicted twice");
        seen[e][w] = true;
        tags[e][w] = dataset.label_names.at(static_cast<size_t>(outputs[f][t]));
      }
    }
    Predictions p;
    p.predicted.resize(n);
    p.gold.resize(n);
    for (size_t e = 0; e < n; ++e) {
      for (size_t w = 0; w < seen[e].size(); ++w) STILTS_CHECK(seen[e][w], "example ", e, " word ", w, " not predicted");
      p.predicted[e] = tags[e];
      const Example& ex = dataset.examples[e];
      if (ex.word_labels.empty()) continue;
      Value gold = Value::array();
      for (int64_t tag : ex.word_labels) gold.push_back(dataset.label_names.at(static_cast<size_t>(tag)));
      p.gold[e] = std::move(gold);
    }
    return p;
  }

  // xtreme's evaluate.py names for seqeval's entity scores, and token accuracy beside them (the
  // meaningful figure for POS tags).
  std::vector<std::string> metrics() const override { return {"f1", "precision", "recall", "accuracy"}; }

  eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                             const std::vector<Value>& gold) const override {
    eval::TagSentences p = sentences(predicted, "predicted tags"), g = sentences(gold, "gold tags");
    for (size_t i = 0; i < p.size() && i < g.size(); ++i) {
      if (p[i].size() != g[i].size()) {
        input_error("tagging example ", i + 1, ": ", p[i].size(), " predicted tags for ", g[i].size(), " gold tags");
      }
    }
    if (metric == "f1" || metric == "precision" || metric == "recall") {
      // A resample's entity scores from per-sentence counts when they add up (seqeval's chunks stay
      // inside their sentence): the bootstrap then sums counts instead of chunking every replicate.
      if (auto counts = eval::sentence_entity_counts(p, g)) {
        return [counts = std::move(*counts), metric](const std::vector<size_t>& indices) {
          int64_t correct = 0, predicted = 0, gold = 0;
          for (const size_t i : indices) {
            correct += counts[i].correct;
            predicted += counts[i].predicted;
            gold += counts[i].gold;
          }
          const eval::EntityScores s = eval::entity_scores_of(correct, predicted, gold);
          return metric == "f1" ? s.f1 : metric == "precision" ? s.precision : s.recall;
        };
      }
      if (metric == "f1") return indexed(std::move(p), std::move(g), eval::seqeval_f1);
      if (metric == "precision") return indexed(std::move(p), std::move(g), eval::seqeval_precision);
      return indexed(std::move(p), std::move(g), eval::seqeval_recall);
    }
    if (metric == "accuracy") {
      eval::seqeval_accuracy(p, g);  // its errors (no tags at all) now, as the point estimate raises them
      // Identical tags and tags per sentence add up: a resample's accuracy from the sums.
      std::vector<std::pair<int64_t, int64_t>> counts(g.size());  // (identical, tags)
      for (size_t i = 0; i < g.size(); ++i) {
        for (size_t t = 0; t < g[i].size(); ++t) counts[i].first += p[i][t] == g[i][t] ? 1 : 0;
        counts[i].second = static_cast<int64_t>(g[i].size());
      }
      return [counts = std::move(counts)](const std::vector<size_t>& indices) {
        int64_t correct = 0, total = 0;
        for (const size_t i : indices) correct += counts[i].first, total += counts[i].second;
        if (total == 0) input_error("tag sequences: no tags to score (accuracy needs at least one)");
        return static_cast<double>(correct) / static_cast<double>(total);
      };
    }
    unknown_metric(name(), metric, metrics());
  }

  // XTREME's tagging files: one tag a line, a blank line after each sentence.
  std::string submission(const Dataset&, const Predictions& predictions) const override {
    std::string out;
    for (const Value& sentence : predictions.predicted) {
      for (const auto& tag : sentence) out += tag.get<std::string>() + "\n";
      out += "\n";
    }
    return out;
  }
  std::string submission_extension() const override { return "tsv"; }

 private:
  static eval::TagSentences sentences(const std::vector<Value>& values, const char* what) {
    eval::TagSentences out(values.size());
    for (size_t i = 0; i < values.size(); ++i) {
      if (!values[i].is_array()) input_error(what, " row ", i + 1, ": expected an array of tags, got ", values[i].dump());
      for (const auto& tag : values[i]) {
        if (!tag.is_string()) input_error(what, " row ", i + 1, ": expected tag names, got ", tag.dump());
        out[i].push_back(tag.get<std::string>());
      }
    }
    return out;
  }
};

}  // namespace

std::unique_ptr<TaskKind> tagging(const KindSettings&) { return std::make_unique<TaggingKind>(); }

}  // namespace stilts::tasks::kinds
