// The kinds' constructors, one per kind file, for the registry in kind.cpp.
#pragma once

#include <memory>

#include "tasks/kind.h"

namespace stilts::tasks::kinds {

std::unique_ptr<TaskKind> classification(const KindSettings&);       // classification.cpp
std::unique_ptr<TaskKind> pair_classification(const KindSettings&);  // classification.cpp
std::unique_ptr<TaskKind> regression(const KindSettings&);           // classification.cpp
std::unique_ptr<TaskKind> tagging(const KindSettings&);              // tagging.cpp
std::unique_ptr<TaskKind> multiple_choice(const KindSettings&);      // multiple_choice.cpp
std::unique_ptr<TaskKind> extractive_qa(const KindSettings&);        // extractive_qa.cpp
std::unique_ptr<TaskKind> retrieval(const KindSettings&);            // retrieval.cpp
std::unique_ptr<TaskKind> sentence_retrieval(const KindSettings&);   // retrieval.cpp

}  // namespace stilts::tasks::kinds
