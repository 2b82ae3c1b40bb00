// `fetch_data` against a loopback mirror: an archive extracted into the task's folder with its SHA-256
// recorded, a rerun that downloads nothing, a download cut short and resumed, a source that changed
// refused, the pinned XQuAD files (served from ../shared, byte for byte what their repository holds)
// accepted and a corrupted one refused, unknown tasks and 404s.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <map>
#include <optional>

#include "common/files.h"
#include "common/sha256.h"
#include "hub/datasets.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "support/http_server.h"

namespace stilts::hub {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing::HttpServer;
using testing::input_error_of;

const std::string kPawsx = "/storage.googleapis.com/paws/pawsx/x-final.tar.gz";

// A gzip'd tar of `files` (path -> content) made with tar(1), as the distributions make theirs.
std::string tarball(const fs::path& work, const std::map<std::string, std::string>& files) {
  fs::remove_all(work);
  for (const auto& [path, content] : files) testing::write_data_file(work / "tree" / path, content);
  const std::string cmd = "tar -czf '" + (work / "out.tar.gz").string() + "' -C '" + (work / "tree").string() + "' .";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  return read_file(work / "out.tar.gz");
}

// Serves `files` (URL path -> bytes) with Range support; knobs break it.
struct Mirror {
  std::map<std::string, std::string> files;
  std::optional<size_t> drop_after;  // the next body stops after this many bytes
  std::vector<std::string> ranges;
  HttpServer server{[this](const HttpServer::Request& r) {
    const auto it = files.find(r.path);
    if (it == files.end()) return HttpServer::Reply{404, {}, "not found", {}, false};
    size_t from = 0;
    if (const auto range = r.headers.find("range"); range != r.headers.end()) {
      ranges.push_back(range->second);
      from = std::stoul(range->second.substr(range->second.find('=') + 1));
    }
    HttpServer::Reply reply{from ? 206 : 200, {}, it->second.substr(from), {}, false};
    if (from) {
      reply.headers.push_back({"Content-Range", "bytes " + std::to_string(from) + "-" +
                                                    std::to_string(it->second.size() - 1) + "/" +
                                                    std::to_string(it->second.size())});
    }
    if (drop_after) {
      reply.send_bytes = *drop_after;
      drop_after.reset();
    }
    return reply;
  }};
  FetchDataOptions options(const fs::path& out) const {
    FetchDataOptions o;
    o.out = out;
    o.mirror = server.url();
    return o;
  }
};

TEST(FetchData, AnArchiveIsExtractedIntoItsTaskFolderAndRecorded) {
  const fs::path root = testing::make_temp_dir();
  Mirror m;
  m.files[kPawsx] = tarball(root / "tar", {{"x-final/en/dev_2k.tsv", "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n"},
                                           {"x-final/de/test_2k.tsv", "id\n"}});
  const fs::path out = root / "download";
  fetch_data({"pawsx"}, m.options(out));
  EXPECT_EQ(read_file(out / "pawsx" / "x-final" / "en" / "dev_2k.tsv"), "id\tsentence1\tsentence2\tlabel\n1\ta\tb\t1\n");
  EXPECT_TRUE(fs::exists(out / "pawsx" / "x-final" / "de" / "test_2k.tsv"));
  EXPECT_FALSE(fs::exists(out / "pawsx" / "x-final.tar.gz"));
  EXPECT_FALSE(fs::exists(out / "pawsx" / "x-final.tar.gz.incomplete"));
  EXPECT_EQ(read_file(out / "SHA256SUMS"),
            sha256_hex(m.files[kPawsx]) + "  https://storage.googleapis.com/paws/pawsx/x-final.tar.gz\n");
  // A rerun finds it done.
  const size_t requests = m.server.requests().size();
  fetch_data({"pawsx"}, m.options(out));
  EXPECT_EQ(m.server.requests().size(), requests);

  // The source changes: a fresh download no longer matches what was recorded, and is refused.
  fs::remove_all(out / "pawsx");
  m.files[kPawsx] = tarball(root / "tar", {{"x-final/en/dev_2k.tsv", "something else\n"}});
  EXPECT_THAT(input_error_of([&] { fetch_data({"pawsx"}, m.options(out)); }), HasSubstr("the file changed at its source"));
  EXPECT_FALSE(fs::exists(out / "pawsx" / "x-final"));
}

TEST(FetchData, ACutDownloadResumes) {
  const fs::path root = testing::make_temp_dir();
  Mirror m;
  std::map<std::string, std::string> tree;
  for (int i = 0; i < 40; ++i) tree["x-final/en/part" + std::to_string(i) + ".tsv"] = std::string(3000, static_cast<char>('a' + i % 26));
  m.files[kPawsx] = tarball(root / "tar", tree);
  m.drop_after = m.files[kPawsx].size() / 2;
  const fs::path out = root / "download";
  EXPECT_THAT(input_error_of([&] { fetch_data({"pawsx"}, m.options(out)); }), HasSubstr("x-final.tar.gz"));
  EXPECT_EQ(fs::file_size(out / "pawsx" / "x-final.tar.gz.incomplete"), m.files[kPawsx].size() / 2);
  EXPECT_FALSE(fs::exists(out / "pawsx" / "x-final"));
  fetch_data({"pawsx"}, m.options(out));
  EXPECT_EQ(m.ranges, (std::vector<std::string>{"bytes=" + std::to_string(m.files[kPawsx].size() / 2) + "-"}));
  EXPECT_EQ(read_file(out / "pawsx" / "x-final" / "en" / "part3.tsv"), std::string(3000, 'd'));
}

TEST(FetchData, PinnedFilesAreCheckedAgainstTheirRepositorysBytes) {
  const fs::path xquad = testing::xtreme_r_dir() / "xquad";
  if (!fs::exists(xquad / "xquad.en.json")) GTEST_SKIP() << "no ../shared fixtures";
  const fs::path root = testing::make_temp_dir();
  Mirror m;
  for (const std::string lang : {"ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"}) {
    m.files["/raw.githubusercontent.com/google-deepmind/xquad/master/xquad." + lang + ".json"] =
        read_file(xquad / ("xquad." + lang + ".json"));
  }
  const fs::path out = root / "download";
  fetch_data({"xquad"}, m.options(out));
  EXPECT_EQ(read_file(out / "xquad" / "xquad.de.json"), read_file(xquad / "xquad.de.json"));
  EXPECT_FALSE(fs::exists(out / "SHA256SUMS"));  // pinned: nothing to record

  // One corrupted byte: refused, nothing left in place.
  fs::remove_all(out);
  m.files["/raw.githubusercontent.com/google-deepmind/xquad/master/xquad.en.json"][100] ^= 1;
  EXPECT_THAT(input_error_of([&] { fetch_data({"xquad"}, m.options(out)); }), HasSubstr("as its repository holds it"));
  EXPECT_FALSE(fs::exists(out / "xquad" / "xquad.en.json"));
  EXPECT_FALSE(fs::exists(out / "xquad" / "xquad.en.json.incomplete"));
}

TEST(FetchData, UnknownTasksAndMissingFiles) {
  const fs::path root = testing::make_temp_dir();
  Mirror m;
  EXPECT_THAT(input_error_of([&] { fetch_data({"nope"}, m.options(root)); }), HasSubstr("tasks: pawsx, xnli"));
  EXPECT_THAT(input_error_of([&] { fetch_data({"panx"}, m.options(root)); }), HasSubstr("manual download"));
  EXPECT_THAT(input_error_of([&] { fetch_data({"siqa"}, m.options(root)); }), HasSubstr("HTTP 404"));
  EXPECT_EQ(data_tasks().front(), "pawsx");
  auto is_sha = [](const std::string& h) {
    return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
  };
  for (const DataSource& s : data_sources()) {
    EXPECT_TRUE(s.url.rfind("https://", 0) == 0) << s.url;
    EXPECT_TRUE(s.sha256.empty() || is_sha(s.sha256)) << s.url;
  }
}

}  // namespace
}  // namespace stilts::hub
