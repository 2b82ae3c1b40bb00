// The kinds' constructors, one per kind file, for the registry in kind.cpp.
#pragma once

#include <memory>

#include "tasks/kind.h"

namespace stilts::tasks::kinds {

std::unique_ptr<TaskKind> classification();       // classification.cpp
std::unique_ptr<TaskKind> pair_classification();  // classification.cpp
std::unique_ptr<TaskKind> regression();           // classification.cpp
std::unique_ptr<TaskKind> tagging();              // tagging.cpp
std::unique_ptr<TaskKind> multiple_choice();      // multiple_choice.cpp

}  // namespace stilts::tasks::kinds
