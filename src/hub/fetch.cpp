// The hub client behind `stilts fetch` (see fetch.h).
#include "hub/fetch.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "hub/http.h"
#include "text/auto.h"

namespace stilts::hub {

namespace fs = std::filesystem;

namespace {

std::string trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t start = 0;
  while (start < s.size() && std::isspace(static_cast<unsigned char>(s[start]))) ++start;
  return s.substr(start);
}

std::string endpoint_of(const FetchOptions& options) {
  std::string e = !options.endpoint.empty() ? options.endpoint : env_value("HF_ENDPOINT");
  if (e.empty()) e = "https://huggingface.co";
  while (!e.empty() && e.back() == '/') e.pop_back();
  return e;
}

std::string token_of(const FetchOptions& options) {
  if (!options.token.empty()) return options.token;
  if (const std::string t = env_value("HF_TOKEN"); !t.empty()) return t;
  const std::string path_env = env_value("HF_TOKEN_PATH");
  const fs::path file = path_env.empty() ? hf_home() / "token" : fs::path(path_env);
  std::error_code ec;
  if (fs::is_regular_file(file, ec)) return trim(read_file(file));
  return "";
}

// Percent-encoding of a URL path part; '/' kept when `keep_slash` (file paths), encoded otherwise
// (revisions, as huggingface_hub quotes them).
std::string quote(const std::string& s, bool keep_slash) {
  std::ostringstream out;
  for (unsigned char c : s) {
    const bool unreserved = std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/');
    if (unreserved) {
      out << c;
    } else {
      out << '%' << std::uppercase << std::hex << std::setw(2) << std::setfill('0') << static_cast<int>(c)
          << std::nouppercase << std::dec;
    }
  }
  return out.str();
}

// An ETag header value as huggingface_hub keeps it: no weak marker, no quotes.
std::string clean_etag(std::string etag) {
  if (etag.rfind("W/", 0) == 0) etag = etag.substr(2);
  etag.erase(std::remove(etag.begin(), etag.end(), '"'), etag.end());
  return trim(etag);
}

HttpRequest request(const std::string& method, const std::string& url, const std::string& token) {
  HttpRequest r;
  r.method = method;
  r.url = url;
  if (!token.empty()) r.headers.push_back("Authorization: Bearer " + token);
  return r;
}

// InputError for a hub answer that is not a success.
[[noreturn]] void status_error(const HttpResponse& response, const std::string& what, const std::string& repo,
                               bool has_token) {
  if (response.status == 401 || response.status == 403) {
    if (has_token) {
      input_error(what, ": HTTP ", response.status, ": the token has no access to '", repo,
                  "' (a gated model: accept its terms on the hub with the account the token belongs to)");
    }
    input_error(what, ": HTTP ", response.status, ": '", repo,
                "' is gated or private: set HF_TOKEN (or log in with huggingface-cli, which writes ",
                (hf_home() / "token").string(), ")");
  }
  if (response.status == 404) input_error(what, ": HTTP 404: the hub has no such repository, revision or file");
  input_error(what, ": HTTP ", response.status);
}

// A relative symlink `link` -> `target` made atomically (a temporary link renamed over any old one).
void symlink_atomic(const fs::path& target, const fs::path& link) {
  fs::create_directories(link.parent_path());
  const fs::path temp = link.string() + ".tmp." + std::to_string(::getpid());
  std::error_code ec;
  fs::remove(temp, ec);
  fs::create_symlink(target, temp, ec);
  if (ec) input_error(link.string(), ": cannot create the snapshot link (", ec.message(), ")");
  fs::rename(temp, link, ec);
  if (ec) input_error(link.string(), ": cannot create the snapshot link (", ec.message(), ")");
}

// The byte count the hub sent in header `name` of its answer to `url`; -1 when it sent none.
int64_t size_header(const HttpResponse& answer, const std::string& name, const std::string& url) {
  const std::string text = answer.header(name);
  if (text.empty()) return -1;
  int64_t size = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (ec != std::errc() || end != text.data() + text.size() || size < 0) {
    input_error(url, ": the hub's ", name, " header is '", text,
                "', expected a byte count (a non-negative integer); is the endpoint a Hugging Face hub?");
  }
  return size;
}

std::string megabytes(int64_t bytes) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << static_cast<double>(bytes) / 1e6 << " MB";
  return out.str();
}

}  // namespace

