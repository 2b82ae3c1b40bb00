// The HTTP client (hub/http.h) against the loopback server of support/http_server.h: requests into
// memory (headers, redirects followed or not, error statuses returned), transport failures, and downloads
// into a file: Range resume, a 200 that restarts, 416 for a complete file, a dropped connection that
// leaves its bytes for the next attempt, progress, and files that cannot be written.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <utility>
#include <vector>

#include "common/error.h"
#include "common/files.h"
#include "hub/http.h"
#include "support/data_files.h"
#include "support/fixtures.h"
#include "support/http_server.h"

namespace stilts::hub {
namespace {

namespace fs = std::filesystem;
using testing::HttpServer;
using testing::input_error_of;
using testing::make_temp_dir;
using testing::write_data_file;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

HttpRequest get(const std::string& url) {
  HttpRequest request;
  request.url = url;
  return request;
}

// `size` bytes that differ from one position to the next (a misplaced byte shows).
std::string content(size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  return bytes;
}

// `bytes` as a server that honours "Range: bytes=<from>-" serves them: 200 without a Range, 206 with the
// rest, 416 ("bytes */<size>") for a start at or past the end.
HttpServer::Reply ranged(const std::string& bytes, const HttpServer::Request& request) {
  HttpServer::Reply reply;
  const auto range = request.headers.find("range");
  if (range == request.headers.end()) {
    reply.body = bytes;
    return reply;
  }
  const std::string prefix = "bytes=";
  EXPECT_EQ(range->second.rfind(prefix, 0), 0u) << range->second;
  EXPECT_EQ(range->second.back(), '-') << range->second;
  const size_t from = std::stoul(range->second.substr(prefix.size()));
  if (from >= bytes.size()) {
    reply.status = 416;
    reply.headers = {{"Content-Range", "bytes */" + std::to_string(bytes.size())}};
    return reply;
  }
  reply.status = 206;
  const std::string last = std::to_string(bytes.size() - 1);
  reply.headers = {{"Content-Range", "bytes " + std::to_string(from) + "-" + last + "/" + std::to_string(bytes.size())}};
  reply.body = bytes.substr(from);
  return reply;
}

// The Range header of each request the server received ("" for none).
std::vector<std::string> ranges(const HttpServer& server) {
  std::vector<std::string> out;
  for (const auto& request : server.requests()) {
    const auto it = request.headers.find("range");
    out.push_back(it == request.headers.end() ? "" : it->second);
  }
  return out;
}

// A port on 127.0.0.1 that refuses connections: bound (so nothing else takes it) but not listening.
class RefusingPort {
 public:
  RefusingPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length), 0);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(fd_); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

// ---- requests into memory ----

TEST(HubHttp, GetReturnsStatusLowerCasedTrimmedHeadersAndBody) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.headers = {{"X-Repo-Commit", "abc123"}, {"ETag", "   \"e1\"   "}};
    reply.body = "hello, hub";
    return reply;
  });
  HttpRequest request = get(server.url() + "/api/models/m?x=1");
  request.headers = {"Authorization: Bearer secret"};
  const HttpResponse response = http_request(request);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "hello, hub");
  EXPECT_EQ(response.header("x-repo-commit"), "abc123");
  EXPECT_EQ(response.header("etag"), "\"e1\"");
  EXPECT_EQ(response.header("content-length"), "10");
  EXPECT_EQ(response.header("x-absent"), "");
  EXPECT_EQ(response.effective_url, server.url() + "/api/models/m?x=1");

  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].path, "/api/models/m");
  EXPECT_EQ(requests[0].headers.at("authorization"), "Bearer secret");
  EXPECT_EQ(requests[0].headers.at("user-agent"), "stilts");
}

