// Hub ids and the Hugging Face cache: ids parsed, models resolved from a cache tree laid out as
// huggingface_hub lays it out, and `fetch_model` against a loopback hub (the hub's routes and headers:
// the revision API, HEAD with X-Repo-Commit / ETag / X-Linked-Etag / X-Linked-Size, LFS redirects, Range
// requests): the cache layout it writes, resuming a dropped download, refusing a corrupted one, gated
// repositories, 404s and offline mode.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/files.h"
#include "common/sha256.h"
#include "hub/cache.h"
#include "hub/fetch.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "support/fake_hub.h"
#include "support/http_server.h"

namespace stilts::hub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::input_error_of;

// Sets environment variables for a scope, restoring what was there.
class ScopedEnv {
 public:
  ScopedEnv() = default;
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;
  ScopedEnv& set(const char* name, const std::string& value) {
    remember(name);
    ::setenv(name, value.c_str(), 1);
    return *this;
  }
  ScopedEnv& unset(const char* name) {
    remember(name);
    ::unsetenv(name);
    return *this;
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }

 private:
  void remember(const char* name) {
    const char* v = std::getenv(name);
    saved_.emplace_back(name, v ? std::optional<std::string>(v) : std::nullopt);
  }
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// Every hub variable of `env` cleared, the cache in `cache`.
void hub_env(ScopedEnv& env, const fs::path& cache) {
  env.set("HF_HUB_CACHE", cache.string())
      .unset("HUGGINGFACE_HUB_CACHE")
      .unset("HF_TOKEN")
      .unset("HF_HUB_OFFLINE")
      .unset("HF_ENDPOINT")
      .set("HF_TOKEN_PATH", (cache / "no-token").string());
}

using testing::FakeHub;
const std::string kCommit = FakeHub::kCommit;

TEST(HubIds, NamesRevisionsAndWhatIsNotAnId) {
  auto id = parse_hub_id("xlm-roberta-base");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->repo, "xlm-roberta-base");
  EXPECT_EQ(id->revision, "main");
  id = parse_hub_id("FacebookAI/xlm-roberta-large@v1.0");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->repo, "FacebookAI/xlm-roberta-large");
  EXPECT_EQ(id->revision, "v1.0");
  for (const char* bad : {"", "a/b/c", "/abs/path", "./model", "a--b", "-a", "a.", "x@", "a/b@../main", "a b"}) {
    EXPECT_FALSE(parse_hub_id(bad)) << bad;
  }
  EXPECT_TRUE(is_commit(kCommit));
  EXPECT_FALSE(is_commit("main"));
}

TEST(HubCache, FolderFromTheEnvironmentAsHuggingfaceHubChoosesIt) {
  ScopedEnv env;
  env.unset("HF_HUB_CACHE").unset("HUGGINGFACE_HUB_CACHE").set("HF_HOME", "/h").set("XDG_CACHE_HOME", "/x");
  EXPECT_EQ(hub_cache_dir(), fs::path("/h/hub"));
  env.unset("HF_HOME");
  EXPECT_EQ(hub_cache_dir(), fs::path("/x/huggingface/hub"));
  env.unset("XDG_CACHE_HOME").set("HOME", "/home/u");
  EXPECT_EQ(hub_cache_dir(), fs::path("/home/u/.cache/huggingface/hub"));
  env.set("HF_HUB_CACHE", "/c");
  EXPECT_EQ(hub_cache_dir(), fs::path("/c"));
  EXPECT_EQ(repo_folder("org/name"), fs::path("/c/models--org--name"));
}

// A cache entry as huggingface_hub writes it: refs/<revision>, blobs/<etag>, snapshot symlinks.
void write_hf_tree(const fs::path& cache, const std::string& repo, const std::string& revision,
                   const std::map<std::string, std::string>& files) {
  const fs::path folder = cache / ("models--" + repo.substr(0, repo.find('/')) + "--" + repo.substr(repo.find('/') + 1));
  fs::create_directories(folder / "refs");
  fs::create_directories(folder / "blobs");
  fs::create_directories(folder / "snapshots" / kCommit);
  write_file_atomic(folder / "refs" / revision, kCommit);
  for (const auto& [name, bytes] : files) {
    const std::string etag = sha256_hex(bytes);
    write_file_atomic(folder / "blobs" / etag, bytes);
    fs::create_symlink(fs::path("..") / ".." / "blobs" / etag, folder / "snapshots" / kCommit / name);
  }
}

