// stilts: intermediate-task vs direct fine-tuning studies of pretrained encoders.
// Maps every error to a short message on stderr and a non-zero exit code:
//   1 bad input (file, field, row), 2 usage, 3 internal error.
#include <torch/torch.h>

#include <iostream>
#include <string>

#include "commands.h"
#include "hub/cache.h"
#include "common/error.h"
#include "common/memory.h"

namespace {

// libtorch's messages carry a C++ stack trace after the first lines; users get the message only.
std::string first_lines(const std::string& text, int n = 3) {
  std::string out;
  size_t start = 0;
  for (int i = 0; i < n && start < text.size(); ++i) {
    const size_t end = text.find('\n', start);
    out += text.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  stilts::retain_freed_memory();  // steps reuse their activation pages (common/memory.h)
  CLI::App app{"stilts: does intermediate-task training beat direct fine-tuning, where, and at what cost?"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "stilts 0.1.0 (libtorch " + std::string(TORCH_VERSION) + ")");
  stilts::cli::add_forward_command(app);
  stilts::cli::add_tokenize_command(app);
  stilts::cli::add_inspect_command(app);
  stilts::cli::add_train_command(app);
  stilts::cli::add_eval_command(app);
  stilts::cli::add_run_command(app);
  stilts::cli::add_results_command(app);
  stilts::cli::add_report_command(app);
  stilts::cli::add_synth_command(app);
  stilts::cli::add_pretrain_command(app);
  stilts::cli::add_bench_command(app);
  stilts::cli::add_demo_command(app);
  stilts::cli::add_score_command(app);
  stilts::cli::add_fetch_command(app);
  stilts::cli::add_fetch_data_command(app);
  stilts::cli::add_launch_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  } catch (const stilts::InputError& e) {
    std::cerr << "stilts: error: " << e.what() << "\n";
    return 1;
  } catch (const stilts::InternalError& e) {
    std::cerr << "stilts: internal error (please report): " << e.what() << "\n";
    return 3;
  } catch (const c10::Error& e) {
    std::cerr << "stilts: error: " << first_lines(e.what_without_backtrace()) << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "stilts: error: " << first_lines(e.what()) << "\n";
    return 1;
  }
  return 0;
}