// The hub's HEAD for a file answers 302 to its CDN; its headers (X-Linked-Etag, Location) are what the
// client wants, so the redirect is not followed.
TEST(HubHttp, HeadWithoutFollowingReturnsTheRedirectsHeaders) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.status = 302;
    reply.headers = {{"Location", "/cdn/model.safetensors"}, {"X-Linked-Etag", "\"sha256\""},
                     {"X-Linked-Size", "12345"}};
    reply.body = "Found. Redirecting";
    return reply;
  });
  HttpRequest request = get(server.url() + "/m/resolve/main/model.safetensors");
  request.method = "HEAD";
  request.follow_redirects = false;
  const HttpResponse response = http_request(request);

  EXPECT_EQ(response.status, 302);
  EXPECT_EQ(response.header("x-linked-etag"), "\"sha256\"");
  EXPECT_EQ(response.header("x-linked-size"), "12345");
  EXPECT_EQ(response.header("location"), "/cdn/model.safetensors");
  EXPECT_EQ(response.body, "");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "HEAD");
}

TEST(HubHttp, GetFollowsARedirectAndKeepsOnlyTheLastResponsesHeaders) {
  HttpServer server([](const HttpServer::Request& request) {
    HttpServer::Reply reply;
    if (request.path == "/file") {
      reply.status = 302;
      reply.headers = {{"Location", "/cdn/file"}, {"X-Only-On-Redirect", "1"}};
      reply.body = "redirecting";
    } else {
      reply.headers = {{"X-Cdn", "yes"}};
      reply.body = "the file";
    }
    return reply;
  });
  const HttpResponse response = http_request(get(server.url() + "/file"));

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "the file");
  EXPECT_EQ(response.header("x-cdn"), "yes");
  EXPECT_EQ(response.header("x-only-on-redirect"), "");
  EXPECT_EQ(response.effective_url, server.url() + "/cdn/file");
  const auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[1].path, "/cdn/file");
}

TEST(HubHttp, AnErrorStatusIsReturnedNotThrown) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.status = 404;
    reply.headers = {{"X-Error-Code", "EntryNotFound"}};
    reply.body = "Entry not found";
    return reply;
  });
  const HttpResponse response = http_request(get(server.url() + "/missing"));
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(response.header("x-error-code"), "EntryNotFound");
  EXPECT_EQ(response.body, "Entry not found");
}

TEST(HubHttp, ARefusedConnectionIsAnInputErrorNamingTheUrl) {
  const RefusingPort port;
  const std::string url = port.url() + "/api/models/m";
  EXPECT_THAT(input_error_of([&] { http_request(get(url)); }),
              AllOf(HasSubstr(url), HasSubstr("Couldn't connect to server")));
}

TEST(HubHttp, ABodyCutShortOfItsContentLengthIsAnInputError) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.body = content(1000);
    reply.send_bytes = 300;
    return reply;
  });
  const std::string url = server.url() + "/cut";
  EXPECT_THAT(input_error_of([&] { http_request(get(url)); }), AllOf(HasSubstr(url), HasSubstr("700")));
}

// The server says nothing until the client has given up (then the test lets it go).
TEST(HubHttp, AStalledServerIsAnInputErrorAfterTheStallTimeout) {
  std::promise<void> client_gave_up;
  std::shared_future<void> released = client_gave_up.get_future().share();
  HttpServer server([released](const HttpServer::Request&) {
    released.wait_for(std::chrono::seconds(30));
    return HttpServer::Reply{};
  });
  HttpRequest request = get(server.url() + "/slow");
  request.stall_timeout_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  const std::string error = input_error_of([&] { http_request(request); });
  client_gave_up.set_value();
  EXPECT_THAT(error, AllOf(HasSubstr(request.url), HasSubstr("too slow")));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
}

// ---- downloads ----

TEST(HubHttp, DownloadWritesTheBodyIntoTheFile) {
  const std::string bytes = content(100000);
  HttpServer server([&](const HttpServer::Request& request) { return ranged(bytes, request); });
  const fs::path file = make_temp_dir() / "model.safetensors";
  const HttpResponse response = http_download(get(server.url() + "/model.safetensors"), file);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(response.body, "");
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre(""));
}

