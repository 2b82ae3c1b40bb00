#include "tasks/kind.h"

#include <memory>

#include "common/error.h"
#include "tasks/kinds/kinds.h"

namespace stilts::tasks {

namespace {

// The registry: adding a kind is its file and one line here.
const std::vector<std::unique_ptr<TaskKind>>& registry() {
  static const std::vector<std::unique_ptr<TaskKind>> kinds = [] {
    std::vector<std::unique_ptr<TaskKind>> k;
    k.push_back(kinds::pair_classification());
    k.push_back(kinds::classification());
    k.push_back(kinds::regression());
    k.push_back(kinds::tagging());
    k.push_back(kinds::multiple_choice());
    return k;
  }();
  return kinds;
}

}  // namespace

const TaskKind& task_kind(std::string_view name) {
  for (const auto& kind : registry()) {
    if (kind->name() == name) return *kind;
  }
  std::string known;
  for (const auto& n : task_kind_names()) known += (known.empty() ? "" : ", ") + n;
  input_error("task kind '", name, "': expected one of ", known);
}

const TaskKind& kind_for_data(const Dataset& dataset, std::optional<models::HeadKind> head) {
  for (const auto& kind : registry()) {
    if (head && kind->head() != *head) continue;
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
