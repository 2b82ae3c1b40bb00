#include "tasks/kind.h"

#include <memory>

#include "tasks/batch.h"

#include "common/error.h"
#include "tasks/kinds/kinds.h"

namespace stilts::tasks {

namespace {

using Constructor = std::unique_ptr<TaskKind> (*)(const KindSettings&);

// The registry: adding a kind is its file and one line here.
const std::vector<Constructor>& constructors() {
  static const std::vector<Constructor> table = {
      kinds::pair_classification, kinds::classification,  kinds::regression,
      kinds::tagging,             kinds::multiple_choice, kinds::extractive_qa,
      kinds::retrieval,           kinds::sentence_retrieval,
  };
  return table;
}

// Every kind with the default settings.
const std::vector<std::unique_ptr<TaskKind>>& registry() {
  static const std::vector<std::unique_ptr<TaskKind>> kinds = [] {
    std::vector<std::unique_ptr<TaskKind>> k;
    for (Constructor make : constructors()) k.push_back(make(KindSettings{}));
    return k;
  }();
  return kinds;
}

[[noreturn]] void unknown_kind(std::string_view name) {
  std::string known;
  for (const auto& n : task_kind_names()) known += (known.empty() ? "" : ", ") + n;
  input_error("task kind '", name, "': expected one of ", known);
}

}  // namespace

double TaskKind::loss_weight(const Batch& batch) const { return static_cast<double>(batch.indices.size()); }

torch::Tensor TaskKind::forward(models::EncoderModel& model, const Batch& batch) const {
  return model.logits(batch.inputs);
}

const TaskKind& task_kind(std::string_view name) {
  for (const auto& kind : registry()) {
    if (kind->name() == name) return *kind;
  }
  unknown_kind(name);
}

std::unique_ptr<TaskKind> make_task_kind(std::string_view name, const KindSettings& settings) {
  const std::pair<const char*, int64_t> values[] = {{"doc_stride", settings.doc_stride},
                                                    {"max_query_length", settings.max_query_length},
                                                    {"max_answer_length", settings.max_answer_length},
                                                    {"n_best", settings.n_best}};
  for (const auto& [key, value] : values) {
    if (value < 1) input_error("task kind '", name, "': ", key, " must be at least 1, got ", value);
  }
  if (settings.layer < -1) {
    input_error("task kind '", name, "': layer must be -1 (the last) or a hidden state's index, got ", settings.layer);
  }
  const auto& kinds = registry();
  for (size_t i = 0; i < kinds.size(); ++i) {
    if (kinds[i]->name() == name) return constructors()[i](settings);
  }
  unknown_kind(name);
}

const TaskKind& kind_for_data(const Dataset& dataset, std::optional<models::HeadKind> head) {
  for (const auto& kind : registry()) {
    if (head && !kind->accepts_head(*head)) continue;
    try {
      kind->check(dataset, /*need_gold=*/false);
      return *kind;
    } catch (const InputError&) {
      // not this kind
    }
  }
  input_error(dataset.source, ": no task kind takes the '", dataset.format, "' data",
              head ? std::string(" with a ") + models::head_kind_name(*head) + " head" : std::string());
}

std::vector<std::string> task_kind_names() {
  std::vector<std::string> names;
  for (const auto& kind : registry()) names.push_back(kind->name());
  return names;
}

}  // namespace stilts::tasks