TEST(HubCache, ResolvesIdsFromATreeHuggingfaceHubWrote) {
  const fs::path root = testing::make_temp_dir();
  ScopedEnv env;
  env.unset("HF_HUB_CACHE").unset("HUGGINGFACE_HUB_CACHE").set("HF_HOME", (root / "hf").string());
  write_hf_tree(root / "hf" / "hub", "org/tiny", "main", {{"config.json", "{}"}, {"vocab.txt", "[PAD]\n"}});
  const ResolvedModel m = resolve_model("org/tiny");
  EXPECT_EQ(m.dir, root / "hf" / "hub" / "models--org--tiny" / "snapshots" / kCommit);
  EXPECT_EQ(m.repo, "org/tiny");
  EXPECT_EQ(m.commit, kCommit);
  EXPECT_EQ(read_file(m.dir / "vocab.txt"), "[PAD]\n");
  // By commit, too.
  EXPECT_EQ(resolve_model("org/tiny@" + kCommit).dir, m.dir);
  // A directory is itself.
  EXPECT_EQ(resolve_model(root.string()).dir, root);
  // Not cached: the error says how to get it.
  EXPECT_THAT(input_error_of([] { resolve_model("org/other"); }), HasSubstr("stilts fetch org/other"));
  EXPECT_THAT(input_error_of([] { resolve_model("org/tiny@dev"); }), HasSubstr("--revision dev"));
  EXPECT_THAT(input_error_of([] { resolve_model("no such/dir here"); }), HasSubstr("no such directory"));
}

TEST(HubCache, ConfigFilesNameDirectoriesOrIds) {
  const fs::path root = testing::make_temp_dir();
  fs::create_directories(root / "models" / "mine");
  EXPECT_EQ(model_spec_in("models/mine", root), (root / "models" / "mine").string());
  EXPECT_EQ(model_spec_in("xlm-roberta-base", root), "xlm-roberta-base");
  EXPECT_EQ(model_spec_in("org/name", root), "org/name");
  EXPECT_EQ(model_spec_in("./org/name", root), (root / "org" / "name").string());
  EXPECT_EQ(model_spec_in("/abs/dir", root), "/abs/dir");
}

TEST(HubFiles, ConfigWeightsAndTokenizerOnly) {
  EXPECT_EQ(model_files({"README.md", "config.json", "model.safetensors", "pytorch_model.bin", "vocab.txt",
                         "tf_model.h5", "onnx/model.onnx", "tokenizer.json"},
                        "r"),
            (std::vector<std::string>{"config.json", "model.safetensors", "vocab.txt", "tokenizer.json"}));
  EXPECT_EQ(model_files({"config.json", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
                         "model-00001-of-00002.safetensors"},
                        "r"),
            (std::vector<std::string>{"config.json", "model.safetensors.index.json", "model-00001-of-00002.safetensors",
                                      "model-00002-of-00002.safetensors"}));
  EXPECT_EQ(model_files({"config.json", "pytorch_model.bin"}, "r"),
            (std::vector<std::string>{"config.json", "pytorch_model.bin"}));
  EXPECT_THAT(input_error_of([] { model_files({"config.json", "tf_model.h5"}, "org/x"); }), HasSubstr("no weights"));
  EXPECT_THAT(input_error_of([] { model_files({"model.safetensors"}, "org/x"); }), HasSubstr("no config.json"));
}

struct HubFixture {
  FakeHub hub{"org/tiny", {{"config.json", "{\"model_type\": \"bert\"}"},
                           {"vocab.txt", "[PAD]\n[UNK]\n"},
                           {"model.safetensors", std::string(5000, 'w') + "end"},
                           {"README.md", "# tiny"}}};
  testing::HttpServer server{[this](const testing::HttpServer::Request& r) { return hub.handle(r); }};
  FetchOptions options() const {
    FetchOptions o;
    o.endpoint = server.url();
    return o;
  }
};

TEST(HubFetch, WritesTheLayoutHuggingfaceHubReads) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  const ResolvedModel m = fetch_model("org/tiny", f.options());
  const fs::path folder = cache / "models--org--tiny";
  EXPECT_EQ(m.dir, folder / "snapshots" / kCommit);
  EXPECT_EQ(m.commit, kCommit);
  EXPECT_EQ(read_file(folder / "refs" / "main"), kCommit);
  for (const auto& [name, bytes] : f.hub.files) {
    const fs::path link = m.dir / name;
    if (name == "README.md") {
      EXPECT_FALSE(fs::exists(link)) << "only what a model needs";
      continue;
    }
    ASSERT_TRUE(fs::is_symlink(link)) << name;
    const std::string etag = FakeHub::is_lfs(name) ? sha256_hex(bytes) : FakeHub::git_etag(bytes);
    EXPECT_EQ(fs::read_symlink(link), fs::path("..") / ".." / "blobs" / etag) << name;
    EXPECT_EQ(read_file(link), bytes) << name;
  }
  EXPECT_EQ(resolve_model("org/tiny").dir, m.dir);
  // Fetched again: nothing is downloaded twice.
  const size_t requests = f.server.requests().size();
  fetch_model("org/tiny", f.options());
  for (size_t i = requests; i < f.server.requests().size(); ++i) {
    EXPECT_NE(f.server.requests()[i].path.rfind("/cdn/", 0), 0u) << "downloaded again";
  }
}

