// Models as users name them: a directory, or a Hugging Face hub id resolved from the cache that
// huggingface_hub and transformers share, laid out as they lay it out:
//
//   <cache>/models--<org>--<name>/refs/<revision>               the commit the revision points at
//   <cache>/models--<org>--<name>/snapshots/<commit>/<file>     -> ../../blobs/<etag> (a relative symlink)
//   <cache>/models--<org>--<name>/blobs/<etag>                  the bytes (etag: an LFS file's sha256,
//                                                               else the git blob id)
//
// <cache> is $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub, else
// $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub. No torch, no network.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace stilts::hub {

// "name" or "org/name", with an optional "@revision" (a branch, a tag or a commit; default "main").
struct HubId {
  std::string repo;  // "org/name" or "name"
  std::string revision = "main";
};
// The id `spec` names, or nullopt when it is not one: names of letters, digits, '-', '_', '.' (not
// starting or ending with '-' or '.', no "--" or ".."), at most one '/', at most 96 characters each.
std::optional<HubId> parse_hub_id(const std::string& spec);

// A model located: its directory, and for a hub id what it resolved to.
struct ResolvedModel {
  std::filesystem::path dir;
  std::string repo;      // "" for a directory given as such
  std::string revision;  // as asked
  std::string commit;    // the snapshot's commit
};

// `spec` as a directory when one exists there, else as a hub id from the cache. InputError saying which
// was tried and, for an id not in the cache, how to get it (`stilts fetch <id>`).
ResolvedModel resolve_model(const std::string& spec);

// A model spec read from a config file in `base_dir`: the path relative to it when it exists there or is
// written as a path (absolute, or starting with "."), else the spec as written (a hub id, resolved
// when the model is loaded).
std::string model_spec_in(const std::string& spec, const std::filesystem::path& base_dir);

// The cache folder (see the header) and a repository's folder in it.
std::filesystem::path hub_cache_dir();
std::filesystem::path repo_folder(const std::string& repo);
// huggingface_hub's HF_HOME (the token file lives there).
std::filesystem::path hf_home();

// The environment variable's value, "" when unset.
std::string env_value(const char* name);

// Whether `revision` is a full commit id (40 lower-case hex digits).
bool is_commit(const std::string& revision);

}  // namespace stilts::hub
