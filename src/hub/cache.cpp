// Model directories and hub ids resolved from the Hugging Face cache (see cache.h).
#include "hub/cache.h"

#include <cstdlib>

#include "common/error.h"
#include "common/files.h"

namespace stilts::hub {

namespace fs = std::filesystem;

namespace {

bool valid_name(const std::string& part) {
  if (part.empty() || part.size() > 96) return false;
  for (char c : part) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return false;
  }
  if (part.front() == '-' || part.front() == '.' || part.back() == '-' || part.back() == '.') return false;
  return part.find("--") == std::string::npos && part.find("..") == std::string::npos;
}

// A revision as a refs/ file name and URL part: no empty, "." or ".." component, no backslash.
bool valid_revision(const std::string& revision) {
  if (revision.empty() || revision.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start <= revision.size()) {
    const size_t end = std::min(revision.find('/', start), revision.size());
    const std::string part = revision.substr(start, end - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

std::optional<HubId> parse_hub_id(const std::string& spec) {
  HubId id;
  std::string repo = spec;
  const size_t at = spec.find('@');
  if (at != std::string::npos) {
    repo = spec.substr(0, at);
    id.revision = spec.substr(at + 1);
    if (!valid_revision(id.revision)) return std::nullopt;
  }
  const size_t slash = repo.find('/');
  if (slash == std::string::npos) {
    if (!valid_name(repo)) return std::nullopt;
  } else if (repo.find('/', slash + 1) != std::string::npos || !valid_name(repo.substr(0, slash)) ||
             !valid_name(repo.substr(slash + 1))) {
    return std::nullopt;
  }
  id.repo = repo;
  return id;
}

std::string env_value(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

bool is_commit(const std::string& revision) {
  if (revision.size() != 40) return false;
  for (char c : revision) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

fs::path hf_home() {
  if (const std::string home = env_value("HF_HOME"); !home.empty()) return home;
  if (const std::string xdg = env_value("XDG_CACHE_HOME"); !xdg.empty()) return fs::path(xdg) / "huggingface";
  const std::string user_home = env_value("HOME");
  if (user_home.empty()) input_error("cannot find the Hugging Face cache: HOME is not set (set HF_HOME or HF_HUB_CACHE)");
  return fs::path(user_home) / ".cache" / "huggingface";
}

fs::path hub_cache_dir() {
  if (const std::string cache = env_value("HF_HUB_CACHE"); !cache.empty()) return cache;
  if (const std::string cache = env_value("HUGGINGFACE_HUB_CACHE"); !cache.empty()) return cache;
  return hf_home() / "hub";
}

fs::path repo_folder(const std::string& repo) {
  std::string name = "models--" + repo;
  for (size_t p = name.find('/'); p != std::string::npos; p = name.find('/', p)) name.replace(p, 1, "--");
  return hub_cache_dir() / name;
}

ResolvedModel resolve_model(const std::string& spec) {
  std::error_code ec;
  if (spec.empty()) input_error("no model given: name a model directory or a Hugging Face hub id");
  if (fs::is_directory(spec, ec)) return {fs::path(spec), "", "", ""};
  const std::optional<HubId> id = parse_hub_id(spec);
  if (!id) input_error(spec, ": no such directory (a model is a directory or a Hugging Face hub id such as org/name@revision)");
  const fs::path folder = repo_folder(id->repo);
  std::string commit = id->revision;
  if (!is_commit(commit)) {
    const fs::path ref = folder / "refs" / id->revision;
    if (!fs::is_regular_file(ref, ec)) {
      input_error(spec, ": no such directory, and hub id '", id->repo, "' (revision ", id->revision,
                  ") is not in the Hugging Face cache (", ref.string(), " is missing): download it with `stilts fetch ",
                  id->repo, id->revision == "main" ? "" : " --revision " + id->revision, "`, or give its directory");
    }
    commit = read_file(ref);
    while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
    if (!is_commit(commit)) input_error(ref.string(), ": expected a commit id (40 hex digits), found '", commit, "'");
  }
  const fs::path snapshot = folder / "snapshots" / commit;
  if (!fs::is_directory(snapshot, ec)) {
    input_error(spec, ": the Hugging Face cache has no snapshot ", snapshot.string(), ": download it with `stilts fetch ",
                id->repo, " --revision ", id->revision, "`");
  }
  return {snapshot, id->repo, id->revision, commit};
}

std::string model_spec_in(const std::string& spec, const fs::path& base_dir) {
  if (spec.empty() || base_dir.empty()) return spec;
  const fs::path p(spec);
  std::error_code ec;
  const bool written_as_path = p.is_absolute() || spec.front() == '.';
  if (p.is_absolute()) return spec;
  if (written_as_path || fs::exists(base_dir / p, ec) || !parse_hub_id(spec)) {
    return (base_dir / p).lexically_normal().string();
  }
  return spec;
}

}  // namespace stilts::hub
