// The data-reading part of a TrainConfig (columns, header, language, label set) as the dataset
// readers take it: one mapping for the trainer, the study's evaluation and its benchmark.
#pragma once

#include "tasks/datasets/dataset.h"
#include "train/config.h"

namespace stilts::train {

tasks::ReadOptions read_options(const TrainConfig& config);

}  // namespace stilts::train
