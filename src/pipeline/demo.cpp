#include "pipeline/demo.h"

#include <chrono>
#include <sstream>

#include "common/error.h"
#include "common/files.h"
#include "pipeline/experiment_config.h"
#include "pipeline/runner.h"
#include "synth/world.h"
#include "train/config.h"
#include "train/mlm.h"

namespace stilts::pipeline {

namespace fs = std::filesystem;

namespace {

std::string quoted(const std::string& s) { return nlohmann::json(s).dump(); }

double since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The [experiment] and [model] tables of a demo study.
std::string header(const std::string& name, const synth::WorldFiles& world, const fs::path& pretrained,
                   int64_t seeds) {
  std::ostringstream t;
  t << "[experiment]\nname = " << quoted(name) << "\nseeds = [";
  for (int64_t s = 1; s <= seeds; ++s) t << (s > 1 ? ", " : "") << s;
  t << "]\nlanguages = [";
  for (size_t i = 0; i < world.languages.size(); ++i) t << (i ? ", " : "") << quoted(world.languages[i]);
  t << "]\ntrain_language = " << quoted(world.train_language) << "\n\n";
  t << "[model]\npath = " << quoted(pretrained.string()) << "\n\n";
  return t.str();
}

// A [tasks.AS] table for the world's task `name` (AS defaults to the name; files it lacks are left
// out: the parallel task has only test files, in every language but the training language).
std::string task_table(const synth::WorldFiles& world, const std::string& name, const std::string& as = "") {
  const synth::TaskFiles& task = world.task(name);
  std::ostringstream t;
  t << "[tasks." << (as.empty() ? name : as) << "]\nkind = " << quoted(task.kind) << "\nformat = " << quoted(task.format) << "\n";
  if (!task.train.empty()) t << "train = " << quoted(task.train) << "\n";
  if (!task.dev.empty()) t << "dev = " << quoted(task.dev) << "\n";
  if (!task.test.empty()) t << "test = " << quoted(task.test) << "\n";
  if (task.train.empty()) {
    t << "languages = [";
    bool first = true;
    for (const auto& l : world.languages) {
      if (l == world.train_language) continue;
      t << (first ? "" : ", ") << quoted(l);
      first = false;
    }
    t << "]\n";
  }
  return t.str() + "\n";
}

// The nli suite as a TOML file users can read and rerun.
std::string nli_study_toml(const synth::WorldFiles& world, const fs::path& pretrained, int64_t seeds) {
  std::ostringstream t;
  t << "# The demo study on the synthetic world (written by stilts demo): does training on the large\n"
       "# sentiment task first (intermediate) change zero-shot NLI (XNLI layout) in the languages not\n"
       "# trained on, against fine-tuning on NLI directly? (The world's PAWS-style paraphrase task is\n"
       "# there too, but the demo's minutes-old 2-layer encoder cannot learn its role swaps.)\n";
  t << header("demo", world, pretrained, seeds);
  t << task_table(world, "sentiment") << task_table(world, "nli");
  t << "[stages.intermediate]\ntask = \"sentiment\"\nepochs = 2\nlr = 1e-3\nbatch_size = 32\nmax_length = 64\n"
       "warmup_ratio = 0.1\nthreads = 1\n\n";
  t << "[stages.target]\ntask = \"nli\"\nepochs = 6\nlr = 1e-3\nbatch_size = 32\nmax_length = 64\n"
       "warmup_ratio = 0.1\nhead = \"reinit\"\nthreads = 1\n\n";
  t << "[arms]\ndirect = [\"target\"]\nintermediate = [\"intermediate\", \"target\"]\n\n";
  t << "[bench]\nbatch_sizes = [1, 32]\nmax_examples = 128\nmin_time_s = 0.2\nmin_repetitions = 10\n";
  return t.str();
}

// The xtreme-r suite: one target per task kind in each arm, as experiments/xtreme-r.toml has them.
// Epochs are the fewest that transfer on the demo's encoder (4 masked-LM epochs), measured per stage,
// so the whole suite fits 10 minutes on 2 cores.
std::string xtreme_r_study_toml(const synth::WorldFiles& world, const fs::path& pretrained, int64_t seeds) {
  std::ostringstream t;
  t << "# The XTREME-R-shaped demo study on the synthetic world (written by stilts demo --suite xtreme-r):\n"
       "# a target of every XTREME-R task kind, trained in the first language and evaluated zero-shot in\n"
       "# the others, direct against X-STILTs-style intermediate training. nli ~ XNLI, choice ~ XCOPA,\n"
       "# pos ~ UD-POS, ner ~ WikiANN, qa ~ XQuAD, retrieval ~ LAReQA (a dual encoder), tatoeba ~ Tatoeba\n"
       "# (evaluation only: mean-pooled hidden_states[1] of the encoder its chain made: the pretrained one\n"
       "# in the direct arm, the QA-trained one in the intermediate arm, SQuAD being the intermediate task\n"
       "# Phang et al. found best for sentence retrieval). Intermediate tasks: sentiment before nli and\n"
       "# choice (MNLI's and Social IQa's roles), nli before tagging and retrieval; qa is its own\n"
       "# intermediate (as SQuAD is for XQuAD): both arms share that stage, so its difference is 0.\n";
  t << header("demo-xtreme-r", world, pretrained, seeds);
  for (const char* task : {"sentiment", "nli", "choice", "pos", "ner", "qa", "retrieval"}) t << task_table(world, task);
  t << task_table(world, "parallel", "tatoeba");
  const std::string common = "lr = 1e-3\nbatch_size = 32\nmax_length = 64\nwarmup_ratio = 0.1\nthreads = 1\n";
  auto stage = [&](const std::string& name, int epochs, const std::string& extra) {
    t << "[stages." << name << "]\ntask = " << quoted(name) << "\nepochs = " << epochs << "\n" << extra << common
      << "\n";
  };
  stage("sentiment", 2, "");
  stage("nli", 2, "head = \"reinit\"\n");
  stage("choice", 1, "head = \"reinit\"\n");
  stage("pos", 1, "head = \"reinit\"\n");
  stage("ner", 1, "head = \"reinit\"\n");
  stage("qa", 2, "head = \"reinit\"\ndoc_stride = 32\n");
  stage("retrieval", 1, "head = \"reinit\"\n");
  t << "[stages.tatoeba]   # evaluation only: the model of the stage before it (the pretrained encoder when first)\n"
       "task = \"tatoeba\"\nlayer = 1          # the middle of the 2-layer encoder (XTREME: layer 8 of 12)\n"
       "max_length = 64\neval_batch_size = 64\nthreads = 1\n\n";
  t << "[arms]\n"
       "direct = [[\"nli\"], [\"choice\"], [\"pos\"], [\"ner\"], [\"qa\"], [\"retrieval\"], [\"tatoeba\"]]\n"
       "intermediate = [[\"sentiment\", \"nli\"], [\"sentiment\", \"choice\"], [\"nli\", \"pos\"], [\"nli\", \"ner\"],\n"
       "                [\"qa\"], [\"nli\", \"retrieval\"], [\"qa\", \"tatoeba\"]]\n\n";
  t << "[bench]\nbatch_sizes = [1]\nmax_examples = 32\nmin_time_s = 0.05\nmin_repetitions = 3\n";
  return t.str();
}

}  // namespace

void DemoOptions::validate() const {
  if (out.empty()) input_error("demo: --out must not be empty");
  if (size != "small" && size != "default") input_error("demo: --size '", size, "': expected small or default");
  if (languages < 2 || languages > 8) input_error("demo: --languages ", languages, ": expected 2..8");
  if (suite != "nli" && suite != "xtreme-r") input_error("demo: --suite '", suite, "': expected nli or xtreme-r");
  if (seeds < 0 || seeds > 10) input_error("demo: --seeds ", seeds, ": expected 1..10 (0: the suite's own)");
  if (pretrain_epochs < 1) input_error("demo: pretrain epochs must be >= 1");
}

DemoPaths run_demo(const DemoOptions& options) {
  options.validate();
  std::ostream& log = *options.log;
  DemoPaths paths;
  paths.run_dir = fs::absolute(options.out).lexically_normal();
  paths.world = paths.run_dir / "world";
  paths.pretrained = paths.run_dir / "pretrained";
  paths.config = paths.run_dir / "demo.toml";
  fs::create_directories(paths.run_dir);
  const auto start = std::chrono::steady_clock::now();

  // 1. The world.
  synth::WorldOptions world_options = synth::WorldOptions::preset(options.size);
  world_options.seed = options.world_seed;
  world_options.languages = synth::WorldOptions::default_languages(options.languages);
  world_options.train_language = world_options.languages.front();
  log << "demo [1/3] synthetic world: " << world_options.languages.size() << " languages, seed "
      << world_options.seed << " -> " << paths.world.string() << "\n";
  const synth::WorldFiles world = synth::generate_world(world_options, paths.world);
  log << "demo [1/3] " << (world.reused ? "reused" : "generated") << " in " << static_cast<int>(since(start))
      << " s\n";

  // 2. Masked-LM pretraining from scratch on every language's text.
  train::TrainConfig mlm;
  mlm.model = world.model_dir.string();
  mlm.task = "mlm";
  mlm.format = "text";
  mlm.init = "scratch";
  mlm.train = world.corpus_train.string();
  mlm.dev = {world.corpus_dev.string()};
  mlm.out = paths.pretrained.string();
  mlm.cache_dir = (paths.run_dir / "cache").string();
  mlm.final_model = "last";
  mlm.epochs = options.pretrain_epochs;
  mlm.batch_size = 64;
  mlm.lr = 1e-3;
  mlm.warmup_ratio = 0.05;
  mlm.max_length = 64;
  mlm.threads = 1;
  mlm.seed = 1;
  mlm.log_every = 100;
  log << "demo [2/3] masked-LM pretraining of the tiny encoder on " << world.corpus_train.string() << " -> "
      << paths.pretrained.string() << "\n";
  train::TrainOptions train_options;
  train_options.resume = true;
  train_options.log = &log;
  train_options.tty = options.tty;
  const train::TrainOutcome pretrained = train::run_mlm_training(mlm, train_options);
  if (pretrained.already_finished) log << "demo [2/3] pretrained before\n";
  log << "demo [2/3] done at " << static_cast<int>(since(start)) << " s\n";

  // 3. The study.
  const int64_t seeds = options.seeds > 0 ? options.seeds : options.suite == "nli" ? 3 : 2;
  write_file_atomic(paths.config, options.suite == "nli" ? nli_study_toml(world, paths.pretrained, seeds)
                                                         : xtreme_r_study_toml(world, paths.pretrained, seeds));
  log << "demo [3/3] the study: " << paths.config.string() << "\n";
  const ExperimentConfig config = load_experiment(paths.config);
  RunOptions run;
  run.out = paths.run_dir;
  run.log = &log;
  run.tty = options.tty;
  run_experiment(config, run);
  log << "demo: done in " << static_cast<int>(since(start)) << " s\n";
  return paths;
}

}  // namespace stilts::pipeline
