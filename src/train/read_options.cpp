#include "train/read_options.h"

namespace stilts::train {

tasks::ReadOptions read_options(const TrainConfig& c) {
  tasks::ReadOptions o;
  o.language = c.language;
  o.text_a_column = c.text_a_column;
  o.text_b_column = c.resolved_text_b_column();
  o.label_column = c.label_column;
  o.id_column = c.id_column;
  o.language_column = c.language_column;
  o.header = c.header;
  o.regression = c.task == "regression";
  o.label_names = c.label_names;
  return o;
}

}  // namespace stilts::train
