// Retrieval: queries ranked against a pool of candidates by the cosine of their embeddings.
//
//   retrieval           LAReQA and Mewsli-X with XTREME-R's dual encoder (xtreme's BertForRetrieval): the
//                       embedding is the retrieval head's (the pooled first position, L2-normalised). It trains
//                       on query-positive pairs with the in-batch softmax: scores q·pᵀ × logit_scale [B, B],
//                       cross-entropy against the diagonal (under data-parallel ranks, the whole global batch's
//                       [B, B], each rank's shard seeing the others' rows through tasks/rank_rows.h, so N ranks
//                       train as one process does). Headline mAP@20 (xtreme's utils_lareqa
//                       average_precision_at_k); submission {query id: [candidate ids, best first]}.
//   sentence-retrieval  Tatoeba as xtreme's evaluate_retrieval.py does it, zero-shot on any model: the embedding
//                       is the mean of hidden_states[layer] over the non-pad positions (specials included),
//                       L2-normalised. Headline accuracy (the nearest candidate is the gold one); submission
//                       the nearest candidate's id a line (Tatoeba: its index in the English side).
//
// Features: a file with a pool becomes one row per query, then one per candidate (Features::example counts
// the candidates on past the queries); a file of pairs (training data, no pool) one feature of two rows,
// (query, positive), per example. Ranking is exact: blocks of queries against blocks of candidates with a
// running top 20, so memory holds the embeddings and one [query block, candidate block] score matrix, never
// [queries, candidates]. Ties go to the candidate earlier in the pool.
//
// Letters: B batch, T tokens, H hidden, Q queries, C candidates, K kept per query (20).
#include <torch/torch.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <unordered_set>

#include "common/error.h"
#include "eval/metrics.h"
#include "models/model.h"
#include "tasks/batch.h"
#include "tasks/kinds/common.h"
#include "tasks/kinds/kinds.h"
#include "tasks/rank_rows.h"