std::vector<std::string> model_files(const std::vector<std::string>& files, const std::string& repo) {
  auto has = [&](const std::string& name) { return std::find(files.begin(), files.end(), name) != files.end(); };
  // Top-level files named prefix*suffix (the shards of an index), sorted.
  auto matching = [&](const std::string& prefix, const std::string& suffix) {
    std::vector<std::string> out;
    for (const auto& f : files) {
      if (f.find('/') != std::string::npos || f.size() <= prefix.size() + suffix.size()) continue;
      if (f.rfind(prefix, 0) == 0 && f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0) out.push_back(f);
    }
    std::sort(out.begin(), out.end());
    return out;
  };
  if (!has("config.json")) input_error(repo, ": the repository has no config.json, so it is not a model stilts can load");
  std::vector<std::string> out = {"config.json"};
  if (has("model.safetensors")) {
    out.push_back("model.safetensors");
  } else if (has("model.safetensors.index.json")) {
    out.push_back("model.safetensors.index.json");
    for (const auto& shard : matching("model-", ".safetensors")) out.push_back(shard);
  } else if (has("pytorch_model.bin")) {
    out.push_back("pytorch_model.bin");
  } else if (has("pytorch_model.bin.index.json")) {
    out.push_back("pytorch_model.bin.index.json");
    for (const auto& shard : matching("pytorch_model-", ".bin")) out.push_back(shard);
  } else {
    input_error(repo, ": the repository has no weights stilts reads (model.safetensors, its index and shards, or "
                "pytorch_model.bin)");
  }
  for (const auto& name : text::tokenizer_file_names()) {
    if (has(name) && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

ResolvedModel fetch_model(const std::string& repo, const FetchOptions& options) {
  const std::string spec = repo + "@" + options.revision;
  const std::optional<HubId> id = parse_hub_id(spec);
  if (!id) input_error("'", spec, "' is not a Hugging Face hub id (org/name, optionally @revision)");
  const std::string offline = env_value("HF_HUB_OFFLINE");
  if (!offline.empty() && offline != "0" && offline != "false") {
    if (options.log) *options.log << "HF_HUB_OFFLINE is set: using the cached snapshot\n";
    return resolve_model(spec);
  }
  const std::string endpoint = endpoint_of(options);
  const std::string token = token_of(options);

  // ---- the commit and the file list ----
  const std::string info_url = endpoint + "/api/models/" + repo + "/revision/" + quote(options.revision, false);
  const HttpResponse info = http_request(request("GET", info_url, token));
  if (info.status != 200) status_error(info, info_url, repo, !token.empty());
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(info.body);
  } catch (const nlohmann::json::exception& e) {
    input_error(info_url, ": not JSON (", e.what(), ")");
  }
  if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string() || !is_commit(j["sha"].get<std::string>())) {
    input_error(info_url, ": the answer has no commit id (\"sha\")");
  }
  const std::string commit = j["sha"].get<std::string>();
  std::vector<std::string> listed;
  if (j.contains("siblings") && j["siblings"].is_array()) {
    for (const auto& s : j["siblings"]) {
      if (s.is_object() && s.contains("rfilename") && s["rfilename"].is_string()) listed.push_back(s["rfilename"].get<std::string>());
    }
  }
  const std::vector<std::string> files = model_files(listed, repo);

  // ---- the files, each into blobs/ then linked from the snapshot ----
  const fs::path folder = repo_folder(repo);
  const fs::path snapshot = folder / "snapshots" / commit;
  std::error_code ec;
  fs::create_directories(folder / "blobs", ec);
  if (ec) input_error((folder / "blobs").string(), ": cannot create the cache folder (", ec.message(), ")");
  for (const std::string& file : files) {
    const std::string url = endpoint + "/" + repo + "/resolve/" + commit + "/" + quote(file, true);
    HttpRequest head = request("HEAD", url, token);
    head.follow_redirects = false;
    head.headers.push_back("Accept-Encoding: identity");
    const HttpResponse meta = http_request(head);
    if (meta.status >= 400 || meta.status < 200) status_error(meta, url, repo, !token.empty());
    const std::string linked = clean_etag(meta.header("x-linked-etag"));
    const std::string etag = linked.empty() ? clean_etag(meta.header("etag")) : linked;
    if (etag.empty() || etag.find('/') != std::string::npos || etag.find("..") != std::string::npos) {
      input_error(url, ": the hub sent no usable ETag for ", file);
    }
    const std::string repo_commit = meta.header("x-repo-commit");
    if (!repo_commit.empty() && repo_commit != commit) {
      input_error(url, ": the hub answered for commit ", repo_commit, ", not ", commit);
    }
    const int64_t size =
        size_header(meta, meta.header("x-linked-size").empty() ? "content-length" : "x-linked-size", url);
    const fs::path blob = folder / "blobs" / etag;
    if (!fs::is_regular_file(blob, ec)) {
      const fs::path incomplete = blob.string() + ".incomplete";
      int64_t last_shown = -1;
      const Progress progress = [&](int64_t done, int64_t total) {
        if (!options.log || (done - last_shown < (8 << 20) && done != total)) return;
        last_shown = done;
        *options.log << "  " << file << ": " << megabytes(done)
                     << (total > 0 ? " of " + megabytes(total) : std::string()) << "\n";
      };
      const HttpResponse got = http_download(request("GET", url, token), incomplete, progress);
      if (got.status != 200 && got.status != 206) status_error(got, url, repo, !token.empty());
      const auto received = static_cast<int64_t>(fs::file_size(incomplete, ec));
      if (size >= 0 && received != size) {
        input_error(url, ": ", received, " bytes arrived of ", size, " (", incomplete.string(),
                    " keeps them: run stilts fetch again to resume)");
      }
      if (!linked.empty() && linked.size() == 64) {
        const std::string sha = sha256_file(incomplete);
        if (sha != linked) {
          fs::remove(incomplete, ec);
          input_error(url, ": the body's SHA-256 is ", sha, ", the hub says ", linked,
                      ": the download was corrupted and is deleted; run stilts fetch again");
        }
      }
      fs::rename(incomplete, blob, ec);
      if (ec) input_error(blob.string(), ": cannot move the download into place (", ec.message(), ")");
    }
    // snapshots/<commit>/<file> -> ../../blobs/<etag>, one more "../" per folder in the file's path.
    fs::path target = fs::path("..") / ".." / "blobs" / etag;
    for (size_t p = file.find('/'); p != std::string::npos; p = file.find('/', p + 1)) target = fs::path("..") / target;
    symlink_atomic(target, snapshot / file);
    if (options.log) *options.log << "  " << file << " ok\n";
  }
  if (!is_commit(options.revision)) {
    const fs::path ref = folder / "refs" / options.revision;
    fs::create_directories(ref.parent_path(), ec);
    write_file_atomic(ref, commit);
  }
  return {snapshot, repo, options.revision, commit};
}

}  // namespace stilts::hub
