// HTTP(S) over libcurl, for the Hugging Face hub client (hub/fetch.h) and dataset downloads: one request
// into memory, or a download into a file that resumes with a Range request. No torch.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace stilts::hub {

struct HttpRequest {
  std::string method = "GET";        // GET | HEAD
  std::string url;
  std::vector<std::string> headers;  // "Name: value" lines (Authorization, Range, ...)
  bool follow_redirects = true;      // false: a 3xx is returned as it is (its headers are what the hub's HEAD says)
  long connect_timeout_seconds = 30;
  // The transfer fails when fewer than 1 byte/s arrive for this long (a stalled connection); 0 = never.
  long stall_timeout_seconds = 60;
};

struct HttpResponse {
  long status = 0;                             // of the last response (after redirects when followed)
  std::map<std::string, std::string> headers;  // of the last response, names lower-cased (the last value of each)
  std::string body;                            // empty for HEAD and for downloads
  std::string effective_url;

  // The header's value, "" when absent (`name` in lower case).
  std::string header(const std::string& name) const;
};

// Called while a body arrives: bytes of the file so far (including a resumed part), and the total when
// known (-1 otherwise).
using Progress = std::function<void(int64_t done, int64_t total)>;

// One request, its body into memory. InputError naming the URL on a transport failure (no connection,
// a dropped connection, a timeout); an HTTP error status is returned, not thrown.
HttpResponse http_request(const HttpRequest& request);

// GET `request.url` into `file`: when `file` already holds bytes, asks for the rest with
// "Range: bytes=<size>-" and appends them (a server that answers 200 instead of 206 restarts the file).
// Writes as bytes arrive, so a transfer that fails midway leaves what arrived for the next attempt.
// Returns the response of the last attempt; a status other than 200/206 leaves `file` as it was. A file
// already complete gets 416 with "Content-Range: bytes */<its size>": that response is returned, the file
// kept; a 416 with another length (the file is longer than the server's) restarts without a Range, once.
// InputError naming the URL on a transport failure (the bytes received so far stay in `file`), and naming
// `file` when it cannot be written (a full disk: its error).
HttpResponse http_download(const HttpRequest& request, const std::filesystem::path& file,
                           const Progress& progress = nullptr);

}  // namespace stilts::hub