TEST(HubHttp, DownloadResumesAPartialFileWithARangeRequest) {
  const std::string bytes = content(50000);
  HttpServer server([&](const HttpServer::Request& request) { return ranged(bytes, request); });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", bytes.substr(0, 12345));
  const HttpResponse response = http_download(get(server.url() + "/model.bin"), file);

  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.header("content-range"), "bytes 12345-49999/50000");
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("bytes=12345-"));
}

// The hub's way: the file's URL answers 302 to its CDN. The Range goes along; the redirect's body does
// not reach the file.
TEST(HubHttp, DownloadFollowsARedirectWithTheRange) {
  const std::string bytes = content(20000);
  HttpServer server([&](const HttpServer::Request& request) {
    if (request.path == "/cdn/model.bin") return ranged(bytes, request);
    HttpServer::Reply reply;
    reply.status = 302;
    reply.headers = {{"Location", "/cdn/model.bin"}};
    reply.body = "Found. Redirecting to /cdn/model.bin";
    return reply;
  });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", bytes.substr(0, 5000));
  const HttpResponse response = http_download(get(server.url() + "/resolve/main/model.bin"), file);

  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(response.effective_url, server.url() + "/cdn/model.bin");
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("bytes=5000-", "bytes=5000-"));
}

TEST(HubHttp, AServerThatAnswers200ToARangeRestartsTheFile) {
  const std::string bytes = content(5000);
  HttpServer server([&](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.body = bytes;
    return reply;
  });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", "stale bytes from another version");
  const HttpResponse response = http_download(get(server.url() + "/model.bin"), file);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("bytes=32-"));
}

TEST(HubHttp, ACompleteFileGets416AndStaysAsItIs) {
  const std::string bytes = content(3000);
  HttpServer server([&](const HttpServer::Request& request) { return ranged(bytes, request); });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", bytes);
  const HttpResponse response = http_download(get(server.url() + "/model.bin"), file);

  EXPECT_EQ(response.status, 416);
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("bytes=3000-"));
}

// 416 with another length than the file's: the file is not a prefix of this content, so it starts over.
TEST(HubHttp, A416ForAFileLongerThanTheContentRestartsWithoutARange) {
  const std::string bytes = content(3000);
  HttpServer server([&](const HttpServer::Request& request) { return ranged(bytes, request); });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", content(4000));
  const HttpResponse response = http_download(get(server.url() + "/model.bin"), file);

  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("bytes=4000-", ""));
}

TEST(HubHttp, A206ThatDoesNotStartWhereTheFileEndsIsAnInputErrorAndLeavesTheFile) {
  const std::string bytes = content(3000);
  HttpServer server([&](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.status = 206;
    reply.headers = {{"Content-Range", "bytes 0-2999/3000"}};
    reply.body = bytes;
    return reply;
  });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", bytes.substr(0, 1000));
  const std::string url = server.url() + "/model.bin";
  EXPECT_THAT(input_error_of([&] { http_download(get(url), file); }),
              AllOf(HasSubstr(url), HasSubstr("bytes 0-2999/3000"), HasSubstr(file.string())));
  EXPECT_EQ(read_file(file), bytes.substr(0, 1000));
}

// The connection drops after 40000 of 100000 bytes: an InputError, the 40000 bytes in the file; the next
// call asks for the rest and completes it.
TEST(HubHttp, ADroppedConnectionLeavesItsBytesAndTheNextCallResumes) {
  const std::string bytes = content(100000);
  HttpServer server([&](const HttpServer::Request& request) {
    HttpServer::Reply reply = ranged(bytes, request);
    if (request.headers.count("range") == 0) reply.send_bytes = 40000;
    return reply;
  });
  const fs::path file = make_temp_dir() / "model.bin";
  const std::string url = server.url() + "/model.bin";

  EXPECT_THAT(input_error_of([&] { http_download(get(url), file); }), HasSubstr(url));
  EXPECT_EQ(read_file(file), bytes.substr(0, 40000));

  const HttpResponse response = http_download(get(url), file);
  EXPECT_EQ(response.status, 206);
  EXPECT_EQ(read_file(file), bytes);
  EXPECT_THAT(ranges(server), ElementsAre("", "bytes=40000-"));
}

