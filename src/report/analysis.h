// The computations behind the report's sentences that are not in pipeline/: the words for an
// equivalence verdict (pipeline/equivalence.h), and each arm's training cost.
#pragma once

#include <string>
#include <vector>

#include "pipeline/equivalence.h"
#include "report/run_data.h"

namespace stilts::report {

// "latency equivalent within ±5% (12.10 vs 12.00 ms; +0.8% [-1.2%, +2.8%])" and the like, from the one
// equivalence rule's result: `what` names the measurement, `digits` the decimals of the means.
std::string describe_comparison(const pipeline::Relative& c, const std::string& what, const std::string& unit,
                                int digits);

// An arm's training cost per seed: the sum over its chain in arm_stages (a shared stage counts in
// every arm that uses it). Without arm_stages rows for the arm, the stages whose `arm` is it.
struct ArmCost {
  std::string arm;
  std::vector<std::string> chain;  // stage names, position order (of the first seed)
  int seeds = 0;
  // Means over seeds; NaN when no stage has the figure.
  double wall_s = 0, cpu_s = 0, flops = 0, examples = 0, tokens = 0;
  bool all_done = true;  // every stage of the chain is in `stages` with status done
};

std::vector<ArmCost> arm_costs(const RunData& data, const std::vector<std::string>& arms);

}  // namespace stilts::report
