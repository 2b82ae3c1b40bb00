#include "support/torch/ranks.h"

#include <gtest/gtest.h>

#include <torch/torch.h>

#include <algorithm>

#include "io/safetensors.h"
#include "support/fixtures.h"

namespace stilts::testing {

std::vector<std::string> launched(int nproc, const std::vector<std::string>& args) {
  std::vector<std::string> all = {"launch", "--nproc", std::to_string(nproc), "--", cli_path().string()};
  all.insert(all.end(), args.begin(), args.end());
  return all;
}

double max_weight_diff(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto wa = io::load_safetensors(a / "model.safetensors");
  const auto wb = io::load_safetensors(b / "model.safetensors");
  EXPECT_EQ(wa.size(), wb.size()) << a << " vs " << b;
  double worst = 0;
  for (const auto& [name, t] : wa) {
    const auto it = wb.find(name);
    if (it == wb.end()) {
      ADD_FAILURE() << name << " missing in " << b;
      continue;
    }
    worst = std::max(worst, (t.to(torch::kDouble) - it->second.to(torch::kDouble)).abs().max().item<double>());
  }
  return worst;
}

}  // namespace stilts::testing
