// stilts forward MODEL_DIR --input inputs.json --output out.safetensors
#include <torch/torch.h>

#include <iostream>

#include "commands.h"
#include "hub/cache.h"
#include "io/safetensors.h"
#include "models/inputs_json.h"
#include "models/pretrained.h"

namespace stilts::cli {

void add_forward_command(CLI::App& app) {
  struct Args {
    std::string model_dir, input, output;
    bool hidden_states = false;
  };
  auto args = std::make_shared<Args>();
  auto* cmd = app.add_subcommand(
      "forward",
      "Run a model on token ids (inputs.json: input_ids, attention_mask, optional token_type_ids) and write\n"
      "last_hidden_state, pooler_output (when the model has a pooler) and the head's outputs (logits, or\n"
      "start_logits and end_logits for question answering) to a safetensors file. Multiple-choice models\n"
      "take [batch, choices, tokens] arrays; their last_hidden_state is [batch x choices, tokens, hidden].");
  cmd->add_option("model_dir", args->model_dir, "Hugging Face model directory, or a hub id in the HF cache")->required();
  cmd->add_option("--input", args->input, "inputs.json")->required();
  cmd->add_option("--output", args->output, "output .safetensors file")->required();
  cmd->add_flag("--hidden-states", args->hidden_states, "also write hidden_states.0..N (embeddings, each layer)");
  cmd->callback([args] {
    args->model_dir = hub::resolve_model(args->model_dir).dir.string();
    auto loaded = models::load_pretrained(args->model_dir);
    const auto inputs = models::read_inputs_json(args->input);
    models::validate_inputs(*loaded.model, inputs, args->input);
    torch::InferenceMode inference;
    const auto out = loaded.model->forward(inputs, args->hidden_states);
    std::vector<std::pair<std::string, at::Tensor>> tensors = {{"last_hidden_state", out.last_hidden_state}};
    if (out.pooler_output.defined()) tensors.emplace_back("pooler_output", out.pooler_output);
    if (out.logits.defined()) tensors.emplace_back("logits", out.logits);
    if (out.start_logits.defined()) tensors.emplace_back("start_logits", out.start_logits);
    if (out.end_logits.defined()) tensors.emplace_back("end_logits", out.end_logits);
    for (size_t i = 0; i < out.hidden_states.size(); ++i) {
      tensors.emplace_back("hidden_states." + std::to_string(i), out.hidden_states[i]);
    }
    io::save_safetensors(args->output, tensors);
    std::cerr << "wrote " << args->output << ":";
    for (const auto& [name, t] : tensors) std::cerr << " " << name << t.sizes();
    std::cerr << "\n";
  });
}

}  // namespace stilts::cli