TEST(HubFetch, ADroppedDownloadResumesWhereItStopped) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  f.hub.drop_after = 1200;
  EXPECT_THAT(input_error_of([&] { fetch_model("org/tiny", f.options()); }), HasSubstr("transfer closed"));
  const std::string sha = sha256_hex(f.hub.files.at("model.safetensors"));
  const fs::path folder = cache / "models--org--tiny";
  EXPECT_EQ(fs::file_size(folder / "blobs" / (sha + ".incomplete")), 1200u);
  EXPECT_FALSE(fs::exists(folder / "snapshots" / kCommit / "model.safetensors"));
  EXPECT_FALSE(fs::exists(folder / "refs" / "main"));

  const ResolvedModel m = fetch_model("org/tiny", f.options());
  EXPECT_EQ(f.hub.ranges, (std::vector<std::string>{"bytes=1200-"}));
  EXPECT_EQ(read_file(m.dir / "model.safetensors"), f.hub.files.at("model.safetensors"));
  EXPECT_FALSE(fs::exists(folder / "blobs" / (sha + ".incomplete")));
}

TEST(HubFetch, ACorruptedBodyNeverReachesTheSnapshot) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  f.hub.corrupt = true;
  EXPECT_THAT(input_error_of([&] { fetch_model("org/tiny", f.options()); }), HasSubstr("SHA-256"));
  const fs::path folder = cache / "models--org--tiny";
  const std::string sha = sha256_hex(f.hub.files.at("model.safetensors"));
  EXPECT_FALSE(fs::exists(folder / "blobs" / sha));
  EXPECT_FALSE(fs::exists(folder / "blobs" / (sha + ".incomplete")));
  EXPECT_FALSE(fs::exists(folder / "snapshots" / kCommit / "model.safetensors"));
  // Once the hub serves the right bytes, a rerun completes.
  f.hub.corrupt = false;
  EXPECT_EQ(read_file(fetch_model("org/tiny", f.options()).dir / "model.safetensors"),
            f.hub.files.at("model.safetensors"));
}

TEST(HubFetch, ASizeHeaderThatIsNoNumberIsAnErrorNamingIt) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  for (const std::string bad : {"lots", "-5", "99999999999999999999999", "12 bytes"}) {
    f.hub.linked_size = bad;
    const std::string error = input_error_of([&] { fetch_model("org/tiny", f.options()); });
    EXPECT_THAT(error, HasSubstr("model.safetensors"));
    EXPECT_THAT(error, HasSubstr("x-linked-size header is '" + bad + "', expected a byte count"));
    EXPECT_FALSE(fs::exists(cache / "models--org--tiny" / "snapshots" / kCommit / "model.safetensors"));
  }
  f.hub.linked_size.reset();
  EXPECT_EQ(read_file(fetch_model("org/tiny", f.options()).dir / "model.safetensors"),
            f.hub.files.at("model.safetensors"));
}

TEST(HubFetch, GatedRepositoriesNeedAToken) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  f.hub.token = "secret";
  EXPECT_THAT(input_error_of([&] { fetch_model("org/tiny", f.options()); }), HasSubstr("set HF_TOKEN"));
  env.set("HF_TOKEN", "wrong");
  EXPECT_THAT(input_error_of([&] { fetch_model("org/tiny", f.options()); }), HasSubstr("the token has no access"));
  // The token file huggingface-cli login writes.
  env.unset("HF_TOKEN");
  write_file_atomic(cache.parent_path() / "token", "secret\n");
  env.set("HF_TOKEN_PATH", (cache.parent_path() / "token").string());
  EXPECT_EQ(fetch_model("org/tiny", f.options()).commit, kCommit);
}

TEST(HubFetch, UnknownRepositoriesAndOfflineMode) {
  const fs::path cache = testing::make_temp_dir() / "hub";
  ScopedEnv env;
  hub_env(env, cache);
  HubFixture f;
  EXPECT_THAT(input_error_of([&] { fetch_model("org/missing", f.options()); }), HasSubstr("HTTP 404"));
  env.set("HF_HUB_OFFLINE", "1");
  EXPECT_THAT(input_error_of([&] { fetch_model("org/tiny", f.options()); }), HasSubstr("not in the Hugging Face cache"));
  EXPECT_TRUE(f.server.requests().size() == 1u) << "offline mode made a request";
  env.unset("HF_HUB_OFFLINE");
  const ResolvedModel online = fetch_model("org/tiny", f.options());
  env.set("HF_HUB_OFFLINE", "1");
  const size_t requests = f.server.requests().size();
  EXPECT_EQ(fetch_model("org/tiny", f.options()).dir, online.dir);
  EXPECT_EQ(f.server.requests().size(), requests);
}

}  // namespace
}  // namespace stilts::hub
