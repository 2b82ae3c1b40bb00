// A fake Hugging Face hub for tests (see FakeHub), served by testing::HttpServer.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/sha256.h"
#include "support/http_server.h"

namespace stilts::testing {

// One repository at kCommit, as the hub's routes and headers serve it: the revision API; HEAD and GET
// of /<repo>/resolve/<commit>/<file>, *.safetensors as LFS files (a 302 to /cdn/<sha256> with
// X-Linked-Etag and X-Linked-Size), the rest as git files (ETag); Range requests on the CDN. Knobs break
// it on purpose. Serve it with HttpServer: [&](auto& r) { return hub.handle(r); }.
struct FakeHub {
  static inline const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";
  FakeHub(std::string repo_id, std::map<std::string, std::string> repo_files)
      : repo(std::move(repo_id)), files(std::move(repo_files)) {}

  std::string repo;
  std::map<std::string, std::string> files;
  std::optional<size_t> drop_after;  // the next CDN body stops after this many bytes (then cleared)
  bool corrupt = false;              // the CDN serves other bytes of the right size
  std::optional<std::string> linked_size;  // sent as LFS files' X-Linked-Size instead of their size
  std::string token;                 // required as a Bearer token when set
  std::vector<std::string> ranges;   // Range headers the CDN saw

  static bool is_lfs(const std::string& name) {
    return name.size() > 12 && name.compare(name.size() - 12, 12, ".safetensors") == 0;
  }
  static std::string git_etag(const std::string& bytes) { return sha256_hex("blob:" + bytes).substr(0, 40); }

  HttpServer::Reply handle(const HttpServer::Request& r) {
    using Reply = HttpServer::Reply;
    if (!token.empty()) {
      const auto it = r.headers.find("authorization");
      if (it == r.headers.end() || it->second != "Bearer " + token) return Reply{401, {}, "unauthorized", {}, false};
    }
    if (r.path == "/api/models/" + repo + "/revision/main") {
      nlohmann::json j = {{"sha", kCommit}, {"siblings", nlohmann::json::array()}};
      for (const auto& [name, bytes] : files) j["siblings"].push_back({{"rfilename", name}});
      return Reply{200, {{"Content-Type", "application/json"}}, j.dump(), {}, false};
    }
    const std::string prefix = "/" + repo + "/resolve/" + kCommit + "/";
    if (r.path.rfind(prefix, 0) == 0) {
      const std::string name = r.path.substr(prefix.size());
      const auto it = files.find(name);
      if (it == files.end()) return Reply{404, {}, "no", {}, false};
      if (is_lfs(name)) {
        const std::string sha = sha256_hex(it->second);
        return Reply{302,
                     {{"Location", "/cdn/" + sha}, {"X-Repo-Commit", kCommit}, {"X-Linked-Etag", "\"" + sha + "\""},
                      {"X-Linked-Size", linked_size.value_or(std::to_string(it->second.size()))},
                      {"ETag", "\"lfs-pointer\""}},
                     "",
                     {},
                     false};
      }
      return Reply{200, {{"X-Repo-Commit", kCommit}, {"ETag", "\"" + git_etag(it->second) + "\""}}, it->second, {}, false};
    }
    if (r.path.rfind("/cdn/", 0) == 0) {
      std::string bytes;
      for (const auto& [name, content] : files) {
        if (is_lfs(name) && "/cdn/" + sha256_hex(content) == r.path) bytes = content;
      }
      if (corrupt) bytes = std::string(bytes.size(), 'x');
      size_t from = 0;
      const auto range = r.headers.find("range");
      if (range != r.headers.end()) {
        ranges.push_back(range->second);
        from = std::stoul(range->second.substr(range->second.find('=') + 1));
      }
      Reply reply{from > 0 ? 206 : 200, {}, bytes.substr(from), {}, false};
      if (from > 0) {
        reply.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                      std::to_string(bytes.size() - 1) + "/" + std::to_string(bytes.size())});
      }
      if (drop_after && r.method == "GET") {
        reply.send_bytes = *drop_after;
        drop_after.reset();
      }
      return reply;
    }
    return Reply{404, {}, "not found", {}, false};
  }
};


}  // namespace stilts::testing
