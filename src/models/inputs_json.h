// inputs.json (as in the hf-golden fixtures): {"input_ids": [[...], ...], "attention_mask": [[...]],
// "token_type_ids": [[...]] (optional)} -> model Inputs, with errors naming the file, field and row.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

#include "models/model.h"

namespace stilts::models {

Inputs read_inputs_json(const std::filesystem::path& path);
// Same from an already-parsed document; `source` names it in errors.
Inputs inputs_from_json(const nlohmann::json& doc, const std::string& source);

}  // namespace stilts::models