namespace stilts::tasks::kinds {

namespace {

constexpr int64_t kKept = 20;              // candidates kept per query: mAP@20's cut-off
constexpr int64_t kQueryBlock = 1024;      // queries scored at once
constexpr int64_t kCandidateBlock = 8192;  // candidates scored at once: [1024, 8192] fp32 scores = 32 MiB

bool pairs_file(const Dataset& dataset) { return dataset.retrieval && dataset.candidates.empty(); }

// Ids of the relevant candidates of every query, and the ranked ids of a prediction, as Values.
// A null (a query without gold) is an empty list: it scores 0, as an unfindable gold does in xtreme's scorers.
std::vector<std::string> id_list(const Value& v, const char* what, size_t row) {
  if (v.is_null()) return {};
  if (!v.is_array()) input_error(what, " row ", row + 1, ": expected a list of candidate ids, got ", v.dump());
  std::vector<std::string> ids;
  for (const Value& id : v) {
    if (!id.is_string()) input_error(what, " row ", row + 1, ": candidate ids are strings, got ", id.dump());
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

std::vector<std::vector<std::string>> id_lists(const std::vector<Value>& values, const char* what) {
  std::vector<std::vector<std::string>> out;
  out.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) out.push_back(id_list(values[i], what, i));
  return out;
}


class RetrievalKind : public TaskKind {
 public:
  // `sentence`: the zero-shot mean-pooled kind (Tatoeba), else the dual encoder.
  RetrievalKind(bool sentence, int64_t layer) : sentence_(sentence), layer_(layer) {}

  std::string name() const override { return sentence_ ? "sentence-retrieval" : "retrieval"; }
  models::HeadKind head() const override { return sentence_ ? models::HeadKind::kNone : models::HeadKind::kRetrieval; }
  bool accepts_head(models::HeadKind model_head) const override { return sentence_ || model_head == head(); }
  bool decodes_in_pieces() const override { return false; }
  int64_t head_labels(const Dataset&) const override { return 1; }

  void check(const Dataset& dataset, bool need_gold) const override {
    const std::string source = source_of(dataset);
    if (!dataset.retrieval) {
      input_error(source, ": task kind '", name(), "' needs queries and a candidate pool (formats tatoeba, lareqa, ",
                  "mewslix, retrieval-json), but the '", dataset.format, "' data holds none");
    }
    if (pairs_file(dataset)) {
      if (sentence_) {
        input_error(source, ": a file of query-positive pairs is training data, and sentence-retrieval trains ",
                    "nothing; give a file with a candidate pool, or train a dual encoder with task kind 'retrieval'");
      }
      for (const Example& ex : dataset.examples) {
        if (!ex.text_b) input_error(example_context(dataset, ex), ": a query without its positive");
      }
      return;
    }
    const auto pool = static_cast<int64_t>(dataset.candidates.size());
    for (const Example& ex : dataset.examples) {
      for (int64_t r : ex.relevant) {
        if (r < 0 || r >= pool) {
          input_error(example_context(dataset, ex), ": relevant candidate ", r, " is outside the pool of ", pool);
        }
      }
      if (need_gold && ex.relevant.empty()) {
        input_error(example_context(dataset, ex), ": the query has no relevant candidate, which scoring needs");
      }
    }
  }

  Features featurize(const Dataset& dataset, const text::Tokenizer& tokenizer, int64_t max_length) const override {
    check(dataset, false);
    text_budget(tokenizer, false, max_length, source_of(dataset));
    Features f;
    start_features(f, dataset, tokenizer);
    const bool pairs = pairs_file(dataset);
    f.rows_per_feature = pairs ? 2 : 1;
    for (size_t e = 0; e < dataset.examples.size(); ++e) {
      const Example& ex = dataset.examples[e];
      const std::string context = example_context(dataset, ex);
      bool cut = add_text_row(f, tokenizer, ex.text_a, std::nullopt, max_length, context);
      if (pairs) cut = add_text_row(f, tokenizer, *ex.text_b, std::nullopt, max_length, context) || cut;
      if (cut) ++f.truncated;
      f.example.push_back(static_cast<int64_t>(e));
      f.languages.push_back(ex.language);
    }
    for (size_t c = 0; c < dataset.candidates.size(); ++c) {
      const Candidate& candidate = dataset.candidates[c];
      const std::string context = source_of(dataset) + " (candidate " + candidate.id + ")";
      if (add_text_row(f, tokenizer, candidate.text, std::nullopt, max_length, context)) ++f.truncated;
      f.example.push_back(static_cast<int64_t>(dataset.examples.size() + c));
      f.languages.push_back(candidate.language);
    }
    return f;
  }

  // A pairs batch: the B query rows, then their B positives, as one [2B, T] batch; labels [B] the diagonal.
  // A pool batch: its rows [B, T].
  Batch collate(const Features& features, const std::vector<size_t>& rows, torch::Device device) const override {
    Batch batch;
    batch.indices = rows;
    if (features.rows_per_feature == 1) {
      batch.inputs = pad_rows(features, rows, device, &batch.real_tokens);  // [B, T]
      return batch;
    }
    std::vector<size_t> flat;
    flat.reserve(rows.size() * 2);
    for (size_t side = 0; side < 2; ++side) {
      for (size_t f : rows) flat.push_back(f * 2 + side);
    }
    batch.inputs = pad_rows(features, flat, device, &batch.real_tokens);                  // [2B, T]
    batch.labels = torch::arange(static_cast<int64_t>(rows.size()), torch::kLong).to(device);  // [B]
    return batch;
  }

  bool couples_rows(const Features& features) const override { return features.rows_per_feature == 2; }

  torch::Tensor forward(models::EncoderModel& model, const Batch& batch) const override {
    torch::Tensor embeddings = embed(model, batch.inputs).to(torch::kFloat);  // [R, H]
    if (!batch.labels.defined()) return embeddings;
    // Pairs: every query against every positive of the batch, as xtreme's BertForRetrieval scores them.
    // Under data-parallel ranks, the whole global batch's (its other rows are the other ranks').
    torch::Tensor scale = models::logit_scale_of(model, "task kind 'retrieval'").to(torch::kFloat);  // [1]
    if (batch.rank_rows != nullptr) {
      embeddings = batch.rank_rows->all_rows(embeddings, 2);  // [2B, H]: the B queries, then the B positives
      scale = batch.rank_rows->shared(scale);
    }
    const int64_t b = embeddings.size(0) / 2;
    const torch::Tensor q = embeddings.narrow(0, 0, b), p = embeddings.narrow(0, b, b);  // [B, H] each
    return torch::matmul(q, p.t()) * scale;                                              // [B, B]
  }

  torch::Tensor loss(const torch::Tensor& logits, const Batch& batch) const override {
    // [B, B] vs the diagonal [B] (under ranks, B is the global batch's rows, more than the shard's labels).
    const torch::Tensor diagonal = torch::arange(logits.size(0), torch::kLong).to(logits.device());  // [B]
    return torch::cross_entropy_loss(logits.to(torch::kFloat), diagonal);
  }

  std::vector<std::vector<float>> feature_outputs(const torch::Tensor& logits, const Batch&) const override {
    return rows_of(logits);  // [B, H] embeddings
  }

  Predictions decode(const Dataset& dataset, const Features& features, const std::vector<std::vector<float>>& outputs,
                     const text::Tokenizer&, bool) const override {
    const size_t q = dataset.examples.size(), c = dataset.candidates.size();
    if (pairs_file(dataset)) {
      input_error(source_of(dataset), ": a file of query-positive pairs has no pool to rank; evaluate on a file ",
                  "with candidates");
    }
    STILTS_CHECK(features.size() == q + c && outputs.size() == q + c, "retrieval features: ", features.size(),
                 ", outputs ", outputs.size(), " for ", q, " queries and ", c, " candidates");
    if (c == 0) input_error(source_of(dataset), ": the candidate pool is empty");
    const auto h = static_cast<int64_t>(outputs.front().size());
    auto matrix = [&](size_t begin, size_t n) {
      torch::Tensor m = torch::empty({static_cast<int64_t>(n), h}, torch::kFloat);  // [n, H]
      float* dst = m.data_ptr<float>();
      for (size_t i = 0; i < n; ++i) {
        // features[begin + i] is example begin + i (featurize writes them in order; the cache keeps it).
        STILTS_CHECK(features.example[begin + i] == static_cast<int64_t>(begin + i), "features out of order");
        std::copy(outputs[begin + i].begin(), outputs[begin + i].end(), dst + static_cast<int64_t>(i) * h);
      }
      return m;
    };
    const torch::Tensor queries = matrix(0, q), candidates = matrix(q, c);  // [Q, H], [C, H]
    const torch::Tensor ranked = top_candidates(queries, candidates);        // [Q, K] candidate indices

    Predictions p;
    p.predicted.resize(q);
    p.gold.resize(q);
    const auto kept = ranked.size(1);
    const int64_t* r = ranked.data_ptr<int64_t>();
    for (size_t i = 0; i < q; ++i) {
      Value ids = Value::array();
      for (int64_t k = 0; k < kept; ++k) ids.push_back(dataset.candidates[static_cast<size_t>(r[i * kept + k])].id);
      p.predicted[i] = std::move(ids);
      const Example& ex = dataset.examples[i];
      if (dataset.labelled && !ex.relevant.empty()) {
        Value gold = Value::array();
        for (int64_t g : ex.relevant) gold.push_back(dataset.candidates[static_cast<size_t>(g)].id);
        p.gold[i] = std::move(gold);
      }
    }
    return p;
  }

  std::vector<std::string> metrics() const override {
    return sentence_ ? std::vector<std::string>{"accuracy", "map@20"} : std::vector<std::string>{"map@20", "accuracy"};
  }

  eval::IndexedMetric scorer(const std::string& metric, const std::vector<Value>& predicted,
                             const std::vector<Value>& gold) const override {
    auto ranked = id_lists(predicted, "predicted candidates");
    auto relevant = id_lists(gold, "relevant candidates");
    if (ranked.size() != relevant.size()) {
      input_error("retrieval: ", ranked.size(), " predictions for ", relevant.size(), " gold rows");
    }
    // Both are means of a per-query score: scored once, a resample (the bootstrap's) sums its picks in
    // order, as the mean over the picked queries does.
    std::function<double(const std::vector<std::string>&, const std::vector<std::string>&)> per_query;
    if (metric == "map@20") {
      per_query = [](const auto& a, const auto& b) { return eval::average_precision_at_k(a, b, kKept); };
    } else if (metric == "accuracy") {
      per_query = [](const auto& a, const auto& b) {
        return !a.empty() && std::find(b.begin(), b.end(), a.front()) != b.end() ? 1.0 : 0.0;
      };
    } else {
      unknown_metric(name(), metric, metrics());
    }
    std::vector<double> scores(ranked.size());
    for (size_t i = 0; i < ranked.size(); ++i) scores[i] = per_query(ranked[i], relevant[i]);
    return [scores = std::move(scores)](const std::vector<size_t>& indices) {
      if (indices.empty()) return std::numeric_limits<double>::quiet_NaN();
      double sum = 0;
      for (const size_t i : indices) sum += scores[i];
      return sum / static_cast<double>(indices.size());
    };
  }

  std::string submission(const Dataset& dataset, const Predictions& predictions) const override {
    if (sentence_) {  // XTREME's Tatoeba file: the nearest candidate's index, a line per query
      std::string out;
      for (const Value& v : predictions.predicted) out += (v.empty() ? std::string() : v.front().get<std::string>()) + "\n";
      return out;
    }
    nlohmann::ordered_json out = nlohmann::ordered_json::object();  // Mewsli-X's layout, for LAReQA too
    for (size_t i = 0; i < predictions.predicted.size(); ++i) out[dataset.examples[i].id] = predictions.predicted[i];
    return out.dump() + "\n";
  }
  std::string submission_extension() const override { return sentence_ ? "tsv" : "json"; }

 private:
  // Unit-length embeddings of the rows [R, H].
  torch::Tensor embed(models::EncoderModel& model, const models::Inputs& inputs) const {
    if (!sentence_) return model.logits(inputs);  // the retrieval head: normalised pooled first position
    // The encoder up to the layer read, no further: no later layer, pooler or head runs.
    const int64_t layers = model.num_layers();
    const int64_t k = layer_ < 0 ? layers : layer_;
    if (k > layers) {
      input_error("sentence-retrieval: layer ", layer_, " is beyond the model's hidden states 0..", layers,
                  " (0 = the embeddings, ", layers, " = the last layer)");
    }
    const torch::Tensor hidden = model.hidden_state(inputs, k).to(torch::kFloat);  // [R, T, H]
    const torch::Tensor mask = inputs.attention_mask.to(torch::kFloat).unsqueeze(-1);         // [R, T, 1]
    const torch::Tensor mean = (hidden * mask).sum(1) / mask.sum(1);                          // [R, H]
    return models::retrieval_embedding(mean);
  }

  // The K best candidates of every query by inner product, best first, ties to the earlier candidate: [Q, K].
  static torch::Tensor top_candidates(const torch::Tensor& queries, const torch::Tensor& candidates) {
    const int64_t q = queries.size(0), c = candidates.size(0), kept = std::min(kKept, c);
    torch::Tensor out = torch::empty({q, kept}, torch::kLong);
    for (int64_t q0 = 0; q0 < q; q0 += kQueryBlock) {
      const int64_t qn = std::min(kQueryBlock, q - q0);
      const torch::Tensor block = queries.narrow(0, q0, qn);  // [qn, H]
      torch::Tensor best_scores = torch::empty({qn, 0}, torch::kFloat), best_index = torch::empty({qn, 0}, torch::kLong);
      for (int64_t c0 = 0; c0 < c; c0 += kCandidateBlock) {
        const int64_t cn = std::min(kCandidateBlock, c - c0);
        const torch::Tensor scores = torch::matmul(block, candidates.narrow(0, c0, cn).t());  // [qn, cn]
        const torch::Tensor index = torch::arange(c0, c0 + cn, torch::kLong).expand({qn, cn});
        // The running best (earlier candidates) first, so a stable sort keeps ties in pool order.
        const torch::Tensor all_scores = torch::cat({best_scores, scores}, 1);  // [qn, K + cn]
        const torch::Tensor all_index = torch::cat({best_index, index}, 1);
        const auto [sorted, order] = all_scores.sort(/*stable=*/true, /*dim=*/1, /*descending=*/true);
        const int64_t keep = std::min(kept, sorted.size(1));
        best_scores = sorted.narrow(1, 0, keep).contiguous();
        best_index = all_index.gather(1, order.narrow(1, 0, keep)).contiguous();
      }
      out.narrow(0, q0, qn).copy_(best_index);
    }
    return out;
  }

  bool sentence_;
  int64_t layer_;
};

}  // namespace

std::unique_ptr<TaskKind> retrieval(const KindSettings& settings) {
  return std::make_unique<RetrievalKind>(/*sentence=*/false, settings.layer);
}
std::unique_ptr<TaskKind> sentence_retrieval(const KindSettings& settings) {
  return std::make_unique<RetrievalKind>(/*sentence=*/true, settings.layer);
}

}  // namespace stilts::tasks::kinds