TEST(HubHttp, AnErrorStatusLeavesThePartialFileUntouched) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.status = 404;
    reply.body = "Entry not found";
    return reply;
  });
  const fs::path dir = make_temp_dir();
  const fs::path partial = write_data_file(dir / "partial.bin", "the first bytes");
  EXPECT_EQ(http_download(get(server.url() + "/partial.bin"), partial).status, 404);
  EXPECT_EQ(read_file(partial), "the first bytes");

  const fs::path absent = dir / "absent.bin";
  EXPECT_EQ(http_download(get(server.url() + "/absent.bin"), absent).status, 404);
  EXPECT_FALSE(fs::exists(absent));
}

// A resumed download: done starts past the part already there and climbs to the total, the file's size
// plus the Content-Length of the rest.
TEST(HubHttp, ProgressIsMonotonicAndEndsAtTheTotal) {
  const std::string bytes = content(300000);
  HttpServer server([&](const HttpServer::Request& request) { return ranged(bytes, request); });
  const fs::path file = write_data_file(make_temp_dir() / "model.bin", bytes.substr(0, 1000));
  std::vector<std::pair<int64_t, int64_t>> calls;
  http_download(get(server.url() + "/model.bin"), file,
                [&](int64_t done, int64_t total) { calls.emplace_back(done, total); });

  ASSERT_FALSE(calls.empty());
  int64_t previous = 1000;
  for (const auto& [done, total] : calls) {
    EXPECT_GT(done, previous);
    EXPECT_EQ(total, 300000);
    previous = done;
  }
  EXPECT_EQ(calls.back().first, 300000);
  EXPECT_EQ(read_file(file), bytes);
}

TEST(HubHttp, WithoutAContentLengthTheTotalIsUnknownAndTheBodyEndsAtTheClose) {
  const std::string bytes = content(20000);
  HttpServer server([&](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.body = bytes;
    reply.omit_content_length = true;
    return reply;
  });
  const fs::path file = make_temp_dir() / "model.bin";
  int64_t last_done = 0;
  http_download(get(server.url() + "/model.bin"), file, [&](int64_t done, int64_t total) {
    EXPECT_EQ(total, -1);
    last_done = done;
  });
  EXPECT_EQ(last_done, 20000);
  EXPECT_EQ(read_file(file), bytes);
}

// The file's folder is a file: open fails with ENOTDIR (whoever runs the test, root included).
TEST(HubHttp, AFileThatCannotBeWrittenIsAnInputErrorNamingIt) {
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.body = content(1000);
    return reply;
  });
  const fs::path not_a_dir = write_data_file(make_temp_dir() / "not_a_dir", "x");
  const fs::path file = not_a_dir / "model.bin";
  EXPECT_THAT(input_error_of([&] { http_download(get(server.url() + "/model.bin"), file); }),
              AllOf(HasSubstr(file.string()), HasSubstr("Not a directory")));
}

// /dev/full fails every write with ENOSPC, as a full disk does.
TEST(HubHttp, AFullDiskIsAnInputErrorNamingTheFileAndTheError) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  HttpServer server([](const HttpServer::Request&) {
    HttpServer::Reply reply;
    reply.body = content(1000);
    return reply;
  });
  EXPECT_THAT(input_error_of([&] { http_download(get(server.url() + "/model.bin"), "/dev/full"); }),
              AllOf(HasSubstr("/dev/full"), HasSubstr("No space left on device")));
}

}  // namespace
}  // namespace stilts::hub
